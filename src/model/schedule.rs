//! What a schedule's timing looks like on the wire: a cron expression (with its time
//! zone) or an interval, and that timing explained, in words and as its next run times.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A schedule's timing: `cron` (five fields, or six with seconds first) in `timezone`,
/// or `every_secs`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTiming {
    /// A cron expression, such as `0 9 * * MON-FRI` or `*/10 * * * * *`.
    #[serde(default)]
    pub cron: Option<String>,
    /// An IANA time zone for `cron`, such as `Europe/Paris`; UTC when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// A fixed interval in seconds (1 to 31,622,400), counted from the Unix epoch;
    /// instead of `cron`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 31_622_400))]
    pub every_secs: Option<u64>,
    /// Count the run times from this instant; now when absent.
    #[serde(default)]
    pub after: Option<DateTime<Utc>>,
}

/// A timing explained.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingPreview {
    /// The timing in words, for people.
    pub description: String,
    /// Its next five run times.
    pub next: Vec<DateTime<Utc>>,
}
