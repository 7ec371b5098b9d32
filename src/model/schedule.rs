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

/// What to do about slots that passed while nothing fired them (no process ran, or the
/// schedule was paused: slots of a pause are never fired).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Fire the latest slot only while it is on time (a minute); missed ones are gone.
    #[default]
    Skip,
    /// Fire the latest slot, however late: one run for all that were missed.
    Once,
    /// Fire every missed slot, oldest first, up to `catch_up_max` (the latest ones).
    Each,
}

/// A schedule as it is declared: in the `--schedules` TOML file (`[[schedule]]`), or as
/// the body of `PUT /api/schedules/{name}` (where `name` may be left out).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDefinition {
    /// Its name: 1 to 64 letters, digits, `_`, `-`, `.`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z0-9_.\-]{1,64}$"))]
    pub name: String,
    /// A cron expression (five fields, or six with seconds first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The IANA time zone of `cron`; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A fixed interval in seconds, counted from the Unix epoch, instead of `cron`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 31_622_400))]
    pub every_secs: Option<u64>,
    /// What to do about slots missed while nothing ran.
    #[serde(default)]
    pub catch_up: CatchUp,
    /// With `catch_up = "each"`, the most missed slots fired at once (the latest ones).
    #[serde(default = "default_catch_up_max")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000))]
    pub catch_up_max: u32,
    /// Each slot's task starts up to this many seconds after the slot, at random, so
    /// schedules that share a time do not all start at once.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 3600))]
    pub jitter_secs: u32,
    /// False: kept, but fires nothing.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// What each slot submits, as a submit's body says it (no delay: the slot decides).
    pub task: crate::model::SubmitRequest,
}

fn default_catch_up_max() -> u32 {
    10
}

fn enabled() -> bool {
    true
}

/// Where a schedule was declared, which decides who may change it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleSource {
    /// The `--schedules` file: changed there; only pause, resume and run now at run time.
    File,
    /// Made through the REST API, the CLI or the dashboard.
    Api,
}

/// A slot a schedule fired, or a run asked for by hand, and how its task is doing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRun {
    /// The slot's time (for a run by hand, when it was asked for).
    pub slot: DateTime<Utc>,
    /// The task it submitted.
    pub task_id: uuid::Uuid,
    /// That task's status; none once the task is pruned or deleted.
    pub status: Option<crate::model::TaskStatus>,
    /// Asked for by hand ("run now") rather than fired by the timing.
    pub manual: bool,
}

/// A stored schedule with its timing explained, its next run times and its last runs.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    /// The schedule as declared; `enabled` is whether it fires now (paused: false).
    pub definition: ScheduleDefinition,
    /// Where it was declared.
    pub source: ScheduleSource,
    /// The timing in words (or, for a stored timing this process cannot read, why).
    pub description: String,
    /// Its next five run times; none while it is paused.
    pub next: Vec<DateTime<Utc>>,
    /// Its latest runs, newest first.
    pub last_runs: Vec<ScheduleRun>,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When its timing, task or `enabled` last changed: its slots count from then.
    pub changed_at: DateTime<Utc>,
}
