//! The process's own log, on stderr (stdout stays free for what a command prints): text
//! for people, or one JSON object a line for a log pipeline (`--log-format json`); and the
//! HTTP access log, one line a request (target `spool::http`).
//!
//! Task events carry `task`, `kind`, `attempt` and `process` (the worker pool) fields; in
//! JSON they are top-level keys beside `timestamp`, `level`, `target` and `message`.

use crate::server::tasks::is_secret_query;
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

/// Logs every request once its response has begun (so `duration_ms` is the time to the
/// response's head; a stream's body goes on after): method, path, query (secrets
/// replaced), status and the client's address.
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

/// `query` with the value of every parameter that carries credentials (named as the
/// `http` kind's redaction names them: `token`, `api_key`, `sig`…) replaced by
/// `redacted`, and the login page's `next` cut to its path, since the query it carries
/// is another request's.
fn redact_query(query: &str) -> String {
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if is_secret_query(&name) {
            kept.append_pair(&name, "redacted");
        } else if name == "next" {
            kept.append_pair(&name, value.split('?').next().unwrap_or_default());
        } else {
            kept.append_pair(&name, &value);
        }
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
