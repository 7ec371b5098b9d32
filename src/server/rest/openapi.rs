//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations and
//! the types' schemas as the router is built, so it cannot miss a documented route.

use crate::error::AppError;
use utoipa::OpenApi;

/// Every error answer: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: AppError,
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
    )
)]
pub struct ApiDoc;

/// Where the document itself is served.
pub const PATH: &str = "/api/openapi.json";
