//! Task logs through the queue: pages of a task's log for readers, and lines an external
//! worker adds to the task it runs (fenced on its attempt, like its other calls). The
//! in-process executor stores its handlers' lines itself.

use super::{Queue, QueueError};
use crate::error::FieldError;
use crate::model::{AppendLogRequest, LogPage, LOG_LINES_PER_REQUEST};
use crate::server::store::LOG_PAGE_MAX;
use uuid::Uuid;

impl Queue {
    /// Up to `limit` lines of task `id`'s log numbered after `after`, oldest first.
    pub async fn task_log(&self, id: Uuid, after: i64, limit: u64) -> Result<LogPage, QueueError> {
        if after < 0 || !(1..=LOG_PAGE_MAX).contains(&limit) {
            return Err(QueueError::BadRequest(format!(
                "after must be 0 or more and limit 1 to {LOG_PAGE_MAX}"
            )));
        }
        self.store()
            .log_page(id, after, limit)
            .await?
            .ok_or(QueueError::NotFound(id))
    }

    /// Adds an external worker's lines to the log of task `id`, which its attempt
    /// `request.attempt` must still hold.
    pub async fn append_log_external(
        &self,
        id: Uuid,
        request: AppendLogRequest,
    ) -> Result<(), QueueError> {
        if !(1..=LOG_LINES_PER_REQUEST).contains(&request.lines.len()) {
            return Err(QueueError::Invalid(vec![FieldError::new(
                "lines",
                format!("give 1 to {LOG_LINES_PER_REQUEST} lines"),
            )]));
        }
        let now = self.now_micros();
        let stored = self
            .store()
            .append_log(id, request.attempt, 0, request.lines, now)
            .await?;
        if stored {
            Ok(())
        } else {
            Err(self.not_yours_or_gone(id).await)
        }
    }
}
