//! Hostile input over REST: deep JSON, huge values, markup and odd unicode in every
//! field, and abused paging. Every request is refused with a 4xx naming no internals,
//! and nothing is stored.

use crate::support::TestServer;
use serde_json::{json, Value};

const MARKUP: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";
/// Right-to-left override, zero-width joiner, a lone combining mark, an emoji, NUL.
const ODD_UNICODE: &str = "\u{202e}evil\u{200d}\u{0301}😀\u{0000}";

fn nested(depth: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

#[tokio::test]
async fn hostile_submits_are_refused_with_4xx_and_store_nothing() {
    let server = TestServer::start().await;
    let submit = || server.client.post(server.url("/api/tasks/submit"));
    let noop = |extra: Value| {
        let mut body = json!({"task_type": "noop", "parameters": {}});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };

    let mut requests = vec![
        // Deep JSON: in the parameters, and as the whole body.
        submit()
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"task_type": "noop", "parameters": {}}}"#,
                nested(5_000)
            )),
        submit()
            .header("content-type", "application/json")
            .body(format!("{}{}", "[".repeat(50_000), "]".repeat(50_000))),
        // Huge values that fit in the body limit.
        submit().json(&json!({"task_type": "x".repeat(200_000)})),
        submit().json(&noop(json!({"queue": "q".repeat(100_000)}))),
        submit().json(&json!({"task_type": "data_processing", "parameters": {"rows": 1e300}})),
        submit().json(
            &json!({"task_type": "data_processing", "parameters": {"rows": "9".repeat(5_000)}}),
        ),
        submit().json(&noop(json!({"priority": 99_999_999_999_i64}))),
        submit().json(&noop(json!({"delay_ms": i64::MAX}))),
        submit().json(&noop(json!({"timeout_ms": -1}))),
        submit().json(&noop(json!({"max_attempts": "3"}))),
        submit().json(&noop(json!({"run_at": "9999-99-99T99:99:99Z"}))),
        submit()
            .header("Idempotency-Key", "k".repeat(10_000))
            .json(&noop(json!({}))),
        // Markup and odd unicode wherever a string goes.
        submit().json(&json!({"task_type": MARKUP})),
        submit().json(&json!({"task_type": ODD_UNICODE})),
        submit().json(&noop(json!({"queue": MARKUP}))),
        submit().json(&noop(json!({"queue": ODD_UNICODE}))),
        submit().json(&json!({"task_type": "noop", "parameters": {MARKUP: 1}})),
        submit()
            .json(&json!({"task_type": "image_processing", "parameters": {"operation": MARKUP}})),
        submit().json(&noop(json!({MARKUP: ODD_UNICODE}))),
        // Not JSON, or JSON of the wrong shape.
        submit()
            .header("content-type", "application/json")
            .body(vec![0xff, 0xfe, 0x00]),
        submit().json(&json!([noop(json!({}))])),
        submit().json(&json!("noop")),
        // Batches: empty, too many, one bad among good.
        server
            .client
            .post(server.url("/api/tasks/batch"))
            .json(&json!([])),
        server
            .client
            .post(server.url("/api/tasks/batch"))
            .json(&vec![json!({"task_type": "noop"}); 10_001]),
        server
            .client
            .post(server.url("/api/tasks/batch"))
            .json(&json!([noop(json!({})), {"task_type": MARKUP}])),
    ];
    // Paging and lookups.
    for query in [
        "limit=-1",
        "limit=99999999999999999999",
        "limit=1e3",
        "limit=%00",
        "cursor=garbage",
        "cursor=%3Cscript%3E",
        &format!("cursor={}", "A".repeat(20_000)),
        &format!("q={}", "x".repeat(10_000)),
        "status=%3Cscript%3E",
    ] {
        requests.push(
            server
                .client
                .get(server.url(&format!("/api/tasks/?{query}"))),
        );
    }
    requests.push(server.client.get(server.url("/api/tasks/%3Cscript%3E")));
    // The dashboard's server functions are endpoints too, and bounded the same way.
    let padding = "x".repeat(1 << 20);
    requests.push(
        server
            .client
            .post(server.url("/api/submit_task"))
            .json(&json!({"request": {"task_type": "noop", "parameters": {"padding": padding}}})),
    );
    requests.push(
        server
            .client
            .post(server.url(&format!("/api/queues/{}/pause", "q".repeat(5_000)))),
    );

    let count = requests.len();
    for (i, request) in requests.into_iter().enumerate() {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert!(
            (400..500).contains(&status),
            "request {i}: {status} {text:.300}"
        );
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("request {i}: not JSON: {text:.300}"));
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "request {i}: {body:.300}");
        for internal in ["sqlite", "sqlx", "SELECT", "panicked", "/src/"] {
            assert!(
                !text.contains(internal),
                "request {i} leaks {internal}: {text:.300}"
            );
        }
    }
    let stored = server.stored_tasks().await;
    assert_eq!(stored, 0, "{count} hostile requests stored {stored} tasks");
    let (status, _) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "the server is still well");
    server.stop().await;
}
