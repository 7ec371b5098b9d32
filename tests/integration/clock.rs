//! The engine on a clock moved by hand: what depends on time (a delayed task's start, an
//! expired lease's rescue) happens when the clock says so, without the test waiting.

use crate::store::open_store;
use serde_json::json;
use spool::model::{SubmitRequest, TaskView};
use spool::testing::engine::Engine;
use spool::testing::queue::{MaintenanceConfig, ManualClock, Queue, WorkerConfig};
use spool::testing::store::Synchronous;
use spool::testing::tasks::{KindSettings, Registry};
use std::time::{Duration, Instant};

async fn engine_on(clock: &ManualClock) -> (Engine, tempfile::TempDir) {
    let (store, dir) = open_store(Synchronous::Normal).await;
    let mut pool = WorkerConfig::new("default", 2);
    pool.poll_interval = Duration::from_millis(50);
    let engine = Engine::builder(store, Registry::builtin(&KindSettings::in_dir("unused")))
        .clock(clock.clock())
        .pool(pool)
        .maintenance(MaintenanceConfig {
            promote_every: Duration::from_millis(20),
            ..MaintenanceConfig::default()
        })
        .start();
    (engine, dir)
}

async fn status_after(queue: &Queue, id: uuid::Uuid, wait: Duration) -> TaskView {
    tokio::time::sleep(wait).await;
    queue.get(id).await.unwrap()
}

async fn wait_final(queue: &Queue, id: uuid::Uuid) -> TaskView {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = queue.get(id).await.unwrap();
        if task.status.is_final() {
            return task;
        }
        assert!(Instant::now() < deadline, "never finished: {task:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_task_delayed_by_an_hour_runs_once_the_clock_has_moved_an_hour() {
    // Whole microseconds, as the store keeps times.
    let three_days_ago = (chrono::Utc::now() - chrono::Duration::days(3)).timestamp_micros();
    let start = chrono::DateTime::from_timestamp_micros(three_days_ago).unwrap();
    let clock = ManualClock::at(start);
    let (engine, _dir) = engine_on(&clock).await;
    let queue = engine.queue.clone();
    let request: SubmitRequest =
        serde_json::from_value(json!({"task_type": "noop", "delay_ms": 3_600_000})).unwrap();
    let task = queue.submit(request).await.unwrap();
    // Submitted on the engine's clock, three days ago by the system's.
    assert_eq!(task.created_at, start);
    assert_eq!(task.run_at, start + chrono::Duration::hours(1));

    // Promotion runs every 20 ms; a quarter of a second later the task still waits.
    let waiting = status_after(&queue, task.id, Duration::from_millis(250)).await;
    assert_eq!(waiting.status.as_str(), "SCHEDULED");
    clock.advance(Duration::from_secs(59 * 60));
    let waiting = status_after(&queue, task.id, Duration::from_millis(250)).await;
    assert_eq!(waiting.status.as_str(), "SCHEDULED");

    clock.advance(Duration::from_secs(60));
    let done = wait_final(&queue, task.id).await;
    assert_eq!(done.status.as_str(), "SUCCESS");
    assert_eq!(done.started_at, Some(start + chrono::Duration::hours(1)));
    engine.stop().await;
}
