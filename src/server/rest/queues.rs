//! The whole queue at a glance: stats, task kinds, queues, and pausing them.

use crate::error::AppError;
use crate::model::{Stats, TaskKindInfo};
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

pub async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, AppError> {
    Ok(Json(state.queue.stats().await?))
}

pub async fn task_types(State(state): State<AppState>) -> Json<Vec<TaskKindInfo>> {
    Json(state.queue.kinds())
}

/// Every queue that has tasks or settings, with its task count and whether it is paused.
pub async fn queues(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
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

pub async fn pause(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn resume(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.set_paused(&name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
