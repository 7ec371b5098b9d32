//! External workers over REST: a worker in any language claims tasks of a declared kind
//! with a lease, heartbeats, and reports the outcome; every call is fenced on the attempt,
//! so a worker whose lease ran out cannot overwrite what happened since. (The programs
//! that speak this protocol are tested in `worker_programs.rs`.)

use crate::support::TestServer;
use serde_json::{json, Value};
use spool::testing::config::{ExternalKind, ServeConfig};
use std::time::{Duration, Instant};

pub fn with_kinds(config: &mut ServeConfig) {
    for (name, queue) in [("resize", "resize"), ("word_count", "text")] {
        config.engine.external_kinds.push(ExternalKind {
            name: name.into(),
            queue: queue.into(),
        });
    }
}

async fn post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    server.post_json(path, &body).await
}

async fn submit_resize(server: &TestServer, extra: Value) -> String {
    let mut body = json!({"task_type": "resize", "parameters": {"width": 10}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = server.submit(body).await;
    assert_eq!(response.status(), 200);
    let task: Value = response.json().await.unwrap();
    assert_eq!(
        task["queue"], "resize",
        "an external kind joins its own queue"
    );
    task["id"].as_str().unwrap().to_string()
}

async fn claim(server: &TestServer, body: Value) -> Vec<Value> {
    let (status, claimed) = post(server, "/api/workers/claim", body).await;
    assert_eq!(status, 200, "{claimed}");
    claimed.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_worker_claims_reports_progress_and_completes_once() {
    let server = TestServer::start_with(with_kinds).await;
    let id = submit_resize(&server, json!({})).await;

    let claimed = claim(
        &server,
        json!({"worker": "py-1", "queues": ["resize"], "max": 5}),
    )
    .await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0]["id"], id.as_str());
    assert_eq!(claimed[0]["attempt"], 1);
    assert_eq!(claimed[0]["parameters"], json!({"width": 10}));
    assert!(
        claim(&server, json!({"worker": "py-1", "queues": ["resize"]}))
            .await
            .is_empty()
    );

    let beat = json!({"attempt": 1, "progress": 40, "message": "half way"});
    let (status, answer) = post(&server, &format!("/api/workers/tasks/{id}/heartbeat"), beat).await;
    assert_eq!(
        (status, &answer["cancel_requested"]),
        (200, &json!(false)),
        "{answer}"
    );
    let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
    assert_eq!(
        (
            &task["status"],
            &task["progress"],
            &task["progress_message"]
        ),
        (&json!("RUNNING"), &json!(40), &json!("half way"))
    );

    let done = json!({"attempt": 1, "result": {"width": 10, "ok": true}});
    let path = format!("/api/workers/tasks/{id}/complete");
    assert_eq!(post(&server, &path, done.clone()).await.0, 204);
    let task = server.wait_final(&id).await;
    assert_eq!(task["status"], "SUCCESS");
    assert_eq!(task["result_data"], json!({"width": 10, "ok": true}));
    assert_eq!(task["attempts"][0]["worker_id"], "external:py-1");
    // A second report of the same attempt changes nothing.
    let (status, refusal) = post(&server, &path, done).await;
    assert_eq!(status, 409, "{refusal}");
    let fail = json!({"attempt": 1, "error": "late"});
    let (status, _) = post(&server, &format!("/api/workers/tasks/{id}/fail"), fail).await;
    assert_eq!(status, 409);
    // A late heartbeat is refused too, without touching the finished task.
    let beat = json!({"attempt": 1, "progress": 90});
    let (status, _) = post(&server, &format!("/api/workers/tasks/{id}/heartbeat"), beat).await;
    assert_eq!(status, 409);
    assert_eq!(server.wait_final(&id).await["status"], "SUCCESS");
    assert_eq!(server.wait_final(&id).await["progress"], 100);

    // Reports about a task that does not exist are 404, not 409.
    let ghost = "01000000-0000-7000-8000-000000000000";
    for (call, body) in [
        ("heartbeat", json!({"attempt": 1, "progress": 5})),
        (
            "heartbeat",
            json!({"attempt": 1, "message": "only a message"}),
        ),
        ("complete", json!({"attempt": 1, "result": {}})),
        ("fail", json!({"attempt": 1, "error": "x"})),
    ] {
        let (status, answer) =
            post(&server, &format!("/api/workers/tasks/{ghost}/{call}"), body).await;
        assert_eq!(status, 404, "{call}: {answer}");
    }
    server.stop().await;
}

#[tokio::test]
async fn failures_follow_the_workers_word_and_the_tasks_policy() {
    let server = TestServer::start_with(with_kinds).await;
    let later = submit_resize(&server, json!({"max_attempts": 3})).await;
    let never = submit_resize(&server, json!({"max_attempts": 3})).await;
    let claimed = claim(
        &server,
        json!({"worker": "w", "queues": ["resize"], "max": 2}),
    )
    .await;
    assert_eq!(claimed.len(), 2);

    let wrong_attempt = json!({"attempt": 2, "error": "not mine"});
    let (status, _) = post(
        &server,
        &format!("/api/workers/tasks/{later}/fail"),
        wrong_attempt,
    )
    .await;
    assert_eq!(status, 409);

    let retry = json!({"attempt": 1, "error": "rate limited", "retry_after_secs": 3600});
    let (status, _) = post(&server, &format!("/api/workers/tasks/{later}/fail"), retry).await;
    assert_eq!(status, 204);
    let (_, task) = server.get_json(&format!("/api/tasks/{later}")).await;
    assert_eq!(task["status"], "SCHEDULED", "{task}");
    assert_eq!(task["error_message"], "rate limited");
    let run_at: chrono::DateTime<chrono::Utc> = task["run_at"].as_str().unwrap().parse().unwrap();
    assert!(
        run_at > chrono::Utc::now() + chrono::Duration::minutes(50),
        "{task}"
    );

    let permanent = json!({"attempt": 1, "error": "corrupt image", "retryable": false});
    let (status, _) = post(
        &server,
        &format!("/api/workers/tasks/{never}/fail"),
        permanent,
    )
    .await;
    assert_eq!(status, 204);
    let task = server.wait_final(&never).await;
    assert_eq!(
        (&task["status"], &task["attempt"]),
        (&json!("FAILED"), &json!(1))
    );
    assert_eq!(task["error_message"], "corrupt image");
    server.stop().await;
}

#[tokio::test]
async fn a_dead_workers_task_is_rescued_and_its_late_report_refused() {
    let server = TestServer::start_with(with_kinds).await;
    let id = submit_resize(&server, json!({})).await;
    let first = claim(
        &server,
        json!({"worker": "dies", "queues": ["resize"], "lease_secs": 2}),
    )
    .await;
    assert_eq!(first[0]["attempt"], 1);

    // The worker never heartbeats; once its lease is over the rescuer puts the task back
    // and another worker gets it as attempt 2.
    let deadline = Instant::now() + Duration::from_secs(120);
    let second = loop {
        let body = json!({"worker": "lives", "queues": ["resize"], "wait_secs": 1});
        let claimed = claim(&server, body).await;
        if let Some(task) = claimed.into_iter().next() {
            break task;
        }
        assert!(Instant::now() < deadline, "the task was never rescued");
    };
    assert_eq!((&second["id"], &second["attempt"]), (&json!(id), &json!(2)));

    let late = json!({"attempt": 1, "result": "from the dead"});
    let (status, refusal) = post(&server, &format!("/api/workers/tasks/{id}/complete"), late).await;
    assert_eq!(status, 409, "{refusal}");
    let beat = json!({"attempt": 1});
    let (status, _) = post(&server, &format!("/api/workers/tasks/{id}/heartbeat"), beat).await;
    assert_eq!(status, 409);

    let done = json!({"attempt": 2, "result": "alive"});
    assert_eq!(
        post(&server, &format!("/api/workers/tasks/{id}/complete"), done)
            .await
            .0,
        204
    );
    let task = server.wait_final(&id).await;
    assert_eq!(
        (&task["status"], &task["result_data"]),
        (&json!("SUCCESS"), &json!("alive"))
    );
    let outcomes: Vec<_> = task["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("LOST"), json!("SUCCESS")]);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_claim_waits_for_the_next_submit() {
    let server = TestServer::start_with(with_kinds).await;
    let waiting = {
        let client = server.client.clone();
        let url = server.url("/api/workers/claim");
        tokio::spawn(async move {
            let body = json!({"worker": "idle", "queues": ["resize"], "wait_secs": 30});
            let response = client.post(url).json(&body).send().await.unwrap();
            response.json::<Vec<Value>>().await.unwrap()
        })
    };
    // Without the wait, the claim would have answered an empty list before this submit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = submit_resize(&server, json!({})).await;
    let claimed = waiting.await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0]["id"], id.as_str());
    server.stop().await;
}

#[tokio::test]
async fn bad_claims_and_misplaced_submits_are_refused() {
    let server = TestServer::start_with(with_kinds).await;
    for (body, field) in [
        (json!({"worker": "w", "queues": []}), "queues"),
        (json!({"worker": "", "queues": ["resize"]}), "worker"),
        (json!({"worker": "w", "queues": ["no spaces"]}), "queues[0]"),
        (
            json!({"worker": "w", "queues": ["resize"], "max": 0}),
            "max",
        ),
        (
            json!({"worker": "w", "queues": ["resize"], "wait_secs": 31}),
            "wait_secs",
        ),
        (
            json!({"worker": "w", "queues": ["resize"], "lease_secs": 1}),
            "lease_secs",
        ),
        (json!({"worker": "w", "queues": ["default"]}), "queues"),
    ] {
        let (status, refusal) = post(&server, "/api/workers/claim", body.clone()).await;
        assert_eq!(status, 422, "{body} → {refusal}");
        assert_eq!(refusal["error"]["details"][0]["field"], field, "{refusal}");
    }
    let (status, _) = post(&server, "/api/workers/claim", json!({"queues": ["resize"]})).await;
    assert_eq!(status, 422, "a claim names its worker");

    // This process's own workers take `default`: they could not run an external kind.
    let misplaced = json!({"task_type": "resize", "parameters": {}, "queue": "default"});
    let response = server.submit(misplaced).await;
    assert_eq!(response.status(), 422);
    let refusal: Value = response.json().await.unwrap();
    assert_eq!(
        refusal["error"]["details"][0]["field"], "queue",
        "{refusal}"
    );
    let not_an_object = json!({"task_type": "resize", "parameters": [1, 2]});
    assert_eq!(server.submit(not_an_object).await.status(), 422);
    assert_eq!(server.stored_tasks().await, 0, "nothing refused was stored");
    server.stop().await;
}

#[tokio::test]
async fn misdeclared_external_kinds_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("spool.db").display());
    let cases: [(&str, &str, &str); 4] = [
        ("resize", "default", "worked by Spool's own workers"),
        ("noop", "elsewhere", "also a kind this process runs"),
        ("a b", "q", "not a kind name"),
        ("resize", "resize", "declared twice"),
    ];
    for (name, queue, reason) in cases {
        let mut config = ServeConfig::with_database(url.clone());
        config.engine.data_dir = dir.path().join("data");
        let mut spool = spool::Spool::from_config(config).external_kind(name, queue);
        if reason == "declared twice" {
            spool = spool.external_kind(name, queue);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let refused = spool.serve(listener, async {}).await;
        let Err(spool::ServeError::Refused(text)) = refused else {
            panic!("{name}={queue} was not refused: {refused:?}");
        };
        assert!(text.contains(reason), "{name}={queue}: {text}");
    }
}

/// `serve --no-workers` runs no pool, but the `spool worker` processes beside it take the
/// queues its settings name: an external kind is refused there all the same.
#[tokio::test]
async fn without_workers_the_queues_of_spool_worker_are_still_refused() {
    let Some(schema) = crate::databases::postgres_schema().await else {
        return;
    };
    let server = TestServer::start_with(|config| {
        config.engine.database_url = schema.url.clone();
        config.no_workers = true;
        with_kinds(config);
    })
    .await;
    let misplaced = json!({"task_type": "resize", "parameters": {}, "queue": "default"});
    assert_eq!(server.submit(misplaced).await.status(), 422);
    let claim = json!({"worker": "w", "queues": ["default"]});
    assert_eq!(post(&server, "/api/workers/claim", claim).await.0, 422);
    let id = submit_resize(&server, json!({})).await;
    let claimed = claim_one(&server).await;
    assert_eq!(claimed["id"], id.as_str());
    server.stop().await;
}

async fn claim_one(server: &TestServer) -> Value {
    let claimed = claim(server, json!({"worker": "w", "queues": ["resize"]})).await;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    claimed[0].clone()
}
