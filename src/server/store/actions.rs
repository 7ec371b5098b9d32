//! Actions operators take on one task besides cancel and retry: run a waiting task now,
//! and delete a finished one. Each is fenced on the state it expects, keeps the counters
//! exact, and writes its audit entry (when given one) in the same transaction.

use super::audit::{write_audit, AuditNote};
use super::conn::{Begin, Commit, Conn};
use super::counting::{returning_changed, Changed, Tally};
use super::task_row::{self, status_is, Column, Entity as Tasks};
use super::writer::on_writer;
use super::{Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

/// What an action on one task did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionResult {
    Done,
    /// The task's status does not allow the action; nothing changed.
    NotNow(TaskStatus),
    NotFound,
}

impl Store {
    /// Makes a SCHEDULED task (delayed, or waiting out a retry's backoff) PENDING and due
    /// now.
    pub async fn run_now(
        &self,
        id: Uuid,
        now: i64,
        audit: Option<AuditNote>,
    ) -> Result<ActionResult, StoreError> {
        Ok(on_writer!(&self.writer, |db| run_now_in(
            db,
            id,
            now,
            audit.clone()
        ))?)
    }

    /// Deletes a finished task (SUCCESS, FAILED or CANCELLED) with its attempts and log.
    pub async fn delete_finished(
        &self,
        id: Uuid,
        audit: Option<AuditNote>,
    ) -> Result<ActionResult, StoreError> {
        Ok(on_writer!(&self.writer, |db| delete_in(
            db,
            id,
            audit.clone()
        ))?)
    }
}

async fn run_now_in(
    db: &impl Begin,
    id: Uuid,
    now: i64,
    audit: Option<AuditNote>,
) -> Result<ActionResult, DbErr> {
    let mut due = Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Pending.as_str()))
        .col_expr(Column::RunAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(status_is(TaskStatus::Scheduled))
        .into_query();
    due.returning(returning_changed());
    let txn = db.begin().await?;
    let changed = txn.fetch::<Changed>(&due).await?;
    if changed.is_empty() {
        return not_now(txn, id).await;
    }
    if let Some(note) = audit {
        write_audit(&txn, note).await?;
    }
    let mut tally = Tally::default();
    tally.moved_all(TaskStatus::Scheduled, &changed);
    tally.commit(txn).await?;
    Ok(ActionResult::Done)
}

async fn delete_in(
    db: &impl Begin,
    id: Uuid,
    audit: Option<AuditNote>,
) -> Result<ActionResult, DbErr> {
    let final_statuses = [
        TaskStatus::Success,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ];
    let mut delete = Tasks::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in(final_statuses.map(|status| status.as_str())))
        .into_query();
    delete.returning(returning_changed());
    let txn = db.begin().await?;
    let deleted = txn.fetch::<Changed>(&delete).await?;
    if deleted.is_empty() {
        return not_now(txn, id).await;
    }
    if let Some(note) = audit {
        write_audit(&txn, note).await?;
    }
    let mut tally = Tally::default();
    for task in &deleted {
        tally.removed(&task.queue, &task.task_type, task.status);
    }
    tally.commit(txn).await?;
    Ok(ActionResult::Done)
}

/// Why an action changed nothing: the task's status, or that there is no such task.
async fn not_now(txn: impl Commit, id: Uuid) -> Result<ActionResult, DbErr> {
    let find = Tasks::find_by_id(id).into_query();
    let found = txn.fetch::<task_row::Model>(&find).await?;
    txn.rollback().await?;
    Ok(match found.first() {
        Some(task) => ActionResult::NotNow(task.status()),
        None => ActionResult::NotFound,
    })
}
