//! The whole queue at a glance: stats, task kinds, queues and pausing them, and the
//! processes that work them.

use super::openapi::ErrorBody;
use crate::error::AppError;
use crate::model::{ProcessView, QueueView, Stats, TaskKindInfo};
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/stats", tag = "queues",
    responses((status = 200, description = "Exact counts by status, type and queue", body = Stats)))]
pub async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, AppError> {
    Ok(Json(state.queue.stats().await?))
}

#[utoipa::path(get, path = "/api/task-types", tag = "queues",
    responses((status = 200, description = "Every task kind with its parameters", body = Vec<TaskKindInfo>)))]
pub async fn task_types(State(state): State<AppState>) -> Json<Vec<TaskKindInfo>> {
    Json(state.queue.kinds())
}

/// Every queue that has tasks or settings, with its counts and whether it is paused.
#[utoipa::path(get, path = "/api/queues", tag = "queues",
    responses((status = 200, description = "Queues by name", body = Vec<QueueView>)))]
pub async fn queues(State(state): State<AppState>) -> Result<Json<Vec<QueueView>>, AppError> {
    Ok(Json(state.queue.queue_views().await?))
}

/// Every `spool serve` and `spool worker` process: live ones, and those stopped or lost
/// within the last day.
#[utoipa::path(get, path = "/api/processes", tag = "queues",
    responses((status = 200, description = "Processes, newest first", body = Vec<ProcessView>)))]
pub async fn processes(State(state): State<AppState>) -> Result<Json<Vec<ProcessView>>, AppError> {
    Ok(Json(state.queue.processes().await?))
}

#[utoipa::path(post, path = "/api/queues/{name}/pause", tag = "queues",
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_.\-]{1,64}$",
        description = "Queue name: 1 to 64 letters, digits, `_`, `-` or `.`")),
    responses((status = 204, description = "Paused in every process"),
        (status = 400, description = "Not a queue name", body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/queues/{name}/resume", tag = "queues",
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9_.\-]{1,64}$",
        description = "Queue name: 1 to 64 letters, digits, `_`, `-` or `.`")),
    responses((status = 204, description = "Resumed in every process"),
        (status = 400, description = "Not a queue name", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
