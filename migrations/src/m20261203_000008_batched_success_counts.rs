//! Successes are counted per batch, not per row: the per-row triggers that keep
//! `task_counts` and `task_throughput` now skip the RUNNING → SUCCESS transition, and the
//! store adds a whole group commit's successes to those counters in two statements (see
//! the server's `store::successes`). On a burn-down of no-op tasks the per-row upserts
//! were about a fifth of SQLite's work. Every other transition is still counted by the
//! triggers, so no other write has to remember the counters.
//!
//! On PostgreSQL, processes of an older Spool may still be running against the migrated
//! database during a rolling upgrade, and they rely on the triggers to count their
//! successes. So there the triggers skip only a success whose transaction says it counts
//! its own (`spool.successes_counted` set to `on` for the transaction). A SQLite file has
//! one process, which runs the migration as it starts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "DROP TRIGGER IF EXISTS tasks_count_update",
    "CREATE TRIGGER tasks_count_update AFTER UPDATE OF status ON tasks
     WHEN OLD.status <> NEW.status AND NOT (OLD.status = 'RUNNING' AND NEW.status = 'SUCCESS') BEGIN
       UPDATE task_counts SET n = n - 1
       WHERE queue = OLD.queue AND task_type = OLD.task_type AND status = OLD.status;
       INSERT INTO task_counts (queue, task_type, status, n) VALUES (NEW.queue, NEW.task_type, NEW.status, 1)
       ON CONFLICT (queue, task_type, status) DO UPDATE SET n = n + 1;
     END",
    "DROP TRIGGER IF EXISTS tasks_throughput",
    "CREATE TRIGGER tasks_throughput AFTER UPDATE OF status ON tasks
     WHEN OLD.status <> NEW.status AND NEW.status IN ('SUCCESS', 'FAILED', 'CANCELLED')
       AND NOT (OLD.status = 'RUNNING' AND NEW.status = 'SUCCESS') BEGIN
       INSERT INTO task_throughput (minute, status, n)
       VALUES (COALESCE(NEW.completed_at, 0) / 60000000, NEW.status, 1)
       ON CONFLICT (minute, status) DO UPDATE SET n = n + 1;
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE OR REPLACE FUNCTION spool_count_tasks() RETURNS trigger AS $$
     BEGIN
       IF TG_OP = 'UPDATE' AND (OLD.status = NEW.status
           OR (OLD.status = 'RUNNING' AND NEW.status = 'SUCCESS'
               AND COALESCE(current_setting('spool.successes_counted', true), '') = 'on')) THEN
         RETURN NULL;
       END IF;
       IF TG_OP IN ('UPDATE', 'DELETE') THEN
         UPDATE task_counts SET n = n - 1
         WHERE queue = OLD.queue AND task_type = OLD.task_type AND status = OLD.status;
       END IF;
       IF TG_OP IN ('INSERT', 'UPDATE') THEN
         INSERT INTO task_counts (queue, task_type, status, n) VALUES (NEW.queue, NEW.task_type, NEW.status, 1)
         ON CONFLICT (queue, task_type, status) DO UPDATE SET n = task_counts.n + 1;
       END IF;
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION spool_count_throughput() RETURNS trigger AS $$
     BEGIN
       IF OLD.status <> NEW.status AND NEW.status IN ('SUCCESS', 'FAILED', 'CANCELLED')
           AND NOT (OLD.status = 'RUNNING' AND NEW.status = 'SUCCESS'
                    AND COALESCE(current_setting('spool.successes_counted', true), '') = 'on') THEN
         INSERT INTO task_throughput (minute, status, n)
         VALUES (COALESCE(NEW.completed_at, 0) / 60000000, NEW.status, 1)
         ON CONFLICT (minute, status) DO UPDATE SET n = task_throughput.n + 1;
       END IF;
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, SQLITE, POSTGRES).await
    }
}
