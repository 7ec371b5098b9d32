//! The REST API for scripts. The seed's paths and payloads are kept exactly
//! (`POST /api/tasks/submit`, `GET /api/tasks/`, `GET /api/tasks/{id}`,
//! `DELETE /api/tasks/{id}`, `POST /api/tasks/{id}/retry`); the rest sits beside them.
//!
//! Every failure is answered as `{"error": {"code", "message", "details"}}` with the
//! matching status (see [`crate::error::AppError`]); bad input never reaches the store.

mod actions;
mod charts;
mod events;
mod health;
mod list;
mod logs;
mod metrics;
pub mod openapi;
mod queues;
mod schedules;
mod tasks;
mod workers;

use super::AppState;
use crate::error::{AppError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{any, get};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Largest request body, except batches.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Largest batch body (10,000 submits).
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The REST routes and the OpenAPI document describing them. Every endpoint goes through
/// `routes!`, which registers the handler and documents it in one step; only the JSON 404
/// for unknown `/api/…` paths and the document itself stay out of it. `task_types` are
/// the kinds a submit may name, each with its parameters' schema.
pub fn routes(task_types: &[crate::model::TaskKindInfo]) -> Router<AppState> {
    let (batch_docs, batch_paths, batch_route) = routes!(tasks::batch);
    let batch = (
        batch_docs,
        batch_paths,
        batch_route.layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
    );
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(tasks::submit))
        .routes(batch)
        .routes(routes!(list::list))
        .routes(routes!(list::list_without_slash))
        .routes(routes!(list::count))
        .routes(routes!(list::bulk_cancel))
        .routes(routes!(list::bulk_retry))
        .routes(routes!(list::bulk_delete))
        .routes(routes!(tasks::detail, tasks::cancel))
        .routes(routes!(tasks::lookup))
        .routes(routes!(actions::retry))
        .routes(routes!(actions::edit_and_retry))
        .routes(routes!(actions::run_now))
        .routes(routes!(actions::delete))
        .routes(routes!(actions::audit))
        .routes(routes!(events::events))
        .routes(routes!(logs::read))
        .routes(routes!(queues::stats))
        .routes(routes!(queues::task_types))
        .routes(routes!(queues::queues))
        .routes(routes!(queues::processes))
        .routes(routes!(charts::charts))
        .routes(routes!(queues::pause))
        .routes(routes!(queues::resume))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(workers::claim))
        .routes(routes!(workers::heartbeat))
        .routes(routes!(workers::complete))
        .routes(routes!(workers::fail))
        .routes(routes!(logs::append))
        .routes(routes!(schedules::preview))
        .routes(routes!(schedules::list))
        .routes(routes!(
            schedules::detail,
            schedules::save,
            schedules::delete
        ))
        .routes(routes!(schedules::pause))
        .routes(routes!(schedules::resume))
        .routes(routes!(schedules::run_now))
        .split_for_parts();
    let document = Arc::new(openapi::with_task_types(document, task_types));
    router
        .route(
            openapi::PATH,
            get(move || async move { Json(Arc::clone(&document)) }),
        )
        .route("/api/{*rest}", any(no_such_endpoint))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Metrics and probes alone, for a process that serves no API (`spool worker
/// --metrics-addr`); the same handlers as on `spool serve`'s port.
pub fn operations(queue: crate::server::queue::Queue) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(queue)
}

async fn no_such_endpoint() -> AppError {
    AppError::not_found("no such endpoint")
}

/// A page size from the query string: `default` when absent, else 1 to `most`; 400
/// otherwise.
fn page_limit(text: Option<&str>, default: u64, most: u64) -> Result<u64, AppError> {
    let Some(text) = text else {
        return Ok(default);
    };
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=most).contains(n))
        .ok_or_else(|| {
            AppError::bad_request(format!("limit must be a whole number from 1 to {most}"))
        })
}

/// A task id from the path; 400 when it is not a UUID.
fn task_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text)
        .map_err(|_| AppError::bad_request(format!("{text:?} is not a task id (a UUID)")))
}

/// `axum::extract::Query`, but a query string that does not parse is answered 400 as an
/// [`AppError`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(_) => Err(AppError::bad_request("the query string is malformed")),
        }
    }
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
