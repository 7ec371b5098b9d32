//! Unique tasks. A task submitted with a unique key stores it (with its kind and period
//! folded in) in `unique_key`, and in `unique_states` which finished states count for it
//! (1 SUCCESS, 2 FAILED, 4 CANCELLED); waiting and running tasks always count. A partial
//! unique index holds only the tasks that count, so the database itself keeps one per
//! key across processes, and a task that stops counting frees its key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The same statements on both backends: both read the index's condition alike.
const BOTH: &[&str] = &[
    "ALTER TABLE tasks ADD COLUMN unique_key TEXT NULL",
    "ALTER TABLE tasks ADD COLUMN unique_states INTEGER NOT NULL DEFAULT 0",
    "CREATE UNIQUE INDEX tasks_unique_key ON tasks (unique_key) WHERE unique_key IS NOT NULL AND (\
        status IN ('PENDING', 'SCHEDULED', 'RUNNING') \
        OR (status = 'SUCCESS' AND (unique_states & 1) <> 0) \
        OR (status = 'FAILED' AND (unique_states & 2) <> 0) \
        OR (status = 'CANCELLED' AND (unique_states & 4) <> 0))",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, BOTH, BOTH).await
    }
}
