//! Schedules: periodic tasks that fire exactly once per slot, however many processes
//! run. A timing ([`When`]) gives the slots; [`due`] says which to fire now; the store
//! keeps one task per slot (see `store::schedules`); the queue's scheduler fires them.
//! Timings are explained and their next run times computed here, on the server, so no
//! cron or time-zone code enters the dashboard's WebAssembly.

mod definition;
mod due;
mod when;

pub use definition::{read_file, timing};
pub use due::due;
pub use when::When;

/// How many run times a preview lists.
const PREVIEWED: usize = 5;

/// A timing explained: in words, with its next five run times after `timing.after` (or
/// now); or each problem, naming its field.
pub fn preview(
    timing: &crate::model::ScheduleTiming,
) -> Result<crate::model::TimingPreview, Vec<crate::error::FieldError>> {
    let when = When::parse(
        timing.cron.as_deref(),
        timing.every_secs,
        timing.timezone.as_deref(),
    )?;
    let after = timing.after.unwrap_or_else(chrono::Utc::now);
    Ok(crate::model::TimingPreview {
        description: when.describe(),
        next: when.upcoming(after, PREVIEWED),
    })
}
