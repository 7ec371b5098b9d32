//! Runs the example program as a user would and drives its own kind over REST: it
//! succeeds with its result, a permanent failure is not retried, and kinds the program
//! did not register are refused.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Greeter {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Greeter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Greeter {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("greeter.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_greeter"))
        .args(["127.0.0.1:0", &database])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Settings come from the environment too: the test's own must not leak in.
        .env_remove("SPOOL_TOKEN")
        .env_remove("SPOOL_READ_ONLY_TOKEN")
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Greeter {
        child,
        base,
        _dir: dir,
    }
}

async fn submit(client: &reqwest::Client, base: &str, body: Value) -> reqwest::Response {
    // The server starts listening before its store is open: retry until it answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client
            .post(format!("{base}/api/tasks/submit"))
            .json(&body)
            .send()
            .await
        {
            Ok(response) => return response,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("the greeter never answered: {err}"),
        }
    }
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

async fn finished(client: &reqwest::Client, base: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = get_json(client, format!("{base}/api/tasks/{id}")).await;
        if ["SUCCESS", "FAILED", "CANCELLED"].contains(&task["status"].as_str().unwrap()) {
            return task;
        }
        assert!(Instant::now() < deadline, "never finished: {task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_program_runs_its_own_kind_and_only_that() {
    let greeter = start();
    let client = reqwest::Client::new();
    let base = greeter.base.as_str();

    let response = submit(
        &client,
        base,
        json!({"task_type": "greet", "parameters": {"times": 2}}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let task: Value = response.json().await.unwrap();
    let done = finished(&client, base, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(
        done["result_data"],
        json!({"text": "hello, hello", "attempt": 1})
    );
    assert_eq!(done["progress"], 100);

    let grumpy = json!({"task_type": "greet", "parameters": {"mood": "grumpy"}, "max_attempts": 3});
    let task: Value = submit(&client, base, grumpy).await.json().await.unwrap();
    let failed = finished(&client, base, task["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(
        failed["attempt"], 1,
        "a permanent failure is not retried: {failed}"
    );
    assert_eq!(failed["error_message"], "the greeter is grumpy today");

    let builtin = submit(
        &client,
        base,
        json!({"task_type": "noop", "parameters": {}}),
    )
    .await;
    assert_eq!(builtin.status(), 422);
    let refusal: Value = builtin.json().await.unwrap();
    assert!(
        refusal.to_string().contains("known types: greet"),
        "{refusal}"
    );

    let bad = submit(
        &client,
        base,
        json!({"task_type": "greet", "parameters": {"times": 11}}),
    )
    .await;
    assert_eq!(bad.status(), 422);

    let kinds = get_json(&client, format!("{base}/api/task-types")).await;
    let names: Vec<_> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|kind| kind["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["greet"]);
}
