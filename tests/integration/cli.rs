//! The `spool` command-line client against a real server: exit codes, human and JSON
//! output, and the server's refusals shown as messages.

use crate::process::{self, SpoolProcess};
use crate::support::TestServer;
use serde_json::Value;
use std::process::{Command, Output};

pub(crate) async fn spool(server: &TestServer, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spool"));
    command.args(args).args(["--server", &server.base]);
    tokio::task::spawn_blocking(move || command.output().expect("the spool binary runs"))
        .await
        .unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_get_and_list_work_and_exit_zero() {
    let server = TestServer::start().await;
    let output = spool(
        &server,
        &[
            "submit",
            "data_processing",
            "rows=50",
            "pace_ms=0",
            "--wait",
            "--json",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let updates: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = updates.last().unwrap();
    assert_eq!(last["status"], "SUCCESS");
    assert_eq!(last["parameters"]["rows"], 50);
    let id = last["id"].as_str().unwrap();

    let output = spool(&server, &["get", id, "--json"]).await;
    assert_eq!(output.status.code(), Some(0));
    let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(task["attempts"][0]["outcome"], "SUCCESS");

    let output = spool(&server, &["list", "--status", "SUCCESS"]).await;
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains(id) && text.contains("data_processing") && text.contains("100%"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_exit_two_with_the_servers_message() {
    let server = TestServer::start().await;
    let output = spool(&server, &["submit", "data_processing", "rows=0"]).await;
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("parameters.rows") && message.contains("HTTP 422"),
        "{message}"
    );

    let output = spool(&server, &["submit", "noop", "not-a-pair"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("NAME=VALUE"));

    // Not an id, nor its last digits: refused before asking the server.
    let output = spool(&server, &["get", "nope"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a task id"),
        "{}",
        stderr(&output)
    );

    let output = spool(&server, &["submit", "noop", "--wait"]).await;
    assert_eq!(output.status.code(), Some(0));
    // The last line is "<id> SUCCESS".
    let text = stdout(&output);
    let id = text
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let output = spool(&server, &["cancel", &id]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("HTTP 409"), "{}", stderr(&output));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_exits_one_when_the_task_ends_cancelled() {
    let server = TestServer::start().await;
    let output = spool(
        &server,
        &["submit", "noop", "--delay-ms", "600000", "--json"],
    )
    .await;
    let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let id = task["id"].as_str().unwrap().to_string();
    assert_eq!(task["status"], "SCHEDULED");
    let output = spool(&server, &["cancel", &id]).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("CANCELLED"));
    let output = spool(&server, &["watch", &id]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("CANCELLED"));

    let unreachable = Command::new(env!("CARGO_BIN_EXE_spool"))
        .args(["list", "--server", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_a_task_to_its_end_and_print_json_lines() {
    let server = TestServer::start().await;
    let output = spool(
        &server,
        &[
            "submit",
            "email_simulation",
            "count=3",
            "pace_ms=300",
            "--json",
        ],
    )
    .await;
    let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let id = task["id"].as_str().unwrap().to_string();
    // Started at once, while the task has written little or nothing yet.
    let output = spool(&server, &["logs", "-f", &id]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let delivered: Vec<&str> = text.lines().filter(|l| l.contains("delivered")).collect();
    assert_eq!(delivered.len(), 3, "every line once: {text}");
    assert!(
        delivered
            .iter()
            .all(|l| l.contains(" info ") && l.contains("[1]")),
        "{text}"
    );
    assert!(delivered[2].contains("recipient3@example.test"), "{text}");
    assert!(!text.contains("dropped"), "{text}");

    let output = spool(&server, &["logs", &id, "--json"]).await;
    assert_eq!(output.status.code(), Some(0));
    let numbers: Vec<i64> = stdout(&output)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers, [1, 2, 3]);

    let missing = uuid::Uuid::new_v4().to_string();
    for args in [
        vec!["logs", missing.as_str()],
        vec!["logs", "-f", missing.as_str()],
    ] {
        let output = spool(&server, &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("HTTP 404"), "{}", stderr(&output));
    }
    server.stop().await;
}

/// `cargo leptos watch` starts the binary with no arguments and says where to listen
/// in LEPTOS_SITE_ADDR: that must serve, not print usage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_alone_serves_where_cargo_leptos_says() {
    let dir = tempfile::tempdir().unwrap();
    let port = process::free_port();
    let mut command = Command::new(process::BINARY);
    command
        .current_dir(dir.path())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", process::database_url(dir.path()))
        .env_remove("SPOOL_ADDR");
    let server = SpoolProcess::spawn(command, port).await;
    let id = server
        .submit(&serde_json::json!({"task_type": "noop", "parameters": {}}))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let task = server.get(&format!("/api/tasks/{id}")).await;
        if task["status"] == "SUCCESS" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never finished: {task}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        dir.path().join("spool.db").exists(),
        "DATABASE_URL was not used"
    );
    server.terminate();
    assert!(server.exited().await.success());
}

#[test]
fn usage_errors_go_to_stderr_and_help_lists_every_command() {
    let output = Command::new(process::BINARY)
        .args(["serve", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--no-such-flag"));

    let help = Command::new(process::BINARY)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for command in [
        "serve", "worker", "submit", "list", "get", "cancel", "retry", "watch",
    ] {
        assert!(
            text.contains(command),
            "`spool --help` lacks {command}: {text}"
        );
    }
    let serve_help = Command::new(process::BINARY)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&serve_help.stdout);
    assert!(text.contains("--database-url"), "{text}");
    assert!(
        !text.contains("--server"),
        "a client flag under serve: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_are_checked_before_asking_and_sent_encoded() {
    let server = TestServer::start().await;
    let output = spool(&server, &["list", "--status", "done"]).await;
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("unknown status \"done\"") && said.contains("CANCELLED"),
        "{said}"
    );

    let mut ids = Vec::new();
    for rows in ["4242", "77"] {
        let output = spool(
            &server,
            &[
                "submit",
                "data_processing",
                &format!("rows={rows}"),
                "pace_ms=0",
                "--json",
            ],
        )
        .await;
        let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
        ids.push(task["id"].as_str().unwrap().to_string());
    }
    // A search with characters a URL must encode finds exactly the task that has them.
    let output = spool(
        &server,
        &[
            "list",
            "--search",
            "\"rows\":4242",
            "--json",
            "--type",
            "data_processing",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let found: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let found: Vec<&str> = found.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(found, vec![ids[0].as_str()]);
    server.stop().await;
}
