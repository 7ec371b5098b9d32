//! The `tasks` table as a sea-orm entity. The rest of Spool sees its rows as
//! [`super::task::Task`].
//!
//! Times are microseconds since the Unix epoch (see the migrations crate); JSON columns
//! are text. Both are converted here and nowhere else.

use crate::model::TaskStatus;
use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_type: String,
    pub queue: String,
    pub status: String,
    pub priority: i32,
    pub attempt: i32,
    pub max_attempts: i32,
    pub parameters: String,
    pub result_data: Option<String>,
    pub error_message: Option<String>,
    pub progress: i32,
    pub progress_message: Option<String>,
    pub created_at: i64,
    pub run_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub lease_expires_at: Option<i64>,
    pub worker_id: Option<String>,
    pub cancel_requested: bool,
    pub timeout_ms: Option<i64>,
    pub idempotency_key: Option<String>,
    pub unique_key: Option<String>,
    pub unique_states: i32,
    /// Lines its log has had, dropped ones included; the next line's number is one more.
    pub log_lines: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The stored microseconds as a UTC time (out-of-range values clamp to the epoch).
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl Model {
    /// The task's status. A row with an unreadable status is reported as FAILED rather
    /// than hidden, so it stays visible and retryable.
    pub fn status(&self) -> TaskStatus {
        self.status.parse().unwrap_or(TaskStatus::Failed)
    }
}

/// `status = '<STATUS>'` with the status written into the SQL rather than bound, so the
/// planner can use the partial index that holds only tasks in that state (a bound value
/// is unknown when the statement is prepared). Statuses are fixed words, never input.
pub fn status_is(status: crate::model::TaskStatus) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::col(Column::Status).eq(Expr::cust(format!("'{}'", status.as_str())))
}
