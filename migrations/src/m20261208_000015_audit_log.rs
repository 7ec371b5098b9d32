//! The audit log: one row per action an operator took on tasks (cancel, retry, run now,
//! delete, edit and retry, and each bulk action), with when, the access it was taken
//! with, the client's address, and the task or the filter it was taken on. Rows outlive
//! their tasks (a delete is audited too), so `task_id` is no foreign key.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Action,
    Access,
    Address,
    TaskId,
    Filter,
    Changed,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_integer(AuditLog::Id).auto_increment().primary_key())
                    .col(big_integer(AuditLog::At))
                    .col(string_len(AuditLog::Action, 32))
                    .col(string_len(AuditLog::Access, 32))
                    .col(string_len_null(AuditLog::Address, 64))
                    .col(uuid_null(AuditLog::TaskId))
                    .col(text_null(AuditLog::Filter))
                    .col(big_integer(AuditLog::Changed))
                    .col(text_null(AuditLog::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_task")
                    .table(AuditLog::Table)
                    .col(AuditLog::TaskId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await
    }
}
