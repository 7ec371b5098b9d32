//! Server functions the dashboard calls. Thin: each one finds the queue in the request's
//! context and calls it; validation and storage live below.

use crate::error::AppError;
use crate::model::{SubmitRequest, TaskKindInfo, TaskView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Newest tasks first, at most 50.
#[server(endpoint = "list_tasks", input = Json)]
pub async fn list_tasks() -> Result<Vec<TaskView>, AppError> {
    let queue = queue()?;
    let filter = crate::server::store::ListFilter {
        limit: 50,
        ..Default::default()
    };
    queue.list(&filter).await
}

/// Validates and stores a task; per-field problems come back in `AppError::details`.
#[server(endpoint = "submit_task", input = Json)]
pub async fn submit_task(request: SubmitRequest) -> Result<TaskView, AppError> {
    queue()?.submit(request).await
}

/// Every task kind with its parameters, for the submit form.
#[server(endpoint = "task_kinds", input = Json)]
pub async fn task_kinds() -> Result<Vec<TaskKindInfo>, AppError> {
    Ok(queue()?.kinds())
}

#[cfg(feature = "ssr")]
fn queue() -> Result<crate::server::queue::Queue, AppError> {
    use_context::<crate::server::queue::Queue>().ok_or_else(|| {
        tracing::error!("the queue is missing from the server function context");
        AppError::internal()
    })
}
