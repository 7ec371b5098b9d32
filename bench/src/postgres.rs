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
use spool::testing::queue::now_micros;
use spool::testing::store::{NewTask, Store, StoreOptions};
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
    /// Deadlocks PostgreSQL broke during each run (`pg_stat_database.deadlocks`).
    pub deadlocks: Vec<i64>,
    /// How many of the database's sessions waited on a lock, on average over each run
    /// (sampled from `pg_stat_activity` every 10 ms).
    pub lock_waiters: Vec<f64>,
}

/// One burn-down's rate and the lock contention seen during it.
struct Burned {
    per_s: f64,
    deadlocks: i64,
    lock_waiters: f64,
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
        let mut deadlocks = Vec::new();
        let mut lock_waiters = Vec::new();
        for run in 0..plan.runs {
            let schema = Schema::create(&server_url).await?;
            let contention = Contention::start(&server_url).await?;
            let rate = burn(plan, paths, &schema.url, processes, tasks, rss).await;
            let burned = contention.finish(rate).await;
            schema.drop().await?;
            let burned = burned?;
            eprintln!(
                "  {processes} worker process(es), run {}: {:.0} tasks/s, {} deadlocks, {:.2} sessions waiting on locks",
                run + 1,
                burned.per_s,
                burned.deadlocks,
                burned.lock_waiters
            );
            runs.push(burned.per_s);
            deadlocks.push(burned.deadlocks);
            lock_waiters.push(burned.lock_waiters);
        }
        burn_down.push(ProcessBurnDown {
            processes,
            tasks,
            median_per_s: median(&runs),
            runs,
            deadlocks,
            lock_waiters,
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
    server.wait_for_successes(tasks).await?;
    let rate = tasks as f64 / started.elapsed().as_secs_f64();
    for worker in workers {
        worker.stop(rss).await?;
    }
    server.stop(rss).await?;
    Ok(rate)
}

/// Lock contention on the database while a burn-down runs: the deadlock counter before
/// and after, and a sampler of sessions waiting on a lock.
struct Contention {
    db: sea_orm::DatabaseConnection,
    deadlocks_before: i64,
    stop: tokio_util::sync::CancellationToken,
    sampler: tokio::task::JoinHandle<(u64, u64)>,
}

const DEADLOCKS: &str = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
const LOCK_WAITERS: &str = "SELECT COUNT(*) FROM pg_stat_activity \
     WHERE datname = current_database() AND wait_event_type = 'Lock'";

impl Contention {
    async fn start(server: &str) -> Result<Contention, Error> {
        let db = Database::connect(server).await?;
        let deadlocks_before = query_i64(&db, DEADLOCKS).await?;
        let stop = tokio_util::sync::CancellationToken::new();
        let sampler = {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut samples, mut waiting) = (0, 0);
                while !stop.is_cancelled() {
                    if let Ok(n) = query_i64(&db, LOCK_WAITERS).await {
                        samples += 1;
                        waiting += n.max(0) as u64;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (samples, waiting)
            })
        };
        Ok(Contention {
            db,
            deadlocks_before,
            stop,
            sampler,
        })
    }

    /// Stops sampling once the run (whose processes have exited) is over.
    async fn finish(self, rate: Result<f64, Error>) -> Result<Burned, Error> {
        self.stop.cancel();
        let (samples, waiting) = self.sampler.await?;
        let per_s = rate?;
        // A backend reports its statistics when idle or on exit, at most a second late.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let deadlocks = query_i64(&self.db, DEADLOCKS).await? - self.deadlocks_before;
        self.db.close().await?;
        Ok(Burned {
            per_s,
            deadlocks,
            lock_waiters: waiting as f64 / samples.max(1) as f64,
        })
    }
}

async fn query_i64(db: &sea_orm::DatabaseConnection, sql: &str) -> Result<i64, Error> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql,
        ))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
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
            unique: None,
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
