//! Stopping and crashing the real binary: SIGTERM drains short tasks and exits 0 (even
//! while a client follows a task's events), a task longer than the grace period goes
//! back to the queue, a second SIGTERM during the
//! drain changes nothing, and a task that takes its process down on every attempt ends
//! FAILED instead of crashing it forever.

use crate::process::{open_store, SpoolProcess};
use serde_json::json;
use spool::model::TaskStatus;
use uuid::Uuid;

/// A `data_processing` task of 20 steps that pauses `pace_ms` after each (so it takes
/// about 20 × `pace_ms`) and stops when cancelled.
fn paced(pace_ms: u32) -> serde_json::Value {
    json!({"task_type": "data_processing", "parameters": {"rows": 100, "pace_ms": pace_ms}})
}

#[tokio::test]
async fn sigterm_lets_running_tasks_finish_and_exits_0_with_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = SpoolProcess::start(dir.path(), &["--concurrency", "2"]).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(server.submit(&paced(25)).await);
    }
    server.wait_running(&ids[0], 1).await;
    server.terminate();
    let status = server.exited().await;
    assert_eq!(status.code(), Some(0), "{status:?}");

    let store = open_store(dir.path()).await;
    assert!(
        store.running().await.unwrap().is_empty(),
        "nothing is left RUNNING"
    );
    let first = store.get(ids[0].parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        first.status,
        TaskStatus::Success,
        "the running task was let finish"
    );
    let mut statuses = Vec::new();
    for id in &ids {
        let task = store
            .get(id.parse().unwrap())
            .await
            .unwrap()
            .expect("still stored");
        statuses.push(task.status);
    }
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, TaskStatus::Success | TaskStatus::Pending)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&TaskStatus::Pending),
        "no new claims after SIGTERM: {statuses:?}"
    );
}

#[tokio::test]
async fn sigterm_stops_claims_and_event_streams_but_a_draining_tasks_stream_sees_it_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = SpoolProcess::start(dir.path(), &["--concurrency", "1"]).await;
    // The first task runs about 3 s (within the 10 s grace), so it is still running when
    // the signal comes however slow this machine is; the others are short.
    let mut ids = vec![server.submit(&paced(150)).await];
    for _ in 0..3 {
        ids.push(server.submit(&paced(25)).await);
    }
    // A client follows the last task, which would not be final for seconds yet, and
    // another the running one.
    let follow = |id: &str| {
        reqwest::Client::new()
            .get(server.url(&format!("/api/tasks/{id}/events")))
            .send()
    };
    let mut events = follow(&ids[3]).await.unwrap();
    assert_eq!(events.status(), 200);
    let first = events.chunk().await.unwrap().expect("the first event");
    assert!(String::from_utf8_lossy(&first).contains("PENDING"));
    server.wait_running(&ids[0], 1).await;
    let drained = follow(&ids[0]).await.unwrap();
    assert_eq!(drained.status(), 200);
    server.terminate();
    // The running task's stream goes on through the drain and ends with its final event.
    let drained = drained.text().await.unwrap();
    let last = drained.lines().rfind(|l| l.starts_with("data: "));
    assert!(
        last.is_some_and(|data| data.contains("\"status\":\"SUCCESS\"")),
        "{drained}"
    );
    let status = server.exited().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The waiting task's stream ended with the server, not with the task.
    while let Ok(Some(chunk)) = events.chunk().await {
        assert!(!String::from_utf8_lossy(&chunk).contains("SUCCESS"));
    }

    let store = open_store(dir.path()).await;
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(
            store
                .get(id.parse().unwrap())
                .await
                .unwrap()
                .unwrap()
                .status,
        );
    }
    assert_eq!(
        statuses,
        [
            TaskStatus::Success,
            TaskStatus::Pending,
            TaskStatus::Pending,
            TaskStatus::Pending
        ],
        "the running task finished and nothing was claimed after SIGTERM"
    );
}

#[tokio::test]
async fn a_task_longer_than_the_grace_period_is_requeued_and_a_second_sigterm_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let server = SpoolProcess::start(dir.path(), &["--shutdown-grace-secs", "1"]).await;
    let id = server.submit(&paced(3_000)).await;
    server.wait_running(&id, 1).await;
    server.terminate();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.terminate();
    let status = server.exited().await;
    assert_eq!(status.code(), Some(0), "{status:?}");

    let store = open_store(dir.path()).await;
    let id: Uuid = id.parse().unwrap();
    let task = store.get(id).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Pending, "back in the queue");
    assert_eq!(
        task.max_attempts, 4,
        "the interrupted attempt is not counted"
    );
    let outcomes: Vec<_> = store
        .attempts(id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, vec![Some("INTERRUPTED".to_string())]);
}

#[tokio::test]
async fn a_task_that_kills_its_process_every_time_ends_failed() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--lease-secs", "2"];
    let mut server = SpoolProcess::start(dir.path(), &args).await;
    let mut body = paced(3_000);
    body["max_attempts"] = json!(2);
    let id = server.submit(&body).await;
    for attempt in 1..=2 {
        // The first restart rescues the task once its lease expires and runs it again.
        server.wait_running(&id, attempt).await;
        // The task "crashes its worker": the whole process dies mid-attempt.
        server.kill();
        server = SpoolProcess::start(dir.path(), &args).await;
    }
    let task = loop {
        let task = server.get(&format!("/api/tasks/{id}")).await;
        if task["status"] == "FAILED" {
            break task;
        }
        assert!(
            task["status"] == "RUNNING" || task["status"] == "PENDING",
            "{task}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let outcomes: Vec<_> = task["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(outcomes, ["LOST", "LOST"], "{task}");
    assert!(
        task["error_message"]
            .as_str()
            .unwrap_or("")
            .contains("no attempts remain"),
        "{task}"
    );
}

#[test]
fn serving_the_network_without_a_token_is_refused_at_start() {
    use crate::process::{database, database_url, BINARY};
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(BINARY)
        .args(["serve", "--addr", "0.0.0.0:0", "--database-url"])
        .arg(database_url(dir.path()))
        .output()
        .expect("the spool binary runs");
    assert!(!output.status.success(), "it started");
    // The refusal is logged (to standard output, as every log line is).
    let said = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("--token"), "{said}");
    assert!(!database(dir.path()).exists(), "nothing was created");
}
