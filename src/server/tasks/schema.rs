//! A kind's parameters as JSON Schema: derived from its Rust type (or given, for a kind
//! external workers run), compiled once, and used to check every submit. Problems come
//! back one per field, worded for people (`parameters.rows`: "must be from 1 to
//! 1000000, got 0"), not as the validator's own text where a better one is known.

use crate::error::FieldError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;

/// The most problems one refused submit lists.
const MAX_ERRORS: usize = 20;

/// The JSON Schema of parameters of type `T`, as they are read, with every subschema
/// written in place (no `$ref`), so a reader such as the dashboard's form needs nothing
/// but the one document. An object that does not say otherwise refuses names it does
/// not declare, so a misspelt parameter is never silently ignored.
pub fn derive<T: schemars::JsonSchema>() -> Value {
    let mut schema = settings()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Value::Object(object) = &mut schema {
        if object.contains_key("properties") {
            object
                .entry("additionalProperties")
                .or_insert(Value::Bool(false));
        }
    }
    schema
}

/// The JSON Schema of results of type `T`, as they are written.
pub fn derive_result<T: schemars::JsonSchema>() -> Value {
    settings()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn settings() -> schemars::generate::SchemaSettings {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
}

/// A compiled schema for one kind's parameters.
pub struct ParamSchema {
    kind: String,
    schema: Value,
    validator: jsonschema::Validator,
}

impl ParamSchema {
    /// Compiles `schema`, which must stand alone: nothing is fetched to resolve a `$ref`.
    pub fn new(kind: &str, schema: Value) -> Result<ParamSchema, String> {
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| format!("the schema of {kind:?} is not a usable JSON Schema: {e}"))?;
        Ok(ParamSchema {
            kind: kind.to_string(),
            schema,
            validator,
        })
    }

    /// The parameters as an object (`null` meaning none given), or every problem with them.
    pub fn check(&self, parameters: &Value) -> Result<Value, Vec<FieldError>> {
        let parameters = match parameters {
            Value::Null => Value::Object(Default::default()),
            Value::Object(_) => parameters.clone(),
            _ => return Err(vec![FieldError::new("parameters", "must be a JSON object")]),
        };
        let mut errors: Vec<FieldError> = self
            .validator
            .iter_errors(&parameters)
            .flat_map(|error| self.explain(&error))
            .take(MAX_ERRORS)
            .collect();
        // In field order, whatever order the validator walked the schema in.
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        if errors.is_empty() {
            Ok(parameters)
        } else {
            Err(errors)
        }
    }

    fn explain(&self, error: &ValidationError) -> Vec<FieldError> {
        let field = field(error.instance_path().as_str());
        let instance = error.instance();
        // The schema that failed: the keyword's parent (`…/properties/rows/minimum` → `…/rows`).
        let keyword_path = error.schema_path().as_str();
        let parent = keyword_path
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent);
        let subschema = self.schema.pointer(parent).unwrap_or(&Value::Null);
        let message = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let accepted = self.accepted(subschema);
                return unexpected
                    .iter()
                    .map(|name| {
                        let message =
                            format!("unknown parameter; {} accepts: {accepted}", self.kind);
                        FieldError::new(format!("{field}.{name}"), message)
                    })
                    .collect();
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                return vec![FieldError::new(format!("{field}.{name}"), "required")];
            }
            ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. }
                if !bounds(subschema).is_empty() =>
            {
                format!("must be {}, got {instance}", bounds(subschema))
            }
            ValidationErrorKind::Type {
                kind: TypeKind::Single(_),
            } if subschema["type"] == "integer" => {
                format!("must be a whole number {}", bounds(subschema))
                    .trim_end()
                    .to_string()
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|options| options.iter().map(plain).collect())
                    .unwrap_or_default();
                format!("must be one of: {}", options.join(", "))
            }
            ValidationErrorKind::MaxLength { limit } => {
                let length = instance.as_str().map_or(0, |text| text.chars().count());
                format!("at most {limit} characters, got {length}")
            }
            ValidationErrorKind::MaxProperties { limit } => {
                let count = instance.as_object().map_or(0, |map| map.len());
                format!("at most {limit} entries, got {count}")
            }
            _ => error.to_string(),
        };
        vec![FieldError::new(field, message)]
    }

    /// The property names an object schema declares, for an "unknown parameter" message.
    fn accepted(&self, object: &Value) -> String {
        let names: Vec<&str> = object["properties"]
            .as_object()
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if names.is_empty() {
            "no parameters".to_string()
        } else {
            names.join(", ")
        }
    }
}

/// "from 1 to 50", "at least 1", "at most 50", or nothing known.
fn bounds(schema: &Value) -> String {
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => format!("from {min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => String::new(),
    }
}

/// A JSON value as people write it: text without its quotes.
fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
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
mod tests;
