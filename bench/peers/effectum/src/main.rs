//! Measures effectum 0.7 (an embeddable SQLite job queue) on the workload of Spool's own
//! benchmark, so the two can be compared on the same machine:
//!
//! 1. Burn-down, `--runs` times, each on a fresh SQLite file in `--dir`: `--tasks` no-op jobs
//!    are inserted with `Queue::add_jobs` (one batch, not timed), then one worker with
//!    `max_concurrency(--concurrency)` is started, and the clock runs from worker start until
//!    the database has every job recorded as succeeded. Handlers count their calls; once all
//!    have run, `Queue::num_active_jobs` is polled every millisecond until nothing is pending
//!    or running, and a final `SELECT COUNT(*) ... status = 'succeeded'` confirms all N.
//!    A run gives up with an error after 10 minutes.
//! 2. Pickup latency, `--pickups` times in sequence on a fresh database with the worker idle:
//!    t0, submit one job with `add_job`, and the handler sends `Instant::now()` as its first
//!    act; latency = handler start - t0. p50 and p99 by sorting (nearest rank).
//!
//! Fairness: effectum 0.7.0 asks for WAL with `PRAGMA journal = wal`, which SQLite ignores
//! (the pragma is `journal_mode`), so as shipped it runs in rollback-journal mode. Here each
//! database file is created first with `PRAGMA journal_mode = WAL` (which persists in the
//! file), then effectum opens it; the mode is read back from effectum's own file and printed
//! to stderr. Everything else is effectum's default: its writer connection uses
//! `synchronous = NORMAL`, writes go through its single writer thread, and workers are woken
//! in-process when jobs are added (no polling interval).
//!
//! Output: progress on stderr, then one JSON line on stdout.

#[path = "../../common.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Args, BurnDown};
use effectum::{Job, JobRunner, Queue, RunningJob, Worker};
use tokio::sync::mpsc::UnboundedSender;

const JOB_TYPE: &str = "noop";

/// What the no-op handler touches: a call counter, and (for pickups) where to send its start.
#[derive(Debug)]
struct Context {
    handled: AtomicUsize,
    started: Option<UnboundedSender<Instant>>,
}

async fn noop(_job: RunningJob, ctx: Arc<Context>) -> Result<(), effectum::Error> {
    if let Some(tx) = &ctx.started {
        let _ = tx.send(Instant::now());
    }
    ctx.handled.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Creates the database file in WAL mode (persistent), then opens it with effectum.
async fn open_queue(path: &Path) -> Queue {
    let conn = rusqlite::Connection::open(path).expect("create the SQLite file");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .expect("set journal_mode=WAL");
    assert_eq!(mode, "wal", "SQLite refused WAL mode");
    drop(conn);
    Queue::new(path).await.expect("open the effectum queue")
}

/// A connection of our own for reading back pragmas and counting finished jobs.
fn reader(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open a reader connection")
}

fn journal_mode(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("read journal_mode")
}

fn succeeded(conn: &rusqlite::Connection) -> usize {
    conn.query_row(
        "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'",
        [],
        |row| row.get::<_, i64>(0),
    )
    .expect("count succeeded jobs") as usize
}

async fn start_worker(queue: &Queue, ctx: Arc<Context>, concurrency: usize) -> Worker {
    let concurrency = u16::try_from(concurrency).expect("--concurrency must fit in u16");
    Worker::builder(queue, ctx)
        .jobs([JobRunner::builder(JOB_TYPE, noop).build()])
        .max_concurrency(concurrency)
        .build()
        .await
        .expect("start the effectum worker")
}

async fn stop(queue: Queue, worker: Worker) {
    if let Err(e) = worker.unregister(Some(Duration::from_secs(30))).await {
        eprintln!("warning: worker did not stop cleanly: {e}");
    }
    if let Err(e) = queue.close(Duration::from_secs(30)).await {
        eprintln!("warning: queue did not close cleanly: {e}");
    }
}

/// One burn-down run; returns tasks per second.
async fn burn_down(args: &Args, run: usize) -> Result<f64, String> {
    let dir = common::fresh_db_dir(&args.dir);
    let path = dir.path().join("effectum.db");
    let queue = open_queue(&path).await;
    let db = reader(&path);
    if run == 0 {
        eprintln!(
            "journal_mode read back from effectum's file: {}",
            journal_mode(&db)
        );
    }

    let jobs = (0..args.tasks)
        .map(|_| Job::builder(JOB_TYPE).build())
        .collect();
    queue.add_jobs(jobs).await.expect("insert the jobs");

    let ctx = Arc::new(Context {
        handled: AtomicUsize::new(0),
        started: None,
    });
    let start = Instant::now();
    let worker = start_worker(&queue, ctx.clone(), args.concurrency).await;
    let outcome =
        common::wait_for_burn_down(start, args.tasks, &ctx.handled, args.cap, async || {
            // Jobs no longer pending or running have had their outcome committed.
            match queue.num_active_jobs().await {
                Ok(active) => args
                    .tasks
                    .saturating_sub((active.pending + active.running) as usize),
                Err(e) => panic!("num_active_jobs failed: {e}"),
            }
        })
        .await;

    let elapsed = match outcome {
        BurnDown::Done { elapsed } => elapsed,
        BurnDown::Capped { elapsed, completed } => {
            return Err(format!(
                "burn-down run {} did not finish in {:.0} s ({completed} of {} done)",
                run + 1,
                elapsed.as_secs_f64(),
                args.tasks
            ));
        }
    };
    let done = succeeded(&db);
    stop(queue, worker).await;
    if done != args.tasks {
        return Err(format!(
            "the queue is empty but only {done} of {} jobs succeeded",
            args.tasks
        ));
    }
    Ok(args.tasks as f64 / elapsed.as_secs_f64())
}

/// Pickup latencies in milliseconds, sorted.
async fn pickups(args: &Args) -> Result<Vec<f64>, String> {
    let dir = common::fresh_db_dir(&args.dir);
    let path = dir.path().join("effectum.db");
    let queue = open_queue(&path).await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Arc::new(Context {
        handled: AtomicUsize::new(0),
        started: Some(tx),
    });
    let worker = start_worker(&queue, ctx, args.concurrency).await;
    // Let the worker settle into its idle wait before the first submit.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let latencies = common::measure_pickups(args.pickups, &mut rx, async || {
        queue
            .add_job(Job::builder(JOB_TYPE).build())
            .await
            .map(|_| ())
            .map_err(|e| format!("add_job failed: {e}"))
    })
    .await;
    stop(queue, worker).await;
    latencies
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let version = common::locked_version(include_str!("../Cargo.lock"), "effectum");
    args.announce(&format!("effectum {version}"));

    let mut runs = Vec::with_capacity(args.runs);
    for run in 0..args.runs {
        let rate = burn_down(&args, run)
            .await
            .unwrap_or_else(|e| common::fail(&e));
        eprintln!("burn-down run {}: {rate:.0} tasks/s", run + 1);
        runs.push(rate);
    }

    let latencies = pickups(&args).await.unwrap_or_else(|e| common::fail(&e));
    let p50 = common::percentile(&latencies, 0.50);
    let p99 = common::percentile(&latencies, 0.99);
    eprintln!("pickup: p50 {p50:.3} ms, p99 {p99:.3} ms");

    let result = serde_json::json!({
        "name": format!("effectum {version}"),
        "burn_down_tasks_per_s": common::round3(common::median(&runs)),
        "burn_down_runs": runs.iter().map(|r| common::round3(*r)).collect::<Vec<_>>(),
        "pickup_p50_ms": common::round3(p50),
        "pickup_p99_ms": common::round3(p99),
        "tasks": args.tasks,
        "concurrency": args.concurrency,
        "notes": "WAL on (set on the file before effectum opens it; effectum 0.7.0's own \
                  'PRAGMA journal' is ignored by SQLite); synchronous=NORMAL on effectum's \
                  writer; one worker, max_concurrency = concurrency; in-process wakeup, no \
                  polling; batch insert with add_jobs (not timed); done = num_active_jobs() \
                  empty and all jobs 'succeeded' in the jobs table",
    });
    println!("{result}");
}
