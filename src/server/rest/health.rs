//! Probes for supervisors, load balancers and orchestrators. The same handlers serve
//! `spool serve`'s port and the `--metrics-addr` of `spool worker`.

use crate::error::AppError;
use crate::server::queue::Queue;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `/readyz` waits for the database: less than an orchestrator's probe timeout,
/// so a hung database reads as not ready rather than as a probe that never answered.
const READY_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Object)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: ready while the task store answers and the process is not shutting
/// down; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The task store answers and the process takes work", body = Object),
        (status = 503, description = "The task store is unavailable, or the process is draining", body = super::openapi::ErrorBody)))]
pub async fn readyz(State(queue): State<Queue>) -> Result<Json<Value>, AppError> {
    if queue.is_draining() {
        return Err(AppError::draining());
    }
    match tokio::time::timeout(READY_CHECK_TIMEOUT, queue.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready"}))),
        _ => Err(AppError::unavailable()),
    }
}
