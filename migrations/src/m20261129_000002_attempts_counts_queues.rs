//! Attempt history, exact per-(queue, type, status) counters kept by triggers, and the
//! queue settings table (pause, concurrency).
//!
//! The counters are maintained by the database itself on every insert, delete and status
//! change of a task, so no code path can forget them and the dashboard never counts rows.
//! (Since migration 000008 the store counts a batch of successes itself.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskAttempts {
    Table,
    Id,
    TaskId,
    Attempt,
    WorkerId,
    StartedAt,
    FinishedAt,
    Outcome,
    Error,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskCounts {
    Table,
    Queue,
    TaskType,
    Status,
    N,
}

#[derive(DeriveIden, Clone, Copy)]
enum Queues {
    Table,
    Name,
    Paused,
    UpdatedAt,
}

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER IF NOT EXISTS tasks_count_insert AFTER INSERT ON tasks BEGIN
       INSERT INTO task_counts (queue, task_type, status, n) VALUES (NEW.queue, NEW.task_type, NEW.status, 1)
       ON CONFLICT (queue, task_type, status) DO UPDATE SET n = n + 1;
     END",
    "CREATE TRIGGER IF NOT EXISTS tasks_count_delete AFTER DELETE ON tasks BEGIN
       UPDATE task_counts SET n = n - 1
       WHERE queue = OLD.queue AND task_type = OLD.task_type AND status = OLD.status;
     END",
    "CREATE TRIGGER IF NOT EXISTS tasks_count_update AFTER UPDATE OF status ON tasks
     WHEN OLD.status <> NEW.status BEGIN
       UPDATE task_counts SET n = n - 1
       WHERE queue = OLD.queue AND task_type = OLD.task_type AND status = OLD.status;
       INSERT INTO task_counts (queue, task_type, status, n) VALUES (NEW.queue, NEW.task_type, NEW.status, 1)
       ON CONFLICT (queue, task_type, status) DO UPDATE SET n = n + 1;
     END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE OR REPLACE FUNCTION spool_count_tasks() RETURNS trigger AS $$
     BEGIN
       IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
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
    "CREATE TRIGGER tasks_count AFTER INSERT OR DELETE OR UPDATE OF status ON tasks
     FOR EACH ROW EXECUTE FUNCTION spool_count_tasks()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaskAttempts::Table)
                    .if_not_exists()
                    .col(big_integer(TaskAttempts::Id).auto_increment().primary_key())
                    .col(uuid(TaskAttempts::TaskId))
                    .col(integer(TaskAttempts::Attempt))
                    .col(string_len(TaskAttempts::WorkerId, 128))
                    .col(big_integer(TaskAttempts::StartedAt))
                    .col(big_integer_null(TaskAttempts::FinishedAt))
                    .col(string_len_null(TaskAttempts::Outcome, 16))
                    .col(text_null(TaskAttempts::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TaskAttempts::Table, TaskAttempts::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_task_attempts_task")
                    .table(TaskAttempts::Table)
                    .col(TaskAttempts::TaskId)
                    .col(TaskAttempts::Attempt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskCounts::Table)
                    .if_not_exists()
                    .col(string_len(TaskCounts::Queue, 64))
                    .col(string_len(TaskCounts::TaskType, 64))
                    .col(string_len(TaskCounts::Status, 16))
                    .col(big_integer(TaskCounts::N).default(0))
                    .primary_key(
                        Index::create()
                            .col(TaskCounts::Queue)
                            .col(TaskCounts::TaskType)
                            .col(TaskCounts::Status),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Queues::Table)
                    .if_not_exists()
                    .col(string_len(Queues::Name, 64).primary_key())
                    .col(boolean(Queues::Paused).default(false))
                    .col(big_integer(Queues::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        crate::run_for_backend(manager, SQLITE_TRIGGERS, POSTGRES_TRIGGERS).await?;
        let db = manager.get_connection();
        // Counters for tasks stored before this migration.
        db.execute_unprepared(
            "INSERT INTO task_counts (queue, task_type, status, n)
             SELECT queue, task_type, status, COUNT(*) FROM tasks GROUP BY queue, task_type, status",
        )
        .await?;
        Ok(())
    }
}
