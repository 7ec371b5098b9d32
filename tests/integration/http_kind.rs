//! The built-in `http` kind through the REST API: a local endpoint reached because
//! `--http-allow` names it, its answer recorded, credentials hidden wherever the task is
//! shown; private destinations and redirects to them refused once, never retried.

use crate::support::TestServer;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// An endpoint that answers what it received, and one that redirects to 127.0.0.2.
async fn endpoint() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let away = format!("http://127.0.0.2:{}/hook", address.port());
    let app = axum::Router::new()
        .route(
            "/hook",
            post(|headers: HeaderMap, body: String| async move {
                let auth = headers.get("authorization").is_some();
                ([("x-delivery", "42")], format!("auth={auth} body={body}"))
            }),
        )
        .route(
            "/away",
            post(move || async move { (axum::http::StatusCode::FOUND, [("location", away)]) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

async fn allowed_server(endpoint: SocketAddr) -> TestServer {
    TestServer::start_with(|config| {
        config.engine.http_allow = vec![endpoint.to_string().parse().unwrap()];
    })
    .await
}

fn task(url: String) -> Value {
    json!({
        "task_type": "http",
        "max_attempts": 3,
        "parameters": {
            "method": "POST",
            "url": url,
            "headers": {"Authorization": "Bearer s3cret-token", "Content-Type": "application/json"},
            "body": "{\"event\":\"paid\"}",
            "keep_headers": "x-delivery",
        },
    })
}

async fn submit(server: &TestServer, body: Value) -> Value {
    let (status, task) = server.post_json("/api/tasks/submit", &body).await;
    assert_eq!(status, 200, "{task}");
    server.wait_final(task["id"].as_str().unwrap()).await
}

#[tokio::test]
async fn an_allowed_endpoint_is_called_and_its_answer_recorded_with_secrets_hidden() {
    let endpoint = endpoint().await;
    let server = allowed_server(endpoint).await;
    let done = submit(&server, task(format!("http://{endpoint}/hook"))).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    let result = &done["result_data"];
    assert_eq!(result["status"], 200);
    assert_eq!(result["body"], "auth=true body={\"event\":\"paid\"}");
    assert_eq!(result["headers"], json!({"x-delivery": "42"}));

    let shown = &done["parameters"]["headers"];
    assert_eq!(shown["Authorization"], "(hidden)", "{done}");
    assert_eq!(shown["Content-Type"], "application/json");
    let (_, list) = server.get_json("/api/tasks?task_type=http").await;
    let listed = list.to_string();
    assert!(list.to_string().contains("(hidden)"), "{listed}");
    assert!(!listed.contains("s3cret-token"), "{listed}");
    // Nor can a search find it a character at a time: an http task's parameters are
    // not searched.
    assert_eq!(
        server.get_json("/api/tasks/?q=s3cret").await,
        (200, json!([]))
    );
}

#[tokio::test]
async fn private_destinations_and_redirects_to_them_fail_at_once_without_retries() {
    let endpoint = endpoint().await;
    let server = allowed_server(endpoint).await;
    let away = submit(&server, task(format!("http://{endpoint}/away"))).await;
    assert_eq!(away["status"], "FAILED", "{away}");
    assert_eq!(away["attempt"], 1, "a refusal is not retried: {away}");
    let error = away["error_message"].as_str().unwrap();
    assert!(error.starts_with("refused: 127.0.0.2:"), "{error}");
    assert!(error.contains("loopback"), "{error}");

    let private = submit(&server, task("http://10.255.255.1/hook".into())).await;
    assert_eq!(private["status"], "FAILED", "{private}");
    assert_eq!(private["attempt"], 1, "{private}");
    assert!(private["error_message"]
        .as_str()
        .unwrap()
        .contains("a private address"));

    // The allowed endpoint on another port is refused too: the rule names one port.
    let other_port = format!(
        "http://127.0.0.1:{}/hook",
        endpoint.port().wrapping_add(1).max(1)
    );
    let refused = submit(&server, task(other_port)).await;
    assert_eq!(refused["status"], "FAILED", "{refused}");
    assert!(refused["error_message"]
        .as_str()
        .unwrap()
        .starts_with("refused:"));
}

#[tokio::test]
async fn parameters_that_cannot_work_are_refused_at_submit() {
    let server = TestServer::start().await;
    let before = server.stored_tasks().await;
    for (parameters, field) in [
        (json!({}), "parameters.url"),
        (json!({"url": "file:///etc/passwd"}), "parameters.url"),
        (
            json!({"url": "http://example.com", "headers": {"Content-Length": "1"}}),
            "parameters.headers",
        ),
        (
            json!({"url": "http://example.com", "success": "ok"}),
            "parameters.success",
        ),
        (
            json!({"url": "http://example.com", "timeout_ms": 0}),
            "parameters.timeout_ms",
        ),
        (
            json!({"url": "http://example.com", "headers": ["a"]}),
            "parameters.headers",
        ),
    ] {
        let body = json!({"task_type": "http", "parameters": parameters});
        let (status, answer) = server.post_json("/api/tasks/submit", &body).await;
        assert_eq!(status, 422, "{parameters}: {answer}");
        assert_eq!(
            answer["error"]["details"][0]["field"], field,
            "{parameters}: {answer}"
        );
    }
    assert_eq!(server.stored_tasks().await, before, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_sends_headers_as_json_and_shows_them_hidden() {
    use crate::cli::{spool, stderr, stdout};
    let endpoint = endpoint().await;
    let server = allowed_server(endpoint).await;
    let url = format!("url=http://{endpoint}/hook");
    let args = [
        "submit",
        "http",
        "method=POST",
        &url,
        r#"headers={"X-Api-Key":"k-secret"}"#,
        "body=hi",
    ];
    let output = spool(&server, &[&args[..], &["--wait", "--json"]].concat()).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains("k-secret"), "{text}");
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "SUCCESS", "{last}");
    assert_eq!(last["result_data"]["body"], "auth=false body=hi");
    assert_eq!(last["parameters"]["headers"]["X-Api-Key"], "(hidden)");
}
