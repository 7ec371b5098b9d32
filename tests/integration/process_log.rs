//! The process's own log as a log pipeline reads it (`--log-format json`): one JSON object
//! a line, task events naming their task, kind, attempt and worker pool, and an access
//! line for every request with its secrets left out.

use crate::process::{database_url, free_port, serve_args, SpoolProcess, BINARY};
use serde_json::{json, Value};
use std::process::{Command, Stdio};

/// Runs `spool serve --log-format json` with `RUST_LOG=info`, logging to a file.
async fn serve_logging_json(dir: &std::path::Path) -> SpoolProcess {
    let port = free_port();
    let log = std::fs::File::create(dir.join("spool.log")).unwrap();
    let mut command = Command::new(BINARY);
    command
        .args(serve_args(port, &database_url(dir), &dir.join("data")))
        .args(["--log-format", "json"])
        .env("RUST_LOG", "info");
    SpoolProcess::spawn_logging_to(command, port, Stdio::from(log)).await
}

/// Every line of the log, each parsed as one JSON object.
fn json_lines(dir: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("spool.log")).unwrap();
    assert!(!text.is_empty(), "nothing was logged");
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("not one JSON object ({err}): {line}"));
            assert!(value.is_object(), "not an object: {line}");
            value
        })
        .collect()
}

#[tokio::test]
async fn json_log_lines_name_the_task_and_every_request_without_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_logging_json(dir.path()).await;
    let id = server
        .submit(&json!({"task_type": "data_processing", "parameters": {"rows": 20, "pace_ms": 0}}))
        .await;
    server.wait_for(&id, "SUCCESS", None).await;
    let missing = server
        .client
        .get(server.url("/api/no-such-route?token=hunter2hunter2&page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    server.terminate();
    assert!(server.exited().await.success());

    let lines = json_lines(dir.path());
    for line in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(line[key].is_string(), "no {key}: {line}");
        }
    }
    let task_line = lines
        .iter()
        .find(|line| line["target"] == "spool::task" && line["task"] == id.as_str())
        .unwrap_or_else(|| panic!("no line of the task's own log in {lines:?}"));
    assert_eq!(task_line["kind"], "data_processing");
    assert_eq!(task_line["attempt"], 1);
    assert_eq!(task_line["level"], "INFO");
    let pool = task_line["process"].as_str().unwrap();
    assert!(
        pool.starts_with("spool-") && pool.ends_with("/default"),
        "{pool}"
    );
    assert!(task_line["message"].as_str().unwrap().contains("20 rows"));

    let submit = lines
        .iter()
        .find(|line| line["target"] == "spool::http" && line["path"] == "/api/tasks/submit")
        .expect("the submit's access line");
    assert_eq!(submit["method"], "POST");
    assert_eq!(submit["status"], 200);
    assert_eq!(submit["client"], "127.0.0.1");
    assert!(submit["duration_ms"].as_f64().unwrap() >= 0.0);
    let missing = lines
        .iter()
        .find(|line| line["target"] == "spool::http" && line["path"] == "/api/no-such-route")
        .expect("the 404's access line");
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["query"], "token=redacted&page=2");
    let text = std::fs::read_to_string(dir.path().join("spool.log")).unwrap();
    assert!(!text.contains("hunter2"), "a secret reached the log");
}

#[tokio::test]
async fn an_unknown_log_format_is_refused_on_stderr() {
    let output = Command::new(BINARY)
        .args(["serve", "--log-format", "xml", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--log-format") && stderr.contains("json"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_refusal_at_start_is_one_json_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .current_dir(dir.path())
        .args(["serve", "--addr", "0.0.0.0:0", "--log-format", "json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let refusal = lines
        .iter()
        .find(|line| line["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        refusal["message"].as_str().unwrap().contains("--token"),
        "{refusal}"
    );
}
