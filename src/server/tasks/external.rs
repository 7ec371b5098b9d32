//! A kind run by external workers over REST: its tasks wait in a queue of their own, and
//! its parameters are any JSON object, or one matching the JSON Schema its operator gave.

use super::schema::ParamSchema;
use super::{ErasedKind, RunFuture, TaskContext};
use crate::error::FieldError;
use crate::model::TaskKindInfo;
use serde_json::Value;
use std::sync::Arc;

pub(super) struct External {
    info: TaskKindInfo,
    queue: String,
    schema: ParamSchema,
}

impl External {
    /// The kind `name` of `queue`; `schema`, when given, must be a JSON Schema that needs
    /// nothing from elsewhere (no remote `$ref`). Without one, any object is taken.
    pub(super) fn new(name: &str, queue: &str, schema: Option<Value>) -> Result<External, String> {
        let schema = schema.unwrap_or_else(|| serde_json::json!({"type": "object"}));
        let info = TaskKindInfo {
            name: name.to_string(),
            description: format!("Run by external workers (queue {queue})."),
            parameters_schema: schema.clone(),
            result_schema: None,
        };
        Ok(External {
            info,
            queue: queue.to_string(),
            schema: ParamSchema::new(name, schema)?,
        })
    }
}

impl ErasedKind for External {
    fn info(&self) -> &TaskKindInfo {
        &self.info
    }

    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        let mut parameters = self.schema.check(parameters)?;
        // The schema's defaults, which the form shows, are what the worker gets when a
        // submit leaves them out.
        let defaults = self.info.parameters_schema["properties"].as_object();
        if let (Value::Object(given), Some(properties)) = (&mut parameters, defaults) {
            for (name, property) in properties {
                if let Some(default) = property.get("default") {
                    given.entry(name.clone()).or_insert_with(|| default.clone());
                }
            }
        }
        Ok(parameters)
    }

    fn start(self: Arc<Self>, _: TaskContext, _: Value) -> Option<RunFuture> {
        None
    }

    fn default_queue(&self) -> Option<&str> {
        Some(&self.queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(schema: Option<Value>) -> External {
        External::new("resize", "images", schema).unwrap()
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["path"],
            "additionalProperties": false,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "sizes": {"type": "array", "items": {"type": "integer", "minimum": 16}},
            },
        })
    }

    #[test]
    fn without_a_schema_any_object_is_taken() {
        let kind = kind(None);
        assert_eq!(kind.validate(&json!({"a": [1]})), Ok(json!({"a": [1]})));
        assert_eq!(kind.validate(&Value::Null), Ok(json!({})));
        assert_eq!(kind.validate(&json!(3)).unwrap_err()[0].field, "parameters");
        assert_eq!(kind.info().parameters_schema, json!({"type": "object"}));
    }

    #[test]
    fn a_schema_refuses_what_does_not_match_naming_each_field() {
        let kind = kind(Some(schema()));
        let valid = json!({"path": "a.png", "sizes": [16, 64]});
        assert_eq!(kind.validate(&valid), Ok(valid.clone()));
        let errors = kind
            .validate(&json!({"sizes": [8, "x"], "colour": 1}))
            .unwrap_err();
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "parameters.colour",
                "parameters.path",
                "parameters.sizes.0",
                "parameters.sizes.1"
            ],
            "{errors:?}"
        );
        let message = |field: &str| {
            errors
                .iter()
                .find(|e| e.field == field)
                .unwrap()
                .message
                .clone()
        };
        assert_eq!(message("parameters.path"), "required");
        assert_eq!(
            message("parameters.colour"),
            "unknown parameter; resize accepts: path, sizes"
        );
        assert_eq!(message("parameters.sizes.0"), "must be at least 16, got 8");
        assert_eq!(kind.info().parameters_schema, schema());
    }

    #[test]
    fn the_schemas_defaults_fill_what_a_submit_leaves_out() {
        let schema = json!({"type": "object", "properties": {
            "width": {"type": "integer", "default": 64},
            "path": {"type": "string"},
        }});
        let kind = kind(Some(schema));
        assert_eq!(
            kind.validate(&json!({"path": "a"})),
            Ok(json!({"path": "a", "width": 64}))
        );
        assert_eq!(kind.validate(&json!({"width": 8})), Ok(json!({"width": 8})));
    }

    #[test]
    fn a_schema_that_is_not_one_or_needs_the_network_is_refused() {
        let broken = External::new("k", "q", Some(json!({"type": "no-such-type"})));
        assert!(broken.err().unwrap().contains("not a usable JSON Schema"));
        let remote = External::new(
            "k",
            "q",
            Some(json!({"$ref": "https://example.com/s.json"})),
        );
        assert!(remote.is_err());
    }
}
