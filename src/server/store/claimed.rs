//! What a claim hands a worker: a task now RUNNING under the claim, with only the
//! columns running it needs, read by position.
//!
//! A claim used to return whole rows (`RETURNING *`, 21 columns) decoded by name (a
//! column name formatted and looked up per column). Most of those columns were never
//! read. On a burn-down of 10,000 no-op tasks under callgrind, returning these nine and
//! reading them by position took the server from 2.44 G to 2.09 G instructions: sqlx's
//! copies of the values out of SQLite fell from 177 M to 108 M, the decoding from 157 M
//! to 33 M.

use super::task_row::Column;

use uuid::Uuid;

/// A claimed task, as its worker runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedTask {
    pub id: Uuid,
    pub task_type: String,
    /// The attempt this claim started (1 for a task's first run).
    pub attempt: i32,
    pub max_attempts: i32,
    /// The handler's parameters, as JSON text.
    pub parameters: String,
    pub timeout_ms: Option<i64>,
    /// A user asked to cancel the task before this claim took it.
    pub cancel_requested: bool,
    /// The claim's order: most urgent first (priority, then run_at).
    pub priority: i32,
    pub run_at: i64,
}

/// The columns a claim returns, in the order its fields are read (by position, see
/// `conn::by_position!`).
pub(super) const COLUMNS: [Column; 9] = [
    Column::Id,
    Column::TaskType,
    Column::Attempt,
    Column::MaxAttempts,
    Column::Parameters,
    Column::TimeoutMs,
    Column::CancelRequested,
    Column::Priority,
    Column::RunAt,
];
