//! What a claimed attempt writes afterwards: heartbeats with its progress, how it ended,
//! and, when its process shuts down, its requeue. Every one of these writes is fenced on
//! the state it expects (RUNNING, this attempt), so a late write can never undo another.

use super::attempt_row::{self, Entity as Attempts};
use super::conn::{Begin, Commit, Conn};
use super::counting::{returning_changed, Changed, Tally};
use super::successes::Success;
use super::task_row::{status_is, Column, Entity as Tasks};
use super::writer::on_writer;
use super::writes::{unexpected, Ending, Heartbeat, Write, Written};
use super::{Store, StoreError, Task};
use crate::model::TaskStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QueryTrait};
use uuid::Uuid;

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The handler returned this result.
    Succeeded(serde_json::Value),
    /// The handler failed; with `retry_at` the task is SCHEDULED again, else FAILED.
    Failed {
        error: String,
        retry_at: Option<i64>,
    },
    /// The attempt stopped because a user cancelled the task.
    Cancelled,
}

impl Store {
    /// Extends the lease of a running attempt and stores its latest progress; tells the
    /// attempt whether it still owns the task and whether a cancel was requested. Shares
    /// its commit with the other writes waiting at that moment, other heartbeats among
    /// them.
    pub async fn heartbeat(
        &self,
        id: Uuid,
        attempt: i32,
        lease_until: i64,
        progress: Option<(u8, Option<String>)>,
    ) -> Result<Heartbeat, StoreError> {
        let write = Write::Heartbeat {
            id,
            attempt,
            lease_until,
            progress,
        };
        match self.commits.write(write).await? {
            Written::Beat(heartbeat) => Ok(heartbeat),
            other => Err(unexpected(other)),
        }
    }

    /// Records the end of a running attempt (sharing its commit with other writes waiting
    /// at that moment). Returns false, changing nothing, when the task is no longer this
    /// attempt's.
    pub async fn finish(
        &self,
        id: Uuid,
        attempt: i32,
        now: i64,
        outcome: Outcome,
    ) -> Result<bool, StoreError> {
        let ended = |ending| Write::Finish {
            id,
            attempt,
            now,
            ending,
        };
        let write = match outcome {
            Outcome::Succeeded(result) => Write::Succeed(Success {
                id,
                attempt,
                now,
                result: result.to_string(),
            }),
            Outcome::Failed { error, retry_at } => ended(Ending::Failed { error, retry_at }),
            Outcome::Cancelled => ended(Ending::Cancelled),
        };
        match self.commits.write(write).await? {
            Written::Finished(changed) => Ok(changed),
            other => Err(unexpected(other)),
        }
    }

    /// Puts an attempt interrupted by this process's shutdown back to PENDING. The
    /// attempt stays in the history as INTERRUPTED; the task always gets another run.
    pub async fn requeue(&self, id: Uuid, attempt: i32, now: i64) -> Result<bool, StoreError> {
        Ok(on_writer!(&self.writer, |db| requeue_in(
            db, id, attempt, now
        ))?)
    }

    /// Requeues every task still RUNNING under `worker_id`; the last step of a shutdown.
    pub async fn requeue_worker(&self, worker_id: &str, now: i64) -> Result<u64, StoreError> {
        let worker_id = worker_id.to_string();
        Ok(on_writer!(&self.writer, |db| requeue_worker_in(
            db,
            worker_id.clone(),
            now
        ))?)
    }

    /// Tasks currently RUNNING (oldest claim first); for shutdown checks and tests.
    pub async fn running(&self) -> Result<Vec<Task>, StoreError> {
        let rows = Tasks::find()
            .filter(status_is(TaskStatus::Running))
            .order_by_asc(Column::StartedAt)
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }
}

/// Extends a running attempt's lease and stores its progress (see [`Store::heartbeat`]).
pub(super) async fn heartbeat_in(
    db: &impl Conn,
    id: Uuid,
    attempt: i32,
    lease_until: i64,
    progress: Option<(u8, Option<String>)>,
) -> Result<Heartbeat, DbErr> {
    let mut update =
        Tasks::update_many().col_expr(Column::LeaseExpiresAt, Expr::value(lease_until));
    if let Some((percent, message)) = progress {
        update = update
            .col_expr(
                Column::Progress,
                Expr::value(i32::from(Ord::min(percent, 100))),
            )
            .col_expr(Column::ProgressMessage, Expr::value(message));
    }
    // Only the one column the attempt reads comes back, not the whole row.
    let mut update = update.filter(running_attempt(id, attempt)).into_query();
    update.returning_col(Column::CancelRequested);
    Ok(match db.fetch::<bool>(&update).await?.first() {
        Some(&cancel_requested) => Heartbeat::Owned { cancel_requested },
        None => Heartbeat::Lost,
    })
}

/// Puts one interrupted attempt back to PENDING (see [`Store::requeue`]).
async fn requeue_in(db: &impl Begin, id: Uuid, attempt: i32, now: i64) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let mut update = requeue_update(now)
        .filter(running_attempt(id, attempt))
        .into_query();
    update.returning(returning_changed());
    let requeued = txn.fetch::<Changed>(&update).await?;
    close_requeued(txn, &requeued, now).await?;
    Ok(!requeued.is_empty())
}

/// Puts every attempt of `worker_id` back to PENDING (see [`Store::requeue_worker`]).
async fn requeue_worker_in(db: &impl Begin, worker_id: String, now: i64) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let mut update = requeue_update(now)
        .filter(status_is(TaskStatus::Running))
        .filter(Column::WorkerId.eq(worker_id))
        .into_query();
    update.returning(returning_changed());
    let requeued = txn.fetch::<Changed>(&update).await?;
    close_requeued(txn, &requeued, now).await?;
    Ok(requeued.len() as u64)
}

/// Closes the attempts of requeued tasks as INTERRUPTED, counts the tasks and commits.
async fn close_requeued(txn: impl Commit, requeued: &[Changed], now: i64) -> Result<(), DbErr> {
    let mut tally = Tally::default();
    for task in requeued {
        close_attempt(&txn, task.id, task.attempt, now, "INTERRUPTED", None).await?;
    }
    tally.moved_all(TaskStatus::Running, requeued);
    tally.commit(txn).await
}

/// Records an attempt's failure or cancellation inside the caller's transaction; false
/// when the task is no longer this attempt's.
pub(super) async fn finish_in(
    db: &impl Conn,
    id: Uuid,
    attempt: i32,
    now: i64,
    ending: Ending,
    tally: &mut Tally,
) -> Result<bool, DbErr> {
    let mut update = Tasks::update_many()
        .col_expr(Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::WorkerId, Expr::value(Option::<String>::None));
    let (attempt_outcome, attempt_error) = match ending {
        Ending::Failed {
            error,
            retry_at: Some(retry_at),
        } => {
            // A cancel requested meanwhile wins over the retry.
            update = update
                .col_expr(
                    Column::Status,
                    unless_cancel_requested(TaskStatus::Scheduled),
                )
                .col_expr(Column::CompletedAt, completed_if_cancel_requested(now))
                .col_expr(Column::RunAt, retry_unless_cancel_requested(retry_at))
                .col_expr(Column::ErrorMessage, Expr::value(error.clone()));
            (TaskStatus::Failed, Some(error))
        }
        Ending::Failed {
            error,
            retry_at: None,
        } => {
            update = update
                .col_expr(Column::Status, Expr::value(TaskStatus::Failed.as_str()))
                .col_expr(Column::CompletedAt, Expr::value(now))
                .col_expr(Column::ErrorMessage, Expr::value(error.clone()));
            (TaskStatus::Failed, Some(error))
        }
        Ending::Cancelled => {
            update = update
                .col_expr(Column::Status, Expr::value(TaskStatus::Cancelled.as_str()))
                .col_expr(Column::CompletedAt, Expr::value(now))
                .col_expr(Column::ErrorMessage, Expr::value("cancelled while running"));
            (TaskStatus::Cancelled, None)
        }
    };
    let mut update = update.filter(running_attempt(id, attempt)).into_query();
    update.returning(returning_changed());
    let finished = db.fetch::<Changed>(&update).await?;
    tally.moved_all(TaskStatus::Running, &finished);
    let changed = !finished.is_empty();
    if changed {
        close_attempt(
            db,
            id,
            attempt,
            now,
            attempt_outcome.as_str(),
            attempt_error,
        )
        .await?;
    }
    Ok(changed)
}

/// Marks an open attempt record as ended.
pub(super) async fn close_attempt(
    db: &impl Conn,
    id: Uuid,
    attempt: i32,
    now: i64,
    outcome: &str,
    error: Option<String>,
) -> Result<(), DbErr> {
    let close = Attempts::update_many()
        .col_expr(attempt_row::Column::FinishedAt, Expr::value(now))
        .col_expr(attempt_row::Column::Outcome, Expr::value(outcome))
        .col_expr(attempt_row::Column::Error, Expr::value(error))
        .filter(attempt_row::Column::TaskId.eq(id))
        .filter(attempt_row::Column::Attempt.eq(attempt))
        .filter(attempt_row::Column::FinishedAt.is_null());
    db.run(&close.into_query()).await?;
    Ok(())
}

/// RUNNING back to PENDING, free for any worker; the interrupted attempt is not counted
/// against the task (its `max_attempts` grows by one). A task whose cancel was requested
/// ends CANCELLED instead, completed at `now`.
fn requeue_update(now: i64) -> sea_orm::UpdateMany<Tasks> {
    Tasks::update_many()
        .col_expr(Column::Status, unless_cancel_requested(TaskStatus::Pending))
        .col_expr(Column::CompletedAt, completed_if_cancel_requested(now))
        .col_expr(Column::MaxAttempts, Expr::col(Column::MaxAttempts).add(1))
        .col_expr(Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::WorkerId, Expr::value(Option::<String>::None))
        .col_expr(Column::Progress, Expr::value(0))
        .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
}

/// `status`, or CANCELLED when a cancel was requested.
fn unless_cancel_requested(status: TaskStatus) -> sea_orm::sea_query::SimpleExpr {
    Expr::case(
        Expr::col(Column::CancelRequested).eq(true),
        Expr::value(TaskStatus::Cancelled.as_str()),
    )
    .finally(Expr::value(status.as_str()))
    .into()
}

/// `now` when a cancel was requested (the task is finishing as CANCELLED), else unchanged.
fn completed_if_cancel_requested(now: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::case(
        Expr::col(Column::CancelRequested).eq(true),
        Expr::value(now),
    )
    .finally(Expr::col(Column::CompletedAt))
    .into()
}

/// `retry_at` unless a cancel was requested (the task is finishing as CANCELLED, so it
/// keeps the due time it ran for), else unchanged.
fn retry_unless_cancel_requested(retry_at: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::case(
        Expr::col(Column::CancelRequested).eq(true),
        Expr::col(Column::RunAt),
    )
    .finally(Expr::value(retry_at))
    .into()
}

/// The fence every post-claim write carries.
pub(super) fn running_attempt(id: Uuid, attempt: i32) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::Id.eq(id))
        .add(Column::Status.eq(TaskStatus::Running.as_str()))
        .add(Column::Attempt.eq(attempt))
}
