//! Types shared by the server and the browser: what a task looks like on the wire,
//! its statuses, the description of each task kind, and the submit request.
//!
//! Nothing here imports server code, so the dashboard (compiled to WebAssembly) and the
//! REST API speak exactly the same shapes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

mod actions;
mod charts;
mod external;
mod log;
mod process;
mod schedule;
mod short_id;
mod task_filter;
mod unique;

pub use actions::{thousands, AuditEntry, BulkAction, BulkCount, BulkResult, RetryRequest};
pub use charts::{ChartGroup, ChartSlot, ChartWindow, Charts, Finished, Percentiles};
pub use external::{
    ClaimRequest, ClaimedWork, CompleteRequest, FailRequest, HeartbeatAnswer, HeartbeatRequest,
};
pub use log::{
    bounded_message, AppendLogRequest, LogLevel, LogLine, LogPage, NewLogLine,
    LOG_LINES_PER_REQUEST, LOG_MESSAGE_MAX,
};
pub use process::{process_of_worker, ProcessQueue, ProcessRole, ProcessState, ProcessView};
pub use schedule::{
    CatchUp, ScheduleDefinition, ScheduleRun, ScheduleSource, ScheduleTiming, ScheduleView,
    TimingPreview,
};
pub use short_id::{id_suffix, short_id, MIN_LOOKUP, SHORT_ID_LEN};
pub use task_filter::{query_value, TaskFilter, MAX_SEARCH};
pub use unique::{UniqueRequest, FINISHED_BITS, UNIQUE_KEY_MAX};

/// Where a task is in its lifecycle. Spelled in capitals on the wire, as the seed API did.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Ready to run now.
    Pending,
    /// Waiting for its `run_at` (a delayed task, or a retry waiting out its backoff).
    Scheduled,
    /// Claimed by a worker, under a lease the worker renews.
    Running,
    /// Finished: the handler returned a result.
    Success,
    /// Finished: attempts exhausted or a non-retryable error.
    Failed,
    /// Finished: cancelled by a user.
    Cancelled,
}

impl TaskStatus {
    /// Every status, in lifecycle order (the dashboard shows them in this order).
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Pending,
        TaskStatus::Scheduled,
        TaskStatus::Running,
        TaskStatus::Success,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::Scheduled => "SCHEDULED",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }

    /// True once nothing more will happen to the task unless a user retries it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the six status names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown status {:?}", self.0)
    }
}

impl FromStr for TaskStatus {
    type Err = UnknownStatus;

    /// Accepts the capitalised wire spelling and, for convenience, lower case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A task as the API and the dashboard show it. The first ten fields are the seed's.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// The task's id (a UUIDv7: time-ordered).
    pub id: Uuid,
    /// The kind of task: which handler runs it.
    pub task_type: String,
    /// Where it is in its lifecycle.
    pub status: TaskStatus,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When its latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished (succeeded, failed for good, or was cancelled).
    pub completed_at: Option<DateTime<Utc>>,
    /// What a successful run returned.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub result_data: Option<Value>,
    /// Why the latest attempt failed.
    pub error_message: Option<String>,
    /// Percentage, 0 to 100.
    pub progress: u8,
    /// The kind's parameters, defaults filled in.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub parameters: Value,
    /// The queue it waits in.
    pub queue: String,
    /// 0 is the most urgent, 9 the least.
    pub priority: i32,
    /// How many attempts have started (0 until the first claim).
    pub attempt: i32,
    /// Attempts it gets in all before it fails for good.
    pub max_attempts: i32,
    /// When the task becomes (or became) eligible to run.
    pub run_at: DateTime<Utc>,
    /// The handler's latest progress message.
    pub progress_message: Option<String>,
    /// True once a cancel was asked for a running task that has not stopped yet.
    pub cancel_requested: bool,
    /// Milliseconds one attempt may run before it is stopped, if limited.
    pub timeout_ms: Option<i64>,
    /// How many lines the task has written to its log (`GET /api/tasks/{id}/logs`).
    #[serde(default)]
    pub log_lines: i64,
    /// Every attempt, first to last (present on a single task's detail only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

/// One attempt at running a task.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    /// Which attempt this was (1 for the first).
    pub attempt: i32,
    /// The worker pool that ran it: `PROCESS/QUEUE` for Spool's own processes (see
    /// `GET /api/processes`), `external:NAME` for an external worker.
    pub worker_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; none while it runs.
    pub finished_at: Option<DateTime<Utc>>,
    /// SUCCESS, FAILED, CANCELLED, LOST (its worker died) or INTERRUPTED (shutdown);
    /// none while it runs.
    pub outcome: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// What a script or the dashboard sends to create a task. `task_type` and `parameters`
/// are the seed's body; every other field is optional.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The kind of task to run (see `GET /api/task-types`).
    pub task_type: String,
    /// The kind's parameters; missing ones take their defaults (`null` or no
    /// `parameters` at all: every one does).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub parameters: Value,
    /// Named queue (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z0-9_.\-]{1,64}$"))]
    pub queue: Option<String>,
    /// 0 (most urgent, the default) to 9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 9))]
    pub priority: Option<i32>,
    /// Run no earlier than this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<DateTime<Utc>>,
    /// Run no earlier than this many milliseconds from now (instead of `run_at`; at
    /// most a year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 31_536_000_000_i64))]
    pub delay_ms: Option<i64>,
    /// Attempts before the task is FAILED (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub max_attempts: Option<i32>,
    /// Milliseconds one attempt may run before it is stopped and counted as failed (at
    /// most a week).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 604_800_000))]
    pub timeout_ms: Option<i64>,
    /// At most one task of this kind with this key at a time: a submit that finds one is
    /// answered with it. Unlike `Idempotency-Key`, which makes one request safe to repeat,
    /// this holds across different requests and as long as the counted states say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<UniqueRequest>,
}

/// Exact task counts, from counters kept by the store.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// How many tasks are in each status.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// How many tasks there are of each kind.
    pub by_type: std::collections::BTreeMap<String, i64>,
    /// How many tasks there are in each queue.
    pub by_queue: std::collections::BTreeMap<String, i64>,
    /// Tasks finished in each of the last 60 minutes, oldest first (minutes with none
    /// included), from counters kept as tasks finish.
    pub throughput: Vec<MinuteThroughput>,
}

/// Tasks that finished in one minute, by outcome.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteThroughput {
    /// The minute's start.
    pub minute: DateTime<Utc>,
    /// Tasks that succeeded.
    pub succeeded: i64,
    /// Tasks that failed for good.
    pub failed: i64,
    /// Tasks cancelled.
    pub cancelled: i64,
}

/// A task kind as the API and the dashboard describe it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskKindInfo {
    /// The `task_type` that names it.
    pub name: String,
    /// One line on what it does.
    pub description: String,
    /// The JSON Schema its `parameters` must match: the one description that drives
    /// validation, the dashboard's form and this document.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub parameters_schema: serde_json::Value,
    /// The JSON Schema of its `result_data`, where known (not for a kind external
    /// workers run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub result_schema: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_wire_spelling() {
        for status in TaskStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(status.as_str().parse::<TaskStatus>(), Ok(status));
        }
    }

    #[test]
    fn unknown_status_is_rejected() {
        assert!("DONE".parse::<TaskStatus>().is_err());
        assert_eq!("pending".parse::<TaskStatus>(), Ok(TaskStatus::Pending));
    }

    #[test]
    fn only_success_failed_and_cancelled_are_final() {
        let finals: Vec<_> = TaskStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            vec![
                TaskStatus::Success,
                TaskStatus::Failed,
                TaskStatus::Cancelled
            ]
        );
    }
}

/// A queue as the dashboard and the API show it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    /// The queue's name.
    pub name: String,
    /// True while its tasks are not being started.
    pub paused: bool,
    /// Tasks ready to run.
    pub pending: i64,
    /// Tasks running now.
    pub running: i64,
    /// Tasks in the queue, whatever their status.
    pub total: i64,
    /// How many of its tasks the answering process runs at once (none: it does not work
    /// this queue; another process may).
    pub concurrency: Option<u32>,
    /// How many of its tasks every live process together runs at once.
    #[serde(default)]
    pub total_concurrency: u32,
}

/// What the overview page shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Counts and throughput.
    pub stats: Stats,
    /// Every queue.
    pub queues: Vec<QueueView>,
    /// The newest tasks.
    pub recent: Vec<TaskView>,
}

/// Which tasks the task list shows: the filter and the page (all in the page's URL).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// Where the previous page ended.
    pub cursor: Option<String>,
}

/// One page of the task list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskPage {
    /// The tasks, newest first.
    pub tasks: Vec<TaskView>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}
