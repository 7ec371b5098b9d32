//! The REST API beyond submit/list/detail: paging, search, idempotency, batches, cancel
//! and retry with their conflicts, bulk actions, queues, stats and probes.

use crate::support::TestServer;
use serde_json::{json, Value};

async fn submit_ok(server: &TestServer, body: Value) -> Value {
    let response = server.submit(body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paging_follows_link_headers_through_every_task_exactly_once() {
    let server = TestServer::start().await;
    server.post("/api/queues/default/pause").await;
    let mut submitted = Vec::new();
    for _ in 0..7 {
        submitted.push(
            submit_ok(&server, json!({"task_type": "noop"})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/tasks/?limit=3&status=PENDING".to_string());
    while let Some(path) = next.take() {
        let response = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link[1..link.find('>').unwrap()].to_string()
        });
        if let Some(path) = &next {
            assert!(
                path.contains("status=PENDING") && path.contains("limit=3"),
                "{path}"
            );
        }
        seen.extend(ids(&response.json().await.unwrap()));
    }
    submitted.reverse();
    assert_eq!(seen, submitted);

    let (status, _) = server.get_json("/api/tasks/?cursor=garbage").await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn search_and_queue_filters_select_matching_tasks() {
    let server = TestServer::start().await;
    server.post("/api/queues/reports/pause").await;
    let wanted = submit_ok(
        &server,
        json!({"task_type": "data_processing", "parameters": {"rows": 4321}, "queue": "reports"}),
    )
    .await;
    submit_ok(
        &server,
        json!({"task_type": "data_processing", "parameters": {"rows": 1234}, "queue": "reports"}),
    )
    .await;
    let (_, found) = server.get_json("/api/tasks/?q=4321").await;
    assert_eq!(ids(&found), vec![wanted["id"].as_str().unwrap()]);
    let (_, none) = server.get_json("/api/tasks/?q=%25").await;
    assert_eq!(
        none,
        json!([]),
        "a % in the search is literal, not a wildcard"
    );
    let (_, in_queue) = server.get_json("/api/tasks/?queue=reports").await;
    assert_eq!(in_queue.as_array().unwrap().len(), 2);
    let (_, other) = server.get_json("/api/tasks/?queue=default").await;
    assert_eq!(other, json!([]));
    let (status, _) = server
        .get_json(&format!("/api/tasks/?q={}", "x".repeat(201)))
        .await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_makes_a_repeat_harmless_and_refuses_a_different_body() {
    let server = TestServer::start().await;
    let send = |body: Value| {
        server
            .client
            .post(server.url("/api/tasks/submit"))
            .header("Idempotency-Key", "order-17")
            .json(&body)
            .send()
    };
    let body = json!({"task_type": "noop", "priority": 3});
    let first: Value = send(body.clone()).await.unwrap().json().await.unwrap();
    let again = send(body).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let other = send(json!({"task_type": "noop", "priority": 4}))
        .await
        .unwrap();
    assert_eq!(other.status(), 422);
    let (_, list) = server.get_json("/api/tasks/").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_batch_is_stored_whole_or_not_at_all() {
    let server = TestServer::start().await;
    let batch = |body: Value| {
        server
            .client
            .post(server.url("/api/tasks/batch"))
            .json(&body)
            .send()
    };
    let good: Value = batch(json!([{"task_type": "noop"}, {"task_type": "data_processing", "parameters": {"rows": 5, "pace_ms": 0}}]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(good.as_array().unwrap().len(), 2);

    let bad = batch(json!([{"task_type": "noop"}, {"task_type": "noop", "priority": 99}]))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["details"][0]["field"], "[1].priority");
    assert_eq!(batch(json!([])).await.unwrap().status(), 400);
    let too_many: Vec<Value> = (0..10_001).map(|_| json!({"task_type": "noop"})).collect();
    assert_eq!(batch(Value::from(too_many)).await.unwrap().status(), 400);
    let (_, list) = server.get_json("/api/tasks/").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "a refused batch stored something"
    );
    server.stop().await;
}

#[tokio::test]
async fn cancel_and_retry_answer_409_when_the_state_forbids_them() {
    let server = TestServer::start().await;
    let done = submit_ok(&server, json!({"task_type": "noop"})).await;
    let id = done["id"].as_str().unwrap().to_string();
    server.wait_final(&id).await;
    let cancel = server.delete(&format!("/api/tasks/{id}")).await;
    assert_eq!(cancel.status(), 409);
    let retry = server.post(&format!("/api/tasks/{id}/retry")).await;
    assert_eq!(retry.status(), 409);
    let body: Value = retry.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SUCCESS"),
        "{body}"
    );

    let later = submit_ok(&server, json!({"task_type": "noop", "delay_ms": 600000})).await;
    let later_id = later["id"].as_str().unwrap();
    let cancelled = server.delete(&format!("/api/tasks/{later_id}")).await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    let retried: Value = server
        .post(&format!("/api/tasks/{later_id}/retry"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retried["status"], "PENDING");
    let missing = server
        .delete(&format!("/api/tasks/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn bulk_actions_need_a_filter_and_touch_only_what_it_selects() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        submit_ok(&server, json!({"task_type": "noop", "delay_ms": 600000})).await;
    }
    let kept = submit_ok(
        &server,
        json!({"task_type": "data_processing", "delay_ms": 600000}),
    )
    .await;
    let unfiltered = server.post("/api/tasks/cancel").await;
    assert_eq!(unfiltered.status(), 400);
    let result: Value = server
        .post("/api/tasks/cancel?task_type=noop")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result, json!({"changed": 3, "skipped": 0}));
    let (_, kept) = server
        .get_json(&format!("/api/tasks/{}", kept["id"].as_str().unwrap()))
        .await;
    assert_eq!(kept["status"], "SCHEDULED");
    let result: Value = server
        .post("/api/tasks/retry?status=CANCELLED")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result, json!({"changed": 3, "skipped": 0}));
    server.stop().await;
}

#[tokio::test]
async fn stats_queues_task_types_and_probes_describe_the_server() {
    let server = TestServer::start().await;
    server.post("/api/queues/emails/pause").await;
    submit_ok(
        &server,
        json!({"task_type": "email_simulation", "queue": "emails"}),
    )
    .await;
    let (_, stats) = server.get_json("/api/stats").await;
    assert_eq!(stats["by_status"], json!({"PENDING": 1}));
    assert_eq!(stats["by_type"], json!({"email_simulation": 1}));
    assert_eq!(stats["by_queue"], json!({"emails": 1}));
    let minutes = stats["throughput"].as_array().unwrap();
    assert_eq!(minutes.len(), 60);
    assert!(minutes
        .iter()
        .all(|m| m["succeeded"] == 0 && m["failed"] == 0));
    assert!(minutes
        .windows(2)
        .all(|w| w[0]["minute"].as_str() < w[1]["minute"].as_str()));
    let (_, mut queues) = server.get_json("/api/queues").await;
    // Every live process's concurrency counts once the process has registered, just
    // after it starts (see `processes.rs`).
    for queue in queues.as_array_mut().unwrap() {
        queue.as_object_mut().unwrap().remove("total_concurrency");
    }
    assert_eq!(
        queues,
        json!([
            {"name": "default", "paused": false, "pending": 0, "running": 0, "total": 0, "concurrency": 8},
            {"name": "emails", "paused": true, "pending": 1, "running": 0, "total": 1, "concurrency": null}
        ])
    );
    let bad = server.post("/api/queues/no%20spaces/pause").await;
    assert_eq!(bad.status(), 400);
    let (_, kinds) = server.get_json("/api/task-types").await;
    let names: Vec<_> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "data_processing",
            "email_simulation",
            "http",
            "image_processing",
            "noop"
        ]
    );
    let headers = &kinds[2]["parameters_schema"]["properties"]["headers"];
    assert_eq!(headers["type"], "object");
    assert_eq!(headers["maxProperties"], 50);
    let operation = &kinds[3]["parameters_schema"]["properties"]["operation"];
    assert_eq!(operation["enum"][0], "resize");
    assert_eq!(operation["default"], "resize");
    let files = &kinds[3]["result_schema"]["properties"]["files"];
    assert_eq!(files["type"], "array", "{}", kinds[3]);
    assert_eq!(
        server.get_json("/healthz").await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        server.get_json("/readyz").await,
        (200, json!({"status": "ready"}))
    );
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let server = TestServer::start().await;
    let huge = json!({"task_type": "noop", "parameters": {"padding": "x".repeat(300 * 1024)}});
    let response = server.submit(huge).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    server.stop().await;
}

/// The seed README's examples, as a script written for the seed would send them.
#[tokio::test]
async fn the_seed_readme_examples_work_unchanged() {
    let server = TestServer::start().await;
    let examples = [
        r#"{"task_type": "data_processing", "parameters": {"rows": 1000}}"#,
        r#"{"task_type": "email_simulation", "parameters": {"count": 5}}"#,
        r#"{"task_type": "image_processing", "parameters": {"count": 3, "operation": "resize"}}"#,
    ];
    let mut submitted = Vec::new();
    for body in examples {
        let response = server
            .client
            .post(server.url("/api/tasks/submit"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{body}");
        let task: Value = response.json().await.unwrap();
        for field in [
            "id",
            "task_type",
            "status",
            "created_at",
            "started_at",
            "completed_at",
            "result_data",
            "error_message",
            "progress",
            "parameters",
        ] {
            assert!(task.get(field).is_some(), "{field} missing from {task}");
        }
        assert_eq!(task["status"], "PENDING");
        submitted.push(task["id"].as_str().unwrap().to_string());
    }
    for path in [
        "/api/tasks/",
        "/api/tasks/?status=PENDING",
        "/api/tasks/?task_type=data_processing",
    ] {
        let (status, list) = server.get_json(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(list.is_array(), "{path}");
    }
    let id = &submitted[0];
    let (status, task) = server.get_json(&format!("/api/tasks/{id}")).await;
    assert_eq!(
        (status, task["task_type"].as_str()),
        (200, Some("data_processing"))
    );
    let cancel = server.delete(&format!("/api/tasks/{id}")).await;
    assert!(cancel.status() == 200 || cancel.status() == 409);
    let task = server.wait_final(id).await;
    let retry = server.post(&format!("/api/tasks/{id}/retry")).await;
    let expected = if task["status"] == "SUCCESS" {
        409
    } else {
        200
    };
    assert_eq!(retry.status(), expected);
    server.stop().await;
}

#[tokio::test]
async fn task_events_stream_progress_until_the_task_is_final() {
    let server = TestServer::start().await;
    let task = submit_ok(
        &server,
        json!({"task_type": "data_processing", "parameters": {"rows": 100, "pace_ms": 60}}),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    let response = server
        .client
        .get(server.url(&format!("/api/tasks/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // The stream ends by itself once the task is final.
    let body = response.text().await.unwrap();
    let names: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let data: Vec<Value> = body
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    assert_eq!(names.len(), data.len(), "{body}");
    let of = |name: &str| -> Vec<Value> {
        names
            .iter()
            .zip(&data)
            .filter(|(n, _)| **n == name)
            .map(|(_, d)| d.clone())
            .collect()
    };
    let (tasks, lines) = (of("task"), of("log"));
    assert_eq!(
        tasks.len() + lines.len(),
        names.len(),
        "only task and log events: {body}"
    );
    assert!(tasks.len() >= 3, "expected several updates, got {body}");
    assert_eq!(tasks.last().unwrap()["status"], "SUCCESS");
    assert_eq!(
        names.last(),
        Some(&"task"),
        "the final task event ends the stream: {body}"
    );
    // data_processing logs a line as it starts and one as it ends, each once, in order.
    let numbers: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [1, 2], "{body}");
    assert!(
        lines[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("analysed"),
        "{body}"
    );
    assert_eq!(tasks.last().unwrap()["log_lines"], 2);
    let progress: Vec<i64> = tasks
        .iter()
        .map(|t| t["progress"].as_i64().unwrap())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");

    let (status, _) = server
        .get_json(&format!("/api/tasks/{}/events", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn metrics_expose_counts_depths_and_this_process_counters() {
    let server = TestServer::start().await;
    let done = submit_ok(&server, json!({"task_type": "noop"})).await;
    server.wait_final(done["id"].as_str().unwrap()).await;
    server.post("/api/queues/later/pause").await;
    submit_ok(&server, json!({"task_type": "noop", "queue": "later"})).await;
    let (_, stats) = server.get_json("/api/stats").await;
    let finished: i64 = stats["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["succeeded"].as_i64().unwrap())
        .sum();
    assert_eq!(finished, 1, "{stats}");
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for line in [
        "spool_tasks{kind=\"noop\",queue=\"default\",status=\"SUCCESS\"} 1",
        "spool_tasks{kind=\"noop\",queue=\"later\",status=\"PENDING\"} 1",
        "spool_queue_depth{queue=\"later\"} 1",
        "spool_queue_depth{queue=\"default\"} 0",
        "spool_tasks_submitted_total{kind=\"noop\",queue=\"default\"} 1",
        "spool_tasks_submitted_total{kind=\"noop\",queue=\"later\"} 1",
        "spool_attempts_started_total{kind=\"noop\",queue=\"default\"} 1",
        "spool_attempts_finished_total{kind=\"noop\",outcome=\"success\",queue=\"default\"} 1",
        "spool_attempt_duration_seconds_count{kind=\"noop\",queue=\"default\"} 1",
        "spool_task_wait_seconds_count{kind=\"noop\",queue=\"default\"} 1",
        "spool_workers{queue=\"default\"} 8",
        "spool_workers_busy{queue=\"default\"} 0",
        "spool_draining 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    // The paused queue's task has waited since its submit.
    let age: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("spool_queue_oldest_pending_age_seconds{queue=\"later\"} "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no oldest pending age for later in\n{text}"));
    assert!((0.0..600.0).contains(&age), "{age}");
    assert!(
        text.contains("\nspool_queue_oldest_pending_age_seconds{queue=\"default\"} 0\n"),
        "a queue with nothing pending waits for nothing:\n{text}"
    );
    assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");
    server.stop().await;
}

/// Every metric the reference Grafana dashboard (deploy/grafana/spool.json) charts is one
/// `/metrics` serves, so the dashboard cannot drift from the names.
#[tokio::test]
async fn the_grafana_dashboard_charts_only_metrics_spool_serves() {
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/grafana/spool.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap().clone())
        .map(|target| target["expr"].as_str().unwrap().to_string())
        .collect();
    let server = TestServer::start().await;
    let done = submit_ok(&server, json!({"task_type": "noop"})).await;
    server.wait_final(done["id"].as_str().unwrap()).await;
    let (_, text) = server.get_text("/metrics", &[]).await;
    let mut charted = std::collections::BTreeSet::new();
    for expr in &exprs {
        let words = expr.split(|c: char| !(c.is_ascii_lowercase() || c == '_'));
        for word in words.filter(|w| w.starts_with("spool_") || w.starts_with("process_")) {
            let name = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word);
            charted.insert(name.to_string());
        }
    }
    assert!(charted.len() >= 10, "{charted:?}");
    for name in &charted {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "the dashboard charts {name}, which /metrics does not serve:\n{text}"
        );
    }
    server.stop().await;
}
