//! Reads with a long history, one request at a time, while the database holds many
//! finished tasks and a busy day of the charts' aggregates: `GET /api/stats`, the first
//! page of `GET /api/tasks/`, and what the overview, charts and processes pages load.

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
    /// The overview page's server function.
    pub overview: Latency,
    /// `GET /api/charts`, the last hour.
    pub charts_hour: Latency,
    /// `GET /api/charts?window=day`.
    pub charts_day: Latency,
    pub processes: Latency,
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
    let overview = time_post(&server, "/api/overview", plan.queries).await?;
    let charts_hour = time_requests(&server, "/api/charts", plan.queries).await?;
    let charts_day = time_requests(&server, "/api/charts?window=day", plan.queries).await?;
    let processes = time_requests(&server, "/api/processes", plan.queries).await?;
    server.stop(rss).await?;
    prefill::remove(&database);
    Ok(Retained {
        finished_tasks: plan.retained,
        requests: plan.queries,
        stats,
        list,
        overview,
        charts_hour,
        charts_day,
        processes,
    })
}

/// Times `count` sequential GETs of `path` (the body read in full), after a few warm-ups.
pub async fn time_requests(server: &Server, path: &str, count: usize) -> Result<Latency, Error> {
    time(count, || server.client.get(server.url(path))).await
}

/// Times `count` sequential calls of the server function at `path` (no arguments).
async fn time_post(server: &Server, path: &str, count: usize) -> Result<Latency, Error> {
    time(count, || {
        server
            .client
            .post(server.url(path))
            .json(&serde_json::json!({}))
    })
    .await
}

async fn time(
    count: usize,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Latency, Error> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + 5 {
        let started = Instant::now();
        let response = request().send().await?;
        if !response.status().is_success() {
            return Err(format!("{:?} answered {}", request(), response.status()).into());
        }
        response.bytes().await?;
        // The first five warm up.
        if i >= 5 {
            samples.push(started.elapsed());
        }
    }
    Ok(Latency::of(&samples))
}
