//! `GET /metrics`: every metric in the Prometheus text format (see
//! `Queue::metrics_text`). The same handler serves `spool serve`'s port and the
//! `--metrics-addr` of `spool worker`.

use crate::error::AppError;
use crate::server::queue::{Queue, METRICS_CONTENT_TYPE};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(queue): State<Queue>) -> Result<impl IntoResponse, AppError> {
    let text = queue.metrics_text().await?;
    Ok(([(CONTENT_TYPE, METRICS_CONTENT_TYPE)], text))
}
