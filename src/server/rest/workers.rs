//! External workers over REST: claim tasks (long-polling when none is ready), renew the
//! lease with progress, and report success or failure. Every call after the claim names
//! the attempt the claim started; a call for an attempt that is no longer the task's
//! (its lease ran out and the rescuer took it back) is answered 409 and changes nothing.

use super::openapi::ErrorBody;
use super::{task_id, ApiJson};
use crate::error::AppError;
use crate::model::{
    ClaimRequest, ClaimedWork, CompleteRequest, FailRequest, HeartbeatAnswer, HeartbeatRequest,
};
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(post, path = "/api/workers/claim", tag = "workers",
    request_body = ClaimRequest,
    responses((status = 200, description = "The claimed tasks (none when none was ready within wait_secs)", body = Vec<ClaimedWork>),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid worker, queues, max, lease_secs or wait_secs", body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ClaimRequest>,
) -> Result<Json<Vec<ClaimedWork>>, AppError> {
    Ok(Json(
        state.queue.claim_external(request, &state.stopping).await?,
    ))
}

#[utoipa::path(post, path = "/api/workers/tasks/{id}/heartbeat", tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    request_body = HeartbeatRequest,
    responses((status = 200, description = "The lease is renewed; stop if a cancel was requested", body = HeartbeatAnswer),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "The task is no longer this attempt's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A field of the wrong type, or an invalid lease_secs", body = ErrorBody)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<HeartbeatRequest>,
) -> Result<Json<HeartbeatAnswer>, AppError> {
    let id = task_id(&id)?;
    Ok(Json(state.queue.heartbeat_external(id, request).await?))
}

#[utoipa::path(post, path = "/api/workers/tasks/{id}/complete", tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    request_body = CompleteRequest,
    responses((status = 204, description = "Recorded: the task is SUCCESS"),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "The task is no longer this attempt's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A field of the wrong type", body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompleteRequest>,
) -> Result<StatusCode, AppError> {
    let id = task_id(&id)?;
    state.queue.complete_external(id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/workers/tasks/{id}/fail", tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    request_body = FailRequest,
    responses((status = 204, description = "Recorded: retried by the task's policy, or FAILED"),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "The task is no longer this attempt's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A field of the wrong type", body = ErrorBody)))]
pub async fn fail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<FailRequest>,
) -> Result<StatusCode, AppError> {
    let id = task_id(&id)?;
    state.queue.fail_external(id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}
