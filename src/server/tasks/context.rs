//! What a running task sees: its id and attempt, a way to report progress, a log, and
//! the cancellation signal it must honour.

use super::TaskError;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

/// Handed to [`super::TaskKind::run`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TaskContext {
    id: Uuid,
    attempt: i32,
    cancel: CancellationToken,
    /// Latest report, taken by the executor when it next writes (writes are coalesced).
    progress: Arc<Mutex<Option<ProgressSnapshot>>>,
}

impl TaskContext {
    /// A context for attempt `attempt` of task `id`, stopped by `cancel` (for testing a kind's handler outside Spool).
    pub fn new(id: Uuid, attempt: i32, cancel: CancellationToken) -> TaskContext {
        TaskContext {
            id,
            attempt,
            cancel,
            progress: Arc::default(),
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

    /// Writes `message` to the task's log at `level`. The lines go to the process's log
    /// (through `tracing`, target `spool::task`) with the task's id and attempt.
    pub fn log(&self, level: tracing::Level, message: impl std::fmt::Display) {
        let (task, attempt) = (self.id, self.attempt);
        // tracing's macros need the level as a constant.
        match level {
            tracing::Level::ERROR => {
                tracing::error!(target: "spool::task", %task, attempt, "{message}")
            }
            tracing::Level::WARN => {
                tracing::warn!(target: "spool::task", %task, attempt, "{message}")
            }
            tracing::Level::INFO => {
                tracing::info!(target: "spool::task", %task, attempt, "{message}")
            }
            tracing::Level::DEBUG => {
                tracing::debug!(target: "spool::task", %task, attempt, "{message}")
            }
            tracing::Level::TRACE => {
                tracing::trace!(target: "spool::task", %task, attempt, "{message}")
            }
        }
    }

    /// [`TaskContext::log`] at INFO.
    pub fn info(&self, message: impl std::fmt::Display) {
        self.log(tracing::Level::INFO, message)
    }

    /// [`TaskContext::log`] at WARN.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.log(tracing::Level::WARN, message)
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
