//! What a running task sees: its id and attempt, a way to report progress, a log, and
//! the cancellation signal it must honour.

use super::TaskError;
use crate::model::{LogLevel, NewLogLine};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The latest progress a handler reported, not yet written to the store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressSnapshot {
    /// 0 to 100.
    pub percent: u8,
    /// A short note on the step, if any.
    pub message: Option<String>,
}

/// Most log lines held for the executor to store; past this the oldest are dropped (and
/// counted, so the stored log shows the gap). A handler logging faster than lines can be
/// stored loses lines, never the process's memory.
pub const MAX_PENDING_LOG_LINES: usize = 1000;

/// Log lines written and not yet stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PendingLog {
    /// Lines dropped before [`PendingLog::lines`] because too many were waiting.
    pub skipped: u64,
    pub lines: Vec<NewLogLine>,
}

#[derive(Debug, Default)]
struct LogBuffer {
    skipped: u64,
    lines: VecDeque<NewLogLine>,
}

/// Handed to [`super::TaskKind::run`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TaskContext {
    id: Uuid,
    attempt: i32,
    /// The task's kind and the worker pool running it (`PROCESS/QUEUE`), named in every
    /// line this attempt writes to the process's log; empty outside Spool.
    kind: Arc<str>,
    process: Arc<str>,
    cancel: CancellationToken,
    /// Latest report, taken by the executor when it next writes (writes are coalesced).
    progress: Arc<Mutex<Option<ProgressSnapshot>>>,
    /// Log lines waiting to be stored, taken by the executor like progress.
    log: Arc<Mutex<LogBuffer>>,
    /// Told when a line is logged, so the executor stores lines soon after.
    logged: Arc<Notify>,
}

impl TaskContext {
    /// A context for attempt `attempt` of task `id`, stopped by `cancel` (for testing a kind's handler outside Spool).
    pub fn new(id: Uuid, attempt: i32, cancel: CancellationToken) -> TaskContext {
        TaskContext::for_attempt(id, attempt, "", "", cancel)
    }

    /// The context the executor gives attempt `attempt` of task `id`, of kind `kind`, run
    /// by the worker pool `process`.
    pub(crate) fn for_attempt(
        id: Uuid,
        attempt: i32,
        kind: &str,
        process: &str,
        cancel: CancellationToken,
    ) -> TaskContext {
        TaskContext {
            id,
            attempt,
            kind: kind.into(),
            process: process.into(),
            cancel,
            progress: Arc::default(),
            log: Arc::default(),
            logged: Arc::default(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// 1 for the first attempt.
    pub fn attempt(&self) -> i32 {
        self.attempt
    }

    /// The task's kind (empty for a context made with [`TaskContext::new`]).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The worker pool running this attempt, `PROCESS/QUEUE` (empty outside Spool).
    pub(crate) fn process(&self) -> &str {
        &self.process
    }

    /// Reports progress (0–100, clamped) with a short message. Cheap: only the latest
    /// report is kept and the executor writes it on its own schedule.
    pub fn progress(&self, percent: u8, message: impl Into<String>) {
        let snapshot = ProgressSnapshot {
            percent: percent.min(100),
            message: Some(message.into()),
        };
        if let Ok(mut slot) = self.progress.lock() {
            *slot = Some(snapshot);
        }
    }

    /// Writes `message` to the task's log at `level`: stored with the task (shown on its
    /// page, `GET /api/tasks/{id}/logs`, `spool logs`) and written to the process's log
    /// (through `tracing`, target `spool::task`) with the task's id, kind, attempt and pool.
    pub fn log(&self, level: tracing::Level, message: impl std::fmt::Display) {
        let message = message.to_string();
        let (task, kind, attempt, process) = (self.id, &*self.kind, self.attempt, &*self.process);
        // tracing's macros need the level as a constant.
        match level {
            tracing::Level::ERROR => {
                tracing::error!(target: "spool::task", %task, kind, attempt, process, "{message}")
            }
            tracing::Level::WARN => {
                tracing::warn!(target: "spool::task", %task, kind, attempt, process, "{message}")
            }
            tracing::Level::INFO => {
                tracing::info!(target: "spool::task", %task, kind, attempt, process, "{message}")
            }
            tracing::Level::DEBUG => {
                tracing::debug!(target: "spool::task", %task, kind, attempt, process, "{message}")
            }
            tracing::Level::TRACE => {
                tracing::trace!(target: "spool::task", %task, kind, attempt, process, "{message}")
            }
        }
        self.keep_line(level, message);
    }

    /// [`TaskContext::log`] at INFO.
    pub fn info(&self, message: impl std::fmt::Display) {
        self.log(tracing::Level::INFO, message)
    }

    /// [`TaskContext::log`] at WARN.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.log(tracing::Level::WARN, message)
    }

    fn keep_line(&self, level: tracing::Level, message: String) {
        let level = match level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        };
        let line = NewLogLine {
            level,
            message: crate::model::bounded_message(message),
            at: Some(chrono::Utc::now()),
        };
        if let Ok(mut log) = self.log.lock() {
            if log.lines.len() >= MAX_PENDING_LOG_LINES {
                log.lines.pop_front();
                log.skipped += 1;
            }
            log.lines.push_back(line);
        }
        self.logged.notify_one();
    }

    /// The log lines written since the last call, if any.
    pub fn take_log(&self) -> Option<PendingLog> {
        let mut log = self.log.lock().ok()?;
        if log.lines.is_empty() && log.skipped == 0 {
            return None;
        }
        Some(PendingLog {
            skipped: std::mem::take(&mut log.skipped),
            lines: std::mem::take(&mut log.lines).into(),
        })
    }

    /// Counts `lines` that were taken but could not be stored, so the stored log shows
    /// the gap they leave.
    pub fn lost_lines(&self, lines: u64) {
        if let Ok(mut log) = self.log.lock() {
            log.skipped += lines;
        }
    }

    /// Resolves once a line has been logged since it last resolved.
    pub async fn logged(&self) {
        self.logged.notified().await
    }

    /// The report made since the last call, if any.
    pub fn take_progress(&self) -> Option<ProgressSnapshot> {
        self.progress.lock().ok().and_then(|mut slot| slot.take())
    }

    /// True once cancellation has been requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when cancellation is requested.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Waits `delay` (the pacing between steps), returning early with
    /// [`TaskError::Cancelled`] if the task is cancelled meanwhile. A zero delay still
    /// checks for cancellation.
    pub async fn pace(&self, delay: Duration) -> Result<(), TaskError> {
        if self.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        if delay.is_zero() {
            // Full speed, but let other tasks on this thread make progress too.
            tokio::task::yield_now().await;
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = self.cancel.cancelled() => Err(TaskError::Cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> TaskContext {
        TaskContext::new(Uuid::nil(), 1, CancellationToken::new())
    }

    #[tokio::test]
    async fn logged_lines_wait_for_the_executor_in_order() {
        let ctx = context();
        assert_eq!(ctx.take_log(), None);
        ctx.info("first");
        ctx.warn(format_args!("second {}", 2));
        // A line was logged, so this resolves at once.
        tokio::time::timeout(Duration::from_secs(5), ctx.logged())
            .await
            .expect("told of the line");
        let taken = ctx.take_log().expect("two lines");
        assert_eq!(taken.skipped, 0);
        let lines: Vec<_> = taken
            .lines
            .iter()
            .map(|l| (l.level, l.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            [(LogLevel::Info, "first"), (LogLevel::Warn, "second 2")]
        );
        assert!(taken.lines.iter().all(|line| line.at.is_some()));
        assert_eq!(ctx.take_log(), None, "taken lines are gone");
    }

    #[test]
    fn too_many_waiting_lines_drop_the_oldest_and_count_them() {
        let ctx = context();
        for n in 0..MAX_PENDING_LOG_LINES + 25 {
            ctx.info(n);
        }
        let taken = ctx.take_log().expect("lines");
        assert_eq!(taken.skipped, 25);
        assert_eq!(taken.lines.len(), MAX_PENDING_LOG_LINES);
        assert_eq!(taken.lines[0].message, "25");
        // The count starts over once taken.
        ctx.info("next");
        assert_eq!(ctx.take_log().map(|log| log.skipped), Some(0));
    }
}
