//! Helpers shared by the integration tests: a server on a free port with its own
//! database, and polling for a task's final state.

use serde_json::Value;
use spool::testing::config::ServeConfig;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A running `spool serve` on 127.0.0.1 with a fresh database; stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server whose settings `configure` changes from the defaults first.
    pub async fn start_with(configure: impl FnOnce(&mut ServeConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("spool.db").display());
        let mut config = ServeConfig::with_database(url);
        config.engine.data_dir = dir.path().join("data");
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            spool::serve(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's SQLite file.
    pub fn database_file(&self) -> std::path::PathBuf {
        self._dir.path().join("spool.db")
    }

    pub async fn submit(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/tasks/submit"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A POST of `body` as JSON: the status and the answer's JSON (null when it has none).
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A bodiless POST.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.client.post(self.url(path)).send().await.unwrap()
    }

    /// A bodiless POST: the status and the answer's JSON (null when it has none).
    pub async fn post_answer(&self, path: &str) -> (u16, Value) {
        let response = self.post(path).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Submits a task that must be accepted, and answers its id.
    pub async fn submit_id(&self, body: Value) -> String {
        let (status, task) = self.post_json("/api/tasks/submit", &body).await;
        assert_eq!(status, 200, "{body}: {task}");
        task["id"].as_str().unwrap().to_string()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).send().await.unwrap()
    }

    /// GETs `path` with `headers` added; the status and the whole body as text.
    pub async fn get_text(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// How many tasks `/api/stats` counts, whatever their status.
    pub async fn stored_tasks(&self) -> u64 {
        let (status, stats) = self.get_json("/api/stats").await;
        assert_eq!(status, 200, "{stats}");
        count_tasks(&stats)
    }

    /// Polls the task until it is final (SUCCESS, FAILED or CANCELLED) and returns it.
    /// The deadline only guards against a hang; it is not a speed assertion.
    pub async fn wait_final(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, task) = self.get_json(&format!("/api/tasks/{id}")).await;
            assert_eq!(status, 200, "{task}");
            if matches!(
                task["status"].as_str(),
                Some("SUCCESS" | "FAILED" | "CANCELLED")
            ) {
                return task;
            }
            assert!(Instant::now() < deadline, "task never finished: {task}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
    }
}

/// The tasks a `/api/stats` answer counts, whatever their status.
pub fn count_tasks(stats: &Value) -> u64 {
    let by_status = stats["by_status"]
        .as_object()
        .unwrap_or_else(|| panic!("no counts in {stats}"));
    by_status.values().filter_map(Value::as_u64).sum()
}
