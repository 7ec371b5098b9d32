//! Attempt records opened and closed by the database, so a claim and a success are each
//! one statement. A profile of the burn-down showed every statement costing a round trip
//! to SQLite's thread; a claim used to be two (move the tasks, insert their attempts) and
//! a batch of successes two (finish the tasks, close their attempts). Now a task moving
//! to RUNNING opens its attempt, and RUNNING → SUCCESS closes it. Other endings (failure,
//! cancel, interruption, lost lease) still close the attempt from the store, which knows
//! the reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "CREATE TRIGGER IF NOT EXISTS tasks_attempt_open AFTER UPDATE OF status ON tasks
     WHEN NEW.status = 'RUNNING' AND OLD.status <> 'RUNNING' BEGIN
       INSERT INTO task_attempts (task_id, attempt, worker_id, started_at)
       VALUES (NEW.id, NEW.attempt, COALESCE(NEW.worker_id, ''), COALESCE(NEW.started_at, 0));
     END",
    "CREATE TRIGGER IF NOT EXISTS tasks_attempt_succeeded AFTER UPDATE OF status ON tasks
     WHEN NEW.status = 'SUCCESS' AND OLD.status = 'RUNNING' BEGIN
       UPDATE task_attempts SET finished_at = NEW.completed_at, outcome = 'SUCCESS', error = NULL
       WHERE task_id = NEW.id AND attempt = NEW.attempt AND finished_at IS NULL;
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE OR REPLACE FUNCTION spool_track_attempts() RETURNS trigger AS $$
     BEGIN
       IF NEW.status = 'RUNNING' AND OLD.status <> 'RUNNING' THEN
         INSERT INTO task_attempts (task_id, attempt, worker_id, started_at)
         VALUES (NEW.id, NEW.attempt, COALESCE(NEW.worker_id, ''), COALESCE(NEW.started_at, 0));
       ELSIF NEW.status = 'SUCCESS' AND OLD.status = 'RUNNING' THEN
         UPDATE task_attempts SET finished_at = NEW.completed_at, outcome = 'SUCCESS', error = NULL
         WHERE task_id = NEW.id AND attempt = NEW.attempt AND finished_at IS NULL;
       END IF;
       RETURN NULL;
     END
     $$ LANGUAGE plpgsql",
    "CREATE TRIGGER tasks_attempts AFTER UPDATE OF status ON tasks
     FOR EACH ROW EXECUTE FUNCTION spool_track_attempts()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, SQLITE, POSTGRES).await
    }
}
