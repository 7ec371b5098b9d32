//! The process's own log, on stderr (stdout stays free for what a command prints): text
//! for people, or one JSON object a line for a log pipeline (`--log-format json`); and the
//! HTTP access log, one line a request (target `spool::http`).
//!
//! Task events carry `task`, `kind`, `attempt` and `process` (the worker pool) fields; in
//! JSON they are top-level keys beside `timestamp`, `level`, `target` and `message`.

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::time::Instant;

/// How the process writes its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people to read.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// Installs the process's logger: `RUST_LOG` chooses what is written (by default INFO,
/// with the database drivers' own statements at WARN).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let logger = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => logger.init(),
        LogFormat::Json => logger.json().flatten_event(true).init(),
    }
}

/// Query parameters whose values never reach the log.
const SECRET_PARAMETERS: [&str; 8] = [
    "token",
    "access_token",
    "key",
    "api_key",
    "password",
    "secret",
    "signature",
    "session",
];

/// Logs every request once answered: method, path, query (secrets replaced), status,
/// duration and the client's address.
pub async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(redact_query).unwrap_or_default();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default();
    let response = next.run(request).await;
    tracing::info!(
        target: "spool::http",
        method = %method,
        path,
        query,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_micros() as f64 / 1000.0,
        client,
        "request"
    );
    response
}

/// `query` with the value of every secret-looking parameter replaced by `redacted`.
fn redact_query(query: &str) -> String {
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let secret = SECRET_PARAMETERS
            .iter()
            .any(|secret| name.eq_ignore_ascii_case(secret));
        kept.append_pair(&name, if secret { "redacted" } else { &value });
    }
    kept.finish()
}

#[cfg(test)]
mod tests {
    use super::redact_query;

    #[test]
    fn secrets_in_a_query_are_replaced_and_the_rest_kept() {
        assert_eq!(
            redact_query("status=FAILED&Token=abc%20def&q=a+b"),
            "status=FAILED&Token=redacted&q=a+b"
        );
        assert_eq!(
            redact_query("api_key=1&key=2&page=3"),
            "api_key=redacted&key=redacted&page=3"
        );
        assert_eq!(redact_query(""), "");
    }
}
