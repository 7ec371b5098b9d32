//! The `tasks` table: every column the task lifecycle needs, and the indexes that the claim
//! query, the lease rescuer and the dashboard's keyset-paged lists read.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    TaskType,
    Queue,
    Status,
    Priority,
    Attempt,
    MaxAttempts,
    Parameters,
    ResultData,
    ErrorMessage,
    Progress,
    ProgressMessage,
    CreatedAt,
    RunAt,
    StartedAt,
    CompletedAt,
    LeaseExpiresAt,
    WorkerId,
    CancelRequested,
    TimeoutMs,
    IdempotencyKey,
}

/// Index name and columns, in order.
const INDEXES: &[(&str, &[Tasks])] = &[
    // Claims: ready tasks of one queue, most urgent first.
    (
        "ix_tasks_claim",
        &[Tasks::Status, Tasks::Queue, Tasks::Priority, Tasks::RunAt],
    ),
    // Rescue of RUNNING tasks whose lease expired; promotion of due SCHEDULED tasks.
    (
        "ix_tasks_status_lease",
        &[Tasks::Status, Tasks::LeaseExpiresAt],
    ),
    ("ix_tasks_status_run_at", &[Tasks::Status, Tasks::RunAt]),
    // Lists, newest first, keyset-paged on (created_at, id), whole and per filter.
    ("ix_tasks_created", &[Tasks::CreatedAt, Tasks::Id]),
    (
        "ix_tasks_status_created",
        &[Tasks::Status, Tasks::CreatedAt, Tasks::Id],
    ),
    (
        "ix_tasks_type_created",
        &[Tasks::TaskType, Tasks::CreatedAt, Tasks::Id],
    ),
    (
        "ix_tasks_queue_created",
        &[Tasks::Queue, Tasks::CreatedAt, Tasks::Id],
    ),
    // Pruning of finished tasks by age.
    (
        "ix_tasks_status_completed",
        &[Tasks::Status, Tasks::CompletedAt],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(uuid(Tasks::Id).primary_key())
                    .col(string_len(Tasks::TaskType, 64))
                    .col(string_len(Tasks::Queue, 64).default("default"))
                    .col(string_len(Tasks::Status, 16))
                    .col(integer(Tasks::Priority).default(0))
                    .col(integer(Tasks::Attempt).default(0))
                    .col(integer(Tasks::MaxAttempts).default(1))
                    .col(text(Tasks::Parameters))
                    .col(text_null(Tasks::ResultData))
                    .col(text_null(Tasks::ErrorMessage))
                    .col(integer(Tasks::Progress).default(0))
                    .col(text_null(Tasks::ProgressMessage))
                    .col(big_integer(Tasks::CreatedAt))
                    .col(big_integer(Tasks::RunAt))
                    .col(big_integer_null(Tasks::StartedAt))
                    .col(big_integer_null(Tasks::CompletedAt))
                    .col(big_integer_null(Tasks::LeaseExpiresAt))
                    .col(string_len_null(Tasks::WorkerId, 128))
                    .col(boolean(Tasks::CancelRequested).default(false))
                    .col(big_integer_null(Tasks::TimeoutMs))
                    .col(string_len_null(Tasks::IdempotencyKey, 255).unique_key())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Tasks::Table).if_not_exists();
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await
    }
}
