//! Schemas derived from Rust types, and submits checked against them with messages for
//! people.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct Sample {
    /// How many.
    #[schemars(range(min = 1, max = 50))]
    count: u32,
    #[schemars(extend("enum" = ["resize", "blur"]))]
    operation: String,
    #[schemars(length(max = 5))]
    note: String,
    #[schemars(extend("maxProperties" = 2))]
    tags: BTreeMap<String, String>,
    flag: bool,
    sizes: Vec<u32>,
    inner: Inner,
}

#[derive(Deserialize, Serialize, JsonSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct Inner {
    #[schemars(range(min = 0))]
    depth: i32,
}

impl Default for Sample {
    fn default() -> Sample {
        Sample {
            count: 3,
            operation: "resize".into(),
            note: String::new(),
            tags: BTreeMap::new(),
            flag: false,
            sizes: Vec::new(),
            inner: Inner::default(),
        }
    }
}

fn sample() -> ParamSchema {
    ParamSchema::new("sample", derive::<Sample>()).unwrap()
}

fn problems(value: Value) -> Vec<String> {
    let mut problems: Vec<String> = sample()
        .check(&value)
        .unwrap_err()
        .into_iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    problems.sort();
    problems
}

#[test]
fn the_derived_schema_is_self_contained_with_bounds_defaults_and_help() {
    let schema = derive::<Sample>();
    let count = &schema["properties"]["count"];
    assert_eq!(count["minimum"], 1);
    assert_eq!(count["maximum"], 50);
    assert_eq!(count["default"], 3);
    assert_eq!(count["description"], "How many.");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["properties"]["inner"]["properties"]["depth"]["minimum"],
        0
    );
    assert!(!schema.to_string().contains("$ref"), "{schema}");
    assert_eq!(
        schema.get("required"),
        None,
        "every field has a default: {schema}"
    );
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Loose {
    name: String,
}

#[test]
fn a_type_that_does_not_deny_unknown_fields_still_refuses_them() {
    let schema = derive::<Loose>();
    assert_eq!(schema["additionalProperties"], false);
    let loose = ParamSchema::new("loose", schema).unwrap();
    let errors = loose.check(&json!({"name": "a", "nmae": "b"})).unwrap_err();
    assert_eq!(errors[0].field, "parameters.nmae");
    // The result of a kind is described as written: every field present.
    assert_eq!(derive_result::<Loose>()["required"], json!(["name"]));
}

#[test]
fn valid_parameters_pass_and_null_means_none() {
    let valid =
        json!({"count": 50, "operation": "blur", "tags": {"a": "b"}, "inner": {"depth": 2}});
    assert_eq!(sample().check(&valid), Ok(valid.clone()));
    assert_eq!(sample().check(&Value::Null), Ok(json!({})));
}

#[test]
fn every_problem_is_named_by_its_field_in_words_for_people() {
    assert_eq!(
        problems(json!({"count": 0, "operation": "explode", "colour": 1, "note": "sixsix"})),
        [
            "parameters.colour: unknown parameter; sample accepts: count, operation, note, tags, flag, sizes, inner",
            "parameters.count: must be from 1 to 50, got 0",
            "parameters.note: at most 5 characters, got 6",
            "parameters.operation: must be one of: resize, blur",
        ]
    );
    assert_eq!(
        problems(
            json!({"count": 2.5, "tags": {"a": "", "b": "", "c": ""}, "inner": {"depth": -1}})
        ),
        [
            "parameters.count: must be a whole number from 1 to 50",
            "parameters.inner.depth: must be at least 0, got -1",
            "parameters.tags: at most 2 entries, got 3",
        ]
    );
    let problems = problems(json!({"flag": "yes", "sizes": [1, "x"]}));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("parameters.flag: "), "{problems:?}");
    assert!(
        problems[1].starts_with("parameters.sizes.1: "),
        "{problems:?}"
    );
}

#[test]
fn anything_but_an_object_is_refused_as_a_whole() {
    for value in [json!([1, 2]), json!("text"), json!(3)] {
        let errors = sample().check(&value).unwrap_err();
        assert_eq!(errors[0].field, "parameters");
        assert_eq!(errors[0].message, "must be a JSON object");
    }
}

#[test]
fn required_properties_and_escaped_names_are_named_by_field() {
    let schema = json!({
        "type": "object",
        "required": ["a/b"],
        "properties": {"list": {"type": "array", "items": {"type": "object", "required": ["x"]}}},
    });
    let schema = ParamSchema::new("k", schema).unwrap();
    let errors = schema.check(&json!({"list": [{}]})).unwrap_err();
    let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["parameters.a/b", "parameters.list.0.x"]);
    assert!(errors.iter().all(|e| e.message == "required"));
}
