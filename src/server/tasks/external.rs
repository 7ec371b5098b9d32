//! A kind run by external workers over REST: its tasks wait in a queue of their own, and
//! its parameters are any JSON object, or one matching the JSON Schema its operator gave.

use super::{ErasedKind, RunFuture, TaskContext};
use crate::error::FieldError;
use crate::model::TaskKindInfo;
use serde_json::Value;
use std::sync::Arc;

/// The most problems one refused submit lists.
const MAX_ERRORS: usize = 20;

pub(super) struct External {
    info: TaskKindInfo,
    queue: String,
    validator: Option<jsonschema::Validator>,
}

impl External {
    /// The kind `name` of `queue`; `schema`, when given, must be a JSON Schema that needs
    /// nothing from elsewhere (no remote `$ref`).
    pub(super) fn new(name: &str, queue: &str, schema: Option<Value>) -> Result<External, String> {
        let validator = schema
            .as_ref()
            .map(|schema| {
                jsonschema::validator_for(schema)
                    .map_err(|e| format!("the schema of {name:?} is not a usable JSON Schema: {e}"))
            })
            .transpose()?;
        let info = TaskKindInfo {
            name: name.to_string(),
            description: format!("Run by external workers (queue {queue})."),
            params: Vec::new(),
            // Without a schema, any object: the dashboard offers a JSON editor either way.
            parameters_schema: Some(
                schema.unwrap_or_else(|| serde_json::json!({"type": "object"})),
            ),
        };
        Ok(External {
            info,
            queue: queue.to_string(),
            validator,
        })
    }
}

impl ErasedKind for External {
    fn info(&self) -> &TaskKindInfo {
        &self.info
    }

    fn validate(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        let parameters = match parameters {
            Value::Null => Value::Object(Default::default()),
            Value::Object(_) => parameters.clone(),
            _ => return Err(vec![FieldError::new("parameters", "must be a JSON object")]),
        };
        if let Some(validator) = &self.validator {
            let errors: Vec<FieldError> = validator
                .iter_errors(&parameters)
                .take(MAX_ERRORS)
                .map(|error| {
                    FieldError::new(field(error.instance_path().as_str()), error.to_string())
                })
                .collect();
            if !errors.is_empty() {
                return Err(errors);
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

/// The field a JSON Pointer into the parameters names, as the API spells fields:
/// `/size/0` → `parameters.size.0`.
fn field(pointer: &str) -> String {
    let mut field = String::from("parameters");
    for segment in pointer.split('/').skip(1) {
        field.push('.');
        field.push_str(&segment.replace("~1", "/").replace("~0", "~"));
    }
    field
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
        assert_eq!(
            kind.info().parameters_schema,
            Some(json!({"type": "object"}))
        );
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
                "parameters",
                "parameters",
                "parameters.sizes.0",
                "parameters.sizes.1"
            ],
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("\"path\" is a required property")),
            "{errors:?}"
        );
        assert_eq!(kind.info().parameters_schema, Some(schema()));
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

    #[test]
    fn pointers_become_dotted_fields() {
        assert_eq!(field(""), "parameters");
        assert_eq!(field("/a/0/b~1c~0d"), "parameters.a.0.b/c~d");
    }
}
