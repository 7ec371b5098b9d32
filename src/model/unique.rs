//! Unique tasks on the wire: a submit may ask that at most one task of its kind with a
//! given key exist at a time, within a period, in the states that count.

use super::TaskStatus;
use serde::{Deserialize, Serialize};

/// "At most one task of this kind with this key": a submit that finds one in a counted
/// state is answered with that task, and nothing new is stored.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueRequest {
    /// The key, 1 to 200 characters, such as `refresh-customer-42`; keys are per kind.
    pub key: String,
    /// Count only tasks submitted in the same period of this many seconds, periods being
    /// counted from the Unix epoch (3600: one per clock hour, UTC). Without it, any time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 31_622_400))]
    pub period_secs: Option<u64>,
    /// The states in which a task counts. Waiting and running tasks (PENDING, SCHEDULED,
    /// RUNNING) always count, and are the default; add SUCCESS, FAILED or CANCELLED to
    /// count finished tasks too (until they are pruned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<Vec<TaskStatus>>,
}

/// Longest unique key.
pub const UNIQUE_KEY_MAX: usize = 200;

/// The finished states a unique task may also count in, each with its bit in the
/// stored mask (the database's unique index reads the same bits).
pub const FINISHED_BITS: [(TaskStatus, i32); 3] = [
    (TaskStatus::Success, 1),
    (TaskStatus::Failed, 2),
    (TaskStatus::Cancelled, 4),
];
