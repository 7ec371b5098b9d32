//! When a schedule fires: a cron expression (five fields, or six with seconds first) in
//! an IANA time zone, or a fixed interval. Slots are instants every process computes
//! alike from the expression alone: cron slots are the expression's matches on the
//! zone's wall clock; interval slots are multiples of the interval since the Unix epoch.
//! Across daylight-saving changes the cron library's rules hold (those of the Open Cron
//! Pattern Specification): a wall-clock time the spring change skips fires at the first
//! instant after the gap (03:00 for 02:30 in Paris), and one the autumn change repeats
//! fires once, at its first occurrence (summer time).

use crate::error::FieldError;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use std::time::Duration;

/// The shortest interval: one slot a second at most.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// The longest interval: a year.
const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);

/// A schedule's timing.
#[derive(Clone, Debug)]
pub enum When {
    /// The matches of `cron` on the wall clock of `zone`.
    Cron { cron: Box<Cron>, zone: Tz },
    /// Every `interval`, counted from the Unix epoch.
    Every(Duration),
}

impl When {
    /// Reads a timing: exactly one of `cron` and `every_secs`; `timezone` (an IANA name,
    /// UTC when absent) only with `cron`. Every problem names its field.
    pub fn parse(
        cron: Option<&str>,
        every_secs: Option<u64>,
        timezone: Option<&str>,
    ) -> Result<When, Vec<FieldError>> {
        match (cron.map(str::trim), every_secs) {
            (Some(expression), None) => {
                let mut errors = Vec::new();
                let zone = match timezone.map(str::trim).unwrap_or("UTC").parse::<Tz>() {
                    Ok(zone) => Some(zone),
                    Err(_) => {
                        let message =
                            "not a time zone; use an IANA name such as Europe/Paris or UTC";
                        errors.push(FieldError::new("timezone", message));
                        None
                    }
                };
                let parser = CronParser::builder().seconds(Seconds::Optional).build();
                let cron = match parser.parse(expression) {
                    Ok(cron) => Some(cron),
                    Err(e) => {
                        errors.push(FieldError::new(
                            "cron",
                            format!("not a cron expression: {e}"),
                        ));
                        None
                    }
                };
                match (cron, zone) {
                    (Some(cron), Some(zone)) => {
                        let when = When::Cron {
                            cron: Box::new(cron),
                            zone,
                        };
                        match when.next_after(Utc::now()) {
                            Some(_) => Ok(when),
                            None => Err(vec![FieldError::new(
                                "cron",
                                "never matches a date to come",
                            )]),
                        }
                    }
                    _ => Err(errors),
                }
            }
            (None, Some(seconds)) => {
                let interval = Duration::from_secs(seconds);
                if timezone.is_some() {
                    return Err(vec![FieldError::new(
                        "timezone",
                        "an interval counts seconds, whatever the zone: give a time zone with cron only",
                    )]);
                }
                if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
                    let message = format!("must be from 1 to {}", MAX_INTERVAL.as_secs());
                    return Err(vec![FieldError::new("every_secs", message)]);
                }
                Ok(When::Every(interval))
            }
            (Some(_), Some(_)) => Err(vec![FieldError::new(
                "cron",
                "give either a cron expression or every_secs, not both",
            )]),
            (None, None) => Err(vec![FieldError::new(
                "cron",
                "required: a cron expression, or every_secs for a fixed interval",
            )]),
        }
    }

    /// The timing in words, for people.
    pub fn describe(&self) -> String {
        match self {
            When::Cron { cron, zone, .. } => format!("{} ({zone})", cron.describe()),
            When::Every(interval) => format!("Every {}", words(*interval)),
        }
    }

    /// The first slot strictly after `after`, if there is one.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            When::Cron { cron, zone, .. } => {
                let local = zone.from_utc_datetime(&after.naive_utc());
                let next = cron.find_next_occurrence(&local, false).ok()?;
                Some(next.with_timezone(&Utc))
            }
            When::Every(interval) => {
                let step = interval.as_micros() as i64;
                let now = after.timestamp_micros();
                let next = (now.div_euclid(step) + 1).checked_mul(step)?;
                DateTime::from_timestamp_micros(next)
            }
        }
    }

    /// The latest slot at or before `at`, if there is one.
    pub fn at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            When::Cron { cron, zone, .. } => {
                let local = zone.from_utc_datetime(&at.naive_utc());
                let previous = cron.find_previous_occurrence(&local, true).ok()?;
                Some(previous.with_timezone(&Utc))
            }
            When::Every(interval) => {
                let step = interval.as_micros() as i64;
                let slot = at.timestamp_micros().div_euclid(step).checked_mul(step)?;
                DateTime::from_timestamp_micros(slot)
            }
        }
    }

    /// The slot before `slot` (itself a slot, so a whole second).
    pub fn slot_before(&self, slot: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.at_or_before(slot - chrono::Duration::seconds(1))
    }

    /// The next `count` slots strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut slots = Vec::with_capacity(count);
        let mut from = after;
        while slots.len() < count {
            let Some(next) = self.next_after(from) else {
                break;
            };
            slots.push(next);
            from = next;
        }
        slots
    }
}

/// "30 seconds", "1 hour 30 minutes", "1 day 2 hours": days down to seconds.
fn words(interval: Duration) -> String {
    let mut seconds = interval.as_secs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("day", 86_400),
        ("hour", 3600),
        ("minute", 60),
        ("second", 1),
    ] {
        let count = seconds / size;
        if count > 0 {
            parts.push(format!(
                "{count} {unit}{}",
                if count == 1 { "" } else { "s" }
            ));
            seconds %= size;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests;
