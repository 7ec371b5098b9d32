//! The task change feed on every database: each change a follower sees (status, progress,
//! log lines, deletion) is reported with the task's id, a lease renewal is not, and on
//! PostgreSQL another process sharing the database hears the changes too, so its event
//! streams follow tasks that other processes run.

use crate::databases::{each_database, postgres_schema, stores_on};
use crate::store::task;
use serde_json::json;
use spool::model::SubmitRequest;
use spool::testing::engine::Engine;
use spool::testing::queue::{Queue, WorkerConfig};
use spool::testing::store::{is_postgres, Changed, Outcome, Store, StoreOptions};
use spool::testing::tasks::{KindSettings, Registry};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const NOW: i64 = 1_000_000_000;

/// The next change heard that names one of `ids` (on PostgreSQL other tests' changes
/// share the channel), as the set of those it names; "any" hears every id.
async fn next_about(heard: &mut Receiver<Arc<Changed>>, ids: &[Uuid]) -> HashSet<Uuid> {
    let waiting = async {
        loop {
            match &*heard.recv().await.unwrap() {
                Changed::Tasks(changed) => {
                    let named: HashSet<Uuid> = changed
                        .iter()
                        .filter(|id| ids.contains(id))
                        .copied()
                        .collect();
                    if !named.is_empty() {
                        return named;
                    }
                }
                Changed::Unknown => return ids.iter().copied().collect(),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("no change heard")
}

#[tokio::test]
async fn the_feed_names_each_task_a_follower_sees_change_in_whichever_process() {
    each_database(|url| async move {
        let writer = Store::open(&url, &StoreOptions::default()).await.unwrap();
        // On PostgreSQL a second process listens; a SQLite file has one process.
        let listener = if is_postgres(&url) {
            Store::open(&url, &StoreOptions::default()).await.unwrap()
        } else {
            writer.clone()
        };
        let mut heard = listener.task_changes();
        listener.watch_task_changes(true).await.unwrap();
        let stop = CancellationToken::new();
        let relay = tokio::spawn({
            let (listener, stop) = (listener.clone(), stop.clone());
            async move { listener.relay_notifications(|| {}, stop).await }
        });
        if is_postgres(&url) {
            // The relay says "anything may have changed" once it listens.
            assert_eq!(*heard.recv().await.unwrap(), Changed::Unknown);
        }

        let a = writer.insert(task(0, NOW)).await.unwrap().id;
        let b = writer.insert(task(0, NOW)).await.unwrap().id;
        let both = [a, b];
        let claimed = writer
            .claim("default", 2, "w", NOW, NOW + 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        assert_eq!(next_about(&mut heard, &both).await, HashSet::from(both));

        // A lease renewed without progress is no change a follower sees: the next change
        // heard is b's progress, not a's lease.
        writer.heartbeat(a, 1, NOW + 20, None).await.unwrap();
        writer
            .heartbeat(b, 1, NOW + 20, Some((50, Some("half way".into()))))
            .await
            .unwrap();
        assert_eq!(next_about(&mut heard, &both).await, HashSet::from([b]));

        let line = serde_json::from_value(json!({"message": "a line"})).unwrap();
        assert!(writer.append_log(a, 1, 0, vec![line], NOW).await.unwrap());
        assert_eq!(next_about(&mut heard, &both).await, HashSet::from([a]));

        assert!(writer
            .finish(b, 1, NOW + 30, Outcome::Succeeded(json!(null)))
            .await
            .unwrap());
        assert_eq!(next_about(&mut heard, &both).await, HashSet::from([b]));

        // Deleting a task is a change its followers must hear, to end their streams.
        assert_eq!(writer.prune(NOW + 40).await.unwrap(), 1);
        assert_eq!(next_about(&mut heard, &both).await, HashSet::from([b]));

        stop.cancel();
        relay.await.unwrap();
    })
    .await;
}

/// On PostgreSQL a process with no workers (`serve --no-workers`, say) follows a task
/// another process runs, every progress step to its end, with no read of the task but
/// one per change.
#[tokio::test]
async fn a_process_follows_a_task_another_process_runs_to_its_end() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let stores = stores_on(&schema, 2).await;
    let registry = || Registry::builtin(&KindSettings::in_dir("unused"));
    let watching = Engine::builder(stores[0].clone(), registry()).start();
    let mut pool = WorkerConfig::new("default", 1);
    pool.heartbeat = Duration::from_millis(50);
    let working = Engine::builder(stores[1].clone(), registry())
        .pool(pool)
        .start();
    let request: SubmitRequest = serde_json::from_value(json!({
        "task_type": "data_processing",
        "parameters": {"rows": 60, "pace_ms": 100}
    }))
    .unwrap();
    let id = watching.queue.submit(request).await.unwrap().id;
    let mut feed = watching.queue.follow(id).await.unwrap();
    let mut progress_seen = HashSet::new();
    let finished = async {
        loop {
            feed.changed()
                .await
                .expect("the feed stays open until the task ends");
            let task = feed.borrow_and_update().clone();
            progress_seen.insert(task.progress);
            if task.status.is_final() {
                return task;
            }
        }
    };
    let task = tokio::time::timeout(Duration::from_secs(60), finished)
        .await
        .expect("the task ends");
    assert_eq!(task.status.as_str(), "SUCCESS");
    assert!(
        progress_seen.len() >= 3,
        "progress steps reach the other process: {progress_seen:?}"
    );
    let reads = watching.queue.followed().reads();
    assert!(
        reads <= 2 + 2 * progress_seen.len() as u64 + 4,
        "{reads} reads for {} changes seen",
        progress_seen.len()
    );
    working.stop().await;
    watching.stop().await;
}

/// On PostgreSQL a follower whose process hears no notifications (a proxy that drops
/// them, say) still sees its task change: the hub reads its tasks again now and then.
#[tokio::test]
async fn without_notifications_a_follower_still_sees_the_change_on_postgresql() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let stores = stores_on(&schema, 2).await;
    // A queue with no engine: nothing relays the notifications.
    let deaf = Queue::new(
        stores[0].clone(),
        Registry::builtin(&KindSettings::in_dir("unused")),
    );
    let id = stores[1].insert(task(0, NOW)).await.unwrap().id;
    let mut feed = deaf.follow(id).await.unwrap();
    assert_eq!(feed.borrow_and_update().status.as_str(), "PENDING");
    stores[1].cancel(id, NOW).await.unwrap();
    let seen = tokio::time::timeout(
        Duration::from_secs(60),
        feed.wait_for(|task| task.status.is_final()),
    )
    .await
    .expect("the change is seen without a notification")
    .unwrap()
    .clone();
    assert_eq!(seen.status.as_str(), "CANCELLED");
}
