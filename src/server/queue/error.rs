//! What the queue's operations fail with, in the queue's own words. The HTTP faces (REST
//! and server functions) turn it into a status and a client's text at the edge, in
//! `crate::server::http_error`; nothing below them knows about HTTP.

use crate::error::FieldError;
use crate::server::store::StoreError;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no task with id {0}")]
    NotFound(Uuid),
    #[error("no schedule named {0:?}")]
    NoSuchSchedule(String),
    /// The task's state does not allow the operation (cancel a finished task, say).
    #[error("{0}")]
    Conflict(String),
    /// The input parsed but is not acceptable; which fields and why.
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The input is malformed (a queue name, a cursor).
    #[error("{0}")]
    BadRequest(String),
    /// The store cannot take the operation now (a full disk, a lock held too long); a
    /// retry may succeed.
    #[error("task store unavailable: {0}")]
    Unavailable(StoreError),
    #[error("task store failure: {0}")]
    Store(StoreError),
}

impl From<StoreError> for QueueError {
    fn from(err: StoreError) -> QueueError {
        let text = err.to_string();
        let passing = ["disk is full", "database is locked", "timed out"];
        if passing.iter().any(|what| text.contains(what)) {
            QueueError::Unavailable(err)
        } else {
            QueueError::Store(err)
        }
    }
}

impl QueueError {
    /// The operation does not apply to this task (gone, or in the wrong state): what a
    /// bulk action skips rather than stops on.
    pub fn does_not_apply(&self) -> bool {
        matches!(
            self,
            QueueError::NotFound(_) | QueueError::NoSuchSchedule(_) | QueueError::Conflict(_)
        )
    }
}
