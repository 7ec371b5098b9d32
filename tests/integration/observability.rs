//! `spool worker --metrics-addr` with the real binary on PostgreSQL: its metrics carry
//! queue and kind labels beside the server's, its metrics port follows the access rule,
//! and `/readyz` says "not ready" while the database is cut off (through a loopback
//! proxy the test cuts, never by stopping the shared server) and while the worker drains.
//! Runs when `SPOOL_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

use crate::databases::postgres_schema;
use crate::process::{free_port, serve_args, SpoolProcess, BINARY};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "metrics-token-for-tests";
const READ_TOKEN: &str = "read-only-token-for-tests";

/// `spool worker` on `database_url` with its metrics port on loopback `port`, once it
/// answers.
async fn worker(database_url: &str, port: u16, args: &[&str]) -> SpoolProcess {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BINARY);
    command
        .args(["worker", "--database-url", database_url, "--metrics-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(args);
    SpoolProcess::spawn(command, port).await
}

/// `spool serve --no-workers` on `database_url`, once it answers, with its data folder.
async fn server_without_workers(database_url: &str) -> (SpoolProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(BINARY);
    command
        .args(serve_args(port, database_url, &dir.path().join("data")))
        .arg("--no-workers");
    (SpoolProcess::spawn(command, port).await, dir)
}

async fn text(process: &SpoolProcess, path: &str) -> (u16, String) {
    let response = process.client.get(process.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn has_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "missing {line:?} in\n{text}"
    );
}

/// Waits until `/readyz` answers `status`; the deadline only guards against a hang.
async fn readiness_becomes(process: &SpoolProcess, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (now, body) = text(process, "/readyz").await;
        if now == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz stayed {now}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_serves_labelled_metrics_and_probes_beside_the_servers() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let (server, _dir) = server_without_workers(&schema.url).await;
    let worker = worker(&schema.url, free_port(), &["--concurrency", "3"]).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(server.submit(&json!({"task_type": "noop"})).await);
    }
    for id in &ids {
        server.wait_for(id, "SUCCESS", None).await;
    }

    let (status, metrics) = text(&worker, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "spool_attempts_started_total{kind=\"noop\",queue=\"default\"} 5",
        "spool_attempts_finished_total{kind=\"noop\",outcome=\"success\",queue=\"default\"} 5",
        "spool_attempt_duration_seconds_count{kind=\"noop\",queue=\"default\"} 5",
        "spool_task_wait_seconds_count{kind=\"noop\",queue=\"default\"} 5",
        "spool_workers{queue=\"default\"} 3",
        "spool_workers_busy{queue=\"default\"} 0",
        // The database's figures, as every process sharing it reports them.
        "spool_tasks{kind=\"noop\",queue=\"default\",status=\"SUCCESS\"} 5",
        "spool_queue_depth{queue=\"default\"} 0",
        "spool_draining 0",
    ] {
        has_line(&metrics, line);
    }
    assert!(
        !metrics.contains("spool_tasks_submitted_total{"),
        "the worker took no submits"
    );
    let (_, served) = text(&server, "/metrics").await;
    has_line(
        &served,
        "spool_tasks_submitted_total{kind=\"noop\",queue=\"default\"} 5",
    );
    assert!(
        !served.contains("spool_attempts_finished_total{"),
        "the server ran nothing"
    );

    assert_eq!(
        text(&worker, "/healthz").await,
        (200, r#"{"status":"ok"}"#.into())
    );
    assert_eq!(
        text(&worker, "/readyz").await,
        (200, r#"{"status":"ready"}"#.into())
    );
    assert_eq!(
        text(&worker, "/api/tasks").await.0,
        404,
        "a worker serves no API"
    );
}

#[tokio::test]
async fn a_workers_metrics_port_asks_for_the_token_and_its_probes_do_not() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let worker = worker(
        &schema.url,
        free_port(),
        &["--token", TOKEN, "--read-only-token", READ_TOKEN],
    )
    .await;
    let scrape = |token: Option<&str>| {
        let mut request = worker.client.get(worker.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(scrape(None).await, 401);
    assert_eq!(scrape(Some("not-the-token-at-all")).await, 401);
    assert_eq!(scrape(Some(TOKEN)).await, 200);
    assert_eq!(
        scrape(Some(READ_TOKEN)).await,
        200,
        "reading metrics is reading"
    );
    assert_eq!(text(&worker, "/readyz").await.0, 200);
    assert_eq!(text(&worker, "/healthz").await.0, 200);
}

#[tokio::test]
async fn a_metrics_port_other_machines_reach_is_refused_without_a_token() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let output = Command::new(BINARY)
        .args(["worker", "--database-url", &schema.url])
        .args(["--metrics-addr", "0.0.0.0:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to serve the metrics") && stderr.contains("--token"),
        "{stderr}"
    );
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_cut_off_and_returns_with_it() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let proxy = Proxy::start(&schema.url).await;
    let worker = worker(&proxy.url, free_port(), &[]).await;
    readiness_becomes(&worker, 200).await;

    proxy.cut();
    let body = readiness_becomes(&worker, 503).await;
    assert!(body.contains("unavailable"), "{body}");
    assert_eq!(text(&worker, "/healthz").await.0, 200, "alive all the same");

    proxy.restore();
    readiness_becomes(&worker, 200).await;
}

#[tokio::test]
async fn readiness_fails_while_a_worker_drains() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let (server, _dir) = server_without_workers(&schema.url).await;
    let worker = worker(&schema.url, free_port(), &["--shutdown-grace-secs", "120"]).await;
    // About two minutes of work: the drain lasts as long as the test needs.
    let slow =
        json!({"task_type": "data_processing", "parameters": {"rows": 100, "pace_ms": 6000}});
    let id = server.submit(&slow).await;
    server.wait_running(&id, 1).await;

    worker.terminate();
    let body = readiness_becomes(&worker, 503).await;
    assert!(body.contains("shutting down"), "{body}");
    let (_, metrics) = text(&worker, "/metrics").await;
    has_line(&metrics, "spool_draining 1");
    has_line(&metrics, "spool_workers_busy{queue=\"default\"} 1");
    assert_eq!(text(&worker, "/healthz").await.0, 200);
}

/// A loopback TCP proxy in front of the PostgreSQL server, which the test can cut off
/// (every connection dropped, new ones closed at once) and restore.
struct Proxy {
    /// The database URL through the proxy.
    url: String,
    state: std::sync::Arc<std::sync::Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl Proxy {
    async fn start(database_url: &str) -> Proxy {
        let mut url = reqwest::Url::parse(database_url).unwrap();
        let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(listener.local_addr().unwrap().port()))
            .unwrap();
        let state = std::sync::Arc::new(std::sync::Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let (shared, stopped) = (state.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let client = tokio::select! {
                    _ = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => client,
                        Err(_) => continue,
                    },
                };
                let cut = shared.lock().unwrap().clone();
                if cut.is_cancelled() {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(relay(client, upstream, cut));
            }
        });
        Proxy {
            url: url.to_string(),
            state,
            stop,
        }
    }

    fn cut(&self) {
        self.state.lock().unwrap().cancel();
    }

    fn restore(&self) {
        *self.state.lock().unwrap() = CancellationToken::new();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut();
    }
}

async fn relay(mut client: TcpStream, upstream: String, cut: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}
