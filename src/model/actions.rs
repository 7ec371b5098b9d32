//! Operators' actions on the wire: the new parameters of an edit-and-retry, and the audit
//! log's entries, one per action an operator took on tasks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One action, as recorded.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Entries are numbered in the order they were written.
    pub id: i64,
    /// When the action was taken.
    pub at: DateTime<Utc>,
    /// `cancel`, `retry`, `run_now`, `delete`, `edit_retry`, `bulk_cancel`, `bulk_retry`
    /// or `bulk_delete`.
    pub action: String,
    /// The access it was taken with: `token` (the full token, as a bearer token),
    /// `session` (the dashboard, signed in with the full token), `local` (no token: the
    /// open local mode, loopback only) or `open` (no token, opened to every address on
    /// purpose).
    pub access: String,
    /// The client's address.
    pub address: Option<String>,
    /// The task, for an action on one task.
    pub task_id: Option<Uuid>,
    /// The filter that chose the tasks, for a bulk action, as a query string.
    pub filter: Option<String>,
    /// How many tasks it changed.
    pub changed: i64,
    /// More about it: an edit's `old` and `new` parameters, or the `tasks` of a bulk
    /// action chosen one by one (on the dashboard).
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

/// The body of `POST /api/tasks/{id}/edit-and-retry`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// The task's new parameters, whole, checked as a submit's are.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub parameters: serde_json::Value,
}
