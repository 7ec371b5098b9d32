//! A task's log on the wire: the lines its handler (or external worker) wrote, read a
//! page at a time, and what an external worker sends to add lines.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How serious a log line is; lower-case on the wire.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something looks wrong.
    Warn,
    /// What the task is doing.
    Info,
    /// Detail for whoever debugs the task.
    Debug,
    /// Finer detail still.
    Trace,
}

impl LogLevel {
    /// The level as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<LogLevel, String> {
        match text {
            "error" => Ok(LogLevel::Error),
            "warn" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" => Ok(LogLevel::Debug),
            "trace" => Ok(LogLevel::Trace),
            other => Err(format!("{other:?} is not a log level")),
        }
    }
}

/// One stored line of a task's log.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// The line's number among every line the task wrote, from 1. A jump from one line's
    /// number to the next marks lines that were dropped.
    pub seq: i64,
    /// The attempt that wrote it.
    pub attempt: i32,
    /// How serious it is.
    pub level: LogLevel,
    /// The line's text.
    pub message: String,
    /// When it was written.
    pub at: DateTime<Utc>,
}

/// Lines of a task's log after a given line number, oldest first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    /// The lines, oldest first.
    pub lines: Vec<LogLine>,
    /// How many lines the task has written in all, dropped ones included: the number of
    /// its latest line.
    pub total: i64,
    /// Ask again with `after` set to this for the lines that follow.
    pub next_after: i64,
    /// Whether more lines are stored after this page.
    pub more: bool,
}

impl LogPage {
    /// How many lines were dropped just before `line`, given the number of the line read
    /// before it (0 at the start).
    pub fn dropped_before(previous_seq: i64, line: &LogLine) -> i64 {
        (line.seq - previous_seq - 1).max(0)
    }
}

/// Most lines one request may add.
pub const LOG_LINES_PER_REQUEST: usize = 1000;
/// Longest stored message, in bytes; a longer one is cut (at a character's edge) and
/// marked with `…`.
pub const LOG_MESSAGE_MAX: usize = 8192;

/// Lines an external worker adds to the log of the task it runs.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendLogRequest {
    /// The attempt the claim started.
    pub attempt: i32,
    /// 1 to 1,000 lines, oldest first.
    pub lines: Vec<NewLogLine>,
}

/// A line an external worker writes.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLogLine {
    /// How serious it is; `info` unless given.
    #[serde(default = "info")]
    pub level: LogLevel,
    /// The text; longer than 8,192 bytes is cut.
    pub message: String,
    /// When it was written, by the writer's clock; when it arrives if not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

fn info() -> LogLevel {
    LogLevel::Info
}

/// `text` cut to at most [`LOG_MESSAGE_MAX`] bytes at a character's edge, marked `…`
/// where it was cut.
pub fn bounded_message(mut text: String) -> String {
    if text.len() <= LOG_MESSAGE_MAX {
        return text;
    }
    let mut end = LOG_MESSAGE_MAX - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character_edge() {
        let short = "é".repeat(10);
        assert_eq!(bounded_message(short.clone()), short);
        let long = "é".repeat(LOG_MESSAGE_MAX);
        let cut = bounded_message(long);
        assert!(cut.len() <= LOG_MESSAGE_MAX, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert!(cut.trim_end_matches('…').chars().all(|c| c == 'é'));
    }

    #[test]
    fn levels_read_back_what_they_write() {
        for level in [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            assert_eq!(level.as_str().parse::<LogLevel>(), Ok(level));
        }
        assert!("INFO".parse::<LogLevel>().is_err());
    }

    #[test]
    fn a_gap_in_numbers_counts_the_dropped_lines() {
        let line = |seq| LogLine {
            seq,
            attempt: 1,
            level: LogLevel::Info,
            message: String::new(),
            at: DateTime::default(),
        };
        assert_eq!(LogPage::dropped_before(0, &line(1)), 0);
        assert_eq!(LogPage::dropped_before(0, &line(501)), 500);
        assert_eq!(LogPage::dropped_before(7, &line(8)), 0);
        assert_eq!(LogPage::dropped_before(7, &line(10)), 2);
    }
}
