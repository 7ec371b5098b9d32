//! The `http` kind against a local server: destinations checked after resolution (with an
//! injected resolver, so private names never reach the network), redirects, statuses,
//! bounds and secrets.

mod fixture;

use super::*;
use fixture::{allow, local_server, table, Table};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn kind(allow_rules: &[&str], names: Arc<Table>) -> Http {
    Http {
        destinations: Destinations::new(allow(allow_rules), names),
    }
}

/// Parameters as a submit's schema check leaves them (defaults filled), before `check`.
fn params(value: serde_json::Value) -> HttpParams {
    use crate::server::tasks::schema::{derive, ParamSchema};
    let schema = ParamSchema::new("http", derive::<HttpParams>()).unwrap();
    serde_json::from_value(schema.check(&value).unwrap()).unwrap()
}

async fn call(kind: &Http, value: serde_json::Value) -> Result<HttpAnswer, TaskError> {
    let ctx = TaskContext::new(uuid::Uuid::now_v7(), 1, CancellationToken::new());
    kind.run(ctx, params(value)).await
}

fn refusal(result: Result<HttpAnswer, TaskError>) -> String {
    match result {
        Err(TaskError::Permanent(message)) => message,
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_name_resolved_to_an_allowed_address_is_called_at_exactly_that_address() {
    let local = local_server().await;
    let port = local.address.port();
    let http = kind(
        &[&format!("127.0.0.1:{port}")],
        table(&[("service.test", "127.0.0.1")]),
    );
    let answer = call(
        &http,
        json!({"method": "POST", "url": format!("http://service.test:{port}/echo"),
               "headers": {"Authorization": "Bearer s3cret"}, "body": "ping",
               "keep_headers": "x-echo, content-type, set-cookie, missing"}),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        // The server echoed the credential: the result hides it.
        format!("POST host=service.test:{port} auth=(hidden) body=ping")
    );
    assert!(!answer.body_truncated);
    assert_eq!(answer.redirects, 0);
    let kept: Vec<_> = answer
        .headers
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        kept,
        [
            "content-type=text/plain",
            "set-cookie=(hidden)",
            "x-echo=yes"
        ]
    );
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused_before_any_connection() {
    let local = local_server().await;
    let port = local.address.port();
    let names = table(&[
        ("internal.test", "10.0.0.7"),
        ("metadata.test", "169.254.169.254"),
        ("mixed.test", "8.8.8.8"),
        ("mixed.test", "127.0.0.1"),
    ]);
    let http = kind(&[], names);
    let message = refusal(call(&http, json!({"url": "http://internal.test/"})).await);
    assert_eq!(
        message,
        "refused: internal.test resolves to a private address; \
         `--http-allow internal.test:80` would allow it"
    );
    let message = refusal(call(&http, json!({"url": "http://metadata.test/latest"})).await);
    assert!(message.contains("cloud metadata"), "{message}");
    // One private address among public ones is enough to refuse the name.
    let message = refusal(
        call(
            &http,
            json!({"url": format!("http://mixed.test:{port}/echo")}),
        )
        .await,
    );
    assert!(
        message.contains("mixed.test resolves to a loopback address"),
        "{message}"
    );
    assert!(
        !message.contains("127.0.0.1"),
        "internal addresses are not told: {message}"
    );
    assert_eq!(
        local.requests.load(Ordering::SeqCst),
        0,
        "nothing was dialled"
    );
}

#[tokio::test]
async fn literal_local_addresses_are_refused_unless_allowed_on_their_port() {
    let local = local_server().await;
    let port = local.address.port();
    let url = format!("http://127.0.0.1:{port}/echo");
    let other_port = kind(&["127.0.0.1:1"], table(&[]));
    assert!(refusal(call(&other_port, json!({"url": url})).await).contains("loopback"));
    // The same address written as one number, and in its IPv6-mapped form.
    let none = kind(&[], table(&[]));
    let decimal = format!("http://2130706433:{port}/echo");
    assert!(refusal(call(&none, json!({"url": decimal})).await).contains("loopback"));
    let mapped = format!("http://[::ffff:127.0.0.1]:{port}/echo");
    assert!(refusal(call(&none, json!({"url": mapped})).await).contains("loopback"));
    assert_eq!(local.requests.load(Ordering::SeqCst), 0);
    for rule in [
        format!("127.0.0.1:{port}"),
        "127.0.0.0/8".to_string(),
        "127.0.0.1".to_string(),
    ] {
        let allowed = kind(&[&rule], table(&[]));
        assert_eq!(
            call(&allowed, json!({"url": url})).await.unwrap().status,
            200,
            "{rule}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused() {
    let local = local_server().await;
    let port = local.address.port();
    let http = kind(&[&format!("127.0.0.1:{port}")], table(&[]));
    let to = format!("http://127.0.0.2:{port}/echo");
    let url = format!("http://127.0.0.1:{port}/redirect?to={to}");
    let message = refusal(call(&http, json!({"url": url})).await);
    assert!(message.contains("127.0.0.2"), "{message}");
    assert_eq!(
        local.requests.load(Ordering::SeqCst),
        1,
        "only the redirect was fetched"
    );
}

#[tokio::test]
async fn redirects_are_followed_and_credentials_stay_with_their_origin() {
    let local = local_server().await;
    let port = local.address.port();
    let names = table(&[("a.test", "127.0.0.1"), ("b.test", "127.0.0.1")]);
    let http = kind(&[&format!("127.0.0.1:{port}")], names);
    let auth = json!({"Authorization": "Bearer s3cret"});
    let same = format!("http://a.test:{port}/redirect?to=/echo");
    let answer = call(&http, json!({"url": same, "headers": auth}))
        .await
        .unwrap();
    assert_eq!((answer.status, answer.redirects), (200, 1));
    // Sent to the same origin (and hidden where the server echoed it back).
    assert!(answer.body.contains("auth=(hidden)"), "{}", answer.body);
    assert_eq!(answer.url, format!("http://a.test:{port}/echo"));

    let other = format!("http://a.test:{port}/redirect?to=http://b.test:{port}/echo");
    let answer = call(&http, json!({"url": other, "headers": auth}))
        .await
        .unwrap();
    assert!(answer.body.contains("auth=-"), "{}", answer.body);

    // A 303 after a POST turns into a bodiless GET; a 307 keeps the method and body.
    let see_other = format!("http://a.test:{port}/redirect?code=303&to=/echo");
    let answer = call(
        &http,
        json!({"method": "POST", "url": see_other, "body": "b"}),
    )
    .await
    .unwrap();
    assert!(
        answer.body.starts_with("GET ") && answer.body.ends_with("body="),
        "{}",
        answer.body
    );
    let temporary = format!("http://a.test:{port}/redirect?code=307&to=/echo");
    let answer = call(
        &http,
        json!({"method": "POST", "url": temporary, "body": "b"}),
    )
    .await
    .unwrap();
    assert!(
        answer.body.starts_with("POST ") && answer.body.ends_with("body=b"),
        "{}",
        answer.body
    );

    // A redirect to a URL with credentials in it is refused, as such a first URL is.
    let userinfo = format!("http://a.test:{port}/redirect?to=http://user:pw@a.test:{port}/echo");
    assert!(refusal(call(&http, json!({"url": userinfo})).await).contains("Authorization header"));
    // 304 is an answer, not a redirect, whatever its headers.
    let not_modified = format!("http://a.test:{port}/redirect?code=304&to=/echo");
    let answer = call(&http, json!({"url": not_modified, "success": "304"}))
        .await
        .unwrap();
    assert_eq!((answer.status, answer.redirects), (304, 0));

    // Past max_redirects the redirect is the answer, and not a success.
    let once = json!({"url": same, "max_redirects": 0});
    assert!(refusal(call(&http, once).await).contains("302 Found"));
}

#[tokio::test]
async fn statuses_decide_success_and_retrying() {
    let local = local_server().await;
    let port = local.address.port();
    let http = kind(&[&format!("127.0.0.1:{port}")], table(&[]));
    let url = |code: u16| format!("http://127.0.0.1:{port}/status/{code}");
    assert_eq!(
        call(&http, json!({"url": url(503)})).await.unwrap_err(),
        TaskError::retry_after(
            "answered 503 Service Unavailable: status 503",
            Duration::from_secs(7)
        )
    );
    assert!(matches!(
        call(&http, json!({"url": url(500)})).await,
        Err(TaskError::RetryAfter { .. })
    ));
    assert!(refusal(call(&http, json!({"url": url(404)})).await).contains("not retried"));
    let accepted = json!({"url": url(404), "success": "200-299,404"});
    assert_eq!(call(&http, accepted).await.unwrap().status, 404);
}

#[tokio::test]
async fn bodies_and_times_are_bounded_and_cancelling_stops_the_call() {
    let local = local_server().await;
    let port = local.address.port();
    let http = kind(&[&format!("127.0.0.1:{port}")], table(&[]));
    let answer = call(
        &http,
        json!({"url": format!("http://127.0.0.1:{port}/big")}),
    )
    .await
    .unwrap();
    assert_eq!(answer.body.len(), answer::BODY_EXCERPT_BYTES);
    assert!(answer.body_truncated);

    let slow = json!({"url": format!("http://127.0.0.1:{port}/slow"), "timeout_ms": 200});
    assert_eq!(
        call(&http, slow.clone()).await.unwrap_err(),
        TaskError::failed("no complete answer within 200 ms")
    );
    let cancel = CancellationToken::new();
    let ctx = TaskContext::new(uuid::Uuid::now_v7(), 1, cancel.clone());
    let slow = json!({"url": format!("http://127.0.0.1:{port}/slow"), "timeout_ms": 60_000});
    let run = tokio::spawn(async move { http.run(ctx, params(slow)).await });
    cancel.cancel();
    assert_eq!(run.await.unwrap().unwrap_err(), TaskError::Cancelled);
}

#[tokio::test]
async fn unresolvable_names_and_unreachable_ports_are_retried() {
    let http = kind(&["127.0.0.1"], table(&[]));
    let unknown = call(&http, json!({"url": "http://nowhere.test/"})).await;
    assert!(
        matches!(unknown, Err(TaskError::Failed(ref m)) if m.contains("did not resolve")),
        "{unknown:?}"
    );
    // Port 1 on loopback: nothing listens there.
    let closed = call(&http, json!({"url": "http://127.0.0.1:1/"})).await;
    assert!(
        matches!(closed, Err(TaskError::Failed(ref m)) if m.contains("could not connect")),
        "{closed:?}"
    );
}

#[test]
fn parameters_are_checked_before_a_task_is_stored() {
    let fields = |value: serde_json::Value| -> Vec<String> {
        match Http::check(&params(value)) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect(),
        }
    };
    assert_eq!(
        fields(json!({"url": "https://example.com/x"})),
        Vec::<String>::new()
    );
    assert_eq!(
        fields(json!({})),
        ["parameters.url: required: the URL to call"]
    );
    assert!(fields(json!({"url": "ftp://example.com/"}))[0].contains("only http and https"));
    assert!(
        fields(json!({"url": "https://user:pw@example.com/"}))[0].contains("Authorization header")
    );
    let bad = fields(
        json!({"url": "http://example.com", "headers": {"Host": "x", "Bad Name": "y"},
                            "success": "2xx", "keep_headers": "ok, not ok"}),
    );
    assert_eq!(bad.len(), 4, "{bad:?}");
    assert!(
        bad[0].starts_with("parameters.headers: \"Bad Name\""),
        "{bad:?}"
    );
    assert!(
        bad[1].contains("\"Host\" is set by the connection"),
        "{bad:?}"
    );
    assert!(bad[2].starts_with("parameters.success"), "{bad:?}");
    assert!(
        bad[3].starts_with("parameters.keep_headers: \"not ok\""),
        "{bad:?}"
    );
}

#[test]
fn secrets_are_hidden_where_parameters_are_shown() {
    let mut shown = json!({
        "url": "https://api.example.com/hook?api_key=abc&page=2",
        "headers": {"Authorization": "Bearer s3cret", "X-Auth-Token": "t", "Accept": "text/plain"},
    });
    let callback =
        Url::parse("https://app.example.com/cb?sig=abc&code=xyz&state=1#access_token=t").unwrap();
    assert_eq!(
        redact::url(&callback),
        "https://app.example.com/cb?sig=%28hidden%29&code=%28hidden%29&state=1"
    );
    let headers = BTreeMap::from([
        (
            "Authorization".to_string(),
            "Bearer long-secret-token".to_string(),
        ),
        ("X-Api-Key".to_string(), "short".to_string()),
        ("Accept".to_string(), "application/json".to_string()),
    ]);
    assert_eq!(
        redact::echoes(
            "invalid token long-secret-token (short) for application/json",
            &headers
        ),
        "invalid token (hidden) (short) for application/json"
    );
    Http::redact(&mut shown);
    assert_eq!(
        shown,
        json!({
            "url": "https://api.example.com/hook?api_key=%28hidden%29&page=2",
            "headers": {"Authorization": "(hidden)", "X-Auth-Token": "(hidden)", "Accept": "text/plain"},
        })
    );
}

#[test]
fn allow_rules_parse_and_print_back() {
    for (rule, shown) in [
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[::1]:8443", "[::1]:8443"),
        ("fd00::/8", "fd00::/8"),
        ("api.internal", "api.internal"),
        ("api.internal:8443", "api.internal:8443"),
    ] {
        assert_eq!(rule.parse::<HttpAllow>().unwrap().to_string(), shown);
    }
    assert_eq!(
        "API.Internal.".parse::<HttpAllow>().unwrap().to_string(),
        "api.internal"
    );
    for bad in [
        "",
        "10.0.0.0/33",
        "1.2.3.4/x",
        "host:port",
        "bad host",
        "*.example.com",
    ] {
        assert!(bad.parse::<HttpAllow>().is_err(), "{bad:?}");
    }
}
