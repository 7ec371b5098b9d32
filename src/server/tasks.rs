//! Task kinds: the [`TaskKind`] trait a kind implements, the [`TaskContext`] its run
//! receives, and the [`Registry`] that maps `task_type` names to kinds.
//!
//! Adding a kind is one new file in `tasks/` plus one line in [`Registry::builtin`].
//! A kind's `Params` type is the single description of its parameters: its JSON Schema,
//! derived from the type, drives submit-time validation, the dashboard's form and the API
//! documentation.

mod context;
mod data_processing;
mod email_simulation;
mod external;
mod http;
mod image_processing;
mod noop;
mod registry;
mod schema;

use crate::error::FieldError;
use crate::model::TaskKindInfo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use context::{ProgressSnapshot, TaskContext};
pub use email_simulation::Delivery;
pub(crate) use http::is_secret_query;
pub use http::{Destinations, HttpAllow, Resolve, Resolving, SystemResolver};
pub use registry::Registry;

/// Where the built-in kinds put what they make.
#[derive(Clone)]
pub struct KindSettings {
    /// Outbox (`outbox/`) and image outputs (`images/`) live here.
    pub data_dir: std::path::PathBuf,
    /// Deliver email through this SMTP relay (host, port) instead of the outbox.
    pub smtp: Option<(String, u16)>,
    /// Where the `http` kind may connect.
    pub http: Destinations,
}

impl KindSettings {
    /// Everything under `data_dir`, email to the outbox.
    pub fn in_dir(data_dir: impl Into<std::path::PathBuf>) -> KindSettings {
        KindSettings {
            data_dir: data_dir.into(),
            smtp: None,
            http: Destinations::default(),
        }
    }

    pub fn images_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("images")
    }

    pub fn outbox_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("outbox")
    }
}

/// Why an attempt did not succeed. The message is shown to users as the task's error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    /// The work failed; it is retried after the usual backoff while attempts remain.
    #[error("{0}")]
    Failed(String),
    /// The work failed in a way another attempt cannot fix (bad input, say): the task
    /// fails now, whatever attempts remain.
    #[error("{0}")]
    Permanent(String),
    /// The work could not be done yet (a rate limit, a resource not ready): retried
    /// after `after` rather than the usual backoff, while attempts remain.
    #[error("{message}")]
    RetryAfter {
        /// Why the attempt failed.
        message: String,
        /// How long to wait before the next attempt.
        after: Duration,
    },
    /// The handler stopped because cancellation was requested.
    #[error("cancelled")]
    Cancelled,
}

impl TaskError {
    /// A failure retried after the usual backoff while attempts remain.
    pub fn failed(message: impl Into<String>) -> TaskError {
        TaskError::Failed(message.into())
    }

    /// A failure that is never retried.
    pub fn permanent(message: impl Into<String>) -> TaskError {
        TaskError::Permanent(message.into())
    }

    /// A failure retried after `after` while attempts remain (at most a year).
    pub fn retry_after(message: impl Into<String>, after: Duration) -> TaskError {
        TaskError::RetryAfter {
            message: message.into(),
            after,
        }
    }
}

/// One kind of task. Implement it in a file of its own under `tasks/`.
pub trait TaskKind: Send + Sync + 'static {
    /// The name scripts use as `task_type`.
    const NAME: &'static str;
    /// One line for the dashboard and the API docs.
    const DESCRIPTION: &'static str;
    /// The parameters. Their JSON Schema, derived from this type (doc comments become
    /// help, `#[schemars(range(..))]` and `length(..)` bounds, `#[serde(default)]`
    /// values defaults), checks every submit and draws the dashboard's form; the checked
    /// object is deserialised into it and stored as it serialises, defaults filled in.
    type Params: DeserializeOwned + Serialize + schemars::JsonSchema + Send + 'static;
    /// What a successful run returns; stored as the task's `result_data`, its schema
    /// shown with the kind.
    type Output: Serialize + schemars::JsonSchema + Send + 'static;

    /// Checks what the descriptions cannot say (that a URL parses, say) before a task is
    /// stored; each problem names its field, as `parameters.url`.
    fn check(_params: &Self::Params) -> Result<(), Vec<FieldError>> {
        Ok(())
    }

    /// True for a kind whose parameters can hold secrets that [`TaskKind::redact`]
    /// hides. Task search then never looks in its parameters: a search could reveal
    /// what is hidden a character at a time.
    const HAS_SECRETS: bool = false;

    /// Hides secrets in a task's stored parameters wherever the task is shown (the
    /// dashboard, REST, the command line); the handler still gets them whole.
    fn redact(_parameters: &mut Value) {}

    /// Does the work, reporting progress and honouring cancellation through `ctx`.
    fn run(
        &self,
        ctx: TaskContext,
        params: Self::Params,
    ) -> impl Future<Output = Result<Self::Output, TaskError>> + Send;
}

/// A boxed, type-erased run of some kind.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// The object-safe face of a kind, as the registry stores it.
trait ErasedKind: Send + Sync {
    fn info(&self) -> &TaskKindInfo;
    /// The complete parameters to store, or what is wrong with them.
    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>>;
    /// Runs in this process; `None` for a kind that external workers run.
    fn start(self: Arc<Self>, ctx: TaskContext, params: Value) -> Option<RunFuture>;
    /// The queue its tasks join when a submit names none.
    fn default_queue(&self) -> Option<&str> {
        None
    }
    /// Hides secrets in parameters about to be shown.
    fn redact(&self, _parameters: &mut Value) {}
    /// True when its parameters hold secrets.
    fn has_secrets(&self) -> bool {
        false
    }
}
