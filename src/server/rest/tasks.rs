//! One task at a time: submit (with an optional `Idempotency-Key`), a batch of submits,
//! detail, lookup by short id, and cancel (the seed's `DELETE`).

use super::openapi::ErrorBody;
use super::{task_id, ApiJson};
use crate::error::AppError;
use crate::model::{SubmitRequest, TaskView};
use crate::server::queue::Actor;
use crate::server::rate_limit::{allow, Client};
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;

/// Most submits one batch may carry.
pub const MAX_BATCH: usize = 10_000;
/// Longest idempotency key accepted.
const MAX_KEY_LEN: usize = 255;

/// `POST /api/tasks/submit`: answers 200 with the stored task, as the seed did. With an
/// `Idempotency-Key`, a repeat of the same request answers the first task again.
#[utoipa::path(post, path = "/api/tasks/submit", tag = "tasks",
    request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes repeating this submit harmless")),
    responses((status = 200, description = "The stored task", body = TaskView),
        (status = 400, description = "Malformed JSON or header", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Unknown task type or invalid parameters", body = ErrorBody),
        (status = 429, description = "Too many submits from this client; see Retry-After", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<Json<TaskView>, AppError> {
    allow(&state.submit_limit, client, 1)?;
    let key = idempotency_key(&headers)?;
    Ok(Json(state.queue.submit_with_key(request, key).await?))
}

/// `POST /api/tasks/batch`: a JSON array of submit bodies, stored all or nothing.
#[utoipa::path(post, path = "/api/tasks/batch", tag = "tasks",
    request_body = Vec<SubmitRequest>,
    responses((status = 200, description = "Every stored task, in order", body = Vec<TaskView>),
        (status = 400, description = "Empty or too large a batch", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Some request is invalid; nothing was stored", body = ErrorBody),
        (status = 429, description = "Too many submits from this client; see Retry-After", body = ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(requests): ApiJson<Vec<SubmitRequest>>,
) -> Result<Json<Vec<TaskView>>, AppError> {
    if requests.is_empty() || requests.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "a batch holds 1 to {MAX_BATCH} tasks, got {}",
            requests.len()
        )));
    }
    // Each task counts against the client's submit rate.
    allow(&state.submit_limit, client, requests.len())?;
    Ok(Json(state.queue.submit_batch(requests).await?))
}

/// `GET /api/tasks/lookup/{digits}`: the tasks whose id ends with these digits (a short
/// id, as the dashboard shows it), newest first, at most 10; more than one means the
/// digits are ambiguous.
#[utoipa::path(get, path = "/api/tasks/lookup/{digits}", tag = "tasks",
    params(("digits" = String, Path, pattern = r"^[0-9a-fA-F-]{4,36}$",
        description = "A task id's last 4 to 32 hex digits")),
    responses((status = 200, description = "The matching tasks (none, one, or an ambiguity)", body = Vec<TaskView>),
        (status = 400, description = "Not 4 to 32 hex digits", body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    Path(digits): Path<String>,
) -> Result<Json<Vec<TaskView>>, AppError> {
    Ok(Json(state.queue.lookup(&digits).await?))
}

#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task with its attempts", body = TaskView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.get(task_id(&id)?).await?))
}

#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task, CANCELLED or with its cancel requested", body = TaskView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 409, description = "The task is already final", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(state.queue.cancel(task_id(&id)?, &actor).await?))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_LEN)
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_string()))
}
