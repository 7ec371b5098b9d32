//! The worker side of the store: claiming ready tasks, renewing leases with progress,
//! and recording how an attempt ended. Every change after the claim is fenced on the
//! state it expects (RUNNING, this attempt), so a late write can never undo another.

use super::task_row::{self, Column, Entity as Tasks};
use super::{Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The handler returned this result.
    Succeeded(serde_json::Value),
    /// The handler failed; the task is final.
    Failed(String),
}

impl Store {
    /// Atomically moves up to `limit` ready tasks of `queue` to RUNNING under a lease held
    /// by `worker_id` until `lease_until`, most urgent first (priority, then run_at).
    ///
    /// One statement: `UPDATE … WHERE id IN (SELECT … ORDER BY … LIMIT n) RETURNING *`.
    pub async fn claim(
        &self,
        queue: &str,
        limit: u64,
        worker_id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Vec<task_row::Model>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let ready = Query::select()
            .column(Column::Id)
            .from(Tasks)
            .and_where(Column::Status.eq(TaskStatus::Pending.as_str()))
            .and_where(Column::Queue.eq(queue))
            .and_where(Column::RunAt.lte(now))
            .order_by(Column::Priority, sea_orm::Order::Asc)
            .order_by(Column::RunAt, sea_orm::Order::Asc)
            .limit(limit)
            .to_owned();
        let mut claimed = Tasks::update_many()
            .col_expr(Column::Status, Expr::value(TaskStatus::Running.as_str()))
            .col_expr(Column::Attempt, Expr::col(Column::Attempt).add(1))
            .col_expr(Column::StartedAt, Expr::value(now))
            .col_expr(Column::LeaseExpiresAt, Expr::value(lease_until))
            .col_expr(Column::WorkerId, Expr::value(worker_id))
            .col_expr(Column::Progress, Expr::value(0))
            .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
            .filter(Column::Id.in_subquery(ready))
            .exec_with_returning(&self.writer)
            .await?;
        claimed.sort_by_key(|task| (task.priority, task.run_at));
        Ok(claimed)
    }

    /// Extends the lease of a running attempt and stores its latest progress. Returns
    /// false when the task is no longer this attempt's (rescued, cancelled, finished).
    pub async fn heartbeat(
        &self,
        id: Uuid,
        attempt: i32,
        lease_until: i64,
        progress: Option<(u8, Option<String>)>,
    ) -> Result<bool, StoreError> {
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
        let result = update
            .filter(running_attempt(id, attempt))
            .exec(&self.writer)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records the end of a running attempt. Returns false, changing nothing, when the
    /// task is no longer this attempt's.
    pub async fn finish(
        &self,
        id: Uuid,
        attempt: i32,
        now: i64,
        outcome: Outcome,
    ) -> Result<bool, StoreError> {
        let mut update = Tasks::update_many()
            .col_expr(Column::CompletedAt, Expr::value(now))
            .col_expr(Column::LeaseExpiresAt, Expr::value(Option::<i64>::None));
        update = match outcome {
            Outcome::Succeeded(result) => update
                .col_expr(Column::Status, Expr::value(TaskStatus::Success.as_str()))
                .col_expr(Column::Progress, Expr::value(100))
                .col_expr(Column::ResultData, Expr::value(result.to_string())),
            Outcome::Failed(error) => update
                .col_expr(Column::Status, Expr::value(TaskStatus::Failed.as_str()))
                .col_expr(Column::ErrorMessage, Expr::value(error)),
        };
        let result = update
            .filter(running_attempt(id, attempt))
            .exec(&self.writer)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Puts an interrupted attempt (stopped by this process's shutdown, not by its own
    /// failure) back to PENDING; the attempt does not count against the task.
    pub async fn requeue(&self, id: Uuid, attempt: i32) -> Result<bool, StoreError> {
        let result = requeue_update()
            .filter(running_attempt(id, attempt))
            .exec(&self.writer)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Requeues every task still RUNNING under `worker_id`; the last step of a shutdown.
    pub async fn requeue_worker(&self, worker_id: &str) -> Result<u64, StoreError> {
        let result = requeue_update()
            .filter(Column::Status.eq(TaskStatus::Running.as_str()))
            .filter(Column::WorkerId.eq(worker_id))
            .exec(&self.writer)
            .await?;
        Ok(result.rows_affected)
    }

    /// Tasks currently RUNNING (oldest claim first); for shutdown checks and tests.
    pub async fn running(&self) -> Result<Vec<task_row::Model>, StoreError> {
        Ok(Tasks::find()
            .filter(Column::Status.eq(TaskStatus::Running.as_str()))
            .order_by_asc(Column::StartedAt)
            .all(&self.reader)
            .await?)
    }
}

/// RUNNING back to PENDING, with the interrupted attempt uncounted.
fn requeue_update() -> sea_orm::UpdateMany<Tasks> {
    Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Pending.as_str()))
        .col_expr(Column::Attempt, Expr::col(Column::Attempt).sub(1))
        .col_expr(Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::WorkerId, Expr::value(Option::<String>::None))
        .col_expr(Column::Progress, Expr::value(0))
        .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
}

/// The fence every post-claim write carries.
fn running_attempt(id: Uuid, attempt: i32) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::Id.eq(id))
        .add(Column::Status.eq(TaskStatus::Running.as_str()))
        .add(Column::Attempt.eq(attempt))
}
