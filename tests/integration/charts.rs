//! The charts' aggregates: kept per queue, kind and slot as tasks finish (on both
//! databases), read back with latency percentiles, pruned by slot, and the oldest waiting
//! task found across priorities; then the charts over REST as a user asks for them.

use crate::databases::each_store;
use crate::store::task;
use crate::support::TestServer;
use serde_json::{json, Value};
use spool::testing::store::{
    bucket_millis, latency_bucket, NewTask, Outcome, StatRow, StatsBy, StatsRange, Store,
    Synchronous, HOUR_SPAN, MINUTE_SPAN,
};
use std::time::{Duration, Instant};

const MINUTE: i64 = 60_000_000;
/// A whole hour, so the minute and hour slots start together.
const NOW: i64 = 500_000 * 60 * MINUTE;

fn in_queue(queue: &str, task_type: &str, priority: i32, run_at: i64) -> NewTask {
    NewTask {
        queue: queue.into(),
        task_type: task_type.into(),
        ..task(priority, run_at)
    }
}

/// `(name, measure, bucket, n)` of the rows, sorted.
fn summed(mut rows: Vec<StatRow>) -> Vec<(String, String, i32, i64)> {
    rows.sort_by(|a, b| (&a.name, &a.measure, a.bucket).cmp(&(&b.name, &b.measure, b.bucket)));
    rows.into_iter()
        .map(|row| (row.name, row.measure, row.bucket, row.n))
        .collect()
}

/// Every minute row of the hour up to `NOW`.
fn last_hour() -> StatsRange<'static> {
    StatsRange {
        span: MINUTE_SPAN,
        since: NOW / MINUTE - 59,
        queue: None,
        task_type: None,
    }
}

fn row(name: &str, measure: &str, bucket: i32, n: i64) -> (String, String, i32, i64) {
    (name.into(), measure.into(), bucket, n)
}

#[tokio::test]
async fn finished_tasks_are_kept_by_queue_kind_and_slot_with_their_latencies() {
    each_store(Synchronous::Normal, |store: Store| async move {
        for _ in 0..2 {
            store
                .insert(in_queue("mail", "email", 0, NOW))
                .await
                .unwrap();
        }
        let never_ran = store
            .insert(in_queue("images", "resize", 0, NOW))
            .await
            .unwrap();
        // Both waited two seconds; one ran half a second and succeeded, the other ran
        // three seconds and failed for good.
        let claimed = store
            .claim("mail", 2, "w", NOW + 2_000_000, NOW + MINUTE)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        let succeeded = Outcome::Succeeded(json!({}));
        assert!(store
            .finish(claimed[0].id, 1, NOW + 2_500_000, succeeded)
            .await
            .unwrap());
        let failed = Outcome::Failed {
            error: "no".into(),
            retry_at: None,
        };
        assert!(store
            .finish(claimed[1].id, 1, NOW + 5_000_000, failed)
            .await
            .unwrap());
        store.cancel(never_ran.id, NOW + 1).await.unwrap();

        let minutes = last_hour();
        let by_queue = summed(store.task_stats(minutes, StatsBy::Queue).await.unwrap());
        assert_eq!(
            by_queue,
            [
                row("images", "CANCELLED", 0, 1),
                row("mail", "FAILED", 0, 1),
                row("mail", "SUCCESS", 0, 1),
                row("mail", "run", latency_bucket(500_000), 1),
                row("mail", "run", latency_bucket(3_000_000), 1),
                row("mail", "wait", latency_bucket(2_000_000), 2),
            ]
        );
        let by_kind = summed(store.task_stats(minutes, StatsBy::Kind).await.unwrap());
        assert_eq!(
            by_kind.iter().filter(|r| r.0 == "email").count(),
            5,
            "{by_kind:?}"
        );
        assert!((1_700..=2_300).contains(&bucket_millis(latency_bucket(2_000_000))));

        // Limited to one queue, by slot: the minute the task was cancelled in.
        let images = StatsRange {
            queue: Some("images"),
            ..minutes
        };
        let slots = store.task_stats(images, StatsBy::Slot).await.unwrap();
        assert_eq!(
            slots
                .iter()
                .map(|r| (r.slot, r.measure.as_str(), r.n))
                .collect::<Vec<_>>(),
            [(NOW / MINUTE, "CANCELLED", 1)]
        );
        // Outside the window, nothing.
        let later = StatsRange {
            since: NOW / MINUTE + 1,
            ..minutes
        };
        assert!(store
            .task_stats(later, StatsBy::Queue)
            .await
            .unwrap()
            .is_empty());

        // The hour rows hold the same, and outlive the minute rows' pruning.
        let hours = StatsRange {
            span: HOUR_SPAN,
            since: NOW / MINUTE - 23 * 60,
            ..minutes
        };
        assert_eq!(
            summed(store.task_stats(hours, StatsBy::Queue).await.unwrap()),
            by_queue
        );
        assert!(
            store
                .prune_task_stats(MINUTE_SPAN, NOW / MINUTE + 1)
                .await
                .unwrap()
                > 0
        );
        assert!(store
            .task_stats(minutes, StatsBy::Queue)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            summed(store.task_stats(hours, StatsBy::Queue).await.unwrap()),
            by_queue
        );
    })
    .await;
}

#[tokio::test]
async fn a_task_cancelled_instead_of_retried_keeps_the_due_time_it_waited_for() {
    each_store(Synchronous::Normal, |store: Store| async move {
        let task = store.insert(in_queue("q", "t", 0, NOW)).await.unwrap();
        let claimed = store
            .claim("q", 1, "w", NOW + 1_000_000, NOW + MINUTE)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        store.cancel(task.id, NOW + 1_500_000).await.unwrap();
        // The attempt fails and asks for a retry an hour on, but the cancel wins.
        let failed = Outcome::Failed {
            error: "no".into(),
            retry_at: Some(NOW + 60 * MINUTE),
        };
        assert!(store
            .finish(task.id, 1, NOW + 2_000_000, failed)
            .await
            .unwrap());
        let stored = store.get(task.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.run_at.timestamp_micros()),
            ("CANCELLED", NOW)
        );
        let minutes = last_hour();
        let by_queue = summed(store.task_stats(minutes, StatsBy::Queue).await.unwrap());
        assert!(
            by_queue.contains(&row("q", "wait", latency_bucket(1_000_000), 1)),
            "{by_queue:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_oldest_pending_task_is_found_whatever_its_priority() {
    each_store(Synchronous::Normal, |store: Store| async move {
        assert_eq!(store.oldest_pending("work").await.unwrap(), None);
        for (priority, run_at) in [(5, NOW - 10), (1, NOW - 100), (9, NOW - 1_000), (1, NOW)] {
            store
                .insert(in_queue("work", "t", priority, run_at))
                .await
                .unwrap();
        }
        store
            .insert(in_queue("other", "t", 0, NOW - 5_000))
            .await
            .unwrap();
        assert_eq!(
            store.oldest_pending("work").await.unwrap(),
            Some(NOW - 1_000)
        );
        // Once claimed, a task no longer waits.
        let claimed = store
            .claim("other", 1, "w", NOW, NOW + MINUTE)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(store.oldest_pending("other").await.unwrap(), None);
    })
    .await;
}

/// The charts once `test` holds of them, or the last seen when time is up.
async fn charts_when(server: &TestServer, path: &str, test: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, charts) = server.get_json(path).await;
        assert_eq!(status, 200, "{charts}");
        if test(&charts) || Instant::now() > deadline {
            return charts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn group<'a>(charts: &'a Value, list: &str, name: &str) -> &'a Value {
    charts[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["name"] == name)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn the_charts_show_what_finished_per_queue_and_kind_and_what_waits() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        server.submit_id(json!({"task_type": "noop"})).await;
    }
    let charts = charts_when(&server, "/api/charts", |charts| {
        charts["total"]["succeeded"].as_i64() >= Some(3)
    })
    .await;
    assert_eq!(charts["window"], "hour");
    assert_eq!(charts["slots"].as_array().unwrap().len(), 60, "{charts}");
    assert_eq!(charts["total"]["succeeded"], 3, "{charts}");
    let noop = group(&charts, "kinds", "noop");
    assert_eq!(noop["finished"]["succeeded"], 3, "{charts}");
    assert!(
        noop["finished"]["run"]["p50_ms"].as_i64().is_some(),
        "{noop}"
    );
    assert!(
        noop["finished"]["wait"]["p95_ms"].as_i64().is_some(),
        "{noop}"
    );
    assert_eq!(
        group(&charts, "queues", "default")["finished"]["succeeded"],
        3,
        "{charts}"
    );
    let in_slots: i64 = charts["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["finished"]["succeeded"].as_i64().unwrap())
        .sum();
    assert_eq!(in_slots, 3, "{charts}");

    // The day's window has hourly slots holding the same tasks.
    let (_, day) = server.get_json("/api/charts?window=day").await;
    assert_eq!(day["slots"].as_array().unwrap().len(), 24, "{day}");
    assert_eq!(day["total"]["succeeded"], 3, "{day}");

    // One kind alone; a kind nothing has finished of charts nothing.
    let (_, none) = server.get_json("/api/charts?type=email_simulation").await;
    assert_eq!(none["total"]["succeeded"], 0, "{none}");
    assert_eq!(none["task_type"], "email_simulation", "{none}");
    assert!(
        none["queues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["finished"]["succeeded"] == 0),
        "{none}"
    );

    // A paused queue's waiting task shows its age.
    assert_eq!(server.post("/api/queues/held/pause").await.status(), 204);
    server
        .submit_id(json!({"task_type": "noop", "queue": "held"}))
        .await;
    let charts = charts_when(&server, "/api/charts", |charts| {
        group(charts, "queues", "held")["oldest_pending_ms"].as_i64() >= Some(200)
    })
    .await;
    let held = group(&charts, "queues", "held");
    assert!(held["oldest_pending_ms"].as_i64() >= Some(200), "{charts}");
    assert_eq!(held["finished"]["succeeded"], 0, "{held}");
    // Waiting tasks are not told apart by type, so a type's charts give no age.
    let (_, noop) = server.get_json("/api/charts?type=noop").await;
    assert!(
        group(&noop, "queues", "held")["oldest_pending_ms"].is_null(),
        "{noop}"
    );

    // An empty queue means every queue; bad values say what is wrong.
    let (status, every) = server.get_json("/api/charts?queue=&type=").await;
    assert_eq!(status, 200, "{every}");
    assert!(
        every["queue"].is_null() && every["task_type"].is_null(),
        "{every}"
    );
    assert_eq!(every["total"]["succeeded"], 3, "{every}");
    let long_name = format!("/api/charts?queue={}", "q".repeat(65));
    for (path, words) in [
        ("/api/charts?window=week", "not a window"),
        ("/api/charts?window=", "not a window"),
        (long_name.as_str(), "at most 64"),
    ] {
        let (status, body) = server.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{path}: {body}");
    }
    server.stop().await;
}
