//! The PostgreSQL rows: the burn-down with 1, 2 and 4 `spool worker` processes sharing one
//! database behind a `spool serve --no-workers`, and the pickup latency across processes
//! (a submit to the server, run by a worker in another process, woken by NOTIFY). Each
//! run gets a schema of its own on the server `SPOOL_BENCH_POSTGRES_URL` names (the
//! machine's own by default); without a reachable server these rows are skipped.

use crate::pickup::rest_samples;
use crate::sample::{median, Latency};
use crate::server::{PeakRss, Server, Worker};
use crate::{Paths, Plan};
use sea_orm::{ConnectionTrait, Database};
use spool::server::queue::now_micros;
use spool::server::store::{NewTask, Store, StoreOptions};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Worker processes per burn-down row.
pub const PROCESSES: [usize; 3] = [1, 2, 4];

#[derive(Clone, Debug, serde::Serialize)]
pub struct ProcessBurnDown {
    pub processes: usize,
    pub tasks: u64,
    pub runs: Vec<f64>,
    pub median_per_s: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PostgresResults {
    pub burn_down: Vec<ProcessBurnDown>,
    pub pickup_across_processes: Latency,
}

/// The PostgreSQL rows, or why they were skipped.
pub async fn measure(
    plan: &Plan,
    paths: &Paths,
    rss: &mut PeakRss,
) -> Result<PostgresResults, Error> {
    let server_url =
        std::env::var("SPOOL_BENCH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_string());
    let tasks = plan.burn_tasks / 2;
    let mut burn_down = Vec::new();
    for processes in PROCESSES {
        let mut runs = Vec::new();
        for run in 0..plan.runs {
            let schema = Schema::create(&server_url).await?;
            let rate = burn(plan, paths, &schema.url, processes, tasks, rss).await;
            schema.drop().await?;
            let rate = rate?;
            eprintln!(
                "  {processes} worker process(es), run {}: {rate:.0} tasks/s",
                run + 1
            );
            runs.push(rate);
        }
        burn_down.push(ProcessBurnDown {
            processes,
            tasks,
            median_per_s: median(&runs),
            runs,
        });
    }
    let schema = Schema::create(&server_url).await?;
    let pickup = pickup(plan, paths, &schema.url, rss).await;
    schema.drop().await?;
    Ok(PostgresResults {
        burn_down,
        pickup_across_processes: pickup?,
    })
}

/// One burn-down: `tasks` stored with the queue paused, `processes` workers started, the
/// clock running from the resume until the server's stats count every task SUCCESS.
async fn burn(
    plan: &Plan,
    paths: &Paths,
    url: &str,
    processes: usize,
    tasks: u64,
    rss: &mut PeakRss,
) -> Result<f64, Error> {
    backlog(url, tasks).await?;
    let server = Server::start_with(paths, &serve_args(url)).await?;
    let mut workers = Vec::new();
    for _ in 0..processes {
        workers.push(Worker::start(paths, &worker_args(url, plan.concurrency))?);
    }
    // Let every worker connect and go idle on the paused queue.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    server
        .post("/api/queues/default/resume", &serde_json::json!({}))
        .await?;
    let deadline = started + Duration::from_secs(600);
    loop {
        let stats = server.get("/api/stats").await?;
        let done = stats["by_status"]["SUCCESS"].as_u64().unwrap_or(0);
        if done >= tasks {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("burn-down stalled at {done} of {tasks}").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = tasks as f64 / started.elapsed().as_secs_f64();
    for worker in workers {
        worker.stop(rss).await?;
    }
    server.stop(rss).await?;
    Ok(rate)
}

/// Sequential submits to the server, each run by the one worker process.
async fn pickup(
    plan: &Plan,
    paths: &Paths,
    url: &str,
    rss: &mut PeakRss,
) -> Result<Latency, Error> {
    let server = Server::start_with(paths, &serve_args(url)).await?;
    let worker = Worker::start(paths, &worker_args(url, plan.concurrency))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let samples = rest_samples(&server, plan.pickups).await?;
    worker.stop(rss).await?;
    server.stop(rss).await?;
    Ok(Latency::of(&samples))
}

fn serve_args(url: &str) -> Vec<String> {
    vec!["--database-url".into(), url.into(), "--no-workers".into()]
}

fn worker_args(url: &str, concurrency: u16) -> Vec<String> {
    vec![
        "--database-url".into(),
        url.into(),
        "--concurrency".into(),
        concurrency.to_string(),
    ]
}

/// `count` PENDING `noop` tasks with the `default` queue paused.
async fn backlog(url: &str, count: u64) -> Result<(), Error> {
    let store = Store::open(url, &StoreOptions::default()).await?;
    store.set_paused("default", true, now_micros()).await?;
    let now = now_micros();
    let mut left = count;
    while left > 0 {
        let chunk = left.min(10_000);
        let tasks = (0..chunk).map(|_| NewTask {
            id: uuid::Uuid::new_v4(),
            task_type: "noop".into(),
            queue: "default".into(),
            priority: 0,
            max_attempts: 3,
            parameters: serde_json::json!({}),
            created_at: now,
            run_at: now,
            timeout_ms: None,
            idempotency_key: None,
        });
        store.insert_all(tasks.collect()).await?;
        left -= chunk;
    }
    Ok(())
}

/// A schema of its own on the server, for one measurement.
struct Schema {
    server: String,
    name: String,
    url: String,
}

impl Schema {
    async fn create(server: &str) -> Result<Schema, Error> {
        let name = format!("spool_bench_{}", uuid::Uuid::new_v4().simple());
        let db = Database::connect(server)
            .await
            .map_err(|err| format!("PostgreSQL at {server} is not reachable: {err}"))?;
        db.execute_unprepared(&format!("CREATE SCHEMA {name}"))
            .await?;
        db.close().await?;
        let separator = if server.contains('?') { '&' } else { '?' };
        Ok(Schema {
            url: format!("{server}{separator}options=-c%20search_path%3D{name}"),
            server: server.to_string(),
            name,
        })
    }

    async fn drop(self) -> Result<(), Error> {
        let db = Database::connect(&self.server).await?;
        db.execute_unprepared(&format!("DROP SCHEMA {} CASCADE", self.name))
            .await?;
        db.close().await?;
        Ok(())
    }
}
