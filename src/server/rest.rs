//! The REST API for scripts. The seed's paths and payloads are kept exactly
//! (`POST /api/tasks/submit`, `GET /api/tasks/`, `GET /api/tasks/{id}`,
//! `DELETE /api/tasks/{id}`, `POST /api/tasks/{id}/retry`); the rest sits beside them.
//!
//! Every failure is answered as `{"error": {"code", "message", "details"}}` with the
//! matching status (see [`crate::error::AppError`]); bad input never reaches the store.

mod events;
mod health;
mod list;
mod metrics;
mod queues;
mod tasks;

use super::AppState;
use crate::error::{AppError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Largest request body, except batches.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Largest batch body (10,000 submits).
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tasks/submit", post(tasks::submit))
        .route(
            "/api/tasks/batch",
            post(tasks::batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
        .route("/api/tasks", get(list::list))
        .route("/api/tasks/", get(list::list))
        .route("/api/tasks/cancel", post(list::bulk_cancel))
        .route("/api/tasks/retry", post(list::bulk_retry))
        .route("/api/tasks/{id}", get(tasks::detail).delete(tasks::cancel))
        .route("/api/tasks/{id}/retry", post(tasks::retry))
        .route("/api/tasks/{id}/events", get(events::events))
        .route("/api/stats", get(queues::stats))
        .route("/api/task-types", get(queues::task_types))
        .route("/api/queues", get(queues::queues))
        .route("/api/queues/{name}/pause", post(queues::pause))
        .route("/api/queues/{name}/resume", post(queues::resume))
        .route("/api/{*rest}", any(no_such_endpoint))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn no_such_endpoint() -> AppError {
    AppError::not_found("no such endpoint")
}

/// A task id from the path; 400 when it is not a UUID.
fn task_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text)
        .map_err(|_| AppError::bad_request(format!("{text:?} is not a task id (a UUID)")))
}

/// `axum::Json`, but its rejections are answered as [`AppError`]s.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(err) => AppError::new(ErrorCode::Validation, err.body_text()),
        JsonRejection::JsonSyntaxError(err) => AppError::bad_request(err.body_text()),
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a JSON body with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        }
        _ => AppError::bad_request("the request body could not be read"),
    }
}
