//! An idle pool's pickup: the next submit to its queue claims for it in the submit's own
//! transaction, so the task starts after one commit instead of two, and only once that
//! commit is durable. Also what a parked claim does when the queue is paused.

use crate::store::open_store;
use serde::Deserialize;
use serde_json::{json, Value};
use spool::model::{SubmitRequest, TaskStatus};
use spool::testing::engine::Engine;
use spool::testing::queue::{Queue, WorkerConfig};
use spool::testing::store::{CommitStats, Store, Synchronous};
use spool::testing::tasks::{Registry, TaskContext, TaskError, TaskKind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Deserialize, serde::Serialize, schemars::JsonSchema)]
struct Empty {}

/// What the handler saw as it started.
#[derive(Clone, Debug)]
struct AtStart {
    stats: CommitStats,
    /// The task's status as a read-only connection saw it: only committed data.
    stored_status: Option<TaskStatus>,
}

/// Records what it sees at its start, then returns.
#[derive(Clone, Default)]
struct Observer {
    store: Arc<Mutex<Option<Store>>>,
    seen: Arc<Mutex<Vec<AtStart>>>,
}

impl TaskKind for Observer {
    const NAME: &'static str = "observer";
    const DESCRIPTION: &'static str = "records the store's state as it starts";
    type Params = Empty;
    type Output = Value;
    async fn run(&self, ctx: TaskContext, _: Empty) -> Result<Value, TaskError> {
        let store = self
            .store
            .lock()
            .unwrap()
            .clone()
            .expect("the store is set");
        let stored = store.get(ctx.id()).await.expect("the task reads back");
        let seen = AtStart {
            stats: store.commit_stats(),
            stored_status: stored.map(|task| task.status),
        };
        self.seen.lock().unwrap().push(seen);
        Ok(Value::Null)
    }
}

async fn start(observer: &Observer) -> (Engine, Store, Queue, tempfile::TempDir) {
    let (store, dir) = open_store(Synchronous::Full).await;
    *observer.store.lock().unwrap() = Some(store.clone());
    // One slot: once the task runs, the pool has nothing to claim with. No heartbeat and
    // no poll in the test's time: only the submit can start the task.
    let mut pool = WorkerConfig::new("default", 1);
    pool.heartbeat = Duration::from_secs(3600);
    pool.poll_interval = Duration::from_secs(3600);
    let engine = Engine::builder(store.clone(), Registry::default().with(observer.clone()))
        .pool(pool)
        .start();
    let queue = engine.queue.clone();
    (engine, store, queue, dir)
}

async fn until(what: &str, holds: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !holds() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn submit_request(queue: &str) -> SubmitRequest {
    serde_json::from_value(json!({"task_type": "observer", "queue": queue})).unwrap()
}

#[tokio::test]
async fn a_submit_to_an_idle_pool_and_its_claim_share_one_commit() {
    let observer = Observer::default();
    let (engine, store, queue, _dir) = start(&observer).await;
    until("the idle pool parks its claim", || {
        store.parked_claims("default") == 1
    })
    .await;

    let before = store.commit_stats();
    let task = queue.submit(submit_request("default")).await.unwrap();
    until("the handler starts", || {
        !observer.seen.lock().unwrap().is_empty()
    })
    .await;

    let seen = observer.seen.lock().unwrap()[0].clone();
    assert_eq!(
        seen.stats.transactions - before.transactions,
        1,
        "the submit and the claim took one transaction: {before:?} → {seen:?}"
    );
    assert_eq!(
        seen.stats.writes - before.writes,
        2,
        "{before:?} → {seen:?}"
    );
    // A reader sees only committed rows: the claim had committed before the handler ran.
    assert_eq!(seen.stored_status, Some(TaskStatus::Running));
    let done = queue.get(task.id).await.unwrap();
    assert_eq!(done.id, task.id);
    engine.stop().await;
    assert!(store.running().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_parked_claim_takes_nothing_from_a_paused_queue_and_the_task_runs_on_resume() {
    let observer = Observer::default();
    let (engine, store, queue, _dir) = start(&observer).await;
    until("the idle pool parks its claim", || {
        store.parked_claims("default") == 1
    })
    .await;
    queue.set_paused("default", true).await.unwrap();

    let task = queue.submit(submit_request("default")).await.unwrap();
    // The submit's commit ran the parked claim, which found the queue paused; the pool
    // claims once more (nothing) and parks again.
    until("the pool parks again", || {
        store.parked_claims("default") == 1
    })
    .await;
    assert_eq!(queue.get(task.id).await.unwrap().status.as_str(), "PENDING");
    assert!(observer.seen.lock().unwrap().is_empty());

    queue.set_paused("default", false).await.unwrap();
    until("the task runs after the resume", || {
        !observer.seen.lock().unwrap().is_empty()
    })
    .await;
    engine.stop().await;
}
