//! Pickup latency: on an idle queue, the time from a submit to the start of its handler,
//! one task at a time. In-process, a probe kind reports the moment its handler starts;
//! through REST, the clock starts before the POST and `noop` reports when it started.

use crate::sample::Latency;
use crate::server::{PeakRss, Server};
use crate::{prefill, Paths, Plan};
use spool::model::SubmitRequest;
use spool::testing::engine::Engine;
use spool::testing::queue::WorkerConfig;
use spool::testing::tasks::{KindSettings, Registry, TaskContext, TaskError, TaskKind};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Pickup {
    pub synchronous: String,
    pub tasks: usize,
    #[serde(flatten)]
    pub latency: Latency,
}

/// A kind that only tells the harness when its handler started.
struct Probe(mpsc::UnboundedSender<Instant>);

#[derive(serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
struct NoParams {}

impl TaskKind for Probe {
    const NAME: &'static str = "bench_probe";
    const DESCRIPTION: &'static str = "Reports when its handler starts.";
    type Params = NoParams;
    type Output = ();

    async fn run(&self, _ctx: TaskContext, _params: NoParams) -> Result<(), TaskError> {
        let _ = self.0.send(Instant::now());
        Ok(())
    }
}

/// The queue and its workers inside this process, as an application embedding Spool runs them.
pub async fn in_process(plan: &Plan, paths: &Paths, synchronous: &str) -> Result<Pickup, Error> {
    let database = paths.work.join(format!("pickup-{synchronous}.db"));
    let store = prefill::open(&database, synchronous).await?;
    let (started, mut starts) = mpsc::unbounded_channel();
    let registry =
        Registry::builtin(&KindSettings::in_dir(paths.work.join("data"))).with(Probe(started));
    let engine = Engine::builder(store, registry)
        .pool(WorkerConfig::new("default", usize::from(plan.concurrency)))
        .start();
    let queue = engine.queue.clone();
    let request = SubmitRequest {
        task_type: Probe::NAME.into(),
        parameters: serde_json::json!({}),
        ..Default::default()
    };
    let mut samples = Vec::with_capacity(plan.pickups);
    for _ in 0..plan.pickups {
        // Let the workers go idle, as they would be between sparse submits.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let submitted = Instant::now();
        queue.submit(request.clone()).await?;
        let start = tokio::time::timeout(Duration::from_secs(10), starts.recv())
            .await?
            .ok_or("the probe stopped reporting")?;
        samples.push(start.duration_since(submitted));
    }
    engine.stop().await;
    prefill::remove(&database);
    Ok(Pickup {
        synchronous: synchronous.to_uppercase(),
        tasks: plan.pickups,
        latency: Latency::of(&samples),
    })
}

/// A script's view: POST the task, and compare the clock before the POST with the start
/// time `noop` reports (same machine, same clock).
pub async fn through_rest(plan: &Plan, paths: &Paths, rss: &mut PeakRss) -> Result<Pickup, Error> {
    let database = paths.work.join("pickup-rest.db");
    let server = Server::start(paths, &database, "full", plan.concurrency).await?;
    let samples = rest_samples(&server, plan.pickups).await?;
    server.stop(rss).await?;
    prefill::remove(&database);
    Ok(Pickup {
        synchronous: "FULL".into(),
        tasks: plan.pickups,
        latency: Latency::of(&samples),
    })
}

/// Submits `count` `noop` tasks to `server` one after another, each once the previous has
/// run, and returns how long each took from before its POST to its handler's start.
pub async fn rest_samples(server: &Server, count: usize) -> Result<Vec<Duration>, Error> {
    let body = serde_json::json!({"task_type": "noop", "parameters": {}});
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let submitted = chrono::Utc::now();
        let task = server.post("/api/tasks/submit", &body).await?;
        let id = task["id"]
            .as_str()
            .ok_or("the submit answered no id")?
            .to_string();
        let started = wait_started(server, &id).await?;
        let micros = (started - submitted).num_microseconds().unwrap_or(i64::MAX);
        samples.push(Duration::from_micros(micros.max(0) as u64));
    }
    Ok(samples)
}

/// Polls the task until it succeeded and returns when its handler started.
async fn wait_started(server: &Server, id: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let task = server.get(&format!("/api/tasks/{id}")).await?;
        if task["status"] == "SUCCESS" {
            let started = task["result_data"]["started_at"]
                .as_str()
                .ok_or("noop reported no start time")?;
            return Ok(started.parse()?);
        }
        if Instant::now() > deadline {
            return Err(format!("task {id} did not run within 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
