//! This build's burn-down beside an earlier build's (`--baseline BINARY`), round by round,
//! so that what a change costs the engine (more rows written per commit, say) shows as a
//! ratio that the machine's drift from one minute to the next does not move.
//!
//! Both binaries store their own backlog through their own REST API, with the queue paused:
//! an earlier build refuses a database migrated by a later one, so the harness's own
//! prefill (which writes through the current store) cannot serve both.

use crate::burn_down;
use crate::sample::median;
use crate::server::{PeakRss, Server};
use crate::{prefill, Paths, Plan};
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

/// Tasks per `/api/tasks/batch` request: the API's cap.
const BATCH: u64 = 10_000;

/// Each build's rates, round by round, and this build's rate over the baseline's.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BaselineComparison {
    pub baseline: String,
    pub synchronous: String,
    pub tasks: u64,
    pub current_runs: Vec<f64>,
    pub baseline_runs: Vec<f64>,
    /// This build ÷ the baseline, round by round.
    pub ratios: Vec<f64>,
    pub median_ratio: f64,
}

/// `plan.runs` rounds, each a burn-down of this build then one of `baseline`, under FULL
/// (the default setting).
pub async fn measure(
    plan: &Plan,
    paths: &Paths,
    baseline: &Path,
    rss: &mut PeakRss,
) -> Result<BaselineComparison, Error> {
    let baseline_paths = Paths {
        binary: baseline.to_path_buf(),
        ..paths.clone()
    };
    let (mut current_runs, mut baseline_runs) = (Vec::new(), Vec::new());
    for run in 0..plan.runs {
        let current = run_once(plan, paths, "current", run, rss).await?;
        let earlier = run_once(plan, &baseline_paths, "baseline", run, rss).await?;
        eprintln!(
            "  round {}: this build {current:.0} tasks/s, baseline {earlier:.0} tasks/s",
            run + 1
        );
        current_runs.push(current);
        baseline_runs.push(earlier);
    }
    let ratios: Vec<f64> = current_runs
        .iter()
        .zip(&baseline_runs)
        .map(|(current, earlier)| current / earlier)
        .collect();
    Ok(BaselineComparison {
        baseline: baseline.display().to_string(),
        synchronous: "FULL".to_string(),
        tasks: plan.burn_tasks,
        median_ratio: median(&ratios),
        current_runs,
        baseline_runs,
        ratios,
    })
}

/// One burn-down of `paths.binary` on a fresh database it fills itself; tasks per second.
async fn run_once(
    plan: &Plan,
    paths: &Paths,
    label: &str,
    run: usize,
    rss: &mut PeakRss,
) -> Result<f64, Error> {
    let database: PathBuf = paths.work.join(format!("baseline-{label}-{run}.db"));
    let server = Server::start(paths, &database, "full", plan.concurrency).await?;
    server
        .post("/api/queues/default/pause", &serde_json::json!({}))
        .await?;
    let task = serde_json::json!({"task_type": "noop", "parameters": {}});
    let mut stored = 0;
    while stored < plan.burn_tasks {
        let count = BATCH.min(plan.burn_tasks - stored);
        let batch = vec![task.clone(); count as usize];
        server
            .post("/api/tasks/batch", &serde_json::Value::Array(batch))
            .await?;
        stored += count;
    }
    let rate = burn_down::resume_and_time(&server, plan.burn_tasks).await?;
    server.stop(rss).await?;
    prefill::remove(&database);
    Ok(rate)
}
