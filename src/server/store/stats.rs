//! Reads for the overview: exact counts from the trigger-kept `task_counts` table (never a
//! scan of `tasks`), queue settings, and a task's attempt history.

use super::attempt_row::{self, Entity as Attempts};
use super::queue_row::{self, Entity as Queues};
use super::{Store, StoreError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Statement,
};
use uuid::Uuid;

/// How many tasks of one queue and type have one status.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct CountRow {
    pub queue: String,
    pub task_type: String,
    pub status: String,
    pub n: i64,
}

impl Store {
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
        Queues::insert(row)
            .on_conflict(
                OnConflict::column(queue_row::Column::Name)
                    .update_columns([queue_row::Column::Paused, queue_row::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&self.writer)
            .await?;
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
    pub async fn attempts(&self, task_id: Uuid) -> Result<Vec<attempt_row::Model>, StoreError> {
        Ok(Attempts::find()
            .filter(attempt_row::Column::TaskId.eq(task_id))
            .order_by_asc(attempt_row::Column::Attempt)
            .order_by_asc(attempt_row::Column::Id)
            .all(&self.reader)
            .await?)
    }
}
