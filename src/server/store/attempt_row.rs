//! The `task_attempts` table: one row per attempt, with its worker, times and outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: Uuid,
    pub attempt: i32,
    pub worker_id: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// SUCCESS, FAILED, CANCELLED, LOST (lease expired) or INTERRUPTED (shutdown).
    pub outcome: Option<String>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The attempt as the API shows it.
    pub fn into_view(self) -> crate::model::AttemptView {
        use super::task_row::from_micros;
        crate::model::AttemptView {
            attempt: self.attempt,
            worker_id: self.worker_id,
            started_at: from_micros(self.started_at),
            finished_at: self.finished_at.map(from_micros),
            outcome: self.outcome,
            error: self.error,
        }
    }
}
