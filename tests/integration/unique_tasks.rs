//! Unique tasks: a submit whose key a counted task holds is answered with that task, on
//! one server and across two processes racing on PostgreSQL; the counted states, the
//! period, retries and schedules follow the same rule, and bad requests are refused.

use crate::databases::postgres_schema;
use crate::process::{free_port, serve_args, SpoolProcess, BINARY};
use crate::support::TestServer;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

/// A `noop` that waits a minute (SCHEDULED, so it counts) with `unique`.
fn waiting(unique: Value) -> Value {
    json!({"task_type": "noop", "delay_ms": 60_000, "unique": unique})
}

async fn submit(server: &TestServer, body: Value) -> Value {
    let response = server.submit(body.clone()).await;
    let status = response.status().as_u16();
    let task: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}: {task}");
    task
}

#[tokio::test]
async fn a_held_key_answers_its_task_and_other_keys_and_kinds_are_their_own() {
    let server = TestServer::start().await;
    let first = submit(&server, waiting(json!({"key": "customer-42"}))).await;
    let again = submit(
        &server,
        json!({"task_type": "noop", "parameters": {}, "unique": {"key": "customer-42"}}),
    )
    .await;
    assert_eq!(
        again["id"], first["id"],
        "the same kind and key: the first task"
    );
    assert_eq!(again["status"], "SCHEDULED");
    let other_key = submit(&server, waiting(json!({"key": "customer-43"}))).await;
    assert_ne!(other_key["id"], first["id"]);
    let other_kind = json!({"task_type": "email_simulation", "delay_ms": 60_000, "unique": {"key": "customer-42"}});
    let other_kind = submit(&server, other_kind).await;
    assert_ne!(other_kind["id"], first["id"], "keys are per kind");
    assert_eq!(server.stored_tasks().await, 3);

    // Cancelled, it no longer counts by default: the key is free.
    assert_eq!(
        server
            .delete(&format!("/api/tasks/{}", first["id"].as_str().unwrap()))
            .await
            .status(),
        200
    );
    let next = submit(&server, waiting(json!({"key": "customer-42"}))).await;
    assert_ne!(next["id"], first["id"]);

    // The cancelled one cannot wait again while the new one holds the key.
    let retry = server
        .post(&format!(
            "/api/tasks/{}/retry",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(retry.status(), 409);
    let body: Value = retry.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unique key"),
        "{body}"
    );
    // Once that one is cancelled too, it can.
    server
        .delete(&format!("/api/tasks/{}", next["id"].as_str().unwrap()))
        .await;
    let retry = server
        .post(&format!(
            "/api/tasks/{}/retry",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(retry.status(), 200);
}

#[tokio::test]
async fn finished_tasks_count_when_asked_and_a_period_makes_a_new_key() {
    let server = TestServer::start().await;
    let states = json!(["PENDING", "SCHEDULED", "RUNNING", "SUCCESS"]);
    let done = submit(
        &server,
        json!({"task_type": "noop", "unique": {"key": "daily", "states": states}}),
    )
    .await;
    let finished = server.wait_final(done["id"].as_str().unwrap()).await;
    assert_eq!(finished["status"], "SUCCESS");
    let again = json!({"task_type": "noop", "unique": {"key": "daily", "states": states}});
    assert_eq!(
        submit(&server, again).await["id"],
        done["id"],
        "a success counts"
    );
    // The states the holder was submitted with decide, whatever a later submit asks.
    let plain = submit(
        &server,
        json!({"task_type": "noop", "unique": {"key": "daily"}}),
    )
    .await;
    assert_eq!(plain["id"], done["id"]);
    // A key held by a task that does not count once finished is free after it ends.
    let short = submit(
        &server,
        json!({"task_type": "noop", "unique": {"key": "brief"}}),
    )
    .await;
    server.wait_final(short["id"].as_str().unwrap()).await;
    let next = submit(
        &server,
        json!({"task_type": "noop", "unique": {"key": "brief"}}),
    )
    .await;
    assert_ne!(next["id"], short["id"]);

    // One per second: two submits hold one key unless a second passed between them.
    let per_second = || waiting(json!({"key": "tick", "period_secs": 1}));
    let a = submit(&server, per_second()).await;
    let b = submit(&server, per_second()).await;
    let second = |task: &Value| task["created_at"].as_str().unwrap()[..19].to_string();
    if second(&a) == second(&b) {
        assert_eq!(a["id"], b["id"], "the same period: {a} {b}");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let c = submit(&server, per_second()).await;
    assert_ne!(c["id"], b["id"], "a later period");
}

#[tokio::test]
async fn an_idempotency_key_speaks_before_a_unique_key() {
    let server = TestServer::start().await;
    let send = |body: Value| {
        server
            .client
            .post(server.url("/api/tasks/submit"))
            .header("Idempotency-Key", "order-7")
            .json(&body)
            .send()
    };
    let body = waiting(json!({"key": "k"}));
    let first: Value = send(body.clone()).await.unwrap().json().await.unwrap();
    let again: Value = send(body).await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let other =
        json!({"task_type": "noop", "delay_ms": 60_000, "priority": 5, "unique": {"key": "k"}});
    let refused = send(other).await.unwrap();
    assert_eq!(
        refused.status(),
        422,
        "the same idempotency key with another body"
    );
    assert_eq!(server.stored_tasks().await, 1);
}

#[tokio::test]
async fn bad_unique_requests_are_refused_field_by_field_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let cases = [
        (json!({"key": ""}), "unique.key"),
        (json!({"key": "x".repeat(201)}), "unique.key"),
        (json!({"key": "a\u{1f}b"}), "unique.key"),
        (json!({"key": "k", "period_secs": 0}), "unique.period_secs"),
        (json!({"key": "k", "states": ["SUCCESS"]}), "unique.states"),
    ];
    for (unique, field) in cases {
        let response = server
            .submit(json!({"task_type": "noop", "unique": unique}))
            .await;
        assert_eq!(response.status(), 422, "{unique}");
        let body: Value = response.json().await.unwrap();
        let fields: Vec<&str> = body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{unique}: {body}");
    }
    let response = server
        .submit(json!({"task_type": "noop", "unique": {"key": "k", "colour": 1}}))
        .await;
    assert_eq!(response.status(), 422, "unknown fields are refused");
    let batch = json!([{"task_type": "noop"}, {"task_type": "noop", "unique": {"key": "k"}}]);
    let (status, body) = server.post_json("/api/tasks/batch", &batch).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "[1].unique");
    assert_eq!(server.stored_tasks().await, 0);
}

/// Many submits at once with one key, on one server: one task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submits_on_one_server_store_one_task() {
    let server = TestServer::start().await;
    let mut answers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = server.client.clone();
        let url = server.url("/api/tasks/submit");
        answers.spawn(async move {
            let body = waiting(json!({"key": "race"}));
            let task: Value = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            task["id"].as_str().unwrap().to_string()
        });
    }
    let ids: std::collections::BTreeSet<String> = answers.join_all().await.into_iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(server.stored_tasks().await, 1);
}

/// Two processes on one PostgreSQL database, racing on one key: one task, which every
/// answer names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_on_one_key_store_one_task() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let start = |n: usize| {
        let port = free_port();
        let mut command = Command::new(BINARY);
        command.args(serve_args(
            port,
            &schema.url,
            &dir.path().join(format!("data-{n}")),
        ));
        SpoolProcess::spawn(command, port)
    };
    let processes = [start(0).await, start(1).await];
    for round in 0..5 {
        let key = format!("race-{round}");
        let mut answers = tokio::task::JoinSet::new();
        for i in 0..16 {
            let url = processes[i % 2].url("/api/tasks/submit");
            let body = waiting(json!({"key": key}));
            answers.spawn(async move {
                let task: Value = reqwest::Client::new()
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                task["id"].as_str().map(str::to_string)
            });
        }
        let ids: std::collections::BTreeSet<Option<String>> =
            answers.join_all().await.into_iter().collect();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
        assert!(ids.iter().all(Option::is_some), "round {round}: {ids:?}");
    }
    let stats = processes[0].get("/api/stats").await;
    assert_eq!(crate::support::count_tasks(&stats), 5, "{stats}");
    for process in processes {
        process.kill();
    }
}

/// A schedule whose task is unique fires no second task while the first still runs:
/// the slots it fired meanwhile show the task that holds the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_schedule_skips_its_slots_while_its_task_runs() {
    let server = TestServer::start().await;
    let body = json!({
        "every_secs": 1, "catch_up": "each",
        "task": {"task_type": "data_processing", "parameters": {"rows": 30, "pace_ms": 200}, "unique": {"key": "one"}}
    });
    let (status, _) = crate::schedule_admin::put(&server, "busy", &body).await;
    assert_eq!(status, 201);
    let runs = crate::schedule_admin::wait_for_runs(&server, "busy", 3).await;
    let (_, tasks) = server
        .get_json("/api/tasks/?task_type=data_processing")
        .await;
    let tasks = tasks.as_array().unwrap();
    let running: Vec<&Value> = tasks
        .iter()
        .filter(|task| task["status"] != "SUCCESS")
        .collect();
    assert!(running.len() <= 1, "{tasks:?}");
    // Slots fired while a task held the key name that task.
    let ids: std::collections::BTreeSet<&str> = runs
        .iter()
        .filter_map(|run| run["task_id"].as_str())
        .collect();
    assert!(
        ids.len() < runs.len(),
        "every slot got a task of its own: {runs:?}"
    );
    assert!(
        ids.iter()
            .all(|id| tasks.iter().any(|task| task["id"] == *id)),
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_submits_a_unique_task() {
    use crate::cli::{spool, stderr, stdout};
    let server = TestServer::start().await;
    let args = [
        "submit",
        "noop",
        "--delay-ms",
        "60000",
        "--unique-key",
        "k",
        "--unique-period-secs",
        "3600",
        "--json",
    ];
    let first = spool(&server, &args).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let again = spool(&server, &args).await;
    let id = |output: &std::process::Output| {
        let task: Value = serde_json::from_str(&stdout(output)).unwrap();
        task["id"].clone()
    };
    assert_eq!(id(&first), id(&again));
    assert_eq!(server.stored_tasks().await, 1);
}
