//! Transitions that users and housekeeping make: cancel, retry, promotion of due
//! scheduled tasks, rescue of tasks whose worker died, and pruning of old finished tasks.
//! Each is fenced on the state it expects, so racing with a worker is safe.

use super::attempts::close_attempt;
use super::audit::{write_audit, AuditNote};
use super::conn::{is_unique_violation, Begin, Commit, Conn};
use super::counting::{returning_changed, Changed, Tally};
use super::logs::{prune_lines_in, PRUNE_LINES};
use super::task_row::{self, status_is, Column, Entity as Tasks};
use super::writer::{in_batches_until_none_left, on_writer};
use super::{Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, ExprTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

/// What a cancel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelResult {
    /// The task had not started: it is CANCELLED now.
    Cancelled,
    /// The task is running: its worker has been asked to stop.
    Requested,
    /// The task had already finished with this status; nothing changed.
    AlreadyFinal(TaskStatus),
    NotFound,
}

/// What a retry did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryResult {
    /// The task is PENDING again.
    Retried,
    /// Only FAILED and CANCELLED tasks can be retried; it has this status.
    NotRetryable(TaskStatus),
    NotFound,
    /// Another task that counts holds its unique key.
    UniqueKeyHeld,
}

/// Tasks a rescue pass moved, by where they went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rescued {
    pub retried: u64,
    pub failed: u64,
    pub cancelled: u64,
}

const NOT_STARTED: [TaskStatus; 2] = [TaskStatus::Pending, TaskStatus::Scheduled];
const FINAL: [&str; 3] = ["SUCCESS", "FAILED", "CANCELLED"];
/// Rounds a cancel makes while a task moves between states under it.
const CANCEL_TRIES: usize = 5;
/// Finished tasks deleted per pruning statement, so a prune never holds the writer long.
const PRUNE_BATCH: u64 = 1000;

impl Store {
    /// Cancels a task: at once when it has not started, by request when it is running.
    /// A task that changes state between the steps (a requeue, a rescue) is tried again,
    /// so only a task that really is final is reported as such.
    pub async fn cancel(&self, id: Uuid, now: i64) -> Result<CancelResult, StoreError> {
        self.cancel_noted(id, now, None).await
    }

    /// [`Store::cancel`], writing `audit` in the same transaction when the task changed.
    pub async fn cancel_noted(
        &self,
        id: Uuid,
        now: i64,
        audit: Option<AuditNote>,
    ) -> Result<CancelResult, StoreError> {
        Ok(on_writer!(&self.writer, |db| cancel_in(
            db,
            id,
            now,
            audit.clone()
        ))?)
    }

    /// Makes a FAILED or CANCELLED task PENDING again, keeping its attempt history and
    /// granting it at least one more attempt.
    pub async fn retry(&self, id: Uuid, now: i64) -> Result<RetryResult, StoreError> {
        self.retry_noted(id, now, None, None).await
    }

    /// [`Store::retry`], with new `parameters` if given (already checked), writing
    /// `audit` in the same transaction when the task changed.
    pub async fn retry_noted(
        &self,
        id: Uuid,
        now: i64,
        parameters: Option<serde_json::Value>,
        audit: Option<AuditNote>,
    ) -> Result<RetryResult, StoreError> {
        let parameters = parameters.map(|parameters| parameters.to_string());
        match on_writer!(&self.writer, |db| retry_in(
            db,
            id,
            now,
            parameters.clone(),
            audit.clone()
        )) {
            Ok(result) => Ok(result),
            // Waiting again, it would be a second task that counts for its unique key.
            Err(err) if is_unique_violation(&err) => Ok(RetryResult::UniqueKeyHeld),
            Err(err) => Err(err.into()),
        }
    }

    /// SCHEDULED tasks whose time has come become PENDING; returns how many.
    pub async fn promote_due(&self, now: i64) -> Result<u64, StoreError> {
        Ok(on_writer!(&self.writer, |db| promote_due_in(db, now))?)
    }

    /// Tasks RUNNING under an expired lease (their worker died or hung) are rescued:
    /// cancelled if a cancel was requested, retried at once if attempts remain, else
    /// FAILED with the reason. Their open attempts are closed as LOST.
    pub async fn rescue_expired(&self, now: i64) -> Result<Rescued, StoreError> {
        Ok(on_writer!(&self.writer, |db| rescue_expired_in(db, now))?)
    }

    /// Deletes finished tasks completed before `cutoff`, a batch at a time; returns how
    /// many went. Their attempts and log lines go with them. Processes pruning at once
    /// each delete a task at most once; each goes on until a batch finds nothing left.
    pub async fn prune(&self, cutoff: i64) -> Result<u64, StoreError> {
        while on_writer!(&self.writer, |db| prune_lines_in(db, cutoff))? >= PRUNE_LINES {}
        let batch = || async { on_writer!(&self.writer, |db| prune_batch_in(db, cutoff)) };
        Ok(in_batches_until_none_left(batch).await?)
    }
}

async fn cancel_in(
    db: &impl Begin,
    id: Uuid,
    now: i64,
    audit: Option<AuditNote>,
) -> Result<CancelResult, DbErr> {
    for _ in 0..CANCEL_TRIES {
        let txn = db.begin().await?;
        // One status at a time, so the count knows which one the task left.
        for from in NOT_STARTED {
            let mut cancel = Tasks::update_many()
                .col_expr(Column::Status, Expr::value(TaskStatus::Cancelled.as_str()))
                .col_expr(Column::CompletedAt, Expr::value(now))
                .filter(Column::Id.eq(id))
                .filter(status_is(from))
                .into_query();
            cancel.returning(returning_changed());
            let cancelled = txn.fetch::<Changed>(&cancel).await?;
            if !cancelled.is_empty() {
                if let Some(note) = audit.clone() {
                    write_audit(&txn, note).await?;
                }
                counted(txn, from, &cancelled).await?;
                return Ok(CancelResult::Cancelled);
            }
        }
        // Asked once: asking again changes nothing, so it is not recorded again.
        let requested = Tasks::update_many()
            .col_expr(Column::CancelRequested, Expr::value(true))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(TaskStatus::Running.as_str()))
            .filter(Column::CancelRequested.eq(false));
        if txn.run(&requested.into_query()).await? == 1 {
            if let Some(note) = audit.clone() {
                write_audit(&txn, note).await?;
            }
            txn.commit().await?;
            return Ok(CancelResult::Requested);
        }
        let found = find_in(&txn, id).await?;
        txn.rollback().await?;
        match found {
            None => return Ok(CancelResult::NotFound),
            Some(task) if task.status().is_final() => {
                return Ok(CancelResult::AlreadyFinal(task.status()))
            }
            Some(task) if task.status() == TaskStatus::Running && task.cancel_requested => {
                return Ok(CancelResult::Requested)
            }
            Some(_) => continue,
        }
    }
    Err(DbErr::Custom(
        "the task kept changing state while being cancelled".into(),
    ))
}

/// Counts the tasks a statement moved from `from`, and commits.
async fn counted(txn: impl Commit, from: TaskStatus, changed: &[Changed]) -> Result<(), DbErr> {
    let mut tally = Tally::default();
    tally.moved_all(from, changed);
    tally.commit(txn).await
}

/// One task, read on the writing connection.
async fn find_in(db: &impl Conn, id: Uuid) -> Result<Option<task_row::Model>, DbErr> {
    let find = Tasks::find_by_id(id).into_query();
    Ok(db.fetch::<task_row::Model>(&find).await?.into_iter().next())
}

async fn retry_in(
    db: &impl Begin,
    id: Uuid,
    now: i64,
    parameters: Option<String>,
    audit: Option<AuditNote>,
) -> Result<RetryResult, DbErr> {
    let txn = db.begin().await?;
    for from in [TaskStatus::Failed, TaskStatus::Cancelled] {
        let mut retry = Tasks::update_many();
        if let Some(parameters) = &parameters {
            retry = retry.col_expr(Column::Parameters, Expr::value(parameters.clone()));
        }
        let mut retry = retry
            .col_expr(Column::Status, Expr::value(TaskStatus::Pending.as_str()))
            .col_expr(Column::RunAt, Expr::value(now))
            .col_expr(Column::CompletedAt, Expr::value(Option::<i64>::None))
            .col_expr(Column::CancelRequested, Expr::value(false))
            .col_expr(Column::Progress, Expr::value(0))
            .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
            .col_expr(
                Column::MaxAttempts,
                Expr::case(
                    Expr::col(Column::MaxAttempts).lte(Expr::col(Column::Attempt)),
                    Expr::col(Column::Attempt).add(1),
                )
                .finally(Expr::col(Column::MaxAttempts))
                .into(),
            )
            .filter(Column::Id.eq(id))
            .filter(status_is(from))
            .into_query();
        retry.returning(returning_changed());
        let retried = txn.fetch::<Changed>(&retry).await?;
        if !retried.is_empty() {
            if let Some(note) = audit.clone() {
                write_audit(&txn, note).await?;
            }
            counted(txn, from, &retried).await?;
            return Ok(RetryResult::Retried);
        }
    }
    let found = find_in(&txn, id).await?;
    txn.rollback().await?;
    Ok(match found {
        Some(task) => RetryResult::NotRetryable(task.status()),
        None => RetryResult::NotFound,
    })
}

async fn promote_due_in(db: &impl Begin, now: i64) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let mut promote = Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Pending.as_str()))
        .filter(status_is(TaskStatus::Scheduled))
        .filter(Column::RunAt.lte(now))
        .into_query();
    promote.returning(returning_changed());
    let promoted = txn.fetch::<Changed>(&promote).await?;
    counted(txn, TaskStatus::Scheduled, &promoted).await?;
    Ok(promoted.len() as u64)
}

async fn rescue_expired_in(db: &impl Begin, now: i64) -> Result<Rescued, DbErr> {
    let expired = || {
        sea_orm::Condition::all()
            .add(status_is(TaskStatus::Running))
            .add(Column::LeaseExpiresAt.lt(now))
    };
    // Each update returns the tasks it moved, whose attempts are then closed.
    let moved = |update: sea_orm::UpdateMany<Tasks>| {
        let mut update = update.filter(expired()).into_query();
        update.returning(returning_changed());
        update
    };
    let txn = db.begin().await?;
    let cancelled = Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Cancelled.as_str()))
        .col_expr(Column::CompletedAt, Expr::value(now))
        .col_expr(
            Column::ErrorMessage,
            Expr::value("cancelled; its worker stopped responding"),
        )
        .filter(Column::CancelRequested.eq(true));
    let cancelled = txn.fetch::<Changed>(&moved(cancelled)).await?;
    let failed = Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Failed.as_str()))
        .col_expr(Column::CompletedAt, Expr::value(now))
        .col_expr(
            Column::ErrorMessage,
            Expr::value("its worker stopped responding (lease expired) and no attempts remain"),
        )
        .filter(Expr::col(Column::Attempt).gte(Expr::col(Column::MaxAttempts)));
    let failed = txn.fetch::<Changed>(&moved(failed)).await?;
    let retried = Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Pending.as_str()))
        .col_expr(Column::RunAt, Expr::value(now))
        .col_expr(
            Column::ErrorMessage,
            Expr::value("its worker stopped responding (lease expired); retrying"),
        );
    let retried = txn.fetch::<Changed>(&moved(retried)).await?;
    let rescued = || cancelled.iter().chain(&failed).chain(&retried);
    let mut tally = Tally::default();
    for task in rescued() {
        close_attempt(
            &txn,
            task.id,
            task.attempt,
            now,
            "LOST",
            Some("lease expired".into()),
        )
        .await?;
        tally.moved(
            &task.queue,
            &task.task_type,
            TaskStatus::Running,
            task.status,
            task.times(),
        );
    }
    let clear = Tasks::update_many()
        .col_expr(Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::WorkerId, Expr::value(Option::<String>::None))
        .filter(Column::Id.is_in(rescued().map(|task| task.id)));
    txn.run(&clear.into_query()).await?;
    tally.commit(txn).await?;
    Ok(Rescued {
        retried: retried.len() as u64,
        failed: failed.len() as u64,
        cancelled: cancelled.len() as u64,
    })
}

/// Deletes up to [`PRUNE_BATCH`] finished tasks completed before `cutoff`.
async fn prune_batch_in(db: &impl Begin, cutoff: i64) -> Result<u64, DbErr> {
    let batch = Query::select()
        .column(Column::Id)
        .from(Tasks)
        .and_where(Column::Status.is_in(FINAL))
        .and_where(Column::CompletedAt.lt(cutoff))
        .limit(PRUNE_BATCH)
        .to_owned();
    let mut delete = Tasks::delete_many()
        .filter(Column::Id.in_subquery(batch))
        .into_query();
    delete.returning(returning_changed());
    let txn = db.begin().await?;
    let deleted = txn.fetch::<Changed>(&delete).await?;
    let mut tally = Tally::default();
    for task in &deleted {
        tally.removed(&task.queue, &task.task_type, task.status);
    }
    tally.commit(txn).await?;
    Ok(deleted.len() as u64)
}
