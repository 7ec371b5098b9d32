//! What external workers (a process in any language, over REST) send and receive: a
//! claim of tasks with a lease, heartbeats, and the outcome, each naming the attempt it
//! belongs to so that a worker whose lease ran out cannot overwrite what happened since.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `POST /api/workers/claim`: take up to `max` ready tasks from `queues`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// Who is asking (a host name and pid, say): shown on each task's attempts.
    pub worker: String,
    /// The queues to take tasks from, most important first.
    pub queues: Vec<String>,
    /// How many tasks at most (1 to 100; default 1).
    #[serde(default)]
    pub max: Option<u32>,
    /// Seconds the worker has to finish or heartbeat each task before it is rescued
    /// (2 to 3600; default 30).
    #[serde(default)]
    pub lease_secs: Option<u64>,
    /// When no task is ready, how many seconds to wait for one before answering an empty
    /// list (0 to 30; default 0): a long poll, so idle workers need not ask again and again.
    #[serde(default)]
    pub wait_secs: Option<u64>,
}

/// A task handed to an external worker.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimedWork {
    /// The task's id.
    pub id: Uuid,
    /// Its kind.
    pub task_type: String,
    /// The attempt this claim started; every later call about this task names it.
    pub attempt: i32,
    /// Attempts it gets in all.
    pub max_attempts: i32,
    /// Its parameters.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub parameters: Value,
    /// When the lease runs out unless a heartbeat renews it.
    pub lease_expires_at: DateTime<Utc>,
    /// Milliseconds one attempt may run, if limited.
    pub timeout_ms: Option<i64>,
}

/// `POST /api/workers/tasks/{id}/heartbeat`: still working; renews the lease.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The attempt the claim started.
    pub attempt: i32,
    /// Progress so far, 0 to 100.
    #[serde(default)]
    pub progress: Option<u8>,
    /// A short note on the current step.
    #[serde(default)]
    pub message: Option<String>,
    /// Seconds from now the lease runs to (2 to 3600; default 30).
    #[serde(default)]
    pub lease_secs: Option<u64>,
}

/// The answer to a heartbeat.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAnswer {
    /// A user asked to cancel the task: stop, then report `fail` (or `complete` if the
    /// work is already done).
    pub cancel_requested: bool,
    /// When the renewed lease runs out.
    pub lease_expires_at: DateTime<Utc>,
}

/// `POST /api/workers/tasks/{id}/complete`: the work succeeded.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The attempt the claim started.
    pub attempt: i32,
    /// What the work produced: stored as the task's `result_data`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub result: Value,
}

/// `POST /api/workers/tasks/{id}/fail`: the work failed.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailRequest {
    /// The attempt the claim started.
    pub attempt: i32,
    /// Why, for a person to read: shown as the task's error.
    pub error: String,
    /// False when another attempt cannot help (bad input, say): the task fails now
    /// whatever attempts remain. Default true.
    #[serde(default)]
    pub retryable: Option<bool>,
    /// Seconds to wait before the next attempt instead of the usual backoff.
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}
