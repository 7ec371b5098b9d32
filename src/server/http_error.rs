//! The queue's errors as HTTP clients see them: a status and a message, with the store's
//! own text logged here and never sent.

use crate::error::AppError;
use crate::server::queue::QueueError;

impl From<QueueError> for AppError {
    fn from(err: QueueError) -> AppError {
        match err {
            QueueError::NotFound(_) | QueueError::NoSuchSchedule(_) => {
                AppError::not_found(err.to_string())
            }
            QueueError::Conflict(message) => AppError::conflict(message),
            QueueError::Invalid(details) => AppError::validation(details),
            QueueError::BadRequest(message) => AppError::bad_request(message),
            QueueError::Unavailable(store) => {
                tracing::warn!(error = %store, "task store unavailable");
                AppError::unavailable()
            }
            QueueError::Store(store) => {
                tracing::error!(error = %store, "task store failure");
                AppError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, FieldError};
    use crate::server::store::StoreError;

    #[test]
    fn each_queue_error_gets_its_status_and_no_store_text_leaks() {
        let id = uuid::Uuid::nil();
        let cases = [
            (QueueError::NotFound(id), ErrorCode::NotFound),
            (QueueError::NoSuchSchedule("x".into()), ErrorCode::NotFound),
            (QueueError::Conflict("finished".into()), ErrorCode::Conflict),
            (
                QueueError::Invalid(vec![FieldError::new("rows", "too big")]),
                ErrorCode::Validation,
            ),
            (
                QueueError::BadRequest("bad name".into()),
                ErrorCode::BadRequest,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(AppError::from(err).code, code);
        }
        let secret = || StoreError::UnsupportedUrl("postgres://user:secret@db".into());
        for err in [
            QueueError::Unavailable(secret()),
            QueueError::Store(secret()),
        ] {
            let client = AppError::from(err);
            assert!(!client.message.contains("secret"), "{}", client.message);
        }
        let full = QueueError::from(StoreError::Db(sea_orm::DbErr::Custom(
            "database or disk is full".into(),
        )));
        assert_eq!(AppError::from(full).code, ErrorCode::Unavailable);
    }
}
