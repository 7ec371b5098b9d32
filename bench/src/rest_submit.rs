//! REST submits: concurrent keep-alive clients POST `noop` tasks to a real `spool serve`
//! for a fixed time; every 200 is a task durably stored. The queue is paused so the
//! number is the API's and the store's, not shared with workers burning the tasks down.

use crate::sample::median;
use crate::server::{PeakRss, Server};
use crate::{prefill, Paths, Plan};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Debug, serde::Serialize)]
pub struct RestSubmit {
    pub clients: usize,
    pub seconds_per_run: u64,
    pub runs: Vec<f64>,
    pub median_per_s: f64,
    /// Answers other than 200 (there should be none).
    pub errors: u64,
}

pub async fn measure(plan: &Plan, paths: &Paths, rss: &mut PeakRss) -> Result<RestSubmit, Error> {
    let database = paths.work.join("submit.db");
    let server = Arc::new(Server::start(paths, &database, "full", plan.concurrency).await?);
    server
        .post("/api/queues/default/pause", &serde_json::json!({}))
        .await?;
    let mut runs = Vec::new();
    let mut errors = 0;
    for run in 0..plan.runs {
        let until = Instant::now() + Duration::from_secs(plan.submit_secs);
        let started = Instant::now();
        let clients: Vec<_> = (0..plan.submit_clients)
            .map(|_| tokio::spawn(client(Arc::clone(&server), until)))
            .collect();
        let mut stored = 0;
        for client in clients {
            let (ok, failed) = client.await?;
            stored += ok;
            errors += failed;
        }
        let rate = stored as f64 / started.elapsed().as_secs_f64();
        eprintln!("  run {}: {rate:.0} submits/s", run + 1);
        runs.push(rate);
    }
    match Arc::try_unwrap(server) {
        Ok(server) => server.stop(rss).await?,
        Err(_) => return Err("a submit client outlived its run".into()),
    }
    prefill::remove(&database);
    Ok(RestSubmit {
        clients: plan.submit_clients,
        seconds_per_run: plan.submit_secs,
        median_per_s: median(&runs),
        runs,
        errors,
    })
}

/// Submits one task after another until `until`; counts the stored and the refused.
async fn client(server: Arc<Server>, until: Instant) -> (u64, u64) {
    let body = serde_json::json!({"task_type": "noop", "parameters": {}});
    let url = server.url("/api/tasks/submit");
    let (mut ok, mut failed) = (0, 0);
    while Instant::now() < until {
        match server.client.post(&url).json(&body).send().await {
            Ok(response) if response.status() == reqwest::StatusCode::OK => ok += 1,
            _ => failed += 1,
        }
    }
    (ok, failed)
}
