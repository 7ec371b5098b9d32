//! Burn-down: how fast a real `spool serve` empties a backlog of `noop` tasks. The backlog
//! is stored first with its queue paused; the clock starts when the queue is resumed and
//! stops when `/api/stats` (counters kept in the same transactions as the outcomes) shows
//! every task SUCCESS, so a task counts only once its completion is committed.

use crate::sample::median;
use crate::server::{PeakRss, Server};
use crate::{prefill, Paths, Plan};
use std::time::Instant;

type Error = Box<dyn std::error::Error>;

/// Tasks per second of each run, and their median.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BurnDown {
    pub synchronous: String,
    pub tasks: u64,
    pub runs: Vec<f64>,
    pub median_per_s: f64,
}

pub async fn measure(
    plan: &Plan,
    paths: &Paths,
    synchronous: &str,
    rss: &mut PeakRss,
) -> Result<BurnDown, Error> {
    let mut runs = Vec::new();
    for run in 0..plan.runs {
        runs.push(run_once(plan, paths, synchronous, run, rss).await?);
    }
    Ok(BurnDown::of(plan, synchronous, runs))
}

impl BurnDown {
    pub fn of(plan: &Plan, synchronous: &str, runs: Vec<f64>) -> BurnDown {
        BurnDown {
            synchronous: synchronous.to_uppercase(),
            tasks: plan.burn_tasks,
            median_per_s: median(&runs),
            runs,
        }
    }
}

/// One burn-down on a fresh database; tasks per second.
pub async fn run_once(
    plan: &Plan,
    paths: &Paths,
    synchronous: &str,
    run: usize,
    rss: &mut PeakRss,
) -> Result<f64, Error> {
    let database = paths.work.join(format!("burn-{synchronous}-{run}.db"));
    prefill::backlog(&database, plan.burn_tasks).await?;
    let server = Server::start(paths, &database, synchronous, plan.concurrency).await?;
    let rate = resume_and_time(&server, plan.burn_tasks).await?;
    let commits = commit_stats(&server).await.unwrap_or_default();
    eprintln!(
        "  {synchronous} run {}: {rate:.0} tasks/s ({commits})",
        run + 1
    );
    server.stop(rss).await?;
    prefill::remove(&database);
    Ok(rate)
}

/// Resumes the paused `default` queue holding `tasks` tasks and waits until every one is
/// counted SUCCESS; tasks per second.
pub async fn resume_and_time(server: &Server, tasks: u64) -> Result<f64, Error> {
    let started = Instant::now();
    server
        .post("/api/queues/default/resume", &serde_json::json!({}))
        .await?;
    server.wait_for_successes(tasks).await?;
    Ok(tasks as f64 / started.elapsed().as_secs_f64())
}

/// The group committer's counters from `/metrics`, as "N writes in M transactions".
async fn commit_stats(server: &Server) -> Result<String, Error> {
    let text = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_default()
    };
    Ok(format!(
        "{} writes in {} transactions",
        value("spool_store_writes_total "),
        value("spool_store_transactions_total ")
    ))
}
