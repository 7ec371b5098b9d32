//! Reads for the overview: exact counts from the `task_counts` table, kept in the same
//! transactions as the tasks (never a scan of `tasks`), queue settings, and a task's
//! attempt history.

use super::attempt_row::{self, Entity as Attempts};
use super::conn::Conn;
use super::queue_row::{self, Entity as Queues};
use super::writer::on_writer;
use super::{Store, StoreError};
use crate::model::AttemptView;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QueryTrait, Statement,
};
use std::collections::HashMap;
use uuid::Uuid;

/// How many tasks of one queue and type have one status.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct CountRow {
    pub queue: String,
    pub task_type: String,
    pub status: String,
    pub n: i64,
}

/// How many tasks reached one final status in one minute.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ThroughputRow {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    pub status: String,
    pub n: i64,
}

impl Store {
    /// Finished tasks per minute and status, for minutes from `since_minute` on.
    pub async fn throughput(&self, since_minute: i64) -> Result<Vec<ThroughputRow>, StoreError> {
        let query = Query::select()
            .columns([Alias::new("minute"), Alias::new("status"), Alias::new("n")])
            .from(Alias::new("task_throughput"))
            .and_where(Expr::col(Alias::new("minute")).gte(since_minute))
            .order_by(Alias::new("minute"), sea_orm::Order::Asc)
            .order_by(Alias::new("status"), sea_orm::Order::Asc)
            .to_owned();
        let statement = self.reader.get_database_backend().build(&query);
        Ok(ThroughputRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// Forgets throughput older than `before_minute`.
    pub async fn prune_throughput(&self, before_minute: i64) -> Result<u64, StoreError> {
        let query = Query::delete()
            .from_table(Alias::new("task_throughput"))
            .and_where(Expr::col(Alias::new("minute")).lt(before_minute))
            .to_owned();
        Ok(on_writer!(&self.writer, |db| db.run(&query))?)
    }

    /// Every non-zero counter.
    pub async fn counts(&self) -> Result<Vec<CountRow>, StoreError> {
        let sql = "SELECT queue, task_type, status, n FROM task_counts WHERE n <> 0 ORDER BY queue, task_type, status";
        let statement = Statement::from_string(self.reader.get_database_backend(), sql);
        Ok(CountRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// Pauses or resumes a queue for every process sharing this database.
    pub async fn set_paused(&self, queue: &str, paused: bool, now: i64) -> Result<(), StoreError> {
        let row = queue_row::ActiveModel {
            name: Set(queue.to_string()),
            paused: Set(paused),
            updated_at: Set(now),
        };
        let upsert = Queues::insert(row)
            .on_conflict(
                OnConflict::column(queue_row::Column::Name)
                    .update_columns([queue_row::Column::Paused, queue_row::Column::UpdatedAt])
                    .to_owned(),
            )
            .into_query();
        on_writer!(&self.writer, |db| db.run(&upsert))?;
        Ok(())
    }

    /// Names of the paused queues.
    pub async fn paused_queues(&self) -> Result<Vec<String>, StoreError> {
        let rows = Queues::find()
            .filter(queue_row::Column::Paused.eq(true))
            .order_by_asc(queue_row::Column::Name)
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(|row| row.name).collect())
    }

    /// A task's attempts, first to last.
    pub async fn attempts(&self, task_id: Uuid) -> Result<Vec<AttemptView>, StoreError> {
        let mut attempts = self.attempts_of(&[task_id]).await?;
        Ok(attempts.remove(&task_id).unwrap_or_default())
    }

    /// The attempts of each of these tasks that has any, first to last, in one read.
    pub async fn attempts_of(
        &self,
        task_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<AttemptView>>, StoreError> {
        let rows = Attempts::find()
            .filter(attempt_row::Column::TaskId.is_in(task_ids.iter().copied()))
            .order_by_asc(attempt_row::Column::Attempt)
            .order_by_asc(attempt_row::Column::Id)
            .all(&self.reader)
            .await?;
        let mut attempts: HashMap<Uuid, Vec<AttemptView>> = HashMap::new();
        for row in rows {
            attempts
                .entry(row.task_id)
                .or_default()
                .push(row.into_view());
        }
        Ok(attempts)
    }
}
