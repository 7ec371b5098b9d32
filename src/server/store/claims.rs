//! The worker side of the store: claiming ready tasks, renewing leases with progress,
//! and recording how an attempt ended. Every change after the claim is fenced on the
//! state it expects (RUNNING, this attempt), so a late write can never undo another.

use super::attempt_row::{self, Entity as Attempts};
use super::claimed::{self, ClaimedTask};
use super::conflicts::retry_conflicts;
use super::successes::Success;
use super::task_row::{self, status_is, Column, Entity as Tasks};
use super::writes::{unexpected, Ending, Write, Written};
use super::{CommitVerdict, Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QueryTrait, Statement, TransactionTrait,
};
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

/// What a heartbeat learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// The attempt still owns the task.
    Owned { cancel_requested: bool },
    /// The task is no longer this attempt's (rescued, cancelled, finished elsewhere).
    Lost,
}

impl Store {
    /// Atomically moves up to `limit` ready tasks of `queue` to RUNNING under a lease held
    /// by `worker_id` until `lease_until`, most urgent first (priority, then run_at), and
    /// opens an attempt record for each. Nothing is claimed from a paused queue. The claim
    /// shares its commit with other writes waiting at that moment, and is answered once
    /// that commit is durable.
    pub async fn claim(
        &self,
        queue: &str,
        limit: u64,
        worker_id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let write = claim_write(queue, limit, worker_id, now, lease_until);
        claimed(self.commits.write(write).await?)
    }

    /// A worker pool's claim: as [`Store::claim`], but on SQLite answered as soon as the
    /// claim has run, before its commit is on disk, so the tasks start while it syncs.
    /// The verdict says later whether that commit happened; until it has, an attempt of
    /// the claim must write nothing (no heartbeat, no outcome). Should the commit fail,
    /// the claim never happened and the tasks are still PENDING: a later claim may take
    /// them again under the same attempt number, which the fence cannot tell apart. A
    /// crash before the commit is the same as a crash while the tasks run: they run again.
    pub async fn claim_before_commit(
        &self,
        queue: &str,
        limit: u64,
        worker_id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<(Vec<ClaimedTask>, CommitVerdict), StoreError> {
        let write = claim_write(queue, limit, worker_id, now, lease_until);
        let (written, verdict) = self.commits.write_before_commit(write).await?;
        Ok((claimed(written)?, verdict))
    }

    /// Extends the lease of a running attempt and stores its latest progress; tells the
    /// attempt whether it still owns the task and whether a cancel was requested.
    pub async fn heartbeat(
        &self,
        id: Uuid,
        attempt: i32,
        lease_until: i64,
        progress: Option<(u8, Option<String>)>,
    ) -> Result<Heartbeat, StoreError> {
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
        let statement = self.writer.get_database_backend().build(&update);
        let rows = retry_conflicts(|| self.writer.query_all_raw(statement.clone())).await?;
        Ok(match rows.first() {
            Some(row) => Heartbeat::Owned {
                cancel_requested: row.try_get_by_index(0)?,
            },
            None => Heartbeat::Lost,
        })
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
        Ok(retry_conflicts(move || self.requeue_once(id, attempt, now)).await?)
    }

    async fn requeue_once(&self, id: Uuid, attempt: i32, now: i64) -> Result<bool, DbErr> {
        let txn = self.writer.begin().await?;
        let changed = requeue_update(now)
            .filter(running_attempt(id, attempt))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if changed {
            close_attempt(&txn, id, attempt, now, "INTERRUPTED", None).await?;
        }
        txn.commit().await?;
        Ok(changed)
    }

    /// Requeues every task still RUNNING under `worker_id`; the last step of a shutdown.
    pub async fn requeue_worker(&self, worker_id: &str, now: i64) -> Result<u64, StoreError> {
        Ok(retry_conflicts(move || self.requeue_worker_once(worker_id, now)).await?)
    }

    async fn requeue_worker_once(&self, worker_id: &str, now: i64) -> Result<u64, DbErr> {
        let txn = self.writer.begin().await?;
        let requeued = requeue_update(now)
            .filter(status_is(TaskStatus::Running))
            .filter(Column::WorkerId.eq(worker_id))
            .exec_with_returning(&txn)
            .await?;
        for task in &requeued {
            close_attempt(&txn, task.id, task.attempt, now, "INTERRUPTED", None).await?;
        }
        txn.commit().await?;
        Ok(requeued.len() as u64)
    }

    /// Tasks currently RUNNING (oldest claim first); for shutdown checks and tests.
    pub async fn running(&self) -> Result<Vec<task_row::Model>, StoreError> {
        Ok(Tasks::find()
            .filter(status_is(TaskStatus::Running))
            .order_by_asc(Column::StartedAt)
            .all(&self.reader)
            .await?)
    }
}

fn claim_write(queue: &str, limit: u64, worker_id: &str, now: i64, lease_until: i64) -> Write {
    Write::Claim {
        queue: queue.to_string(),
        limit,
        worker_id: worker_id.to_string(),
        now,
        lease_until,
    }
}

fn claimed(written: Written) -> Result<Vec<ClaimedTask>, StoreError> {
    match written {
        Written::Claimed(tasks) => Ok(tasks),
        other => Err(unexpected(other)),
    }
}

/// The claim itself: on SQLite one statement, `UPDATE … WHERE id IN (SELECT … ORDER BY …
/// LIMIT n) RETURNING …`; on PostgreSQL the SELECT first, then the UPDATE. A trigger opens
/// the attempt records.
pub(super) async fn claim_in(
    db: &impl ConnectionTrait,
    queue: &str,
    limit: u64,
    worker_id: &str,
    now: i64,
    lease_until: i64,
) -> Result<Vec<ClaimedTask>, DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let statement = match backend {
        // PostgreSQL may run an `IN (subquery)` more than once in one statement, locking
        // more than `limit` rows; there the ids are picked (and locked) first. This needs
        // a transaction, which the group committer always opens for a claim on PostgreSQL.
        DatabaseBackend::Postgres => {
            let ids = db
                .query_all(&ready_tasks(queue, limit, now))
                .await?
                .iter()
                .map(|row| row.try_get::<Uuid>("", "id"))
                .collect::<Result<Vec<_>, _>>()?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let update = claim_update(worker_id, now, lease_until).filter(Column::Id.is_in(ids));
            returning_claimed(update, backend)
        }
        _ => sqlite_claim(queue, limit, worker_id, now, lease_until),
    };
    let mut claimed = db
        .query_all_raw(statement)
        .await?
        .iter()
        .map(ClaimedTask::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|task| (task.priority, task.run_at));
    Ok(claimed)
}

/// The ids of up to `limit` ready tasks of `queue`, most urgent first; nothing when the
/// queue is paused.
///
/// It walks the partial index `ix_tasks_ready` (queue, priority, run_at; PENDING tasks
/// only) in order and stops after `limit` rows, however long the backlog. On PostgreSQL
/// it locks the rows it picks and skips rows other processes' claims have locked, so
/// concurrent claims never take the same task and do not queue up behind each other for
/// task rows (they still meet on the counter rows their triggers update; see
/// [`super::conflicts`]). SQLite, with one writer, has no row locks and leaves the clause
/// out.
pub(super) fn ready_tasks(queue: &str, limit: u64, now: i64) -> SelectStatement {
    let paused = Query::select()
        .expr(Expr::val(1))
        .from(super::queue_row::Entity)
        .and_where(super::queue_row::Column::Name.eq(queue))
        .and_where(super::queue_row::Column::Paused.eq(true))
        .to_owned();
    // The queue's name while it is not paused, else NULL, which no task matches. As the
    // index's search key, the check runs once before the walk: as a filter beside it,
    // SQLite would walk the whole backlog of a paused queue and reject every row.
    let open_queue = Query::select()
        .expr(Expr::val(queue))
        .and_where(Expr::exists(paused).not())
        .to_owned();
    Query::select()
        .column(Column::Id)
        .from(Tasks)
        .and_where(status_is(TaskStatus::Pending))
        .and_where(Expr::col(Column::Queue).eq(Expr::SubQuery(None, Box::new(open_queue.into()))))
        .and_where(Column::RunAt.lte(now))
        .order_by(Column::Priority, sea_orm::Order::Asc)
        .order_by(Column::RunAt, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned()
}

/// Moves the chosen tasks to RUNNING under this claim's lease; a trigger opens each
/// attempt record.
fn claim_update(worker_id: &str, now: i64, lease_until: i64) -> sea_orm::UpdateMany<Tasks> {
    Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Running.as_str()))
        .col_expr(Column::Attempt, Expr::col(Column::Attempt).add(1))
        .col_expr(Column::StartedAt, Expr::value(now))
        .col_expr(Column::LeaseExpiresAt, Expr::value(lease_until))
        .col_expr(Column::WorkerId, Expr::value(worker_id))
        .col_expr(Column::Progress, Expr::value(0))
        .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
}

/// The whole claim on SQLite, one statement: `UPDATE … WHERE id IN (ready tasks) RETURNING …`.
fn sqlite_claim(queue: &str, limit: u64, worker_id: &str, now: i64, lease_until: i64) -> Statement {
    let update = claim_update(worker_id, now, lease_until)
        .filter(Column::Id.in_subquery(ready_tasks(queue, limit, now)));
    sqlite_limit_unplanned(returning_claimed(update, DatabaseBackend::Sqlite))
}

/// The claim's update, returning what its worker needs (see [`claimed`]).
fn returning_claimed(update: sea_orm::UpdateMany<Tasks>, backend: DatabaseBackend) -> Statement {
    let mut update = update.into_query();
    update.returning(Query::returning().columns(claimed::COLUMNS));
    backend.build(&update)
}

/// SQLite plans a `LIMIT ?` with the value bound at the time, so it prepares the
/// statement again (parsing it and compiling its triggers: 143 M of SQLite's 1.84 G
/// instructions on a 10,000-task burn-down) whenever the limit is bound anew, which is
/// on every claim. The plan is the same whatever
/// the limit (the walk of `ix_tasks_ready` stops after it), and behind a cast the planner
/// no longer reads the value.
pub(super) fn sqlite_limit_unplanned(mut statement: Statement) -> Statement {
    statement.sql = statement
        .sql
        .replacen(" LIMIT ?", " LIMIT CAST(? AS INTEGER)", 1);
    statement
}

/// Records an attempt's failure or cancellation inside the caller's transaction; false
/// when the task is no longer this attempt's.
pub(super) async fn finish_in(
    db: &impl ConnectionTrait,
    id: Uuid,
    attempt: i32,
    now: i64,
    ending: Ending,
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
                .col_expr(Column::RunAt, Expr::value(retry_at))
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
    let changed = update
        .filter(running_attempt(id, attempt))
        .exec(db)
        .await?
        .rows_affected
        == 1;
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
    db: &impl ConnectionTrait,
    id: Uuid,
    attempt: i32,
    now: i64,
    outcome: &str,
    error: Option<String>,
) -> Result<(), DbErr> {
    Attempts::update_many()
        .col_expr(attempt_row::Column::FinishedAt, Expr::value(now))
        .col_expr(attempt_row::Column::Outcome, Expr::value(outcome))
        .col_expr(attempt_row::Column::Error, Expr::value(error))
        .filter(attempt_row::Column::TaskId.eq(id))
        .filter(attempt_row::Column::Attempt.eq(attempt))
        .filter(attempt_row::Column::FinishedAt.is_null())
        .exec(db)
        .await?;
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

/// The fence every post-claim write carries.
pub(super) fn running_attempt(id: Uuid, attempt: i32) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::Id.eq(id))
        .add(Column::Status.eq(TaskStatus::Running.as_str()))
        .add(Column::Attempt.eq(attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_claim_binds_its_limit_behind_a_cast() {
        let statement = sqlite_claim("default", 5, "w", 0, 10);
        assert!(statement.sql.starts_with("UPDATE "), "{}", statement.sql);
        assert_eq!(
            statement.sql.matches(" LIMIT CAST(? AS INTEGER)").count(),
            1,
            "{}",
            statement.sql
        );
        assert!(!statement.sql.contains("LIMIT ?"), "{}", statement.sql);
        let values = statement.values.map(|values| values.0).unwrap_or_default();
        assert!(
            values.contains(&sea_orm::Value::BigUnsigned(Some(5))),
            "the limit is still a bound value: {values:?}"
        );
    }

    #[test]
    fn the_claim_returns_its_columns_in_the_order_they_are_read() {
        use sea_orm::IdenStatic;
        let statement = sqlite_claim("default", 5, "w", 0, 10);
        let columns: Vec<String> = claimed::COLUMNS
            .iter()
            .map(|column| format!("\"{}\"", column.as_str()))
            .collect();
        let returning = format!(" RETURNING {}", columns.join(", "));
        assert!(statement.sql.ends_with(&returning), "{}", statement.sql);
    }
}
