//! `spool serve` as a child process on a free loopback port, for the tests that kill it,
//! stop it with signals or starve it of disk: they need the real binary, not an embedded
//! server.

use serde_json::Value;
use spool::testing::store::{Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct SpoolProcess {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

/// The database file of a test directory.
pub fn database(dir: &Path) -> PathBuf {
    dir.join("spool.db")
}

pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", database(dir).display())
}

/// Opens the test directory's database directly, to inspect it while no server runs.
pub async fn open_store(dir: &Path) -> Store {
    Store::open(&database_url(dir), &StoreOptions::default())
        .await
        .expect("the database opens")
}

/// The compiled `spool` binary.
pub const BINARY: &str = env!("CARGO_BIN_EXE_spool");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `serve` on a loopback `port` with this database and data folder.
pub fn serve_args(port: u16, database_url: &str, data_dir: &Path) -> Vec<String> {
    vec![
        "serve".into(),
        "--addr".into(),
        format!("127.0.0.1:{port}"),
        "--database-url".into(),
        database_url.into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ]
}

impl SpoolProcess {
    /// Starts the binary on the directory's database with `args` added, and waits until
    /// it answers.
    pub async fn start(dir: &Path, args: &[&str]) -> SpoolProcess {
        let port = free_port();
        let mut command = Command::new(BINARY);
        command
            .args(serve_args(port, &database_url(dir), &dir.join("data")))
            .args(args);
        SpoolProcess::spawn(command, port).await
    }

    /// Runs `command` (which starts `spool serve` on `port`) and waits until it answers.
    pub async fn spawn(command: Command, port: u16) -> SpoolProcess {
        SpoolProcess::spawn_logging_to(command, port, Stdio::inherit()).await
    }

    /// [`SpoolProcess::spawn`] with the process's log (stderr) sent to `log`; at WARN
    /// unless the command sets `RUST_LOG` itself.
    pub async fn spawn_logging_to(mut command: Command, port: u16, log: Stdio) -> SpoolProcess {
        if !command.get_envs().any(|(name, _)| name == "RUST_LOG") {
            command.env("RUST_LOG", "warn");
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the spool binary starts");
        let process = SpoolProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while process
            .client
            .get(process.url("/readyz"))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "spool serve did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Submits `body` and returns the stored task's id.
    pub async fn submit(&self, body: &Value) -> String {
        let response = self
            .client
            .post(self.url("/api/tasks/submit"))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let task: Value = response.json().await.unwrap();
        task["id"].as_str().unwrap().to_string()
    }

    /// Waits until the task's attempt number `attempt` is RUNNING (the deadline only
    /// guards against a hang).
    pub async fn wait_running(&self, id: &str, attempt: i64) {
        self.wait_for(id, "RUNNING", Some(attempt)).await
    }

    /// Waits until the task is in `status` (and at `attempt`, when given).
    pub async fn wait_for(&self, id: &str, status: &str, attempt: Option<i64>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let task = self.get(&format!("/api/tasks/{id}")).await;
            if task["status"] == status && attempt.is_none_or(|attempt| task["attempt"] == attempt)
            {
                return;
            }
            assert!(Instant::now() < deadline, "never {status}: {task}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM (again, if called again).
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Waits for the process to exit by itself (the deadline only guards against a hang).
    pub async fn exited(mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("spool serve did not exit");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SpoolProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
