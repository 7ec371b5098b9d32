//! Pools set to `auto=MIN..MAX`, with the machine's load figure injected: under a
//! backlog the pool grows to its max and no further; idle, it shrinks back to its min;
//! on a loaded machine it stays at its min however long the backlog, and grows once the
//! load falls. Everything is judged by what runs and by the pool's gauge, never by time.

use crate::store::open_store;
use serde::Deserialize;
use serde_json::{json, Value};
use spool::model::SubmitRequest;
use spool::testing::engine::Engine;
use spool::testing::queue::{Autoscale, MaintenanceConfig, Queue, WorkerConfig};
use spool::testing::store::Synchronous;
use spool::testing::tasks::{Registry, TaskContext, TaskError, TaskKind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Deserialize, serde::Serialize, schemars::JsonSchema)]
struct Empty {}

/// Runs until the test opens the gate for it; counts how many run at once.
#[derive(Clone)]
struct Gate {
    open: Arc<Semaphore>,
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            open: Arc::new(Semaphore::new(0)),
            running: Arc::default(),
            most: Arc::default(),
        }
    }
}

impl TaskKind for Gate {
    const NAME: &'static str = "gate";
    const DESCRIPTION: &'static str = "waits for the test";
    type Params = Empty;
    type Output = Value;

    async fn run(&self, _ctx: TaskContext, _: Empty) -> Result<Value, TaskError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        if let Ok(permit) = self.open.acquire().await {
            permit.forget();
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(Value::Null)
    }
}

/// The load figure the pool reads, set by the test, and how many times it was read:
/// once per sizing decision.
#[derive(Clone, Default)]
struct Load {
    per_core: Arc<AtomicU64>,
    reads: Arc<AtomicUsize>,
}

impl Load {
    fn set(&self, per_core: f64) {
        self.per_core.store(per_core.to_bits(), Ordering::SeqCst);
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

async fn start(gate: &Gate, load: &Load, min: usize, max: usize) -> (Engine, tempfile::TempDir) {
    let (store, dir) = open_store(Synchronous::Normal).await;
    let mut pool = WorkerConfig::autoscaled("default", min, max);
    pool.poll_interval = Duration::from_millis(100);
    pool.shutdown_grace = Duration::from_millis(300);
    let figure = load.clone();
    pool.autoscale = Some(Autoscale {
        every: Duration::from_millis(20),
        load: Arc::new(move || {
            figure.reads.fetch_add(1, Ordering::SeqCst);
            Some(f64::from_bits(figure.per_core.load(Ordering::SeqCst)))
        }),
        ..Autoscale::new(min, max)
    });
    let engine = Engine::builder(store, Registry::default().with(gate.clone()))
        .maintenance(MaintenanceConfig::default())
        .pool(pool)
        .start();
    (engine, dir)
}

async fn submit_gates(queue: &Queue, n: usize) {
    for _ in 0..n {
        let request: SubmitRequest = serde_json::from_value(json!({"task_type": "gate"})).unwrap();
        queue.submit(request).await.unwrap();
    }
}

/// The pool's `spool_workers` gauge (0 until the pool has started).
async fn workers(queue: &Queue) -> usize {
    let text = queue.metrics_text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("spool_workers{queue=\"default\"} "))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// Waits until `holds` does; the deadline only guards against a hang.
async fn until<F: std::future::Future<Output = bool>>(what: &str, holds: impl Fn() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !holds().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_pool_grows_to_its_max_under_a_backlog_and_shrinks_to_its_min_when_idle() {
    let (gate, load) = (Gate::default(), Load::default());
    load.set(0.1);
    let (engine, _dir) = start(&gate, &load, 1, 6).await;
    let queue = engine.queue.clone();
    until("the pool starts at its min", || async {
        workers(&queue).await == 1
    })
    .await;
    submit_gates(&queue, 30).await;
    until("six gates run at once", || async {
        gate.running.load(Ordering::SeqCst) == 6
    })
    .await;
    assert_eq!(workers(&queue).await, 6);
    // Many more decisions under the same backlog do not take it past its max.
    let reads = load.reads();
    until("ten more decisions", || async {
        load.reads() >= reads + 10
    })
    .await;
    assert_eq!(gate.most.load(Ordering::SeqCst), 6);
    assert_eq!(workers(&queue).await, 6);

    gate.open.add_permits(30);
    until("every gate passed", || async {
        let stats = queue.stats().await.unwrap();
        stats.by_status.get("SUCCESS").copied() == Some(30)
    })
    .await;
    until("the idle pool is back at its min", || async {
        workers(&queue).await == 1
    })
    .await;
    engine.stop().await;
}

#[tokio::test]
async fn a_loaded_machine_keeps_the_pool_at_its_min_until_the_load_falls() {
    let (gate, load) = (Gate::default(), Load::default());
    load.set(3.0);
    let (engine, _dir) = start(&gate, &load, 2, 8).await;
    let queue = engine.queue.clone();
    submit_gates(&queue, 20).await;
    until("two gates run", || async {
        gate.running.load(Ordering::SeqCst) == 2
    })
    .await;
    let reads = load.reads();
    until("ten decisions under load", || async {
        load.reads() >= reads + 10
    })
    .await;
    assert_eq!(
        gate.most.load(Ordering::SeqCst),
        2,
        "the pool grew on a loaded machine"
    );
    assert_eq!(workers(&queue).await, 2);

    load.set(0.2);
    until("eight gates run once the load fell", || async {
        gate.running.load(Ordering::SeqCst) == 8
    })
    .await;
    gate.open.add_permits(20);
    engine.stop().await;
}
