//! The queue's client API — submit, look up, list — and the worker pool that runs what
//! is submitted. REST handlers and server functions call this; only the store below it
//! touches the database.

mod executor;
mod workers;

use crate::error::AppError;
use crate::model::{SubmitRequest, TaskKindInfo, TaskView};
use crate::server::store::{ListFilter, NewTask, Store, StoreError};
use crate::server::tasks::Registry;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

pub use workers::{run_workers, WorkerConfig};

/// The queue every task goes through. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    store: Store,
    registry: Arc<Registry>,
    /// Wakes an idle worker pool in this process as soon as a task is submitted.
    wake: Arc<Notify>,
}

/// The queue a task joins when none is named.
pub const DEFAULT_QUEUE: &str = "default";
/// Attempts a task gets when the submitter names none.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;

impl Queue {
    pub fn new(store: Store, registry: Registry) -> Queue {
        Queue {
            store,
            registry: Arc::new(registry),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.wake
    }

    /// Validates and stores a task. Nothing is stored when validation fails; once this
    /// returns the task is durable.
    pub async fn submit(&self, request: SubmitRequest) -> Result<TaskView, AppError> {
        let parameters = self
            .registry
            .validate(&request.task_type, &request.parameters)?;
        let now = now_micros();
        let task = NewTask {
            id: Uuid::new_v4(),
            task_type: request.task_type,
            queue: DEFAULT_QUEUE.to_string(),
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            parameters,
            created_at: now,
            run_at: now,
            timeout_ms: None,
        };
        let stored = self.store.insert(task).await.map_err(storage_error)?;
        self.wake.notify_one();
        Ok(stored.into_view())
    }

    /// One task, or 404.
    pub async fn get(&self, id: Uuid) -> Result<TaskView, AppError> {
        self.store
            .get(id)
            .await
            .map_err(storage_error)?
            .map(|row| row.into_view())
            .ok_or_else(|| AppError::not_found(format!("no task with id {id}")))
    }

    /// A page of tasks, newest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<TaskView>, AppError> {
        let rows = self.store.list(filter).await.map_err(storage_error)?;
        Ok(rows.into_iter().map(|row| row.into_view()).collect())
    }

    /// Every task kind this process runs.
    pub fn kinds(&self) -> Vec<TaskKindInfo> {
        self.registry.describe()
    }
}

/// The current time as the store keeps it.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Logs a storage failure and turns it into what a client may see.
pub(crate) fn storage_error(err: StoreError) -> AppError {
    let text = err.to_string();
    if text.contains("disk is full")
        || text.contains("database is locked")
        || text.contains("timed out")
    {
        tracing::warn!(error = %text, "task store unavailable");
        AppError::unavailable()
    } else {
        tracing::error!(error = %text, "task store failure");
        AppError::internal()
    }
}
