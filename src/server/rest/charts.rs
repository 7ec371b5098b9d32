//! The charts over REST: finished tasks and their wait and run times per slot, queue and
//! kind, from the aggregates kept as tasks finish.

use super::openapi::ErrorBody;
use super::ApiQuery;
use crate::error::AppError;
use crate::model::{ChartWindow, Charts};
use crate::server::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

/// The charts' query string; values are parsed by hand for clear messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// `hour` (sixty one-minute slots, the default) or `day` (twenty-four hours).
    #[param(value_type = Option<String>, pattern = "^(hour|day)$")]
    window: Option<String>,
    /// Only this queue's tasks in the slots, the total and the kinds (empty: every queue).
    #[param(value_type = Option<String>, max_length = 64)]
    queue: Option<String>,
    /// Only this type's tasks in the slots, the total and the queues (empty: every type).
    #[param(rename = "type", value_type = Option<String>, max_length = 64)]
    #[serde(rename = "type")]
    task_type: Option<String>,
}

#[utoipa::path(get, path = "/api/charts", tag = "queues", params(ChartQuery),
    responses((status = 200, description = "Finished tasks and latency percentiles per slot, queue and kind", body = Charts),
        (status = 400, description = "Bad window, queue or type", body = ErrorBody)))]
pub async fn charts(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ChartQuery>,
) -> Result<Json<Charts>, AppError> {
    let window = match query.window.as_deref() {
        None => ChartWindow::default(),
        Some(text) => text.parse().map_err(AppError::bad_request)?,
    };
    Ok(Json(
        state
            .queue
            .charts(window, query.queue.as_deref(), query.task_type.as_deref())
            .await?,
    ))
}
