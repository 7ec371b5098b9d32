//! Every response carries the browser protections: a Content-Security-Policy (on pages,
//! one whose nonce is the one on the page's own inline scripts), nosniff and no framing.

use crate::support::TestServer;
use reqwest::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};

#[tokio::test]
async fn pages_allow_only_their_own_nonced_scripts_and_wasm() {
    let server = TestServer::start().await;
    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(page.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(page.headers()[X_FRAME_OPTIONS], "DENY");
    let html = page.text().await.unwrap();

    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let scripts = html.matches("<script").count();
    let nonced = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(scripts > 0, "the page has its hydration script");
    assert!(
        nonced >= scripts,
        "every inline script carries the nonce: {html}"
    );

    let again = server.client.get(server.url("/")).send().await.unwrap();
    let other = again.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(other, policy, "each page gets a fresh nonce");
    server.stop().await;
}

#[tokio::test]
async fn api_answers_and_errors_carry_the_headers_too() {
    let server = TestServer::start().await;
    for path in ["/api/tasks/", "/api/tasks/not-a-uuid", "/api/nowhere"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        let headers = response.headers();
        let policy = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self';"), "{path}: {policy}");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY", "{path}");
    }
    server.stop().await;
}
