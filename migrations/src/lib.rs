//! Spool's schema, as sea-orm migrations: backend-neutral (the same files build the same
//! schema on SQLite and PostgreSQL), one file per migration, applied in order at start-up.
//!
//! Timestamps are stored as BIGINT microseconds since the Unix epoch (UTC): exact to order
//! and compare on every backend, cheap to index, and free of text-format ambiguity.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tasks;
mod m20261129_000002_attempts_counts_queues;
mod m20261129_000003_throughput;
mod m20261129_000004_partial_indexes;
mod m20261129_000005_attempt_triggers;
mod m20261202_000006_ready_notifications;
mod m20261203_000007_resume_notifications;
mod m20261203_000008_batched_success_counts;
mod m20261203_000009_throughput_trigger_without_in_list;
mod m20261206_000010_counts_kept_by_the_store;
mod m20261206_000011_schedules;
mod m20261207_000012_manual_schedule_runs;
mod m20261207_000013_unique_tasks;
mod m20261208_000014_task_logs;
mod m20261208_000015_audit_log;
mod m20261209_000016_processes;
mod m20261210_000017_task_stats;
mod m20261211_000018_change_notifications;

/// Runs the statements written for the database being migrated, in order: raw SQL for
/// what differs between the backends (triggers and their functions, mostly).
async fn run_for_backend(
    manager: &SchemaManager<'_>,
    sqlite: &[&str],
    postgres: &[&str],
) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DatabaseBackend::Postgres => postgres,
        _ => sqlite,
    };
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Applies every migration Spool knows, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_tasks::Migration),
            Box::new(m20261129_000002_attempts_counts_queues::Migration),
            Box::new(m20261129_000003_throughput::Migration),
            Box::new(m20261129_000004_partial_indexes::Migration),
            Box::new(m20261129_000005_attempt_triggers::Migration),
            Box::new(m20261202_000006_ready_notifications::Migration),
            Box::new(m20261203_000007_resume_notifications::Migration),
            Box::new(m20261203_000008_batched_success_counts::Migration),
            Box::new(m20261203_000009_throughput_trigger_without_in_list::Migration),
            Box::new(m20261206_000010_counts_kept_by_the_store::Migration),
            Box::new(m20261206_000011_schedules::Migration),
            Box::new(m20261207_000012_manual_schedule_runs::Migration),
            Box::new(m20261207_000013_unique_tasks::Migration),
            Box::new(m20261208_000014_task_logs::Migration),
            Box::new(m20261208_000015_audit_log::Migration),
            Box::new(m20261209_000016_processes::Migration),
            Box::new(m20261210_000017_task_stats::Migration),
            Box::new(m20261211_000018_change_notifications::Migration),
        ]
    }
}
