//! A stored task as the rest of Spool sees it: its status, times and JSON typed, converted
//! from its row (see [`super::task_row`]) here and nowhere else.

use super::task_row::{self, from_micros};
use crate::model::{TaskStatus, TaskView};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// One task, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub task_type: String,
    pub queue: String,
    pub status: TaskStatus,
    pub priority: i32,
    /// How many attempts have started (0 until the first claim).
    pub attempt: i32,
    pub max_attempts: i32,
    pub parameters: Value,
    pub result_data: Option<Value>,
    pub error_message: Option<String>,
    /// Percentage, 0 to 100.
    pub progress: u8,
    pub progress_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub run_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// While RUNNING: when the running attempt's lease runs out.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// While RUNNING: the pool running it.
    pub worker_id: Option<String>,
    pub cancel_requested: bool,
    pub timeout_ms: Option<i64>,
    pub idempotency_key: Option<String>,
    /// Lines its log has had (see [`super::Store::log_page`]).
    pub log_lines: i64,
}

impl From<task_row::Model> for Task {
    fn from(row: task_row::Model) -> Task {
        Task {
            status: row.status(),
            id: row.id,
            task_type: row.task_type,
            queue: row.queue,
            priority: row.priority,
            attempt: row.attempt,
            max_attempts: row.max_attempts,
            // Parameters are stored from a JSON value; unreadable text shows as null.
            parameters: parse_json(&row.parameters).unwrap_or_default(),
            result_data: row.result_data.as_deref().and_then(parse_json),
            error_message: row.error_message,
            progress: row.progress.clamp(0, 100) as u8,
            progress_message: row.progress_message,
            created_at: from_micros(row.created_at),
            run_at: from_micros(row.run_at),
            started_at: row.started_at.map(from_micros),
            completed_at: row.completed_at.map(from_micros),
            lease_expires_at: row.lease_expires_at.map(from_micros),
            worker_id: row.worker_id,
            cancel_requested: row.cancel_requested,
            timeout_ms: row.timeout_ms,
            idempotency_key: row.idempotency_key,
            log_lines: row.log_lines,
        }
    }
}

impl Task {
    /// The task as the API and the dashboard show it.
    pub fn into_view(self) -> TaskView {
        TaskView {
            id: self.id,
            task_type: self.task_type,
            status: self.status,
            created_at: self.created_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
            result_data: self.result_data,
            error_message: self.error_message,
            progress: self.progress,
            parameters: self.parameters,
            queue: self.queue,
            priority: self.priority,
            attempt: self.attempt,
            max_attempts: self.max_attempts,
            run_at: self.run_at,
            progress_message: self.progress_message,
            cancel_requested: self.cancel_requested,
            timeout_ms: self.timeout_ms,
            log_lines: self.log_lines,
            attempts: None,
        }
    }
}

fn parse_json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}
