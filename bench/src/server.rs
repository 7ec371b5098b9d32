//! Real `spool serve` processes for the REST measurements, started on a free loopback
//! port against a given database, and `spool worker` processes beside them; each is
//! watched for its peak memory and stopped with SIGTERM.

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
    /// Waits until `/api/stats` counts `tasks` tasks SUCCESS (the counters change in the
    /// same transaction as the outcomes, so a task counts once its end is committed).
    pub async fn wait_for_successes(&self, tasks: u64) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let stats = self.get("/api/stats").await?;
            let done = stats["by_status"]["SUCCESS"].as_u64().unwrap_or(0);
            if done >= tasks {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("burn-down stalled at {done} of {tasks}").into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Starts `spool serve` on `database` with `synchronous` and `concurrency` workers and
    /// waits until it answers `/readyz`.
    pub async fn start(
        paths: &Paths,
        database: &Path,
        synchronous: &str,
        concurrency: u16,
    ) -> Result<Server, Error> {
        let args = [
            "--database-url".to_string(),
            format!("sqlite://{}", database.display()),
            "--sqlite-synchronous".to_string(),
            synchronous.to_string(),
            "--concurrency".to_string(),
            concurrency.to_string(),
        ];
        Server::start_with(paths, &args).await
    }

    /// Starts `spool serve` with `args` (which name the database) and waits until it
    /// answers `/readyz`.
    pub async fn start_with(paths: &Paths, args: &[String]) -> Result<Server, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = spool_command(paths, "serve", &format!("server-{port}.log"))?;
        let child = command
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--site-root", &paths.site_root.display().to_string()])
            // Every client here is 127.0.0.1: the per-client submit limit would measure
            // itself, not the queue.
            .args(["--submit-rate", "0"])
            .args(args)
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

    /// The server's resident memory now, in kB.
    pub fn rss_kb(&self) -> u64 {
        self.child.id().map_or(0, |pid| status_kb(pid, "VmRSS:"))
    }

    /// Stops the server (SIGTERM, then waits), adding its peak RSS to `rss`.
    pub async fn stop(self, rss: &mut PeakRss) -> Result<(), Error> {
        terminate(self.child, rss).await
    }
}

/// A `spool worker` process: workers only, no HTTP.
pub struct Worker {
    child: Child,
}

impl Worker {
    /// Starts `spool worker` with `args` (which name the database).
    pub fn start(paths: &Paths, args: &[String]) -> Result<Worker, Error> {
        let log = format!("worker-{}.log", uuid::Uuid::new_v4().simple());
        let child = spool_command(paths, "worker", &log)?
            .args(args)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", paths.binary.display()))?;
        Ok(Worker { child })
    }

    /// Stops the worker (SIGTERM, then waits), adding its peak RSS to `rss`.
    pub async fn stop(self, rss: &mut PeakRss) -> Result<(), Error> {
        terminate(self.child, rss).await
    }
}

/// `spool <subcommand>` with the settings every process of the harness shares; its log
/// goes to `log` in the work folder.
fn spool_command(paths: &Paths, subcommand: &str, log: &str) -> Result<Command, Error> {
    let log = std::fs::File::create(paths.work.join(log))?;
    let mut command = Command::new(&paths.binary);
    command
        .arg(subcommand)
        .args(["--data-dir", &paths.work.join("data").display().to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    Ok(command)
}

/// SIGTERM, then a wait of up to 30 s before SIGKILL; the peak RSS goes into `rss`.
async fn terminate(mut child: Child, rss: &mut PeakRss) -> Result<(), Error> {
    if let Some(pid) = child.id() {
        rss.kb = rss.kb.max(peak_rss_kb(pid));
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
    }
    match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
        Ok(status) => {
            status?;
        }
        Err(_) => child.kill().await?,
    }
    Ok(())
}

/// VmHWM: the most resident memory the process has had.
fn peak_rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmHWM:")
}

/// A figure in kB from the process's `/proc/PID/status` (0 when it cannot be read).
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
