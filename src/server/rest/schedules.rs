//! Schedules at run time: list, show, make or replace (`PUT`), pause, resume, run now and
//! delete; and `POST /api/schedules/preview`, a timing explained in words with its next
//! run times, computed here so that clients (the dashboard among them) need no cron or
//! time-zone code of their own.

use super::openapi::ErrorBody;
use super::ApiJson;
use crate::error::AppError;
use crate::model::{ScheduleDefinition, ScheduleTiming, ScheduleView, TaskView, TimingPreview};
use crate::server::queue::valid_queue_name;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

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
    Ok(Json(
        crate::server::schedules::preview(&timing).map_err(AppError::validation)?,
    ))
}

#[utoipa::path(get, path = "/api/schedules", tag = "schedules",
    responses((status = 200, description = "Every schedule by name, with its next five run times and latest runs", body = Vec<ScheduleView>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ScheduleView>>, AppError> {
    Ok(Json(state.queue.schedule_views().await?))
}

#[utoipa::path(get, path = "/api/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name")),
    responses((status = 200, description = "The schedule with its next five run times and latest 20 runs", body = ScheduleView),
        (status = 400, description = "Not a schedule name", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ScheduleView>, AppError> {
    Ok(Json(
        state.queue.schedule_view(schedule_name(&name)?).await?,
    ))
}

/// Makes the schedule, or replaces it: its slots then count from now. A schedule the
/// `--schedules` file declares is changed there, not here (409).
#[utoipa::path(put, path = "/api/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name: 1 to 64 letters, digits, `_`, `-` or `.`")),
    request_body = ScheduleDefinition,
    responses((status = 200, description = "Replaced", body = ScheduleView),
        (status = 201, description = "Made", body = ScheduleView),
        (status = 400, description = "Malformed JSON or name", body = ErrorBody),
        (status = 409, description = "Declared in the --schedules file", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid timing or task: each problem names its field", body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(mut definition): ApiJson<ScheduleDefinition>,
) -> Result<(StatusCode, Json<ScheduleView>), AppError> {
    let name = schedule_name(&name)?;
    if definition.name.is_empty() {
        definition.name = name.to_string();
    } else if definition.name != name {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "name",
            format!("differs from the path's {name:?}; leave it out or make them agree"),
        )]));
    }
    let (view, created) = state.queue.save_schedule(definition).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Deletes the schedule and its record of runs; the tasks it submitted stay.
#[utoipa::path(delete, path = "/api/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name")),
    responses((status = 204, description = "Deleted"),
        (status = 400, description = "Not a schedule name", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 409, description = "Declared in the --schedules file", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    state.queue.delete_schedule(schedule_name(&name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses the schedule in every process: the slots that pass while it is paused never fire.
#[utoipa::path(post, path = "/api/schedules/{name}/pause", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name")),
    responses((status = 200, description = "Paused", body = ScheduleView),
        (status = 400, description = "Not a schedule name", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ScheduleView>, AppError> {
    let name = schedule_name(&name)?;
    Ok(Json(state.queue.set_schedule_enabled(name, false).await?))
}

/// Resumes the schedule: its next slot after now fires.
#[utoipa::path(post, path = "/api/schedules/{name}/resume", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name")),
    responses((status = 200, description = "Resumed", body = ScheduleView),
        (status = 400, description = "Not a schedule name", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ScheduleView>, AppError> {
    let name = schedule_name(&name)?;
    Ok(Json(state.queue.set_schedule_enabled(name, true).await?))
}

/// Submits the schedule's task now, paused or not, without moving its slots.
#[utoipa::path(post, path = "/api/schedules/{name}/run", tag = "schedules",
    params(("name" = String, Path, description = "Schedule name")),
    responses((status = 200, description = "The task submitted", body = TaskView),
        (status = 400, description = "Not a schedule name", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 422, description = "Its task cannot be submitted here", body = ErrorBody)))]
pub async fn run_now(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<TaskView>, AppError> {
    Ok(Json(
        state.queue.run_schedule_now(schedule_name(&name)?).await?,
    ))
}

/// A schedule name from the path; 400 when it cannot be one.
fn schedule_name(name: &str) -> Result<&str, AppError> {
    if valid_queue_name(name) {
        Ok(name)
    } else {
        Err(AppError::bad_request(format!(
            "{name:?} is not a schedule name (1 to 64 letters, digits, '_', '-', '.')"
        )))
    }
}
