//! A real `spool serve` process for the REST measurements: started on a free loopback
//! port against a given database file, watched for its peak memory, stopped with SIGTERM.

use crate::Paths;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

type Error = Box<dyn std::error::Error>;

/// The highest peak RSS seen across every server the harness ran.
#[derive(Debug, Default)]
pub struct PeakRss {
    kb: u64,
}

impl PeakRss {
    pub fn megabytes(&self) -> f64 {
        (self.kb as f64 / 1024.0 * 10.0).round() / 10.0
    }
}

pub struct Server {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Server {
    /// Starts `spool serve` on `database` with `synchronous` and `concurrency` workers and
    /// waits until it answers `/readyz`.
    pub async fn start(
        paths: &Paths,
        database: &Path,
        synchronous: &str,
        concurrency: u16,
    ) -> Result<Server, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(paths.work.join(format!("server-{port}.log")))?;
        let child = Command::new(&paths.binary)
            .arg("serve")
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args([
                "--database-url",
                &format!("sqlite://{}", database.display()),
            ])
            .args(["--sqlite-synchronous", synchronous])
            .args(["--concurrency", &concurrency.to_string()])
            .args(["--data-dir", &paths.work.join("data").display().to_string()])
            .args(["--site-root", &paths.site_root.display().to_string()])
            // Every client here is 127.0.0.1: the per-client submit limit would measure
            // itself, not the queue.
            .args(["--submit-rate", "0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", paths.binary.display()))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()?,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = server.client.get(server.url("/readyz")).send().await;
            if matches!(ready, Ok(ref r) if r.status().is_success()) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("the server did not become ready within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs `body` and fails unless the answer is a success.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let response = self.client.post(self.url(path)).json(body).send().await?;
        let status = response.status();
        let value: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("POST {path} answered {status}: {value}").into());
        }
        Ok(value)
    }

    pub async fn get(&self, path: &str) -> Result<serde_json::Value, Error> {
        let response = self.client.get(self.url(path)).send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}").into());
        }
        Ok(response.json().await?)
    }

    /// Stops the server (SIGTERM, then waits), adding its peak RSS to `rss`.
    pub async fn stop(mut self, rss: &mut PeakRss) -> Result<(), Error> {
        if let Some(pid) = self.child.id() {
            rss.kb = rss.kb.max(peak_rss_kb(pid));
            Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await?;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

/// VmHWM: the most resident memory the process has had.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
