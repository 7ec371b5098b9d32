//! Crash safety of the real binary: `spool serve` is SIGKILLed five times at random
//! moments while tasks are being submitted and run, and restarted on the same database
//! each time. Every acknowledged task must be there and reach SUCCESS exactly once, and
//! only tasks that were running at a kill may have run more than once (each interrupted
//! attempt shows as LOST).

use crate::process::SpoolProcess;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

const KILLS: usize = 5;
const CONCURRENCY: usize = 8;

/// Submits one short task after another until the server stops answering; returns the
/// ids it acknowledged.
async fn submit_until_killed(base: String) -> Vec<String> {
    let client = reqwest::Client::new();
    let body = json!({"task_type": "data_processing", "parameters": {"rows": 4, "pace_ms": 5}});
    let mut acknowledged = Vec::new();
    loop {
        let sent = client
            .post(format!("{base}/api/tasks/submit"))
            .json(&body)
            .send()
            .await;
        let task: Value = match sent {
            Ok(response) if response.status() == 200 => match response.json().await {
                Ok(task) => task,
                Err(_) => return acknowledged,
            },
            Ok(response) => panic!("submit answered {}", response.status()),
            Err(_) => return acknowledged,
        };
        acknowledged.push(task["id"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A moment from 300 to 1,500 ms: random enough to land anywhere in a submit, claim,
/// run or commit, without a dependency for it.
fn random_moment() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    Duration::from_millis(300 + u64::from(nanos % 1_200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_five_times_under_load_the_server_loses_no_acknowledged_task() {
    let dir = tempfile::tempdir().unwrap();
    let concurrency = CONCURRENCY.to_string();
    let args = ["--concurrency", &concurrency, "--lease-secs", "2"];
    let mut acknowledged = Vec::new();
    for round in 1..=KILLS {
        let server = SpoolProcess::start(dir.path(), &args).await;
        let submitting = tokio::spawn(submit_until_killed(server.base.clone()));
        let moment = random_moment();
        tokio::time::sleep(moment).await;
        server.kill();
        let ids = submitting.await.unwrap();
        println!(
            "kill {round} after {moment:?}: {} submits acknowledged",
            ids.len()
        );
        acknowledged.extend(ids);
    }

    let server = SpoolProcess::start(dir.path(), &args).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    let (mut ran_again, mut lost) = (0, 0);
    for id in &acknowledged {
        let task = loop {
            let response = server
                .client
                .get(server.url(&format!("/api/tasks/{id}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "acknowledged task {id} is missing");
            let task: Value = response.json().await.unwrap();
            if !matches!(
                task["status"].as_str(),
                Some("PENDING" | "RUNNING" | "SCHEDULED")
            ) {
                break task;
            }
            assert!(
                Instant::now() < deadline,
                "never finished after the restarts: {task}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(task["status"], "SUCCESS", "{task}");
        let outcomes: Vec<&str> = task["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["outcome"].as_str().unwrap_or(""))
            .collect();
        let (last, before) = outcomes.split_last().expect("at least one attempt");
        assert_eq!(*last, "SUCCESS", "{task}");
        assert!(
            before.iter().all(|o| *o == "LOST"),
            "task {id} ran as {outcomes:?}"
        );
        if !before.is_empty() {
            ran_again += 1;
            lost += before.len();
        }
    }
    println!(
        "{KILLS} kills: {} tasks acknowledged, all present and SUCCESS; {ran_again} ran more \
         than once, {lost} attempts lost",
        acknowledged.len()
    );
    // Only a running task can lose an attempt, and at most CONCURRENCY run at a kill.
    assert!(
        lost <= KILLS * CONCURRENCY,
        "{lost} attempts lost in {KILLS} kills with a concurrency of {CONCURRENCY}"
    );
}
