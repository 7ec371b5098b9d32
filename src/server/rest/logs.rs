//! A task's log: `GET /api/tasks/{id}/logs` reads it a page at a time, and
//! `POST /api/workers/tasks/{id}/logs` lets the external worker running the task add
//! lines to it.

use super::openapi::ErrorBody;
use super::ApiQuery;
use super::{page_limit, task_id, ApiJson};
use crate::error::AppError;
use crate::model::{AppendLogRequest, LogPage};
use crate::server::store::LOG_PAGE_MAX;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Lines a page holds when the request names no limit.
const DEFAULT_LIMIT: u64 = 100;

/// The log's query string; values are parsed by hand for clear messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The number of the last line already read (0, the default, reads from the start).
    #[param(value_type = Option<i64>, minimum = 0)]
    after: Option<String>,
    /// Most lines to return (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/tasks/{id}/logs", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id"), LogQuery),
    responses((status = 200, description = "Lines numbered after `after`, oldest first. Numbers count every line the task wrote: a jump between two lines' numbers marks lines that were dropped", body = LogPage),
        (status = 400, description = "Malformed id, after or limit", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, AppError> {
    let id = task_id(&id)?;
    let after = match query.after.as_deref() {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| AppError::bad_request("after must be a line number, 0 or more"))?,
    };
    let limit = page_limit(query.limit.as_deref(), DEFAULT_LIMIT, LOG_PAGE_MAX)?;
    Ok(Json(state.queue.task_log(id, after, limit).await?))
}

#[utoipa::path(post, path = "/api/workers/tasks/{id}/logs", tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    request_body = AppendLogRequest,
    responses((status = 204, description = "Stored (the oldest lines beyond the per-task bound are dropped)"),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "The task is no longer this attempt's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "No lines or more than 1,000, or a field of the wrong type", body = ErrorBody)))]
pub async fn append(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AppendLogRequest>,
) -> Result<StatusCode, AppError> {
    let id = task_id(&id)?;
    state.queue.append_log_external(id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}
