//! Operators' actions on one task beyond the seed's cancel: retry (as it was, or with
//! new parameters), run now and delete; and the audit log that records every action. `DELETE /api/tasks/{id}` keeps the seed's meaning (cancel), so deleting a
//! finished task has a route of its own.

use super::openapi::ErrorBody;
use super::ApiQuery;
use super::{page_limit, task_id, ApiJson};
use crate::error::AppError;
use crate::model::{AuditEntry, RetryRequest, TaskView};
use crate::server::queue::Actor;
use crate::server::store::AUDIT_PAGE_MAX;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

#[utoipa::path(post, path = "/api/tasks/{id}/retry", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task, PENDING again", body = TaskView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 409, description = "Only FAILED or CANCELLED tasks can be retried", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.retry(task_id(&id)?, &actor).await?))
}

#[utoipa::path(post, path = "/api/tasks/{id}/edit-and-retry", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    request_body = RetryRequest,
    responses((status = 200, description = "The task with its new parameters, PENDING again", body = TaskView),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "Only FAILED or CANCELLED tasks can be retried", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid parameters (each problem names its field), or a field of the wrong type", body = ErrorBody)))]
pub async fn edit_and_retry(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RetryRequest>,
) -> Result<Json<TaskView>, AppError> {
    let id = task_id(&id)?;
    let retried = state
        .queue
        .edit_and_retry(id, request.parameters, &actor)
        .await?;
    Ok(Json(retried))
}

#[utoipa::path(post, path = "/api/tasks/{id}/run-now", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task, PENDING and due now", body = TaskView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "Only a SCHEDULED task can be run now", body = ErrorBody)))]
pub async fn run_now(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.run_now(task_id(&id)?, &actor).await?))
}

#[utoipa::path(post, path = "/api/tasks/{id}/delete", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 204, description = "Deleted, with its attempts and log"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "Only a finished task can be deleted", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.delete_finished(task_id(&id)?, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log's query string; values are parsed by hand for clear messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the entries of this task.
    #[param(value_type = Option<uuid::Uuid>)]
    task: Option<String>,
    /// Entries before this one (the last `id` of the previous page).
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
    /// Most entries to return (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/audit", tag = "tasks", params(AuditQuery),
    responses((status = 200, description = "Audit entries, newest first", body = Vec<AuditEntry>),
        (status = 400, description = "Bad task, before or limit", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let task = query.task.as_deref().map(task_id).transpose()?;
    let before = match query.before.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    AppError::bad_request("before must be an entry number, 1 or more")
                })?,
        ),
    };
    let limit = page_limit(query.limit.as_deref(), 100, AUDIT_PAGE_MAX)?;
    Ok(Json(state.queue.audit(task, before, limit).await?))
}
