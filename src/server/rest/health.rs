//! Probes for supervisors and load balancers.

use crate::error::AppError;
use crate::server::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the task store answers; 503 when it does not.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    state
        .queue
        .stats()
        .await
        .map_err(|_| AppError::unavailable())?;
    Ok(Json(json!({"status": "ready"})))
}
