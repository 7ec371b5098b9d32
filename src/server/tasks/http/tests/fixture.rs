//! What the `http` kind's tests call: a resolver answering from a table (it never
//! touches the network) and a local server that echoes, redirects and answers statuses.

use super::super::{HttpAllow, Resolve, Resolving};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap as RequestHeaders;
use axum::response::IntoResponse;
use axum::routing::get;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Answers names from a fixed table; never touches the network.
pub struct Table(HashMap<&'static str, Vec<IpAddr>>);

impl Resolve for Table {
    fn resolve(&self, host: &str) -> Resolving {
        let answer = self.0.get(host).cloned().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host}: no such name"),
            )
        });
        Box::pin(std::future::ready(answer))
    }
}

pub fn table(entries: &[(&'static str, &str)]) -> Arc<Table> {
    let mut names: HashMap<&'static str, Vec<IpAddr>> = HashMap::new();
    for (name, ip) in entries {
        names.entry(name).or_default().push(ip.parse().unwrap());
    }
    Arc::new(Table(names))
}

pub fn allow(rules: &[&str]) -> Vec<HttpAllow> {
    rules.iter().map(|rule| rule.parse().unwrap()).collect()
}

/// A local server and how many requests it has had.
pub struct Local {
    pub address: SocketAddr,
    pub requests: Arc<AtomicUsize>,
}

pub async fn local_server() -> Local {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route("/echo", get(echo).post(echo))
        .route("/status/{code}", get(status))
        .route("/redirect", get(redirect).post(redirect))
        .route("/big", get(|| async { "x".repeat(40_000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .with_state(requests.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Local { address, requests }
}

async fn echo(
    State(requests): State<Arc<AtomicUsize>>,
    method: axum::http::Method,
    headers: RequestHeaders,
    body: String,
) -> impl IntoResponse {
    requests.fetch_add(1, Ordering::SeqCst);
    let seen = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    (
        [
            ("content-type", "text/plain"),
            ("x-echo", "yes"),
            ("set-cookie", "id=1"),
        ],
        format!(
            "{method} host={} auth={} body={body}",
            seen("host"),
            seen("authorization")
        ),
    )
}

async fn status(
    State(requests): State<Arc<AtomicUsize>>,
    Path(code): Path<u16>,
) -> impl IntoResponse {
    requests.fetch_add(1, Ordering::SeqCst);
    let status = axum::http::StatusCode::from_u16(code).unwrap();
    (status, [("retry-after", "7")], format!("status {code}"))
}

async fn redirect(
    State(requests): State<Arc<AtomicUsize>>,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    requests.fetch_add(1, Ordering::SeqCst);
    let code = query.get("code").map_or("302", String::as_str);
    let status = axum::http::StatusCode::from_bytes(code.as_bytes()).unwrap();
    (status, [("location", query["to"].clone())])
}
