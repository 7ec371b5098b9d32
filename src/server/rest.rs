//! The REST API for scripts, at the seed's paths and with its payloads:
//! `POST /api/tasks/submit`, `GET /api/tasks/`, `GET /api/tasks/{id}`,
//! `DELETE /api/tasks/{id}` (cancel), `POST /api/tasks/{id}/retry`; and beside them
//! `GET /api/stats`, `GET /api/task-types`, `GET /api/queues`,
//! `POST /api/queues/{name}/pause` and `…/resume`.
//!
//! Every failure is answered as `{"error": {"code", "message", "details"}}` with the
//! matching status (see [`crate::error::AppError`]); bad input never reaches the store.

use super::store::ListFilter;
use super::AppState;
use crate::error::AppError;
use crate::model::{Stats, SubmitRequest, TaskKindInfo, TaskStatus, TaskView};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

/// Largest page a list returns.
pub const MAX_LIMIT: u64 = 1000;
/// Page size when the request names none.
pub const DEFAULT_LIMIT: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tasks/submit", post(submit))
        .route("/api/tasks", get(list))
        .route("/api/tasks/", get(list))
        .route("/api/tasks/{id}", get(detail).delete(cancel))
        .route("/api/tasks/{id}/retry", post(retry))
        .route("/api/stats", get(stats))
        .route("/api/task-types", get(task_types))
        .route("/api/queues", get(queues))
        .route("/api/queues/{name}/pause", post(pause))
        .route("/api/queues/{name}/resume", post(resume))
        .route("/api/{*rest}", any(no_such_endpoint))
}

async fn submit(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.submit(request).await?))
}

/// Query of `GET /api/tasks/`; values are parsed by hand for clear messages.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    task_type: Option<String>,
    limit: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<TaskView>>, AppError> {
    let Query(query) = query.map_err(|_| AppError::bad_request("the query string is malformed"))?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(text.parse::<TaskStatus>().map_err(|_| {
            AppError::bad_request(format!(
                "unknown status {text:?}; expected one of {}",
                TaskStatus::ALL.map(TaskStatus::as_str).join(", ")
            ))
        })?),
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::bad_request(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let filter = ListFilter {
        status,
        task_type: query.task_type.filter(|t| !t.is_empty()),
        limit,
        ..ListFilter::default()
    };
    Ok(Json(state.queue.list(&filter).await?))
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.get(task_id(&id)?).await?))
}

async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.cancel(task_id(&id)?).await?))
}

async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.retry(task_id(&id)?).await?))
}

async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, AppError> {
    Ok(Json(state.queue.stats().await?))
}

async fn task_types(State(state): State<AppState>) -> Json<Vec<TaskKindInfo>> {
    Json(state.queue.kinds())
}

/// Every queue that has tasks or settings, with its task count and whether it is paused.
async fn queues(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    let stats = state.queue.stats().await?;
    let paused = state.queue.paused_queues().await?;
    let mut names: std::collections::BTreeSet<String> = stats.by_queue.keys().cloned().collect();
    names.extend(paused.iter().cloned());
    let queues: Vec<_> = names
        .into_iter()
        .map(|name| {
            serde_json::json!({
                "name": name,
                "tasks": stats.by_queue.get(&name).copied().unwrap_or(0),
                "paused": paused.contains(&name),
            })
        })
        .collect();
    Ok(Json(serde_json::Value::from(queues)))
}

async fn pause(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn resume(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn task_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text)
        .map_err(|_| AppError::bad_request(format!("{text:?} is not a task id (a UUID)")))
}

async fn no_such_endpoint() -> AppError {
    AppError::not_found("no such endpoint")
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
    use crate::error::ErrorCode;
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
