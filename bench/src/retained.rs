//! Reads with a long history: `GET /api/stats` and the first page of `GET /api/tasks/`,
//! one request at a time, while the database holds many finished tasks.

use crate::sample::Latency;
use crate::server::{PeakRss, Server};
use crate::{prefill, Paths, Plan};
use std::time::Instant;

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Retained {
    pub finished_tasks: u64,
    pub requests: usize,
    pub stats: Latency,
    pub list: Latency,
}

pub async fn measure(plan: &Plan, paths: &Paths, rss: &mut PeakRss) -> Result<Retained, Error> {
    let database = paths.work.join("retained.db");
    let filling = Instant::now();
    prefill::history(&database, plan.retained).await?;
    eprintln!(
        "  stored {} finished tasks in {:.1} s",
        plan.retained,
        filling.elapsed().as_secs_f64()
    );
    let server = Server::start(paths, &database, "full", plan.concurrency).await?;
    let stats = time_requests(&server, "/api/stats", plan.queries).await?;
    let list = time_requests(&server, "/api/tasks/", plan.queries).await?;
    server.stop(rss).await?;
    prefill::remove(&database);
    Ok(Retained {
        finished_tasks: plan.retained,
        requests: plan.queries,
        stats,
        list,
    })
}

/// Times `count` sequential GETs of `path` (the body read in full), after a few warm-ups.
async fn time_requests(server: &Server, path: &str, count: usize) -> Result<Latency, Error> {
    for _ in 0..5 {
        server.get(path).await?;
    }
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let response = server.client.get(server.url(path)).send().await?;
        if !response.status().is_success() {
            return Err(format!("GET {path} answered {}", response.status()).into());
        }
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    Ok(Latency::of(&samples))
}
