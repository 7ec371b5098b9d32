//! Task kinds: the [`TaskKind`] trait a kind implements, the [`TaskContext`] its run
//! receives, and the [`Registry`] that maps `task_type` names to kinds.
//!
//! Adding a kind is one new file in `tasks/` plus one line in [`Registry::builtin`].
//! The kind's [`ParamSpec`]s are the single description of its parameters: submit-time
//! validation, the dashboard's form and the API documentation are all derived from them.

mod context;
mod data_processing;
mod email_simulation;
mod external;
mod http;
mod image_processing;
mod noop;

use crate::error::{AppError, FieldError};
use crate::model::{ParamSpec, TaskKindInfo};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use context::{ProgressSnapshot, TaskContext};
pub use email_simulation::Delivery;
pub use http::{Destinations, HttpAllow, Resolve, Resolving, SystemResolver};

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
    /// The parameters, deserialised from the validated (defaults filled) JSON object.
    type Params: DeserializeOwned + Send + 'static;
    /// What a successful run returns; stored as the task's `result_data`.
    type Output: Serialize + Send + 'static;

    /// Describes each parameter: type, bounds, default, help.
    fn params() -> Vec<ParamSpec>;

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

/// The `pace_ms` parameter of the seed's kinds: a pause after `each` step so progress can
/// be watched (the seed's tasks took seconds); 0 runs at full speed.
pub(crate) fn pace_param(each: &str, default: i64) -> ParamSpec {
    ParamSpec {
        name: "pace_ms".into(),
        help: format!("Pause after {each}, so progress can be watched; 0 runs at full speed."),
        kind: crate::model::ParamKind::Integer {
            min: 0,
            max: 10_000,
            default,
        },
    }
}

/// A boxed, type-erased run of some kind.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// The object-safe face of a kind, as the registry stores it.
trait ErasedKind: Send + Sync {
    fn info(&self) -> &TaskKindInfo;
    /// The complete parameters to store, or what is wrong with them.
    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        self.info().validate(parameters)
    }
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

struct Erased<K: TaskKind> {
    kind: K,
    info: TaskKindInfo,
}

impl<K: TaskKind> ErasedKind for Erased<K> {
    fn info(&self) -> &TaskKindInfo {
        &self.info
    }

    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        let complete = self.info.validate(parameters)?;
        let typed: K::Params = serde_json::from_value(complete.clone())
            .map_err(|e| vec![FieldError::new("parameters", e.to_string())])?;
        K::check(&typed)?;
        Ok(complete)
    }

    fn redact(&self, parameters: &mut Value) {
        K::redact(parameters)
    }

    fn has_secrets(&self) -> bool {
        K::HAS_SECRETS
    }

    fn start(self: Arc<Self>, ctx: TaskContext, params: Value) -> Option<RunFuture> {
        Some(Box::pin(async move {
            let params: K::Params = serde_json::from_value(params)
                .map_err(|e| TaskError::Failed(format!("stored parameters are unreadable: {e}")))?;
            let output = self.kind.run(ctx, params).await?;
            serde_json::to_value(output)
                .map_err(|e| TaskError::Failed(format!("result could not be encoded: {e}")))
        }))
    }
}

/// Every task kind this process can run, by name.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<String, Arc<dyn ErasedKind>>,
}

impl Registry {
    /// The kinds Spool ships with.
    pub fn builtin(settings: &KindSettings) -> Registry {
        let delivery = match &settings.smtp {
            Some((host, port)) => Delivery::Smtp {
                host: host.clone(),
                port: *port,
            },
            None => Delivery::Outbox(settings.outbox_dir()),
        };
        Registry::default()
            .with(noop::Noop)
            .with(data_processing::DataProcessing)
            .with(email_simulation::EmailSimulation { delivery })
            .with(image_processing::ImageProcessing {
                dir: settings.images_dir(),
            })
            .with(http::Http {
                destinations: settings.http.clone(),
            })
    }

    /// Adds a kind (replacing one of the same name).
    pub fn with<K: TaskKind>(mut self, kind: K) -> Registry {
        let info = TaskKindInfo {
            name: K::NAME.to_string(),
            description: K::DESCRIPTION.to_string(),
            params: K::params(),
            parameters_schema: None,
        };
        self.kinds
            .insert(K::NAME.to_string(), Arc::new(Erased { kind, info }));
        self
    }

    /// Accepts submits of `name`, a kind external workers run (see
    /// `POST /api/workers/claim`); its tasks join `queue` unless a submit names another,
    /// and its parameters must match `schema` (a JSON Schema) when one is given.
    pub fn with_external(
        mut self,
        name: &str,
        queue: &str,
        schema: Option<Value>,
    ) -> Result<Registry, String> {
        let kind = external::External::new(name, queue, schema)?;
        self.kinds.insert(name.to_string(), Arc::new(kind));
        Ok(self)
    }

    /// The queue a task of `task_type` joins when its submit names none, if not the
    /// default one.
    pub fn default_queue(&self, task_type: &str) -> Option<&str> {
        self.kinds.get(task_type)?.default_queue()
    }

    /// True when `task_type` is run by external workers, not in this process.
    pub fn is_external(&self, task_type: &str) -> bool {
        self.kinds
            .get(task_type)
            .is_some_and(|kind| kind.default_queue().is_some())
    }

    /// These kinds and `more`'s; where both have a kind of one name, `more`'s wins.
    pub fn extend(mut self, more: Registry) -> Registry {
        self.kinds.extend(more.kinds);
        self
    }

    /// Descriptions of every kind, sorted by name.
    pub fn describe(&self) -> Vec<TaskKindInfo> {
        self.kinds
            .values()
            .map(|kind| kind.info().clone())
            .collect()
    }

    /// Checks `task_type` and its parameters; returns the complete parameters to store.
    pub fn validate(&self, task_type: &str, parameters: &Value) -> Result<Value, AppError> {
        let kind = self.kinds.get(task_type).ok_or_else(|| {
            let known: Vec<_> = self.kinds.keys().map(String::as_str).collect();
            AppError::validation(vec![FieldError::new(
                "task_type",
                format!(
                    "unknown task type {task_type:?}; known types: {}",
                    known.join(", ")
                ),
            )])
        })?;
        kind.validate(parameters).map_err(AppError::validation)
    }

    /// The kinds whose parameters hold secrets.
    pub fn kinds_with_secrets(&self) -> Vec<String> {
        let kinds = self.kinds.iter();
        kinds
            .filter(|(_, kind)| kind.has_secrets())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Hides the secrets in parameters of a task of `task_type` before they are shown.
    pub fn redact(&self, task_type: &str, parameters: &mut Value) {
        if let Some(kind) = self.kinds.get(task_type) {
            kind.redact(parameters)
        }
    }

    /// Starts a run of `task_type`, or `None` when this process does not know the kind.
    pub fn start(&self, task_type: &str, ctx: TaskContext, params: Value) -> Option<RunFuture> {
        self.kinds
            .get(task_type)
            .and_then(|kind| Arc::clone(kind).start(ctx, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Registry {
        Registry::builtin(&KindSettings::in_dir("unused"))
    }
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn unknown_task_type_lists_the_known_ones() {
        let err = builtin()
            .validate("video_encoding", &json!({}))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(err.details[0].field, "task_type");
        assert!(
            err.details[0].message.contains("data_processing"),
            "{err:?}"
        );
        assert!(err.details[0].message.contains("noop"), "{err:?}");
    }

    #[test]
    fn seed_parameters_are_accepted_and_completed() {
        let params = builtin()
            .validate("data_processing", &json!({"rows": 1000}))
            .unwrap();
        assert_eq!(params["rows"], 1000);
        assert!(params.get("pace_ms").is_some(), "{params}");
    }
}
