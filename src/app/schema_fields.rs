//! The submit form's fields, read from a kind's parameters schema (JSON Schema): one
//! field per property (a nested object's properties as dotted paths), each with the
//! control its type calls for, and the typed text of each turned back into the JSON the
//! server checks. Whatever the form cannot draw gets a JSON text box of its own.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Text longer than this is edited in a text area, not a one-line input.
const ONE_LINE: u64 = 2048;
/// Objects nested deeper than this (a schema may refer to itself) are typed as JSON.
const MAX_DEPTH: usize = 4;

/// How a field is edited.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// A whole number, within the bounds where known.
    Integer { min: Option<f64>, max: Option<f64> },
    /// Any number, within the bounds where known.
    Number { min: Option<f64>, max: Option<f64> },
    /// Text; `long` ones get a text area.
    Text { max_length: Option<u64>, long: bool },
    /// One of these strings.
    Choice(Vec<String>),
    /// True or false.
    Boolean,
    /// An object of named strings, typed as `Name: value` lines.
    TextMap,
    /// A list of numbers or strings, one a line.
    List(Item),
    /// Anything else, typed as JSON.
    Json,
}

/// What a list holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item {
    Integer,
    Number,
    Text,
}

/// One field of the form.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Its place in the parameters, outermost first.
    pub path: Vec<String>,
    /// The path joined with dots: the field's label, test id and input key.
    pub key: String,
    /// The property's description.
    pub help: String,
    /// Must be given (no default).
    pub required: bool,
    /// The default, as the control shows it.
    pub default: String,
    pub control: Control,
}

/// The fields of an object schema (none for a kind without parameters), or `None` when
/// it does not declare its properties (the form then offers one JSON editor for the
/// whole).
pub fn fields(schema: &Value) -> Option<Vec<Field>> {
    resolve(schema, schema)["properties"].as_object()?;
    let mut fields = Vec::new();
    collect(schema, schema, &[], &mut fields);
    Some(fields)
}

fn collect(root: &Value, object: &Value, prefix: &[String], fields: &mut Vec<Field>) {
    let object = resolve(root, object);
    let Some(properties) = object["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in properties {
        let property = resolve(root, property);
        let mut path = prefix.to_vec();
        path.push(name.clone());
        let (kind, nullable) = type_of(property);
        if kind == "object" && property["properties"].is_object() && path.len() < MAX_DEPTH {
            collect(root, property, &path, fields);
            continue;
        }
        let control = control(root, property, kind);
        fields.push(Field {
            key: path.join("."),
            path,
            help: property["description"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            required: required.contains(&name.as_str()) && !nullable,
            default: default_text(&property["default"], &control),
            control,
        });
    }
}

/// Follows a local `$ref` (`#/$defs/Name`); other schemas are returned as they are.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => root.pointer(pointer).unwrap_or(schema),
        None => schema,
    }
}

/// The schema's one type other than `null`, and whether `null` is allowed too.
fn type_of(schema: &Value) -> (&str, bool) {
    match &schema["type"] {
        Value::String(kind) => (kind, false),
        Value::Array(kinds) => {
            let nullable = kinds.iter().any(|k| k == "null");
            let others: Vec<&str> = kinds
                .iter()
                .filter_map(Value::as_str)
                .filter(|k| *k != "null")
                .collect();
            match others.as_slice() {
                [one] => (one, nullable),
                _ => ("", nullable),
            }
        }
        _ => ("", false),
    }
}

fn control(root: &Value, schema: &Value, kind: &str) -> Control {
    if let Some(options) = schema["enum"].as_array() {
        let texts: Vec<String> = options
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if texts.len() == options.len() && !texts.is_empty() {
            return Control::Choice(texts);
        }
    }
    let bound = |name: &str| schema[name].as_f64();
    match kind {
        "integer" => Control::Integer {
            min: bound("minimum"),
            max: bound("maximum"),
        },
        "number" => Control::Number {
            min: bound("minimum"),
            max: bound("maximum"),
        },
        "string" => {
            let max_length = schema["maxLength"].as_u64();
            Control::Text {
                max_length,
                long: max_length.is_some_and(|max| max > ONE_LINE),
            }
        }
        "boolean" => Control::Boolean,
        "object" => match type_of(resolve(root, &schema["additionalProperties"])) {
            ("string", _) => Control::TextMap,
            _ => Control::Json,
        },
        "array" => match type_of(resolve(root, &schema["items"])) {
            ("integer", _) => Control::List(Item::Integer),
            ("number", _) => Control::List(Item::Number),
            ("string", _) => Control::List(Item::Text),
            _ => Control::Json,
        },
        _ => Control::Json,
    }
}

/// A default value as its control shows it.
fn default_text(value: &Value, control: &Control) -> String {
    match (value, control) {
        (Value::Null, _) => String::new(),
        (Value::String(text), _) => text.clone(),
        (Value::Object(map), Control::TextMap) => map
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
        (Value::Array(items), Control::List(_)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_string)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (Value::Object(map), _) if map.is_empty() => String::new(),
        (Value::Array(items), _) if items.is_empty() => String::new(),
        (other, _) => other.to_string(),
    }
}

/// The parameters from what was typed: untouched fields are left out (the server fills
/// their defaults), and so are emptied ones, unless emptying one clears a default (text,
/// a list, a map); text that does not parse as its type is sent as text, so the
/// server's message, not a silent default, says what is wrong.
pub fn parameters(fields: &[Field], inputs: &BTreeMap<String, String>) -> Value {
    let mut out = Value::Object(Map::new());
    for field in fields {
        let Some(text) = inputs.get(&field.key) else {
            continue;
        };
        let clears = matches!(
            field.control,
            Control::Text { .. } | Control::List(_) | Control::TextMap
        ) && !field.default.is_empty();
        if text.trim().is_empty() && field.control != Control::Boolean && !clears {
            continue;
        }
        insert(&mut out, &field.path, value(&field.control, text));
    }
    out
}

fn value(control: &Control, text: &str) -> Value {
    let trimmed = text.trim();
    match control {
        Control::Integer { .. } => item(Item::Integer, trimmed),
        Control::Number { .. } => item(Item::Number, trimmed),
        Control::Text { .. } | Control::Choice(_) => Value::from(text),
        Control::Boolean => Value::Bool(trimmed == "true"),
        Control::TextMap if trimmed.is_empty() => Value::Object(Map::new()),
        Control::TextMap => text_map(text),
        Control::List(kind) => Value::Array(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| item(*kind, line))
                .collect(),
        ),
        Control::Json => serde_json::from_str(trimmed).unwrap_or_else(|_| Value::from(text)),
    }
}

fn item(kind: Item, text: &str) -> Value {
    let number = match kind {
        Item::Integer => text.parse::<i64>().ok().map(Value::from),
        Item::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Item::Text => None,
    };
    number.unwrap_or_else(|| Value::from(text))
}

/// `Name: value` lines as an object; text with a line that is not one is sent as it is.
fn text_map(text: &str) -> Value {
    let mut map = Map::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Value::from(text);
        };
        map.insert(name.trim().to_string(), Value::from(value.trim()));
    }
    Value::Object(map)
}

fn insert(out: &mut Value, path: &[String], value: Value) {
    let Some((last, outer)) = path.split_last() else {
        return;
    };
    let mut node = out;
    for name in outer {
        let Value::Object(map) = node else {
            return;
        };
        node = map
            .entry(name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(map) = node {
        map.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests;
