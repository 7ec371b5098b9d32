//! The processes that run Spool: every `spool serve` and `spool worker` (and every
//! program embedding the engine) registers a row when it starts, renews its heartbeat
//! while it runs and marks the row stopped when it has drained. A row whose heartbeat
//! is old without a stop is a process that was killed or cut off. Its id is the prefix
//! of the worker ids its pools claim with, so an attempt names the process that ran it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Processes {
    Table,
    Id,
    Role,
    Host,
    Pid,
    Version,
    StartedAt,
    HeartbeatAt,
    StoppedAt,
    Queues,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Processes::Table)
                    .col(string_len(Processes::Id, 64).primary_key())
                    .col(string_len(Processes::Role, 16))
                    .col(string_len(Processes::Host, 255))
                    .col(big_integer(Processes::Pid))
                    .col(string_len(Processes::Version, 32))
                    .col(big_integer(Processes::StartedAt))
                    .col(big_integer(Processes::HeartbeatAt))
                    .col(big_integer_null(Processes::StoppedAt))
                    .col(text(Processes::Queues))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_processes_heartbeat")
                    .table(Processes::Table)
                    .col(Processes::HeartbeatAt)
                    .to_owned(),
            )
            .await
    }
}
