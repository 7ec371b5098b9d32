//! The charts page and `GET /api/charts`: finished and failed tasks per slot of time, wait
//! and run time percentiles, per queue and per kind, over the last hour or the last day.
//! Latencies are whole milliseconds, so the browser formats integers only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The span of time a chart covers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartWindow {
    /// Sixty one-minute slots.
    #[default]
    Hour,
    /// Twenty-four one-hour slots.
    Day,
}

impl ChartWindow {
    /// The word the query string and the JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartWindow::Hour => "hour",
            ChartWindow::Day => "day",
        }
    }

    /// How many slots the window has.
    pub fn slots(self) -> i64 {
        match self {
            ChartWindow::Hour => 60,
            ChartWindow::Day => 24,
        }
    }

    /// How long a slot is, in minutes.
    pub fn slot_minutes(self) -> i64 {
        match self {
            ChartWindow::Hour => 1,
            ChartWindow::Day => 60,
        }
    }
}

impl std::str::FromStr for ChartWindow {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "hour" => Ok(ChartWindow::Hour),
            "day" => Ok(ChartWindow::Day),
            other => Err(format!("{other:?} is not a window: use hour or day")),
        }
    }
}

/// The 50th and 95th percentiles of a latency, in milliseconds; absent without samples.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Half the samples took at most this.
    pub p50_ms: Option<i64>,
    /// All but one in twenty took at most this.
    pub p95_ms: Option<i64>,
}

/// Tasks that finished in a slot, or in a group over the whole window, with their
/// latencies: wait is from due to started, run from started to finished.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// Tasks that succeeded.
    pub succeeded: i64,
    /// Tasks that failed for good.
    pub failed: i64,
    /// Tasks cancelled.
    pub cancelled: i64,
    /// From due to started, of the tasks that ran.
    pub wait: Percentiles,
    /// From started to finished, of the tasks that ran.
    pub run: Percentiles,
}

/// One slot of time.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSlot {
    /// The slot's start.
    pub at: DateTime<Utc>,
    /// What finished in it.
    pub finished: Finished,
}

/// One queue or one kind over the whole window.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartGroup {
    /// The queue's or the kind's name.
    pub name: String,
    /// What finished in the window.
    pub finished: Finished,
    /// How long its longest-waiting PENDING task has been due, in milliseconds (queues
    /// only, and only when no type is asked for; absent when none waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_pending_ms: Option<i64>,
}

/// Everything the charts page shows.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charts {
    /// The window charted.
    pub window: ChartWindow,
    /// The queue the slots and totals are limited to, if any.
    pub queue: Option<String>,
    /// The task type the slots and totals are limited to, if any.
    pub task_type: Option<String>,
    /// Oldest first, one per slot of the window, empty ones included.
    pub slots: Vec<ChartSlot>,
    /// The whole window, within the queue and type given.
    pub total: Finished,
    /// Every queue with tasks of the type given finished in the window, or with tasks
    /// waiting now, by name.
    pub queues: Vec<ChartGroup>,
    /// Every kind with tasks of the queue given finished in the window, by name.
    pub kinds: Vec<ChartGroup>,
}
