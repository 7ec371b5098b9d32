//! Operators' actions on the wire: the new parameters of an edit-and-retry, what a bulk
//! action on every task a filter matches does and counts, and the audit log's entries,
//! one per action an operator took on tasks.

use super::TaskStatus;
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

/// What a bulk action does to each task it selects.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    /// Cancel what waits or runs.
    Cancel,
    /// Run what failed or was cancelled again.
    Retry,
    /// Delete what finished, with its attempts and log.
    Delete,
}

impl BulkAction {
    /// Every action, in the order the dashboard offers them.
    pub const ALL: [BulkAction; 3] = [BulkAction::Cancel, BulkAction::Retry, BulkAction::Delete];

    /// The statuses the action applies to: a bulk action selects only these, so its
    /// count is what it would change, and acting again finds only what is left.
    pub fn statuses(self) -> &'static [TaskStatus] {
        match self {
            BulkAction::Cancel => &[
                TaskStatus::Pending,
                TaskStatus::Scheduled,
                TaskStatus::Running,
            ],
            BulkAction::Retry => &[TaskStatus::Failed, TaskStatus::Cancelled],
            BulkAction::Delete => &[
                TaskStatus::Success,
                TaskStatus::Failed,
                TaskStatus::Cancelled,
            ],
        }
    }

    /// The word on the wire: `cancel`, `retry` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Cancel => "cancel",
            BulkAction::Retry => "retry",
            BulkAction::Delete => "delete",
        }
    }

    /// The action, for people: `Cancel`, `Retry`, `Delete`.
    pub fn verb(self) -> &'static str {
        match self {
            BulkAction::Cancel => "Cancel",
            BulkAction::Retry => "Retry",
            BulkAction::Delete => "Delete",
        }
    }

    /// What it did, for people: `cancelled`, `retried`, `deleted`.
    pub fn done(self) -> &'static str {
        match self {
            BulkAction::Cancel => "cancelled",
            BulkAction::Retry => "retried",
            BulkAction::Delete => "deleted",
        }
    }

    /// The action named by `text`, or a message for people listing the choices.
    pub fn parse(text: &str) -> Result<BulkAction, String> {
        BulkAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| format!("unknown action {text:?}; expected cancel, retry or delete"))
    }
}

/// What one request of a bulk action did.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Tasks the action applied to.
    pub changed: u64,
    /// Selected tasks it did not apply to (changed by someone else meanwhile, or gone).
    pub skipped: u64,
    /// Set when the filter selects more tasks than one request acts on: pass it as
    /// `cursor` to act on the next chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// How many tasks a filter selects for an action, counted up to a cap.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkCount {
    /// The tasks counted.
    pub count: u64,
    /// True when more tasks match than were counted (`count` is the cap).
    pub more: bool,
    /// Where the action starts so that it acts on what was counted, not on tasks made
    /// since: the first chunk's `cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl std::fmt::Display for BulkCount {
    /// `1,234`, or `more than 1,000,000` when capped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.more {
            f.write_str("more than ")?;
        }
        f.write_str(&thousands(self.count))
    }
}

/// `1234567` as `1,234,567`: integer formatting, no locale tables in the wasm.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators_and_say_when_capped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let capped = BulkCount {
            count: 1_000_000,
            more: true,
            cursor: None,
        };
        assert_eq!(capped.to_string(), "more than 1,000,000");
    }

    #[test]
    fn actions_round_trip_their_names_and_select_where_they_apply() {
        for action in BulkAction::ALL {
            assert_eq!(BulkAction::parse(action.as_str()), Ok(action));
            let wire = serde_json::to_string(&action).unwrap();
            assert_eq!(wire, format!("\"{}\"", action.as_str()));
        }
        assert!(BulkAction::parse("Cancel")
            .unwrap_err()
            .contains("cancel, retry or delete"));
        // Nothing both waits and is finished: cancel and delete never select the same task.
        let cancel = BulkAction::Cancel.statuses();
        assert!(BulkAction::Delete
            .statuses()
            .iter()
            .all(|s| !cancel.contains(s)));
        assert!(BulkAction::Retry.statuses().iter().all(|s| s.is_final()));
    }
}
