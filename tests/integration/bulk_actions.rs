//! Bulk actions on every task a filter selects, through REST and the CLI: counted first,
//! narrowed to the statuses the action applies to, done a chunk per request from where
//! the last chunk stopped, and audited once per request with the filter.

use crate::cli::{spool, stderr, stdout};
use crate::support::TestServer;
use serde_json::{json, Value};

/// What `GET /api/tasks/count?{query}` answers, checked to be a 200.
async fn count(server: &TestServer, query: &str) -> (u64, bool) {
    let (status, answer) = server.get_json(&format!("/api/tasks/count?{query}")).await;
    assert_eq!(status, 200, "{query}: {answer}");
    (
        answer["count"].as_u64().unwrap(),
        answer["more"].as_bool().unwrap(),
    )
}

/// Submits `n` tasks delayed out of reach in `queue`; their ids.
async fn held(server: &TestServer, queue: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let body = json!({"task_type": "noop", "queue": queue, "delay_ms": 600_000});
        ids.push(server.submit_id(body).await);
    }
    ids
}

#[tokio::test]
async fn bulk_actions_by_filter_are_audited_once_with_their_filter() {
    let server = TestServer::start().await;
    held(&server, "held", 3).await;
    let stored = server.stored_tasks().await;
    let (status, answer) = server.post_answer("/api/tasks/cancel?queue=held").await;
    assert_eq!((status, &answer["changed"]), (200, &json!(3)), "{answer}");
    let (status, answer) = server
        .post_answer("/api/tasks/delete?queue=held&status=CANCELLED")
        .await;
    assert_eq!((status, &answer["changed"]), (200, &json!(3)), "{answer}");
    assert_eq!(server.stored_tasks().await, stored - 3);
    // Nothing left to delete: nothing recorded.
    let (_, answer) = server.post_answer("/api/tasks/delete?queue=held").await;
    assert_eq!(answer["changed"], 0);
    assert_eq!(
        server.post_answer("/api/tasks/delete").await.0,
        400,
        "a filter is required"
    );

    let (status, entries) = server.get_json("/api/audit?limit=2").await;
    assert_eq!(status, 200);
    let summary: Vec<(Value, Value, Value)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].clone(),
                e["filter"].clone(),
                e["changed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                json!("bulk_delete"),
                json!("status=CANCELLED&queue=held"),
                json!(3)
            ),
            (json!("bulk_cancel"), json!("queue=held"), json!(3)),
        ]
    );
    // Paging: the entry before the newest is the bulk cancel.
    let newest = entries[0]["id"].as_i64().unwrap();
    let (_, older) = server
        .get_json(&format!("/api/audit?before={newest}&limit=1"))
        .await;
    assert_eq!(older[0]["action"], "bulk_cancel");
    for query in ["before=0", "before=x", "limit=0", "limit=501", "task=nope"] {
        let (status, _) = server.get_json(&format!("/api/audit?{query}")).await;
        assert_eq!(status, 400, "{query}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_bulk_action_selects_only_where_it_applies_and_walks_on_by_cursor() {
    let server = TestServer::start().await;
    let ids = held(&server, "many", 5).await;
    for id in &ids[..2] {
        assert_eq!(
            server.delete(&format!("/api/tasks/{id}")).await.status(),
            200
        );
    }
    // Three wait, two are cancelled: each action counts only its own.
    assert_eq!(count(&server, "queue=many&action=cancel").await, (3, false));
    assert_eq!(count(&server, "queue=many&action=retry").await, (2, false));
    assert_eq!(count(&server, "queue=many&action=delete").await, (2, false));
    assert_eq!(count(&server, "queue=many").await, (5, false));
    assert_eq!(
        count(&server, "queue=many&status=CANCELLED&action=cancel").await,
        (0, false)
    );
    assert_eq!(
        count(&server, "queue=other&action=cancel").await,
        (0, false)
    );
    for bad in ["action=nuke", "status=DONE", "action=Cancel"] {
        let (status, answer) = server.get_json(&format!("/api/tasks/count?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }

    // A status the action does not apply to selects nothing, and changes nothing.
    let (status, answer) = server
        .post_answer("/api/tasks/retry?queue=many&status=SCHEDULED")
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["changed"], &answer["skipped"]),
        (&json!(0), &json!(0))
    );

    // Two at a time: the first chunk says where to go on; the cancelled tasks are never
    // selected, so nothing is skipped.
    let (status, first) = server
        .post_answer("/api/tasks/cancel?queue=many&limit=2")
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (&first["changed"], &first["skipped"]),
        (&json!(2), &json!(0)),
        "{first}"
    );
    let cursor = first["next"].as_str().expect("more follow").to_string();
    let (status, second) = server
        .post_answer(&format!(
            "/api/tasks/cancel?queue=many&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        (&second["changed"], &second["skipped"]),
        (&json!(1), &json!(0)),
        "{second}"
    );
    assert!(second.get("next").is_none(), "the last chunk: {second}");
    assert_eq!(count(&server, "queue=many&action=cancel").await, (0, false));
    assert_eq!(count(&server, "queue=many&action=retry").await, (5, false));

    // One audit entry per chunk, naming the filter.
    let (_, entries) = server.get_json("/api/audit?limit=2").await;
    let chunks: Vec<(&Value, &Value)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (&e["action"], &e["changed"]))
        .collect();
    assert_eq!(
        chunks,
        [
            (&json!("bulk_cancel"), &json!(1)),
            (&json!("bulk_cancel"), &json!(2))
        ]
    );
    assert_eq!(entries[0]["filter"], "queue=many");

    for bad in [
        "queue=many&cursor=nope",
        "queue=many&limit=0",
        "queue=many&limit=10001",
        "queue=many&status=DONE",
        "limit=5",
    ] {
        let (status, answer) = server.post_answer(&format!("/api/tasks/retry?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    assert_eq!(
        count(&server, "queue=many&status=CANCELLED").await,
        (5, false),
        "refusals change nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn acting_from_the_counts_cursor_leaves_tasks_made_since_alone() {
    let server = TestServer::start().await;
    let counted = held(&server, "late", 2).await;
    let (status, answer) = server
        .get_json("/api/tasks/count?queue=late&action=cancel")
        .await;
    assert_eq!((status, &answer["count"]), (200, &json!(2)), "{answer}");
    let cursor = answer["cursor"].as_str().expect("a cursor").to_string();
    let later = held(&server, "late", 1).await;
    let (status, done) = server
        .post_answer(&format!("/api/tasks/cancel?queue=late&cursor={cursor}"))
        .await;
    assert_eq!((status, &done["changed"]), (200, &json!(2)), "{done}");
    for id in &counted {
        let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
        assert_eq!(task["status"], "CANCELLED");
    }
    let (_, task) = server.get_json(&format!("/api/tasks/{}", later[0])).await;
    assert_eq!(task["status"], "SCHEDULED", "made after the count");

    // The dashboard's server function refuses a filter of blanks, as REST refuses none.
    let (status, answer) = server
        .post_json(
            "/api/act_on_matching",
            &json!({"filter": {"q": "", "queue": ""}, "action": "delete"}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_states_how_many_asks_for_yes_and_acts_in_chunks() {
    let server = TestServer::start().await;
    held(&server, "cli", 3).await;
    let output = spool(&server, &["bulk", "cancel", "--queue", "cli"]).await;
    assert_eq!(output.status.code(), Some(2), "no terminal to ask at");
    let said = stderr(&output);
    assert!(
        said.contains("cancel 3 task(s) matching queue=cli") && said.contains("--yes"),
        "{said}"
    );
    assert_eq!(count(&server, "queue=cli&action=cancel").await, (3, false));

    let output = spool(
        &server,
        &["bulk", "cancel", "--queue", "cli", "--yes", "--chunk", "2"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cancelled 2 of 3"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("cancelled 3, skipped 0"),
        "{}",
        stdout(&output)
    );
    assert_eq!(count(&server, "queue=cli&action=cancel").await, (0, false));

    let output = spool(
        &server,
        &["bulk", "delete", "--queue", "cli", "--yes", "--json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let done: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(done, json!({"changed": 3, "skipped": 0}));

    // Nothing matches: nothing to ask, nothing done.
    let output = spool(&server, &["bulk", "retry", "--queue", "cli"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("retried 0"), "{}", stdout(&output));

    for args in [
        &["bulk", "delete", "--yes"][..],
        &["bulk", "nuke", "--queue", "cli", "--yes"],
        &["bulk", "cancel", "--queue", "cli", "--chunk", "0"],
        &["bulk", "cancel", "--status", "DONE", "--yes"],
    ] {
        let output = spool(&server, args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    server.stop().await;
}
