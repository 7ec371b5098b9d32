//! Probes for supervisors and load balancers.

use crate::error::AppError;
use crate::server::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

/// `GET /healthz`: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Object)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the task store answers; 503 when it does not.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The task store answers", body = Object),
        (status = 503, description = "The task store is unavailable", body = super::openapi::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    state
        .queue
        .stats()
        .await
        .map_err(|_| AppError::unavailable())?;
    Ok(Json(json!({"status": "ready"})))
}
