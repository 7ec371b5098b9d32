//! Checks a task's parameters against its kind's description and fills in defaults.
//!
//! The same code runs on the server (before anything is stored) and can run in the
//! browser, so a kind's bounds are written once, in its [`ParamSpec`]s.

use super::{ParamKind, ParamSpec, TaskKindInfo};
use crate::error::FieldError;
use serde_json::{Map, Value};

impl TaskKindInfo {
    /// Returns the parameters as a complete object (every declared parameter present,
    /// defaults filled in), or one message per offending field.
    ///
    /// `null` or a missing `parameters` means "all defaults". Unknown names are refused,
    /// so a misspelt parameter is never silently ignored.
    pub fn validate(&self, raw: &Value) -> Result<Value, Vec<FieldError>> {
        let empty = Map::new();
        let given = match raw {
            Value::Null => &empty,
            Value::Object(map) => map,
            _ => return Err(vec![FieldError::new("parameters", "must be a JSON object")]),
        };
        let mut errors = Vec::new();
        for name in given.keys() {
            if !self.params.iter().any(|spec| &spec.name == name) {
                errors.push(FieldError::new(
                    field_path(name),
                    format!(
                        "unknown parameter; {} accepts: {}",
                        self.name,
                        self.param_names()
                    ),
                ));
            }
        }
        let mut out = Map::new();
        for spec in &self.params {
            match given.get(&spec.name) {
                None | Some(Value::Null) => {
                    out.insert(spec.name.clone(), spec.default_value());
                }
                Some(value) => match spec.check(value) {
                    Ok(value) => {
                        out.insert(spec.name.clone(), value);
                    }
                    Err(message) => errors.push(FieldError::new(field_path(&spec.name), message)),
                },
            }
        }
        if errors.is_empty() {
            Ok(Value::Object(out))
        } else {
            Err(errors)
        }
    }

    fn param_names(&self) -> String {
        if self.params.is_empty() {
            return "no parameters".to_string();
        }
        self.params
            .iter()
            .map(|spec| spec.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ParamSpec {
    /// The value used when the parameter is not given.
    pub fn default_value(&self) -> Value {
        match &self.kind {
            ParamKind::Integer { default, .. } => Value::from(*default),
            ParamKind::Choice { default, .. } | ParamKind::Text { default, .. } => {
                Value::from(default.clone())
            }
            ParamKind::TextMap { .. } => Value::Object(Map::new()),
        }
    }

    /// Checks one given value; the error is a message for people.
    fn check(&self, value: &Value) -> Result<Value, String> {
        match &self.kind {
            ParamKind::Integer { min, max, .. } => {
                let number = value
                    .as_i64()
                    .ok_or_else(|| format!("must be a whole number from {min} to {max}"))?;
                if number < *min || number > *max {
                    return Err(format!("must be from {min} to {max}, got {number}"));
                }
                Ok(Value::from(number))
            }
            ParamKind::Choice { options, .. } => {
                let text = value
                    .as_str()
                    .filter(|text| options.iter().any(|o| o == text));
                match text {
                    Some(text) => Ok(Value::from(text)),
                    None => Err(format!("must be one of: {}", options.join(", "))),
                }
            }
            ParamKind::Text { max_length, .. } => {
                let text = value.as_str().ok_or("must be text")?;
                check_length(text, *max_length)?;
                Ok(Value::from(text))
            }
            ParamKind::TextMap {
                max_entries,
                max_length,
            } => {
                let map = value
                    .as_object()
                    .ok_or("must be an object of names and text values")?;
                if map.len() > *max_entries as usize {
                    return Err(format!("at most {max_entries} entries, got {}", map.len()));
                }
                for (name, value) in map {
                    let text = value
                        .as_str()
                        .ok_or_else(|| format!("{name:?}: the value must be text"))?;
                    check_length(text, *max_length).map_err(|e| format!("{name:?}: {e}"))?;
                }
                Ok(value.clone())
            }
        }
    }
}

fn check_length(text: &str, max_length: u32) -> Result<(), String> {
    let length = text.chars().count();
    if length > max_length as usize {
        return Err(format!("at most {max_length} characters, got {length}"));
    }
    Ok(())
}

fn field_path(name: &str) -> String {
    format!("parameters.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind() -> TaskKindInfo {
        TaskKindInfo {
            name: "image_processing".into(),
            description: String::new(),
            parameters_schema: None,
            params: vec![
                ParamSpec {
                    name: "count".into(),
                    help: String::new(),
                    kind: ParamKind::Integer {
                        min: 1,
                        max: 50,
                        default: 3,
                    },
                },
                ParamSpec {
                    name: "operation".into(),
                    help: String::new(),
                    kind: ParamKind::Choice {
                        options: vec!["resize".into(), "blur".into()],
                        default: "resize".into(),
                    },
                },
                ParamSpec {
                    name: "note".into(),
                    help: String::new(),
                    kind: ParamKind::Text {
                        max_length: 5,
                        default: "hi".into(),
                    },
                },
                ParamSpec {
                    name: "tags".into(),
                    help: String::new(),
                    kind: ParamKind::TextMap {
                        max_entries: 2,
                        max_length: 3,
                    },
                },
            ],
        }
    }

    #[test]
    fn missing_parameters_take_their_defaults() {
        assert_eq!(
            kind().validate(&Value::Null),
            Ok(json!({"count": 3, "operation": "resize", "note": "hi", "tags": {}}))
        );
        assert_eq!(
            kind().validate(&json!({"count": 7, "tags": {"a": "b"}})),
            Ok(json!({"count": 7, "operation": "resize", "note": "hi", "tags": {"a": "b"}}))
        );
    }

    #[test]
    fn every_bad_field_is_reported_with_its_path() {
        let errors = kind()
            .validate(&json!({"count": 0, "operation": "explode", "colour": 1}))
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "parameters.colour",
                "parameters.count",
                "parameters.operation"
            ]
        );
        assert!(errors[1].message.contains("from 1 to 50"), "{errors:?}");
        assert!(errors[2].message.contains("resize, blur"), "{errors:?}");
    }

    #[test]
    fn non_integers_and_non_objects_are_refused() {
        assert!(kind().validate(&json!({"count": 2.5})).is_err());
        assert!(kind().validate(&json!({"count": "3"})).is_err());
        assert_eq!(
            kind().validate(&json!([1, 2])).unwrap_err()[0].field,
            "parameters"
        );
    }

    #[test]
    fn text_and_text_maps_are_bounded() {
        let error = |params: Value| kind().validate(&params).unwrap_err()[0].message.clone();
        assert!(error(json!({"note": "sixsix"})).contains("at most 5 characters, got 6"));
        assert!(error(json!({"note": 5})).contains("must be text"));
        assert!(error(json!({"tags": ["a"]})).contains("must be an object"));
        assert!(error(json!({"tags": {"a": 1}})).contains("\"a\": the value must be text"));
        assert!(error(json!({"tags": {"a": "long"}})).contains("\"a\": at most 3 characters"));
        assert!(error(json!({"tags": {"a": "", "b": "", "c": ""}})).contains("at most 2 entries"));
        // Characters, not bytes: three two-byte letters fit a limit of 3.
        assert!(kind().validate(&json!({"tags": {"a": "ééé"}})).is_ok());
    }
}
