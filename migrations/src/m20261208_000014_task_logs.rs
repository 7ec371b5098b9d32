//! Task logs: the lines a task's handler (or its external worker) writes, kept in
//! `task_logs` and deleted with their task. `tasks.log_lines` counts every line the
//! task ever wrote: each new line takes the next number, so the numbers a reader sees
//! are gap-free unless lines were dropped (the oldest beyond the per-task bound, or lines
//! written faster than they could be stored), and a gap is how a dropped stretch shows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    LogLines,
}

#[derive(DeriveIden)]
enum TaskLogs {
    Table,
    TaskId,
    Seq,
    Attempt,
    Level,
    Message,
    LoggedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(big_integer(Tasks::LogLines).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskLogs::Table)
                    .col(uuid(TaskLogs::TaskId))
                    .col(big_integer(TaskLogs::Seq))
                    .col(integer(TaskLogs::Attempt))
                    .col(string_len(TaskLogs::Level, 8))
                    .col(text(TaskLogs::Message))
                    .col(big_integer(TaskLogs::LoggedAt))
                    .primary_key(Index::create().col(TaskLogs::TaskId).col(TaskLogs::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TaskLogs::Table, TaskLogs::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}
