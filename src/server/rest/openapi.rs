//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations and
//! the types' schemas as the router is built, so it cannot miss a documented route.

use crate::error::AppError;
use utoipa::OpenApi;

/// Every error answer: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: AppError,
}

/// One event of `GET /api/tasks/{id}/events`, as an SSE parser hands it over.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TaskEvent {
    /// Always `task`.
    #[schema(pattern = "^task$")]
    pub event: String,
    /// The task's JSON, as `GET /api/tasks/{id}` answers it.
    pub data: String,
}

/// The document's header; the paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Spool",
        description = "A durable background task queue: submit, watch, cancel and retry tasks.",
    ),
    tags(
        (name = "tasks", description = "Submitting and following tasks"),
        (name = "queues", description = "Counts, kinds and queues"),
        (name = "operations", description = "Probes and metrics"),
        (name = "workers", description = "External workers: claim tasks, heartbeat, report the outcome"),
    )
)]
pub struct ApiDoc;

/// Where the document itself is served.
pub const PATH: &str = "/api/openapi.json";

/// Names the task kinds this process knows as the only values of `task_type` in submit
/// bodies, so the document says what the server accepts (the kinds are registered at
/// start-up, not known to the derive).
pub fn list_task_types(document: &mut utoipa::openapi::OpenApi, kinds: &[String]) {
    use utoipa::openapi::{RefOr, Schema};
    let submit = document
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("SubmitRequest"));
    let Some(RefOr::T(Schema::Object(submit))) = submit else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(task_type))) = submit.properties.get_mut("task_type") {
        task_type.enum_values = Some(kinds.iter().map(|k| k.as_str().into()).collect());
    }
}
