//! `GET /metrics`: Prometheus text. Task counts by queue, type and status and the queue
//! depths come from the store's counters (every process sees the same); submitted,
//! finished and duration figures are this process's own.

use crate::error::AppError;
use crate::server::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let counts = state.queue.counts().await?;
    let mut out = String::new();
    let _ = writeln!(out, "# HELP spool_tasks Tasks by queue, type and status.");
    let _ = writeln!(out, "# TYPE spool_tasks gauge");
    let mut depth: BTreeMap<&str, i64> = BTreeMap::new();
    for row in &counts {
        let _ = writeln!(
            out,
            "spool_tasks{{queue=\"{}\",task_type=\"{}\",status=\"{}\"}} {}",
            escape(&row.queue),
            escape(&row.task_type),
            escape(&row.status),
            row.n
        );
        let ready = depth.entry(&row.queue).or_default();
        if row.status == "PENDING" {
            *ready += row.n;
        }
    }
    let _ = writeln!(
        out,
        "# HELP spool_queue_depth Tasks ready to run (PENDING), by queue."
    );
    let _ = writeln!(out, "# TYPE spool_queue_depth gauge");
    for (queue, n) in depth {
        let _ = writeln!(out, "spool_queue_depth{{queue=\"{}\"}} {n}", escape(queue));
    }
    let commits = state.queue.commit_stats();
    let _ = writeln!(
        out,
        "# HELP spool_store_transactions_total Transactions the group committer made (submits, claims, outcomes).\n\
         # TYPE spool_store_transactions_total counter\n\
         spool_store_transactions_total {}\n\
         # HELP spool_store_writes_total Writes those transactions carried.\n\
         # TYPE spool_store_writes_total counter\n\
         spool_store_writes_total {}",
        commits.transactions, commits.writes
    );
    state.queue.metrics().render(&mut out);
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    ))
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
