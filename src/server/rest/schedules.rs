//! `POST /api/schedules/preview`: a schedule's timing explained in words, with its next
//! run times, computed here so that clients (the dashboard among them) need no cron or
//! time-zone code of their own.

use super::openapi::ErrorBody;
use super::ApiJson;
use crate::error::AppError;
use crate::model::{ScheduleTiming, TimingPreview};
use crate::server::schedules::When;
use axum::Json;

/// How many run times a preview lists.
const PREVIEWED: usize = 5;

#[utoipa::path(post, path = "/api/schedules/preview", tag = "schedules",
    request_body = ScheduleTiming,
    responses((status = 200, description = "The timing in words and its next five run times", body = TimingPreview),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Not a timing: each problem names its field", body = ErrorBody)))]
pub async fn preview(
    ApiJson(timing): ApiJson<ScheduleTiming>,
) -> Result<Json<TimingPreview>, AppError> {
    let when = When::parse(
        timing.cron.as_deref(),
        timing.every_secs,
        timing.timezone.as_deref(),
    )
    .map_err(AppError::validation)?;
    let after = timing.after.unwrap_or_else(chrono::Utc::now);
    Ok(Json(TimingPreview {
        description: when.describe(),
        next: when.upcoming(after, PREVIEWED),
    }))
}
