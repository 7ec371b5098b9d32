//! Operators' actions on one task through REST and the CLI: run now, delete a finished
//! task (on its own route: the seed's DELETE still cancels), edit the parameters and
//! retry; each recorded in the audit log with its access and address, and every refusal
//! changing nothing. The log's old entries are pruned a batch at a time.

use crate::cli::{spool, stderr, stdout};
use crate::support::TestServer;
use serde_json::{json, Value};

/// How many tasks `/api/stats` counts in `status`.
async fn by_status(server: &TestServer, status: &str) -> u64 {
    let (_, stats) = server.get_json("/api/stats").await;
    stats["by_status"][status].as_u64().unwrap_or(0)
}

async fn audit_of(server: &TestServer, id: &str) -> Vec<Value> {
    let (status, entries) = server.get_json(&format!("/api/audit?task={id}")).await;
    assert_eq!(status, 200, "{entries}");
    entries.as_array().unwrap().clone()
}

#[tokio::test]
async fn run_now_and_delete_act_only_in_their_states_and_are_audited() {
    let server = TestServer::start().await;
    let delayed = server
        .submit_id(json!({"task_type": "noop", "delay_ms": 600_000}))
        .await;
    let (_, task) = server.get_json(&format!("/api/tasks/{delayed}")).await;
    assert_eq!(task["status"], "SCHEDULED");

    // Not finished: cannot be deleted, and nothing is recorded.
    let (status, answer) = server
        .post_answer(&format!("/api/tasks/{delayed}/delete"))
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(audit_of(&server, &delayed).await.is_empty());

    let (status, answer) = server
        .post_answer(&format!("/api/tasks/{delayed}/run-now"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_ne!(answer["status"], "SCHEDULED", "{answer}");
    let done = server.wait_final(&delayed).await;
    assert_eq!(done["status"], "SUCCESS");
    let (status, _) = server
        .post_answer(&format!("/api/tasks/{delayed}/run-now"))
        .await;
    assert_eq!(status, 409, "a finished task cannot be run now");

    let succeeded = by_status(&server, "SUCCESS").await;
    let (status, _) = server
        .post_answer(&format!("/api/tasks/{delayed}/delete"))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        by_status(&server, "SUCCESS").await,
        succeeded - 1,
        "the counters stay exact"
    );
    let (status, _) = server.get_json(&format!("/api/tasks/{delayed}")).await;
    assert_eq!(status, 404);
    let (status, _) = server
        .post_answer(&format!("/api/tasks/{delayed}/delete"))
        .await;
    assert_eq!(status, 404);

    // The entries outlive the task, newest first, with how and from where.
    let entries = audit_of(&server, &delayed).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "run_now"]);
    for entry in &entries {
        assert_eq!(
            (&entry["access"], &entry["address"], &entry["changed"]),
            (&json!("local"), &json!("127.0.0.1"), &json!(1)),
            "{entry}"
        );
        assert_eq!(entry["task_id"], delayed.as_str());
    }

    // The seed's DELETE still cancels.
    let waiting = server
        .submit_id(json!({"task_type": "noop", "delay_ms": 600_000}))
        .await;
    let response = server.delete(&format!("/api/tasks/{waiting}")).await;
    assert_eq!(response.status(), 200);
    let (_, task) = server.get_json(&format!("/api/tasks/{waiting}")).await;
    assert_eq!(task["status"], "CANCELLED");
    assert_eq!(audit_of(&server, &waiting).await[0]["action"], "cancel");

    for (path, expected) in [
        (format!("/api/tasks/{}/run-now", uuid::Uuid::new_v4()), 404),
        ("/api/tasks/nope/run-now".to_string(), 400),
        ("/api/tasks/nope/delete".to_string(), 400),
    ] {
        assert_eq!(server.post_answer(&path).await.0, expected, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_edited_retry_is_checked_like_a_submit_and_keeps_both_parameters() {
    let server = TestServer::start().await;
    let body =
        json!({"task_type": "data_processing", "parameters": {"rows": 5}, "delay_ms": 600_000});
    let id = server.submit_id(body).await;
    assert_eq!(
        server.delete(&format!("/api/tasks/{id}")).await.status(),
        200
    );
    let edit = format!("/api/tasks/{id}/edit-and-retry");

    let bad = json!({"parameters": {"rows": 0, "pace_ms": 0}});
    let (status, answer) = server.post_json(&edit, &bad).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["error"]["details"][0]["field"], "parameters.rows",
        "{answer}"
    );
    for (content_type, body, expected) in [
        ("text/plain", r#"{"parameters": {}}"#, 415),
        ("application/json", "{not json", 400),
        (
            "application/json",
            r#"{"parameters": {}, "colour": 1}"#,
            422,
        ),
        ("application/json", r#"{"rows": 3}"#, 422),
    ] {
        let response = server
            .client
            .post(server.url(&edit))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{content_type} {body}");
    }
    let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
    assert_eq!(
        (&task["status"], &task["parameters"]["rows"]),
        (&json!("CANCELLED"), &json!(5)),
        "refusals change nothing"
    );

    let good = json!({"parameters": {"rows": 20, "pace_ms": 0}});
    let (status, answer) = server.post_json(&edit, &good).await;
    assert_eq!(status, 200, "{answer}");
    let done = server.wait_final(&id).await;
    assert_eq!(
        (&done["status"], &done["result_data"]["rows"]),
        (&json!("SUCCESS"), &json!(20)),
        "{done}"
    );

    let entries = audit_of(&server, &id).await;
    assert_eq!(entries[0]["action"], "edit_retry");
    assert_eq!(entries[0]["details"]["old"]["rows"], 5);
    assert_eq!(entries[0]["details"]["new"]["rows"], 20);
    assert_eq!(entries[1]["action"], "cancel");
    // Only changes are recorded: the refusals above left nothing.
    assert_eq!(entries.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_token_holders_actions_are_recorded_as_theirs_and_the_read_only_token_only_reads() {
    const FULL: &str = "full-access-token-for-audit";
    const READ: &str = "read-only-token-for-audit";
    let server = TestServer::start_with(|config| {
        config.access.token = Some(FULL.into());
        config.access.read_only_token = Some(READ.into());
    })
    .await;
    let submitted = server
        .client
        .post(server.url("/api/tasks/submit"))
        .bearer_auth(FULL)
        .json(&json!({"task_type": "noop", "delay_ms": 600_000}))
        .send()
        .await
        .unwrap();
    let id = submitted.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run_now = server.url(&format!("/api/tasks/{id}/run-now"));
    let refused = server
        .client
        .post(&run_now)
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let done = server
        .client
        .post(&run_now)
        .bearer_auth(FULL)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let entries: Value = server
        .client
        .get(server.url(&format!("/api/audit?task={id}")))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(
        (&entries[0]["action"], &entries[0]["access"]),
        (&json!("run_now"), &json!("token"))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_now_retries_with_changes_deletes_and_shows_the_audit() {
    let server = TestServer::start().await;
    let body = json!({"task_type": "data_processing", "parameters": {"rows": 5, "pace_ms": 0}, "delay_ms": 600_000});
    let id = server.submit_id(body).await;
    let output = spool(&server, &["run-now", &id, "--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.wait_final(&id).await["status"], "SUCCESS");

    let output = spool(&server, &["retry", &id, "--set", "rows=7"]).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "a SUCCESS task is not retried"
    );
    assert!(stderr(&output).contains("HTTP 409"), "{}", stderr(&output));

    let waiting = server.submit_id(json!({"task_type": "data_processing", "parameters": {"rows": 5, "pace_ms": 0}, "delay_ms": 600_000})).await;
    assert_eq!(
        spool(&server, &["cancel", &waiting]).await.status.code(),
        Some(0)
    );
    let output = spool(&server, &["retry", &waiting, "--set", "rows=7"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let done = server.wait_final(&waiting).await;
    assert_eq!(
        (&done["result_data"]["rows"], &done["parameters"]["pace_ms"]),
        (&json!(7), &json!(0)),
        "only rows changed: {done}"
    );
    let output = spool(&server, &["retry", &waiting, "--set", "rows"]).await;
    assert_eq!(output.status.code(), Some(2));

    let output = spool(&server, &["delete", &waiting]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("deleted {waiting}")));

    let output = spool(&server, &["audit", "--task", &waiting, "--json"]).await;
    assert_eq!(output.status.code(), Some(0));
    let entries: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "edit_retry", "cancel"]);
    let output = spool(&server, &["audit"]).await;
    let text = stdout(&output);
    assert!(
        text.contains("run_now") && text.contains("edit_retry") && text.contains("\"rows\":7"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_edited_retry_keeps_the_secrets_the_editor_was_shown_hidden() {
    use spool::testing::queue::Actor;
    use spool::testing::store::Synchronous;
    use spool::testing::tasks::{KindSettings, Registry};
    let (store, _dir) = crate::store::open_store(Synchronous::Normal).await;
    let registry = Registry::builtin(&KindSettings::in_dir("unused"));
    let engine = spool::testing::engine::Engine::builder(store.clone(), registry).start();
    let queue = engine.queue.clone();
    let request = serde_json::from_value(json!({
        "task_type": "http",
        "parameters": {"url": "https://api.example.test/v1?token=s3cret",
                       "headers": {"Authorization": "Bearer s3cret", "Accept": "text/plain"}},
        "delay_ms": 600_000
    }))
    .unwrap();
    let id = queue.submit(request).await.unwrap().id;
    queue.cancel(id, &Actor::local()).await.unwrap();
    // The editor starts from the task as shown: its secrets hidden.
    let mut edited = queue.get(id).await.unwrap().parameters;
    assert_eq!(edited["headers"]["Authorization"], "(hidden)");
    edited["timeout_ms"] = json!(5000);
    edited["headers"]["Accept"] = json!("application/json");
    queue
        .edit_and_retry(id, edited, &Actor::local())
        .await
        .unwrap();

    let stored = store.get(id).await.unwrap().unwrap().parameters;
    assert_eq!(stored["headers"]["Authorization"], "Bearer s3cret");
    assert_eq!(stored["url"], "https://api.example.test/v1?token=s3cret");
    assert_eq!(
        (&stored["timeout_ms"], &stored["headers"]["Accept"]),
        (&json!(5000), &json!("application/json"))
    );
    let entries = queue.audit(Some(id), None, 10).await.unwrap();
    assert_eq!(entries[0].action, "edit_retry");
    let details = entries[0].details.as_ref().unwrap().to_string();
    assert!(!details.contains("s3cret"), "{details}");
    assert!(details.contains("application/json"), "{details}");
    engine.stop().await;
}

#[tokio::test]
async fn audit_entries_past_their_retention_are_pruned_in_batches_and_newer_ones_kept() {
    use crate::databases::each_store;
    use spool::testing::store::{AuditNote, Synchronous};
    each_store(Synchronous::Normal, |store| async move {
        let note = |at: i64| AuditNote {
            at,
            action: "bulk_cancel",
            access: "local".into(),
            address: None,
            task_id: None,
            filter: Some("queue=default".into()),
            changed: 1,
            details: None,
        };
        // More than two batches of old entries, then a few newer ones.
        let old = 2_100;
        for at in 0..old {
            store.record_audit(note(at)).await.unwrap();
        }
        for at in [10_000, 10_001, 10_002] {
            store.record_audit(note(at)).await.unwrap();
        }
        assert_eq!(store.prune_audit(5_000).await.unwrap(), old as u64);
        let kept: Vec<i64> = store
            .audit_page(None, None, 100)
            .await
            .unwrap()
            .iter()
            .map(|entry| entry.at.timestamp_micros())
            .collect();
        assert_eq!(kept, [10_002, 10_001, 10_000]);
        assert_eq!(
            store.prune_audit(5_000).await.unwrap(),
            0,
            "nothing left to prune"
        );
    })
    .await;
}
