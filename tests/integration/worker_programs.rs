//! Programs that work as external workers, run against a real server: the Python example
//! (standard library only) and `spool exec` running a command per task.

use crate::external_workers::with_kinds;
use crate::support::TestServer;
use serde_json::{json, Value};

#[tokio::test]
async fn the_python_example_worker_takes_and_finishes_tasks() {
    let server = TestServer::start_with(with_kinds).await;
    let mut ids = Vec::new();
    for text in ["one two three", "", "a  b"] {
        let body = json!({"task_type": "word_count", "parameters": {"text": text}});
        let task: Value = server.submit(body).await.json().await.unwrap();
        ids.push(task["id"].as_str().unwrap().to_string());
    }
    let bad = json!({"task_type": "word_count", "parameters": {"words": 3}, "max_attempts": 3});
    let bad: Value = server.submit(bad).await.json().await.unwrap();

    let worker = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python-worker/worker.py"
    );
    let base = server.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([worker, "--url", &base, "--queue", "text", "--until-idle"])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the worker failed: {stderr}");

    for (id, words) in ids.iter().zip([3, 0, 2]) {
        let task = server.wait_final(id).await;
        assert_eq!(task["status"], "SUCCESS", "{task}");
        assert_eq!(task["result_data"], json!({"words": words}), "{task}");
        assert_eq!(task["progress"], 100);
        let (_, log) = server.get_json(&format!("/api/tasks/{id}/logs")).await;
        let line = &log["lines"][0];
        assert_eq!(
            (&log["total"], &line["level"]),
            (&json!(1), &json!("info")),
            "{log}"
        );
        assert!(
            line["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("counted {words} words")),
            "{log}"
        );
    }
    let bad = server.wait_final(bad["id"].as_str().unwrap()).await;
    assert_eq!(
        (&bad["status"], &bad["attempt"]),
        (&json!("FAILED"), &json!(1)),
        "{bad}"
    );
    assert!(
        bad["error_message"].as_str().unwrap().contains("text"),
        "{bad}"
    );
    server.stop().await;
}

/// What `spool exec` runs per task in the test below: counts the words of its input's
/// `text`, reports progress, writes its error output (the task's log), and fails (exit
/// status 3) when asked to.
const WORD_COUNT: &str = r#"
import json, sys
task = json.load(sys.stdin)
print("reading the text", file=sys.stderr, flush=True)
print("PROGRESS 50 counting", flush=True)
if task.get("fail"):
    print("asked to fail", file=sys.stderr)
    sys.exit(3)
print(json.dumps({"words": len(task["text"].split())}))
"#;

#[tokio::test]
async fn spool_exec_runs_its_own_command_per_task() {
    let server = TestServer::start_with(with_kinds).await;
    let counted = json!({"task_type": "word_count", "parameters": {"text": "a b c"}});
    let counted: Value = server.submit(counted).await.json().await.unwrap();
    let failing =
        json!({"task_type": "word_count", "parameters": {"fail": true}, "max_attempts": 1});
    let failing: Value = server.submit(failing).await.json().await.unwrap();

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_spool"));
    command.args([
        "exec",
        "--server",
        &server.base,
        "--queue",
        "text",
        "--until-idle",
    ]);
    command.args(["--worker", "exec-test", "--", "python3", "-c", WORD_COUNT]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("spool runs"))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let done = server.wait_final(counted["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["result_data"], json!({"words": 3}));
    assert_eq!(done["attempts"][0]["worker_id"], "external:exec-test");
    let failed = server.wait_final(failing["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(
        failed["error_message"],
        "the command exited with status 3: asked to fail"
    );
    // Each line of error output is a line of the task's log, sent before the outcome.
    for (task, expected) in [
        (&counted, vec!["reading the text"]),
        (&failing, vec!["reading the text", "asked to fail"]),
    ] {
        let (_, log) = server
            .get_json(&format!("/api/tasks/{}/logs", task["id"].as_str().unwrap()))
            .await;
        let messages: Vec<&str> = log["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, expected, "{log}");
    }

    // Without a command to run there is nothing to do: a usage error, nothing claimed.
    let left = json!({"task_type": "word_count", "parameters": {"text": "x"}});
    let left: Value = server.submit(left).await.json().await.unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_spool"));
    command.args(["exec", "--server", &server.base, "--queue", "text"]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let (_, task) = server
        .get_json(&format!("/api/tasks/{}", left["id"].as_str().unwrap()))
        .await;
    assert_eq!(task["status"], "PENDING");
    server.stop().await;
}
