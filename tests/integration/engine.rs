//! The worker pool and housekeeping running real attempts against a real store, with
//! task kinds made for the purpose: ones that sleep, ignore cancellation, panic, fail a
//! few times, or measure how many of them run at once.

use crate::store::{open_store, CommitTrap};
use serde::Deserialize;
use serde_json::{json, Value};
use spool::model::{SubmitRequest, TaskView};
use spool::testing::queue::{Actor, MaintenanceConfig, Queue, WorkerConfig};
use spool::testing::store::{Store, Synchronous};
use spool::testing::tasks::{KindSettings, Registry, TaskContext, TaskError, TaskKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Deserialize, serde::Serialize, schemars::JsonSchema)]
struct Empty {}

/// Declares a parameterless test kind: its type, name, and the body of its run.
macro_rules! test_kind {
    ($(#[$doc:meta])* $kind:ident, $name:literal, |$this:ident, $ctx:ident| $body:block) => {
        $(#[$doc])*
        impl TaskKind for $kind {
            const NAME: &'static str = $name;
            const DESCRIPTION: &'static str = $name;
            type Params = Empty;
            type Output = Value;
            #[allow(unused_variables)]
            async fn run(&self, $ctx: TaskContext, _: Empty) -> Result<Value, TaskError> {
                let $this = self;
                $body
            }
        }
    };
}

struct Sleeper;
test_kind!(
    /// Waits (cooperatively) for a minute.
    Sleeper, "sleeper", |this, ctx| {
        ctx.progress(10, "sleeping");
        ctx.pace(Duration::from_secs(60)).await?;
        Ok(Value::Null)
    }
);

struct Stubborn;
test_kind!(
    /// Sleeps for an hour and never looks at its cancel signal.
    Stubborn, "stubborn", |this, ctx| {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(Value::Null)
    }
);

struct Panicker;
test_kind!(Panicker, "panicker", |this, ctx| {
    panic!("handler exploded")
});

struct FlakyOnce;
test_kind!(
    /// Fails its first attempt, succeeds on the second.
    FlakyOnce, "flaky_once", |this, ctx| {
        if ctx.attempt() == 1 {
            return Err(TaskError::Failed("first attempt fails".into()));
        }
        Ok(json!({"attempt": ctx.attempt()}))
    }
);

struct SlowButSure;
test_kind!(
    /// Takes half a second, ignoring cancellation, then succeeds.
    SlowButSure, "slow_but_sure", |this, ctx| {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(json!("done"))
    }
);

/// Records the most attempts that ever ran at once.
#[derive(Clone, Default)]
struct Probe {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}
test_kind!(Probe, "probe", |this, ctx| {
    let running = this.now.fetch_add(1, Ordering::SeqCst) + 1;
    this.max.fetch_max(running, Ordering::SeqCst);
    let result = ctx.pace(Duration::from_millis(30)).await;
    this.now.fetch_sub(1, Ordering::SeqCst);
    result.map(|_| Value::Null)
});

/// Counts its runs and the runs that were told to stop; a run takes two seconds.
#[derive(Clone, Default)]
struct Counted {
    started: Arc<AtomicUsize>,
    stopped: Arc<AtomicUsize>,
}
test_kind!(Counted, "counted", |this, ctx| {
    this.started.fetch_add(1, Ordering::SeqCst);
    let paced = ctx.pace(Duration::from_secs(2)).await;
    if paced.is_err() {
        this.stopped.fetch_add(1, Ordering::SeqCst);
    }
    paced.map(|_| json!("counted"))
});

/// A queue with fast test timings, its workers and housekeeping, on a fresh database:
/// the production engine, built with the test's kinds and pools.
struct Engine {
    queue: Queue,
    /// The engine's store, for what the queue does not show (tasks RUNNING).
    store: Store,
    engine: spool::testing::engine::Engine,
    _dir: tempfile::TempDir,
}

fn worker_config(queue: &str, concurrency: usize) -> WorkerConfig {
    let mut config = WorkerConfig::new(queue, concurrency);
    config.heartbeat = Duration::from_millis(50);
    config.lease = Duration::from_secs(2);
    config.cancel_grace = Duration::from_millis(300);
    config.shutdown_grace = Duration::from_millis(300);
    config.poll_interval = Duration::from_millis(100);
    config
}

impl Engine {
    async fn start(registry: Registry, pools: &[(&str, usize)]) -> Engine {
        let pools = pools
            .iter()
            .map(|(name, concurrency)| worker_config(name, *concurrency))
            .collect();
        Engine::start_pools(registry, pools).await
    }

    async fn start_pools(registry: Registry, pools: Vec<WorkerConfig>) -> Engine {
        let (store, dir) = open_store(Synchronous::Normal).await;
        let mut builder = spool::testing::engine::Engine::builder(store.clone(), registry)
            .maintenance(MaintenanceConfig {
                promote_every: Duration::from_millis(20),
                rescue_every: Duration::from_millis(100),
                ..MaintenanceConfig::default()
            });
        for pool in pools {
            builder = builder.pool(pool);
        }
        let engine = builder.start();
        Engine {
            queue: engine.queue.clone(),
            store,
            engine,
            _dir: dir,
        }
    }

    async fn submit(&self, task_type: &str, extra: Value) -> TaskView {
        let mut body = json!({"task_type": task_type});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let request: SubmitRequest = serde_json::from_value(body).unwrap();
        self.queue.submit(request).await.unwrap()
    }

    /// Waits until `done` holds for the task; the deadline only guards against a hang.
    async fn wait_for(&self, id: uuid::Uuid, done: impl Fn(&TaskView) -> bool) -> TaskView {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let task = self.queue.get(id).await.unwrap();
            if done(&task) {
                return task;
            }
            assert!(Instant::now() < deadline, "condition never held: {task:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_final(&self, id: uuid::Uuid) -> TaskView {
        self.wait_for(id, |t| t.status.is_final()).await
    }

    /// Stops workers and housekeeping; the queue, its store and its database folder
    /// stay usable.
    async fn shutdown(self) -> (Queue, Store, tempfile::TempDir) {
        self.engine.stop().await;
        (self.queue, self.store, self._dir)
    }
}

fn outcomes(task: &TaskView) -> Vec<String> {
    task.attempts
        .iter()
        .flatten()
        .map(|a| a.outcome.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn cancelling_a_running_task_stops_its_handler_and_ends_cancelled() {
    let engine = Engine::start(Registry::default().with(Sleeper), &[("default", 2)]).await;
    let task = engine.submit("sleeper", json!({})).await;
    engine
        .wait_for(task.id, |t| t.status.as_str() == "RUNNING")
        .await;
    engine.queue.cancel(task.id, &Actor::local()).await.unwrap();
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "CANCELLED");
    assert_eq!(outcomes(&done), vec!["CANCELLED"]);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_handler_that_ignores_cancel_is_aborted_after_the_grace_period() {
    let engine = Engine::start(Registry::default().with(Stubborn), &[("default", 1)]).await;
    let task = engine.submit("stubborn", json!({})).await;
    engine
        .wait_for(task.id, |t| t.status.as_str() == "RUNNING")
        .await;
    engine.queue.cancel(task.id, &Actor::local()).await.unwrap();
    // Well before the handler's own minute is up.
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "CANCELLED");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_timeout_fails_the_attempt_and_spends_the_last_one() {
    let engine = Engine::start(Registry::default().with(Stubborn), &[("default", 1)]).await;
    let task = engine
        .submit("stubborn", json!({"timeout_ms": 100, "max_attempts": 1}))
        .await;
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "FAILED");
    assert_eq!(
        done.error_message.as_deref(),
        Some("timed out after 100 ms")
    );
    assert_eq!(outcomes(&done), vec!["FAILED"]);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_fails_its_attempts_and_ends_failed_not_in_a_loop() {
    let engine = Engine::start(Registry::default().with(Panicker), &[("default", 1)]).await;
    let task = engine.submit("panicker", json!({"max_attempts": 2})).await;
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "FAILED");
    assert_eq!(done.attempt, 2);
    assert_eq!(outcomes(&done), vec!["FAILED", "FAILED"]);
    // The panic's text goes to the log, not to API clients.
    assert_eq!(
        done.error_message.as_deref(),
        Some("the task panicked (details are in the server log)")
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_failed_attempt_is_retried_after_its_backoff_and_can_then_succeed() {
    let engine = Engine::start(Registry::default().with(FlakyOnce), &[("default", 1)]).await;
    let task = engine.submit("flaky_once", json!({})).await;
    let scheduled = engine
        .wait_for(task.id, |t| t.status.as_str() == "SCHEDULED")
        .await;
    // The first backoff is one second, ±25%.
    let wait = scheduled.run_at - scheduled.attempts.as_ref().unwrap()[0].finished_at.unwrap();
    assert!((750..=1250).contains(&wait.num_milliseconds()), "{wait:?}");
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "SUCCESS");
    assert_eq!(done.result_data, Some(json!({"attempt": 2})));
    assert_eq!(outcomes(&done), vec!["FAILED", "SUCCESS"]);
    engine.shutdown().await;
}

#[tokio::test]
async fn each_queue_runs_at_most_its_concurrency_and_a_paused_queue_waits() {
    let probe = Probe::default();
    let engine = Engine::start(
        Registry::default().with(probe.clone()),
        &[("narrow", 2), ("default", 1)],
    )
    .await;
    engine.queue.set_paused("narrow", true).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(engine.submit("probe", json!({"queue": "narrow"})).await.id);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &ids {
        assert_eq!(
            engine.queue.get(*id).await.unwrap().status.as_str(),
            "PENDING"
        );
    }
    engine.queue.set_paused("narrow", false).await.unwrap();
    for id in &ids {
        assert_eq!(engine.wait_final(*id).await.status.as_str(), "SUCCESS");
    }
    assert_eq!(probe.max.load(Ordering::SeqCst), 2);
    engine.shutdown().await;
}

#[tokio::test]
async fn shutdown_requeues_a_task_that_outlives_the_grace_period() {
    let engine = Engine::start(Registry::default().with(Stubborn), &[("default", 1)]).await;
    let task = engine.submit("stubborn", json!({})).await;
    engine
        .wait_for(task.id, |t| t.status.as_str() == "RUNNING")
        .await;
    let (queue, store, _dir) = engine.shutdown().await;
    assert!(store.running().await.unwrap().is_empty());
    let after = queue.get(task.id).await.unwrap();
    assert_eq!(after.status.as_str(), "PENDING");
    assert_eq!(outcomes(&after), vec!["INTERRUPTED"]);
}

#[tokio::test]
async fn fifty_concurrent_submitters_and_the_workers_meet_no_error() {
    let engine = Engine::start(
        Registry::builtin(&KindSettings::in_dir("unused")),
        &[("default", 8)],
    )
    .await;
    let queue = engine.queue.clone();
    let submitters: Vec<_> = (0..50)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..10 {
                    let request = SubmitRequest {
                        task_type: "noop".into(),
                        ..SubmitRequest::default()
                    };
                    ids.push(
                        queue
                            .submit(request)
                            .await
                            .expect("submit under contention")
                            .id,
                    );
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for submitter in submitters {
        ids.extend(submitter.await.unwrap());
    }
    assert_eq!(ids.len(), 500);
    for id in ids {
        assert_eq!(engine.wait_final(id).await.status.as_str(), "SUCCESS");
    }
    let stats = engine.queue.stats().await.unwrap();
    assert_eq!(stats.by_status.get("SUCCESS"), Some(&500));
    assert_eq!(stats.by_status.len(), 1, "{stats:?}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_delayed_task_waits_scheduled_until_its_time() {
    let engine = Engine::start(
        Registry::builtin(&KindSettings::in_dir("unused")),
        &[("default", 1)],
    )
    .await;
    let task = engine.submit("noop", json!({"delay_ms": 400})).await;
    assert_eq!(task.status.as_str(), "SCHEDULED");
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "SUCCESS");
    assert!(done.started_at.unwrap() >= task.run_at, "{done:?}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_task_that_finishes_during_the_shutdown_grace_keeps_its_success() {
    let engine = Engine::start(Registry::default().with(SlowButSure), &[("default", 1)]).await;
    let task = engine.submit("slow_but_sure", json!({})).await;
    engine
        .wait_for(task.id, |t| t.status.as_str() == "RUNNING")
        .await;
    // The grace period (300 ms) ends before the handler (500 ms): it is told to stop,
    // ignores it, and returns its result within the cancel grace (300 ms more).
    let (queue, _store, _dir) = engine.shutdown().await;
    let after = queue.get(task.id).await.unwrap();
    assert_eq!(after.status.as_str(), "SUCCESS", "{after:?}");
    assert_eq!(after.result_data, Some(json!("done")));
}

#[tokio::test]
async fn a_cancel_during_shutdown_ends_cancelled_not_requeued() {
    let engine = Engine::start(Registry::default().with(Stubborn), &[("default", 1)]).await;
    let task = engine.submit("stubborn", json!({})).await;
    engine
        .wait_for(task.id, |t| t.status.as_str() == "RUNNING")
        .await;
    engine.queue.cancel(task.id, &Actor::local()).await.unwrap();
    let (queue, store, _dir) = engine.shutdown().await;
    let after = queue.get(task.id).await.unwrap();
    assert_eq!(after.status.as_str(), "CANCELLED", "{after:?}");
    assert!(store.running().await.unwrap().is_empty());
}

/// The pool starts a claim's tasks before the claim's commit is on disk. When that commit
/// fails, the attempt it started is stopped and leaves no trace, and the pool does not
/// start it again while commits keep failing; once they work, the task runs to the end
/// with one attempt on record.
#[tokio::test]
async fn attempts_whose_claim_did_not_commit_are_stopped_and_leave_no_trace() {
    let counted = Counted::default();
    // No heartbeat in the test's time, so only the failed commit can stop an attempt;
    // and a lease that outlasts any attempt, so none is rescued for want of one (a slow
    // machine takes longer than the handler's two seconds).
    let mut pool = worker_config("default", 2);
    pool.heartbeat = Duration::from_secs(3600);
    pool.lease = Duration::from_secs(600);
    let engine = Engine::start_pools(Registry::default().with(counted.clone()), vec![pool]).await;
    let trap = CommitTrap::arm(&engine._dir.path().join("store.db")).await;
    let task = engine.submit("counted", json!({})).await;

    let deadline = Instant::now() + Duration::from_secs(60);
    while counted.stopped.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no attempt was stopped");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The pool keeps claiming (every failed claim then waits half a second), but while
    // commits fail no claim is answered before its commit, so nothing starts again.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(counted.started.load(Ordering::SeqCst), 1);
    let stored = engine.queue.get(task.id).await.unwrap();
    assert_eq!(stored.status.as_str(), "PENDING");
    assert_eq!(outcomes(&stored), Vec::<String>::new());

    trap.disarm().await;
    let done = engine.wait_final(task.id).await;
    assert_eq!(done.status.as_str(), "SUCCESS");
    assert_eq!(done.result_data, Some(json!("counted")));
    assert_eq!(outcomes(&done), vec!["SUCCESS"]);
    assert_eq!(done.attempt, 1);
    assert_eq!(counted.started.load(Ordering::SeqCst), 2);
    engine.shutdown().await;
}
