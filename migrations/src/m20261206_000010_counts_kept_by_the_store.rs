//! The store counts every transition itself, once per transaction (the server's
//! `store::counting`), and writes the attempt records itself: the triggers that kept
//! `task_counts`, `task_throughput` and `task_attempts` row by row are dropped. On SQLite
//! every trigger on `UPDATE OF status` fired for every task that changed status whatever
//! its `WHEN` said, so they were most of the work a claim or an outcome made beyond the
//! task row itself. The counters carry on from the values the triggers left, so nothing
//! is recounted.
//!
//! A process of an older Spool relies on those triggers for its counts and attempt
//! records, so on a shared PostgreSQL database every older process must be stopped
//! before a newer one starts (README, "Upgrading"). The ready and resume notifications
//! stay triggers: they count nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "DROP TRIGGER IF EXISTS tasks_count_insert",
    "DROP TRIGGER IF EXISTS tasks_count_delete",
    "DROP TRIGGER IF EXISTS tasks_count_update",
    "DROP TRIGGER IF EXISTS tasks_throughput",
    "DROP TRIGGER IF EXISTS tasks_attempt_open",
    "DROP TRIGGER IF EXISTS tasks_attempt_succeeded",
];

const POSTGRES: &[&str] = &[
    "DROP TRIGGER IF EXISTS tasks_count ON tasks",
    "DROP TRIGGER IF EXISTS tasks_throughput ON tasks",
    "DROP TRIGGER IF EXISTS tasks_attempts ON tasks",
    "DROP FUNCTION IF EXISTS spool_count_tasks()",
    "DROP FUNCTION IF EXISTS spool_count_throughput()",
    "DROP FUNCTION IF EXISTS spool_track_attempts()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, SQLITE, POSTGRES).await
    }
}
