//! Schedules and the slots they have fired. A slot is fired by inserting its
//! `schedule_runs` row, whose primary key (schedule, slot) the database keeps unique, in
//! the same transaction as the slot's task: however many processes try, one row and one
//! task exist per slot, and the row outlives the task (pruned or deleted), so catching up
//! never fires a slot twice. A schedule's slots start after `changed_at`, when its
//! definition or `enabled` last changed, so an edit never fires slots of the old timing
//! or of the time it was disabled.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The same statements on both backends: TEXT, BIGINT and INTEGER mean the same there.
const BOTH: &[&str] = &[
    "CREATE TABLE schedules (
        name TEXT NOT NULL PRIMARY KEY,
        definition TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        source TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        changed_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE TABLE schedule_runs (
        schedule TEXT NOT NULL,
        slot BIGINT NOT NULL,
        task_id TEXT NOT NULL,
        fired_at BIGINT NOT NULL,
        PRIMARY KEY (schedule, slot)
    )",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, BOTH, BOTH).await
    }
}
