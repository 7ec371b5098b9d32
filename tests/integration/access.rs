//! Access control through real HTTP: tokens for scripts, the login page and its session
//! cookie for browsers, the read-only token, and what an open (token-less) server
//! refuses: requests addressed to other host names, and cross-site changes.

use crate::support::{count_tasks, TestServer};
use reqwest::header::{ACCEPT, AUTHORIZATION, HOST, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

const FULL: &str = "full-access-token-for-tests";
const READ: &str = "read-only-token-for-tests";

async fn guarded() -> TestServer {
    TestServer::start_with(|config| {
        config.access.token = Some(FULL.into());
        config.access.read_only_token = Some(READ.into());
    })
    .await
}

fn noop() -> Value {
    json!({"task_type": "noop", "parameters": {}})
}

/// `GET path` with `token`, answered 200 with JSON.
async fn get_as(server: &TestServer, path: &str, token: &str) -> Value {
    let response = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// How many tasks the server holds, asked with the full token.
async fn stored(server: &TestServer) -> u64 {
    count_tasks(&get_as(server, "/api/stats", FULL).await)
}

#[tokio::test]
async fn scripts_need_a_valid_bearer_token_and_probes_do_not() {
    let server = guarded().await;
    let client = &server.client;

    let bare = client.get(server.url("/api/tasks/")).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(bare.headers()[WWW_AUTHENTICATE], "Bearer");
    let body: Value = bare.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    for wrong in [
        format!("Bearer {FULL}x"),
        format!("Basic {FULL}"),
        "Bearer".into(),
    ] {
        let response = client
            .post(server.url("/api/tasks/submit"))
            .header(AUTHORIZATION, &wrong)
            .json(&noop())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{wrong}");
    }
    assert_eq!(stored(&server).await, 0, "a refused submit stored nothing");

    let submitted = client
        .post(server.url("/api/tasks/submit"))
        .bearer_auth(FULL)
        .json(&noop())
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 200);
    assert_eq!(stored(&server).await, 1);

    for open in ["/healthz", "/api/openapi.json"] {
        let response = client.get(server.url(open)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{open}");
    }
    let metrics = client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 401, "metrics name queues and counts");
    server.stop().await;
}

#[tokio::test]
async fn the_read_only_token_looks_but_cannot_act() {
    let server = guarded().await;
    let client = &server.client;
    let task: Value = client
        .post(server.url("/api/tasks/submit"))
        .bearer_auth(FULL)
        .json(&noop())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = task["id"].as_str().unwrap();

    let listed = client
        .get(server.url("/api/tasks/"))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let overview = client
        .post(server.url("/api/overview"))
        .bearer_auth(READ)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), 200, "a reading server function");
    for (function, body) in [
        ("process_list", json!({})),
        (
            "count_matching",
            json!({"filter": {"queue": "default"}, "action": "cancel"}),
        ),
    ] {
        let read = client
            .post(server.url(&format!("/api/{function}")))
            .bearer_auth(READ)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{function} only reads");
    }
    let preview = client
        .post(server.url("/api/schedules/preview"))
        .bearer_auth(READ)
        .json(&json!({"cron": "0 9 * * *"}))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200, "explaining a timing changes nothing");

    let attempts = [
        client.post(server.url("/api/tasks/submit")).json(&noop()),
        client
            .post(server.url("/api/tasks/batch"))
            .json(&json!([noop()])),
        client.delete(server.url(&format!("/api/tasks/{id}"))),
        client.post(server.url("/api/queues/default/pause")),
        client
            .post(server.url("/api/submit_task"))
            .json(&json!({"request": noop()})),
        client
            .post(server.url("/api/act_on_matching"))
            .json(&json!({"filter": {"queue": "default"}, "action": "cancel"})),
        client
            .post(server.url("/api/set_queue_paused"))
            .json(&json!({"name": "default", "paused": true})),
        client
            .put(server.url("/api/schedules/nightly"))
            .json(&json!({"every_secs": 60, "task": noop()})),
        client
            .post(server.url("/api/save_schedule"))
            .json(&json!({"definition": {"name": "nightly", "every_secs": 60, "task": noop()}})),
        client.post(server.url("/api/schedules/nightly/run")),
    ];
    for attempt in attempts {
        let response = attempt.bearer_auth(READ).send().await.unwrap();
        let url = response.url().to_string();
        assert_eq!(response.status(), 403, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden", "{url}");
    }
    assert_eq!(stored(&server).await, 1, "nothing more was stored");
    let queues = get_as(&server, "/api/queues", READ).await;
    assert!(
        queues.to_string().contains("\"paused\":false"),
        "the queue was not paused: {queues}"
    );
    server.stop().await;
}

#[tokio::test]
async fn browsers_log_in_once_and_carry_an_http_only_strict_cookie() {
    let server = guarded().await;
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();

    let page = browser
        .get(server.url("/tasks?status=FAILED"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(
        page.headers()[LOCATION],
        "/login?next=/tasks%3Fstatus%3DFAILED"
    );
    let login_page = browser
        .get(server.url("/login?next=/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.status(), 200);
    assert!(login_page.text().await.unwrap().contains(r#"name="token""#));

    let refused = browser
        .post(server.url("/login"))
        .form(&[("token", "not-the-token-at-all"), ("next", "/tasks")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    assert!(refused.text().await.unwrap().contains("not valid"));

    let accepted = browser
        .post(server.url("/login"))
        .form(&[("token", FULL), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(accepted.headers()[LOCATION], "/", "no open redirect");
    let cookie = accepted.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let page = browser
        .get(server.url("/tasks"))
        .header(ACCEPT, "text/html")
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let submitted = browser
        .post(server.url("/api/submit_task"))
        .header("cookie", &session)
        .json(&json!({"request": noop()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        submitted.status(),
        200,
        "the dashboard's own calls ride the cookie"
    );

    let forged = session.replace(".full.", ".read.");
    let refused = browser
        .get(server.url("/api/tasks/"))
        .header("cookie", &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let logout = browser.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    assert!(logout.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    server.stop().await;
}

#[tokio::test]
async fn an_open_server_answers_only_loopback_names_and_refuses_cross_site_changes() {
    let server = TestServer::start().await;
    let client = &server.client;

    let rebound = client
        .get(server.url("/api/tasks/"))
        .header(HOST, "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403, "a DNS-rebound page is refused");
    let localhost = client
        .get(server.url("/api/tasks/"))
        .header(HOST, "localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), 200);

    let host = server.base.trim_start_matches("http://").to_string();
    let cross = [
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("sec-fetch-site", "same-site".to_string())],
        vec![("origin", "http://attacker.example".to_string())],
        vec![("origin", "null".to_string())],
    ];
    for headers in cross {
        for path in ["/api/tasks/submit", "/api/submit_task"] {
            let body = if path == "/api/submit_task" {
                json!({"request": noop()})
            } else {
                noop()
            };
            let mut request = client.post(server.url(path)).json(&body);
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{path} with {headers:?}");
        }
    }
    assert_eq!(
        server.stored_tasks().await,
        0,
        "nothing cross-site was stored"
    );

    let same_origin = client
        .post(server.url("/api/tasks/submit"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{host}"))
        .json(&noop())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_server_function_call_is_a_client_error_not_a_server_error() {
    let server = TestServer::start().await;
    for (path, body) in [
        ("/api/get_task", json!({"id": 5})),
        ("/api/get_task", json!({})),
        ("/api/queue_list", json!([1, 2])),
        (
            "/api/submit_task",
            json!({"request": {"task_type": "no_such_kind"}}),
        ),
    ] {
        let (status, error) = server.post_json(path, &body).await;
        assert!((400..500).contains(&status), "{path} {body}: {status}");
        assert!(
            error.is_object(),
            "{path}: the refusal is JSON, got {error}"
        );
        assert_ne!(error["code"], "internal", "{path}: {error}");
    }
    server.stop().await;
}

/// A server that lets each client submit one task a second, two at once.
async fn limited_to_one_a_second() -> TestServer {
    TestServer::start_with(|config| {
        config.limits.submit_rate = 1;
        config.limits.submit_burst = 2;
    })
    .await
}

/// The `Retry-After` of a 429, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    let header = response.headers()["retry-after"].to_str().unwrap();
    header
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After {header:?}"))
}

#[tokio::test]
async fn submits_over_the_clients_limit_get_429_with_retry_after() {
    let server = limited_to_one_a_second().await;
    for _ in 0..2 {
        assert_eq!(server.submit(noop()).await.status(), 200);
    }
    let limited = server.submit(noop()).await;
    assert_eq!(limited.status(), 429);
    let wait = retry_after(&limited);
    assert!((1..=2).contains(&wait), "{wait}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let batch = server
        .client
        .post(server.url("/api/tasks/batch"))
        .json(&json!([noop()]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch.status(),
        429,
        "a batch counts against the same allowance"
    );
    assert_eq!(
        server.stored_tasks().await,
        2,
        "nothing over the limit was stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_batch_costs_one_submit_per_task() {
    let server = limited_to_one_a_second().await;
    let batch = server
        .client
        .post(server.url("/api/tasks/batch"))
        .json(&vec![noop(); 50])
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch.status(),
        200,
        "a client with allowance left may send a batch"
    );
    let limited = server.submit(noop()).await;
    assert_eq!(limited.status(), 429);
    let wait = retry_after(&limited);
    assert!(wait >= 40, "the batch's 50 tasks must be paid for: {wait}");
    server.stop().await;
}

#[tokio::test]
async fn dot_segments_cannot_smuggle_a_page_past_the_public_prefixes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = guarded().await;
    let address = server.base.trim_start_matches("http://").to_string();
    for path in ["/pkg/../tasks", "/pkg/%2e%2e/queues", "/pkg/%2E%2E/"] {
        // Sent raw: an HTTP client library would resolve the dots itself.
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let status_line = answer.lines().next().unwrap_or("");
        assert!(status_line.contains(" 400 "), "{path}: {status_line}");
        assert!(!answer.contains("data-testid"), "{path} rendered a page");
    }
    server.stop().await;
}
