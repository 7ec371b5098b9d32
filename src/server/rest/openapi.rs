//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations and
//! the types' schemas as the router is built, so it cannot miss a documented route.

use crate::error::AppError;
use crate::model::TaskKindInfo;
use serde_json::Value;
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
    /// `task` or `log`.
    #[schema(pattern = "^(task|log)$")]
    pub event: String,
    /// For `task`, the task's JSON as `GET /api/tasks/{id}` answers it; for `log`, one
    /// line's JSON as in `GET /api/tasks/{id}/logs`.
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
        (name = "schedules", description = "Periodic tasks: their timing explained"),
    )
)]
pub struct ApiDoc;

/// Where the document itself is served.
pub const PATH: &str = "/api/openapi.json";

/// The document with what only the running process knows: the task kinds a submit may
/// name (the only values of `task_type`) and each kind's parameters as a schema of its
/// own, `<Kind>Parameters` (`data_processing` → `DataProcessingParameters`), derived
/// from the kind's type like the checks a submit goes through.
pub fn with_task_types(mut document: utoipa::openapi::OpenApi, kinds: &[TaskKindInfo]) -> Value {
    use utoipa::openapi::{RefOr, Schema};
    let submit = document
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("SubmitRequest"));
    if let Some(RefOr::T(Schema::Object(submit))) = submit {
        if let Some(RefOr::T(Schema::Object(task_type))) = submit.properties.get_mut("task_type") {
            task_type.enum_values = Some(kinds.iter().map(|k| k.name.as_str().into()).collect());
        }
    }
    // Serialising the document's own types cannot fail.
    let mut document = serde_json::to_value(&document).unwrap_or(Value::Null);
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for kind in kinds {
            let mut schema = kind.parameters_schema.clone();
            if let Some(schema) = schema.as_object_mut() {
                // The document says which dialect its schemas speak; a title would name
                // the Rust type, not the kind.
                schema.remove("$schema");
                schema.remove("title");
                let about = format!(
                    "The `parameters` of a `{}` task: {}",
                    kind.name, kind.description
                );
                schema.insert("description".into(), Value::from(about));
            }
            schemas.insert(schema_name(&kind.name), schema);
        }
    }
    document
}

/// `data_processing` → `DataProcessingParameters`.
fn schema_name(kind: &str) -> String {
    let mut name = String::new();
    for word in kind
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut letters = word.chars();
        if let Some(first) = letters.next() {
            name.extend(first.to_uppercase());
            name.push_str(letters.as_str());
        }
    }
    name + "Parameters"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_become_schema_names() {
        assert_eq!(schema_name("data_processing"), "DataProcessingParameters");
        assert_eq!(schema_name("http"), "HttpParameters");
        assert_eq!(schema_name("resize.v2-fast"), "ResizeV2FastParameters");
    }
}
