//! External kinds with a JSON Schema for their parameters (`--external-kind-schema`):
//! submits checked against it with every problem named, the schema served with the kind,
//! and a schema that cannot be used refused before the server starts.

use crate::support::TestServer;
use serde_json::{json, Value};
use spool::testing::config::{ExternalKind, ServeConfig};
use std::path::{Path, PathBuf};

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["path"],
        "additionalProperties": false,
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "width": {"type": "integer", "minimum": 16, "maximum": 4096},
        },
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn declare(config: &mut ServeConfig, schema: Option<PathBuf>) {
    for name in ["resize", "word_count"] {
        config.engine.external_kinds.push(ExternalKind {
            name: name.into(),
            queue: name.into(),
        });
    }
    if let Some(path) = schema {
        config
            .engine
            .external_kind_schemas
            .push(("resize".into(), path));
    }
}

#[tokio::test]
async fn submits_are_checked_against_the_schema_and_every_problem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "resize.json", &schema().to_string());
    let server = TestServer::start_with(|config| declare(config, Some(path))).await;

    let valid = json!({"task_type": "resize", "parameters": {"path": "a.png", "width": 64}});
    let (status, task) = server.post_json("/api/tasks/submit", &valid).await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["parameters"], json!({"path": "a.png", "width": 64}));

    let before = server.stored_tasks().await;
    let invalid = json!({"task_type": "resize", "parameters": {"width": 8, "colour": "red"}});
    let (status, answer) = server.post_json("/api/tasks/submit", &invalid).await;
    assert_eq!(status, 422, "{answer}");
    let details = answer["error"]["details"].as_array().unwrap();
    let mut fields: Vec<&str> = details
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["parameters.colour", "parameters.path", "parameters.width"],
        "{answer}"
    );
    let messages = answer["error"]["details"].to_string();
    assert!(
        messages.contains("unknown parameter; resize accepts: path, width"),
        "{messages}"
    );
    assert!(
        messages.contains("must be from 16 to 4096, got 8"),
        "{messages}"
    );
    assert!(messages.contains("required"), "{messages}");
    assert_eq!(server.stored_tasks().await, before, "nothing was stored");

    // A kind without a schema takes any object, and says so.
    let (_, kinds) = server.get_json("/api/task-types").await;
    let kind = |name: &str| {
        kinds
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .cloned()
    };
    assert_eq!(kind("resize").unwrap()["parameters_schema"], schema());
    assert_eq!(
        kind("word_count").unwrap()["parameters_schema"],
        json!({"type": "object"})
    );
    assert_eq!(
        kind("noop").unwrap()["parameters_schema"]["additionalProperties"],
        false
    );
    let any = json!({"task_type": "word_count", "parameters": {"text": ["a", 1]}});
    assert_eq!(server.post_json("/api/tasks/submit", &any).await.0, 200);
}

#[tokio::test]
async fn a_schema_that_cannot_be_used_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("spool.db").display());
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("missing.json", None, "missing.json"),
        ("broken.json", Some("{not json"), "not JSON"),
        (
            "odd.json",
            Some(r#"{"type": "no-such-type"}"#),
            "not a usable JSON Schema",
        ),
        (
            "remote.json",
            Some(r#"{"$ref": "https://example.com/s.json"}"#),
            "not a usable JSON Schema",
        ),
    ];
    for (file, text, reason) in cases {
        let path = match text {
            Some(text) => write(dir.path(), file, text),
            None => dir.path().join(file),
        };
        let mut config = ServeConfig::with_database(url.clone());
        config.engine.data_dir = dir.path().join("data");
        declare(&mut config, Some(path));
        let refused = refusal(config).await;
        assert!(refused.contains(reason), "{file}: {refused}");
    }
    let mut config = ServeConfig::with_database(url);
    config
        .engine
        .external_kind_schemas
        .push(("ghost".into(), dir.path().join("odd.json")));
    assert!(refusal(config)
        .await
        .contains("\"ghost\" is not declared with --external-kind"));
}

async fn refusal(config: ServeConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    match spool::serve(listener, config, async {}).await {
        Err(spool::ServeError::Refused(text)) => text,
        other => panic!("not refused: {other:?}"),
    }
}
