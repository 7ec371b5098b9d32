//! Measures apalis 1.x with its SQLite storage (the `apalis-sqlite` crate) on the workload of
//! Spool's own benchmark, so the two can be compared on the same machine:
//!
//! 1. Burn-down, `--runs` times, each on a fresh SQLite file in `--dir`: `--tasks` no-op jobs
//!    are inserted with `TaskSink::push_bulk` (one transaction, not timed), then one worker
//!    with `.concurrency(--concurrency)` is started, and the clock runs from worker start
//!    until the `Jobs` table has every job with `status = 'Done'` (apalis writes that when it
//!    acknowledges a task, in batches, after the handler has returned). Handlers count their
//!    calls; once all have run, the table is counted every millisecond. A run is capped at
//!    `--cap-secs` (120 s unless told): if it is not done by then, the rate reported is
//!    (jobs Done at the cap) / (time to the cap), and the notes say so. A run that has finished no job by then is an error.
//! 2. Pickup latency, `--pickups` times in sequence on a fresh database with the worker idle:
//!    t0, push one job with `TaskSink::push`, and the handler sends `Instant::now()` as its
//!    first act; latency = handler start - t0. p50 and p99 by sorting (nearest rank).
//!
//! Configuration, as documented by apalis-sqlite and otherwise its defaults:
//! - `SqliteStorage::connect_with_callback` + `SqliteStorage::setup`: setup switches the file
//!   to WAL (read back and printed to stderr), sets `synchronous = OFF` on the one pool
//!   connection that runs it (the other pooled connections keep SQLite's default, FULL), and
//!   runs the migrations. sqlx's pool defaults (up to 10 connections, 5 s busy timeout).
//! - Wakeups: the README's "event-driven (hooked)" setup, a poll strategy of the SQLite
//!   update-hook stream (an insert into `Jobs` in this process wakes the worker) raced with a
//!   500 ms interval as a backstop. apalis has no default poll interval of its own: with no
//!   strategy an idle worker only looks again on its 30 s heartbeat.
//! - `Config` defaults: fetch batches of 10, lock tasks and persist results (one `Running`
//!   update and one ack update per task, each batched per event drain).
//!
//! Output: progress on stderr, then one JSON line on stdout.

#[path = "../../common.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::*;
use apalis_sqlite::{SqlitePool, SqliteStorage};
use common::{Args, BurnDown};
use futures::StreamExt;
use tokio::sync::{mpsc::UnboundedSender, oneshot};
use tokio::task::JoinHandle;

/// The interval backstop of the README's hooked setup.
const BACKSTOP_INTERVAL: Duration = Duration::from_millis(500);

/// What the no-op handler touches: a call counter, and (for pickups) where to send its start.
#[derive(Debug)]
struct Context {
    handled: AtomicUsize,
    started: Option<UnboundedSender<Instant>>,
}

async fn noop(_task: u32, ctx: Data<Arc<Context>>) -> Result<(), BoxDynError> {
    if let Some(tx) = &ctx.started {
        let _ = tx.send(Instant::now());
    }
    ctx.handled.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A fresh database in `path`, set up by apalis (WAL, migrations), with its hooked listener.
async fn open(path: &Path) -> (SqlitePool, apalis_sqlite::callback::HookCallbackListener) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let (pool, listener) =
        SqliteStorage::connect_with_callback(&url).expect("open the SQLite pool");
    SqliteStorage::setup(&pool)
        .await
        .expect("set up apalis's tables");
    (pool, listener)
}

async fn journal_mode(pool: &SqlitePool) -> String {
    sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .expect("read journal_mode")
}

async fn done_count(pool: &SqlitePool) -> usize {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Jobs WHERE status = 'Done'")
        .fetch_one(pool)
        .await
        .expect("count Done jobs");
    n as usize
}

/// Starts one worker on its own task; send on the returned channel to stop it.
fn start_worker(
    pool: &SqlitePool,
    listener: apalis_sqlite::callback::HookCallbackListener,
    ctx: Arc<Context>,
    concurrency: usize,
) -> (oneshot::Sender<()>, JoinHandle<Result<(), WorkerError>>) {
    let storage = SqliteStorage::<u32>::new(pool);
    let batch_size = apalis_sqlite::Config::default().batch_size;
    let strategy = Strategy::new()
        .stream(listener.ready_chunks(batch_size))
        .interval(BACKSTOP_INTERVAL);
    let worker = WorkerBuilder::new("bench-worker")
        .backend(storage.poll_with_strategy(strategy))
        .data(ctx)
        .concurrency(concurrency)
        .build(noop);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(worker.run_until(async move {
        let _ = stop_rx.await;
        Ok::<(), std::io::Error>(())
    }));
    (stop_tx, handle)
}

async fn stop(
    pool: SqlitePool,
    stop_tx: oneshot::Sender<()>,
    worker: JoinHandle<Result<(), WorkerError>>,
) {
    let _ = stop_tx.send(());
    match tokio::time::timeout(Duration::from_secs(30), worker).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => eprintln!("warning: worker stopped with an error: {e}"),
        Ok(Err(e)) => eprintln!("warning: worker task failed: {e}"),
        Err(_) => eprintln!("warning: worker did not stop within 30 s"),
    }
    pool.close().await;
}

/// One burn-down run: tasks per second, and whether it hit the cap (with how many were done).
async fn burn_down(args: &Args, run: usize) -> Result<(f64, Option<usize>), String> {
    let dir = common::fresh_db_dir(&args.dir);
    let (pool, listener) = open(&dir.path().join("apalis.db")).await;
    if run == 0 {
        eprintln!(
            "journal_mode after apalis's setup: {}",
            journal_mode(&pool).await
        );
    }

    let mut producer = SqliteStorage::<u32>::new(&pool);
    producer
        .push_bulk(vec![0u32; args.tasks])
        .await
        .expect("insert the jobs");

    let ctx = Arc::new(Context {
        handled: AtomicUsize::new(0),
        started: None,
    });
    let start = Instant::now();
    let (stop_tx, worker) = start_worker(&pool, listener, ctx.clone(), args.concurrency);
    let outcome =
        common::wait_for_burn_down(start, args.tasks, &ctx.handled, args.cap, async || {
            done_count(&pool).await
        })
        .await;

    let result = match outcome {
        BurnDown::Done { elapsed } => (args.tasks as f64 / elapsed.as_secs_f64(), None),
        BurnDown::Capped { elapsed, completed } => {
            eprintln!(
                "burn-down run {} capped at {:.0} s with {completed} of {} Done",
                run + 1,
                elapsed.as_secs_f64(),
                args.tasks
            );
            (completed as f64 / elapsed.as_secs_f64(), Some(completed))
        }
    };
    stop(pool, stop_tx, worker).await;
    if result.1 == Some(0) {
        return Err(format!(
            "burn-down run {}: no job finished within the cap",
            run + 1
        ));
    }
    Ok(result)
}

/// Pickup latencies in milliseconds, sorted.
async fn pickups(args: &Args) -> Result<Vec<f64>, String> {
    let dir = common::fresh_db_dir(&args.dir);
    let (pool, listener) = open(&dir.path().join("apalis.db")).await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Arc::new(Context {
        handled: AtomicUsize::new(0),
        started: Some(tx),
    });
    let (stop_tx, worker) = start_worker(&pool, listener, ctx, args.concurrency);
    // Let the worker register and settle into its idle wait before the first push.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut producer = SqliteStorage::<u32>::new(&pool);
    let latencies = common::measure_pickups(args.pickups, &mut rx, async || {
        producer
            .push(0u32)
            .await
            .map_err(|e| format!("push failed: {e}"))
    })
    .await;
    stop(pool, stop_tx, worker).await;
    latencies
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let lock = include_str!("../Cargo.lock");
    let version = common::locked_version(lock, "apalis");
    let sqlite_version = common::locked_version(lock, "apalis-sqlite");
    args.announce(&format!(
        "apalis {version} (apalis-sqlite {sqlite_version})"
    ));

    let mut runs = Vec::with_capacity(args.runs);
    let mut capped = Vec::new();
    for run in 0..args.runs {
        let (rate, cap) = burn_down(&args, run)
            .await
            .unwrap_or_else(|e| common::fail(&e));
        eprintln!("burn-down run {}: {rate:.0} tasks/s", run + 1);
        runs.push(rate);
        if let Some(done) = cap {
            capped.push(format!(
                "run {} capped at {} s with {done} of {} Done",
                run + 1,
                args.cap.as_secs(),
                args.tasks
            ));
        }
    }

    let latencies = pickups(&args).await.unwrap_or_else(|e| common::fail(&e));
    let p50 = common::percentile(&latencies, 0.50);
    let p99 = common::percentile(&latencies, 0.99);
    eprintln!("pickup: p50 {p50:.3} ms, p99 {p99:.3} ms");

    let mut notes = format!(
        "apalis-sqlite {sqlite_version}; WAL on (apalis's setup); synchronous=OFF only on the \
         pool connection that ran setup, SQLite's default FULL on the others; hooked wakeups \
         (SQLite update hook on insert) raced with a {} ms interval backstop, as in the \
         apalis-sqlite README (apalis has no default poll interval; without a strategy an \
         idle worker looks again only on its 30 s heartbeat); one worker, .concurrency(C), \
         fetch batch 10, lock_tasks and persist_results on (defaults); batch insert with \
         push_bulk (not timed); done = all rows status 'Done' in Jobs; runs capped at {} s, \
         a capped run's rate is jobs Done / time to the cap",
        BACKSTOP_INTERVAL.as_millis(),
        args.cap.as_secs()
    );
    if !capped.is_empty() {
        notes.push_str(&format!("; CAPPED: {}", capped.join(", ")));
    }

    let result = serde_json::json!({
        "name": format!("apalis {version}"),
        "burn_down_tasks_per_s": common::round3(common::median(&runs)),
        "burn_down_runs": runs.iter().map(|r| common::round3(*r)).collect::<Vec<_>>(),
        "pickup_p50_ms": common::round3(p50),
        "pickup_p99_ms": common::round3(p99),
        "tasks": args.tasks,
        "concurrency": args.concurrency,
        "notes": notes,
    });
    println!("{result}");
}
