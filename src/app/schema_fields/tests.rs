//! Fields read from schemas as the server derives them and as operators write them, and
//! parameters built back from typed text.

use super::*;
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["path"],
        "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": 50, "default": 3, "description": "How many."},
            "ratio": {"type": "number", "minimum": 0.5},
            "operation": {"type": "string", "enum": ["resize", "blur"], "default": "resize"},
            "path": {"type": "string", "maxLength": 100},
            "body": {"type": "string", "maxLength": 65536},
            "note": {"type": ["string", "null"]},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}, "default": {"Accept": "text/plain"}},
            "flag": {"type": "boolean", "default": true},
            "sizes": {"type": "array", "items": {"type": "integer"}, "default": [16, 32]},
            "inner": {"$ref": "#/$defs/Inner"},
            "shapes": {"type": "array", "items": {"type": "object"}},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "$defs": {"Inner": {"type": "object", "properties": {"depth": {"type": "integer", "minimum": 0}}}},
    })
}

fn field<'a>(fields: &'a [Field], key: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("no field {key}: {fields:?}"))
}

#[test]
fn each_property_gets_the_control_its_type_calls_for() {
    let fields = fields(&schema()).unwrap();
    let count = field(&fields, "count");
    assert_eq!(
        count.control,
        Control::Integer {
            min: Some(1.0),
            max: Some(50.0)
        }
    );
    assert_eq!(
        (count.default.as_str(), count.help.as_str(), count.required),
        ("3", "How many.", false)
    );
    assert_eq!(
        field(&fields, "ratio").control,
        Control::Number {
            min: Some(0.5),
            max: None
        }
    );
    assert_eq!(
        field(&fields, "operation").control,
        Control::Choice(vec!["resize".into(), "blur".into()])
    );
    assert_eq!(
        field(&fields, "path").control,
        Control::Text {
            max_length: Some(100),
            long: false
        }
    );
    assert!(field(&fields, "path").required);
    assert_eq!(
        field(&fields, "body").control,
        Control::Text {
            max_length: Some(65536),
            long: true
        }
    );
    assert_eq!(
        field(&fields, "note").control,
        Control::Text {
            max_length: None,
            long: false
        }
    );
    assert_eq!(field(&fields, "headers").control, Control::TextMap);
    assert_eq!(field(&fields, "headers").default, "Accept: text/plain");
    assert_eq!(
        (
            field(&fields, "flag").control.clone(),
            field(&fields, "flag").default.as_str()
        ),
        (Control::Boolean, "true")
    );
    assert_eq!(
        field(&fields, "sizes").control,
        Control::List(Item::Integer)
    );
    assert_eq!(field(&fields, "sizes").default, "16\n32");
    let depth = field(&fields, "inner.depth");
    assert_eq!(depth.path, ["inner", "depth"]);
    assert_eq!(
        depth.control,
        Control::Integer {
            min: Some(0.0),
            max: None
        }
    );
    assert_eq!(field(&fields, "shapes").control, Control::Json);
    assert_eq!(field(&fields, "either").control, Control::Json);
}

#[test]
fn a_schema_without_properties_gets_the_json_editor_and_empty_properties_nothing() {
    assert_eq!(fields(&json!({"type": "object"})), None);
    assert_eq!(fields(&json!({})), None);
    assert_eq!(
        fields(&json!({"type": "object", "properties": {}})),
        Some(Vec::new())
    );
}

#[test]
fn a_schema_that_refers_to_itself_ends_in_a_json_field() {
    let tree = json!({
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "child": {"$ref": "#/$defs/Node"},
        }}},
    });
    let keys: Vec<String> = fields(&tree).unwrap().into_iter().map(|f| f.key).collect();
    assert_eq!(
        keys,
        [
            "name",
            "child.name",
            "child.child.name",
            "child.child.child.name",
            "child.child.child.child"
        ]
    );
    assert_eq!(
        field(&fields(&tree).unwrap(), "child.child.child.child").control,
        Control::Json
    );
}

#[test]
fn emptying_a_field_clears_its_default_where_empty_means_something() {
    let fields = fields(&schema()).unwrap();
    let inputs: BTreeMap<String, String> =
        [("headers", ""), ("sizes", " "), ("count", ""), ("path", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(
        parameters(&fields, &inputs),
        json!({"headers": {}, "sizes": []})
    );
}

#[test]
fn typed_text_becomes_the_parameters_untouched_fields_left_out() {
    let fields = fields(&schema()).unwrap();
    let inputs: BTreeMap<String, String> = [
        ("count", " 7 "),
        ("ratio", "0.75"),
        ("path", "  spaced  "),
        ("note", ""),
        ("headers", "X-Trace: 1\nAccept : text/html\n"),
        ("flag", "false"),
        ("sizes", "8\n\n64\nbig"),
        ("inner.depth", "2"),
        ("shapes", r#"[{"a": 1}]"#),
        ("either", "{not json"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        parameters(&fields, &inputs),
        json!({
            "count": 7,
            "ratio": 0.75,
            "path": "  spaced  ",
            "headers": {"X-Trace": "1", "Accept": "text/html"},
            "flag": false,
            "sizes": [8, 64, "big"],
            "inner": {"depth": 2},
            "shapes": [{"a": 1}],
            "either": "{not json",
        })
    );
}

#[test]
fn text_that_is_not_its_type_is_sent_as_text_for_the_server_to_explain() {
    let fields = fields(&schema()).unwrap();
    let inputs = BTreeMap::from([
        ("count".to_string(), "3.5".to_string()),
        ("headers".to_string(), "no colon here".to_string()),
    ]);
    assert_eq!(
        parameters(&fields, &inputs),
        json!({"count": "3.5", "headers": "no colon here"})
    );
}
