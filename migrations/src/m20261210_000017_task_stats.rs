//! Per-queue and per-kind aggregates of finished tasks, kept by the store in the same
//! transaction as the tasks they count (the server's `store::counting`), so the charts
//! never scan `tasks`. One row is one count for a slot of time (`span` minutes long,
//! starting at minute `at` since the Unix epoch), a queue, a task type and a measure:
//! a final status (`n` tasks finished so), or `wait` / `run` with a latency `bucket`
//! (`n` tasks whose wait or run time fell in it). Minute rows serve the last hour and
//! hour rows the last day; each is pruned soon after its window passes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// On SQLite the rows live in their primary key's order (`WITHOUT ROWID`), so a window's
/// rows are one range of one B-tree, read without a second lookup.
const SQLITE: &[&str] = &["CREATE TABLE IF NOT EXISTS task_stats (
       span INTEGER NOT NULL, at INTEGER NOT NULL, queue TEXT NOT NULL,
       task_type TEXT NOT NULL, measure TEXT NOT NULL, bucket INTEGER NOT NULL,
       n INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (span, at, queue, task_type, measure, bucket)) WITHOUT ROWID"];

const POSTGRES: &[&str] = &["CREATE TABLE IF NOT EXISTS task_stats (
       span INTEGER NOT NULL, at BIGINT NOT NULL, queue VARCHAR(64) NOT NULL,
       task_type VARCHAR(64) NOT NULL, measure VARCHAR(16) NOT NULL, bucket INTEGER NOT NULL,
       n BIGINT NOT NULL DEFAULT 0,
       PRIMARY KEY (span, at, queue, task_type, measure, bucket))"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, SQLITE, POSTGRES).await
    }
}
