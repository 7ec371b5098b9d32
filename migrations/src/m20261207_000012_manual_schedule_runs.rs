//! Runs asked for by hand ("run now") are kept beside the slots a schedule fired, marked
//! `manual`, so a schedule's history shows them; only the others say which slot fired
//! last, so a run by hand never makes the timing skip or repeat a slot.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BOTH: &[&str] = &["ALTER TABLE schedule_runs ADD COLUMN manual INTEGER NOT NULL DEFAULT 0"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, BOTH, BOTH).await
    }
}
