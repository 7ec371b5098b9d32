//! The [`Registry`]: every kind a process knows, by `task_type`, each behind the
//! object-safe [`ErasedKind`] face, with its parameters' schema compiled once.

use super::schema::{self, ParamSchema};
use super::{data_processing, email_simulation, image_processing, noop, Delivery, ErasedKind};
use super::{external, http, KindSettings, RunFuture, TaskContext, TaskError, TaskKind};
use crate::error::{AppError, FieldError};
use crate::model::TaskKindInfo;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Erased<K: TaskKind> {
    kind: K,
    info: TaskKindInfo,
    schema: ParamSchema,
}

impl<K: TaskKind> ErasedKind for Erased<K> {
    fn info(&self) -> &TaskKindInfo {
        &self.info
    }

    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        // A parameter given as null takes its default, as if it were left out.
        let mut parameters = parameters.clone();
        if let Value::Object(given) = &mut parameters {
            given.retain(|_, value| !value.is_null());
        }
        let checked = self.schema.check(&parameters)?;
        let typed: K::Params = serde_json::from_value(checked)
            .map_err(|e| vec![FieldError::new("parameters", e.to_string())])?;
        K::check(&typed)?;
        // As stored: every parameter present, defaults filled in.
        serde_json::to_value(&typed).map_err(|e| {
            vec![FieldError::new(
                "parameters",
                format!("cannot be stored: {e}"),
            )]
        })
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
    ///
    /// # Panics
    /// When the schema derived from `K::Params` does not compile: a defect of the type's
    /// `schemars` attributes, found at start.
    pub fn with<K: TaskKind>(mut self, kind: K) -> Registry {
        let parameters = schema::derive::<K::Params>();
        let info = TaskKindInfo {
            name: K::NAME.to_string(),
            description: K::DESCRIPTION.to_string(),
            parameters_schema: parameters.clone(),
            result_schema: Some(schema::derive_result::<K::Output>()),
        };
        let schema = ParamSchema::new(K::NAME, parameters).unwrap_or_else(|e| panic!("{e}"));
        let erased = Erased { kind, info, schema };
        self.kinds.insert(K::NAME.to_string(), Arc::new(erased));
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

    /// True when `task_type` is a kind this process accepts.
    pub fn knows(&self, task_type: &str) -> bool {
        self.kinds.contains_key(task_type)
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
    fn a_parameter_given_as_null_takes_its_default() {
        let params = builtin()
            .validate("data_processing", &json!({"rows": null, "pace_ms": 0}))
            .unwrap();
        assert_eq!(params, json!({"rows": 1000, "pace_ms": 0}));
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
