//! Indexes that hold only the tasks each hot query looks for. The first schema indexed
//! every task by status in five places, so each claim and each outcome rewrote ten index
//! entries; a profile of the burn-down showed that as most of the writer's time. Partial
//! indexes (same SQL on SQLite and PostgreSQL) hold a task only while it is in the state
//! the query wants: ready tasks for claims, running ones for the rescuer, scheduled ones
//! for promotion, finished ones for pruning. Queries must name the status as a literal
//! (`status = 'PENDING'`), not a bound value, for the planner to use them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS ix_tasks_ready ON tasks (queue, priority, run_at) \
     WHERE status = 'PENDING'",
    "CREATE INDEX IF NOT EXISTS ix_tasks_running_lease ON tasks (lease_expires_at) \
     WHERE status = 'RUNNING'",
    "CREATE INDEX IF NOT EXISTS ix_tasks_scheduled ON tasks (run_at) \
     WHERE status = 'SCHEDULED'",
    "CREATE INDEX IF NOT EXISTS ix_tasks_completed ON tasks (completed_at) \
     WHERE completed_at IS NOT NULL",
    "DROP INDEX IF EXISTS ix_tasks_claim",
    "DROP INDEX IF EXISTS ix_tasks_status_lease",
    "DROP INDEX IF EXISTS ix_tasks_status_run_at",
    "DROP INDEX IF EXISTS ix_tasks_status_completed",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in UP {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
