//! Lifecycle transitions at the store: the legal and illegal moves, rescue against a late
//! completion, pause, pruning and the trigger-kept counters.

use crate::databases::each_store;
use crate::store::task;
use serde_json::json;
use spool::model::TaskStatus;
use spool::testing::store::{CancelResult, Outcome, Rescued, RetryResult, Store, Synchronous};
use std::collections::BTreeMap;

const NOW: i64 = 1_000_000_000;

async fn status(store: &Store, id: uuid::Uuid) -> &'static str {
    store.get(id).await.unwrap().unwrap().status.as_str()
}

#[tokio::test]
async fn cancel_and_retry_follow_the_transition_rules() {
    each_store(Synchronous::Normal, |store| async move {
        // PENDING → CANCELLED at once; cancelling again is refused as final.
        let pending = store.insert(task(0, NOW)).await.unwrap();
        assert_eq!(
            store.cancel(pending.id, NOW).await.unwrap(),
            CancelResult::Cancelled
        );
        assert_eq!(
            store.cancel(pending.id, NOW).await.unwrap(),
            CancelResult::AlreadyFinal(TaskStatus::Cancelled)
        );
        // CANCELLED → PENDING by retry.
        assert_eq!(
            store.retry(pending.id, NOW).await.unwrap(),
            RetryResult::Retried
        );
        assert_eq!(status(&store, pending.id).await, "PENDING");
        // A PENDING task cannot be retried.
        assert_eq!(
            store.retry(pending.id, NOW).await.unwrap(),
            RetryResult::NotRetryable(TaskStatus::Pending)
        );

        // RUNNING → cancel requested, still RUNNING until the worker stops.
        let claimed = store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        assert_eq!(claimed[0].id, pending.id);
        assert_eq!(
            store.cancel(pending.id, NOW).await.unwrap(),
            CancelResult::Requested
        );
        let row = store.get(pending.id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.cancel_requested),
            ("RUNNING", true)
        );
        assert!(store
            .finish(pending.id, 1, NOW, Outcome::Cancelled)
            .await
            .unwrap());
        assert_eq!(status(&store, pending.id).await, "CANCELLED");

        // SUCCESS is final: neither cancel nor retry.
        let done = store.insert(task(0, NOW)).await.unwrap();
        store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        assert!(store
            .finish(done.id, 1, NOW, Outcome::Succeeded(json!(null)))
            .await
            .unwrap());
        assert_eq!(
            store.cancel(done.id, NOW).await.unwrap(),
            CancelResult::AlreadyFinal(TaskStatus::Success)
        );
        assert_eq!(
            store.retry(done.id, NOW).await.unwrap(),
            RetryResult::NotRetryable(TaskStatus::Success)
        );

        let missing = uuid::Uuid::new_v4();
        assert_eq!(
            store.cancel(missing, NOW).await.unwrap(),
            CancelResult::NotFound
        );
        assert_eq!(
            store.retry(missing, NOW).await.unwrap(),
            RetryResult::NotFound
        );
    })
    .await;
}

#[tokio::test]
async fn a_failure_with_attempts_left_is_scheduled_then_promoted_and_a_retry_grants_one_more() {
    each_store(Synchronous::Normal, |store| async move {
        let stored = store
            .insert(spool::testing::store::NewTask {
                max_attempts: 2,
                ..task(0, NOW)
            })
            .await
            .unwrap();
        store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        let retry_at = NOW + 5_000;
        assert!(store
            .finish(
                stored.id,
                1,
                NOW,
                Outcome::Failed {
                    error: "flaky".into(),
                    retry_at: Some(retry_at)
                }
            )
            .await
            .unwrap());
        assert_eq!(status(&store, stored.id).await, "SCHEDULED");
        assert_eq!(store.promote_due(retry_at - 1).await.unwrap(), 0);
        assert!(store
            .claim("default", 1, "w", retry_at, NOW + 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.promote_due(retry_at).await.unwrap(), 1);
        let second = store
            .claim("default", 1, "w", retry_at, retry_at + 10)
            .await
            .unwrap();
        assert_eq!(second[0].attempt, 2);
        assert!(store
            .finish(
                stored.id,
                2,
                retry_at,
                Outcome::Failed {
                    error: "again".into(),
                    retry_at: None
                }
            )
            .await
            .unwrap());
        let failed = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(
            (failed.status.as_str(), failed.error_message.as_deref()),
            ("FAILED", Some("again"))
        );

        assert_eq!(
            store.retry(stored.id, retry_at).await.unwrap(),
            RetryResult::Retried
        );
        let retried = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(
            (retried.status.as_str(), retried.max_attempts),
            ("PENDING", 3)
        );
        let attempts = store.attempts(stored.id).await.unwrap();
        let outcomes: Vec<_> = attempts
            .iter()
            .map(|a| (a.attempt, a.outcome.clone(), a.error.clone()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (1, Some("FAILED".into()), Some("flaky".into())),
                (2, Some("FAILED".into()), Some("again".into())),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_rescued_task_cannot_be_completed_by_its_late_worker() {
    each_store(Synchronous::Normal, |store| async move {
        let stored = store.insert(task(0, NOW)).await.unwrap();
        store
            .claim("default", 1, "dead-worker", NOW, NOW + 10)
            .await
            .unwrap();
        // Not yet expired: nothing to rescue.
        assert_eq!(
            store.rescue_expired(NOW + 10).await.unwrap(),
            Rescued::default()
        );
        assert_eq!(
            store.rescue_expired(NOW + 11).await.unwrap(),
            Rescued {
                retried: 1,
                ..Default::default()
            }
        );
        assert_eq!(status(&store, stored.id).await, "PENDING");

        // The old worker wakes up and reports: nothing changes.
        assert!(!store
            .finish(stored.id, 1, NOW + 12, Outcome::Succeeded(json!("late")))
            .await
            .unwrap());
        let second = store
            .claim("default", 1, "live-worker", NOW + 13, NOW + 100)
            .await
            .unwrap();
        assert_eq!(second[0].attempt, 2);
        assert!(!store
            .finish(stored.id, 1, NOW + 14, Outcome::Succeeded(json!("late")))
            .await
            .unwrap());
        assert!(store
            .finish(stored.id, 2, NOW + 15, Outcome::Succeeded(json!("on time")))
            .await
            .unwrap());
        let row = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.result_data),
            ("SUCCESS", Some(json!("on time")))
        );
        let outcomes: Vec<_> = store
            .attempts(stored.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.outcome)
            .collect();
        assert_eq!(outcomes, vec![Some("LOST".into()), Some("SUCCESS".into())]);
    })
    .await;
}

#[tokio::test]
async fn rescue_fails_a_task_with_no_attempts_left_and_honours_a_pending_cancel() {
    each_store(Synchronous::Normal, |store| async move {
        let last = store
            .insert(spool::testing::store::NewTask {
                max_attempts: 1,
                ..task(0, NOW)
            })
            .await
            .unwrap();
        let cancelled = store.insert(task(1, NOW)).await.unwrap();
        store
            .claim("default", 2, "dead", NOW, NOW + 10)
            .await
            .unwrap();
        store.cancel(cancelled.id, NOW).await.unwrap();
        let rescued = store.rescue_expired(NOW + 11).await.unwrap();
        assert_eq!(
            rescued,
            Rescued {
                retried: 0,
                failed: 1,
                cancelled: 1
            }
        );
        let failed = store.get(last.id).await.unwrap().unwrap();
        assert_eq!(failed.status, TaskStatus::Failed);
        assert!(failed.error_message.unwrap().contains("lease expired"));
        assert_eq!(status(&store, cancelled.id).await, "CANCELLED");
        assert!(store.running().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_paused_queue_holds_its_tasks_until_resumed() {
    each_store(Synchronous::Normal, |store| async move {
        store.insert(task(0, NOW)).await.unwrap();
        store.set_paused("default", true, NOW).await.unwrap();
        assert_eq!(
            store.paused_queues().await.unwrap(),
            vec!["default".to_string()]
        );
        assert!(store
            .claim("default", 5, "w", NOW, NOW + 10)
            .await
            .unwrap()
            .is_empty());
        store.set_paused("default", false, NOW).await.unwrap();
        assert!(store.paused_queues().await.unwrap().is_empty());
        assert_eq!(
            store
                .claim("default", 5, "w", NOW, NOW + 10)
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn pruning_deletes_only_old_finished_tasks_with_their_attempts() {
    each_store(Synchronous::Normal, |store| async move {
        let old = store.insert(task(0, NOW)).await.unwrap();
        let recent = store.insert(task(0, NOW)).await.unwrap();
        let waiting = store.insert(task(0, NOW)).await.unwrap();
        store.claim("default", 2, "w", NOW, NOW + 10).await.unwrap();
        store
            .finish(old.id, 1, NOW + 1, Outcome::Succeeded(json!(1)))
            .await
            .unwrap();
        store
            .finish(recent.id, 1, NOW + 100, Outcome::Succeeded(json!(1)))
            .await
            .unwrap();
        assert_eq!(store.prune(NOW + 50).await.unwrap(), 1);
        assert!(store.get(old.id).await.unwrap().is_none());
        assert!(store.attempts(old.id).await.unwrap().is_empty());
        assert!(store.get(recent.id).await.unwrap().is_some());
        assert!(store.get(waiting.id).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn counters_match_a_full_count_after_every_kind_of_transition() {
    each_store(Synchronous::Normal, |store| async move {
        let mut ids = Vec::new();
        for i in 0..12 {
            let mut new = task(i % 3, NOW);
            if i % 4 == 0 {
                new.task_type = "data_processing".into();
            }
            if i % 5 == 0 {
                new.queue = "emails".into();
            }
            ids.push(store.insert(new).await.unwrap().id);
        }
        let claimed = store.claim("default", 6, "w", NOW, NOW + 10).await.unwrap();
        store
            .finish(claimed[0].id, 1, NOW, Outcome::Succeeded(json!(1)))
            .await
            .unwrap();
        store
            .finish(
                claimed[1].id,
                1,
                NOW,
                Outcome::Failed {
                    error: "x".into(),
                    retry_at: None,
                },
            )
            .await
            .unwrap();
        store
            .finish(
                claimed[2].id,
                1,
                NOW,
                Outcome::Failed {
                    error: "x".into(),
                    retry_at: Some(NOW + 9),
                },
            )
            .await
            .unwrap();
        store.cancel(ids[11], NOW).await.unwrap();
        store.retry(claimed[1].id, NOW).await.unwrap();
        store.rescue_expired(NOW + 11).await.unwrap();
        store.prune(NOW + 1).await.unwrap();

        let mut counted: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for row in store.counts().await.unwrap() {
            counted.insert((row.queue, row.task_type, row.status), row.n);
        }
        let mut scanned: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        let all = store
            .list(&spool::testing::store::ListFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        for row in all {
            *scanned
                .entry((row.queue, row.task_type, row.status.as_str().to_string()))
                .or_default() += 1;
        }
        assert_eq!(counted, scanned);
        assert!(counted.len() >= 4, "{counted:?}");
    })
    .await;
}

#[tokio::test]
async fn a_cancel_requested_while_running_wins_over_a_retry_or_a_requeue() {
    each_store(Synchronous::Normal, |store| async move {
        let failing = store.insert(task(0, NOW)).await.unwrap();
        let interrupted = store.insert(task(1, NOW)).await.unwrap();
        store.claim("default", 2, "w", NOW, NOW + 10).await.unwrap();
        store.cancel(failing.id, NOW).await.unwrap();
        store.cancel(interrupted.id, NOW).await.unwrap();

        let retry = Outcome::Failed {
            error: "boom".into(),
            retry_at: Some(NOW + 100),
        };
        assert!(store.finish(failing.id, 1, NOW + 1, retry).await.unwrap());
        assert!(store.requeue(interrupted.id, 1, NOW + 1).await.unwrap());
        for id in [failing.id, interrupted.id] {
            let row = store.get(id).await.unwrap().unwrap();
            assert_eq!(row.status, TaskStatus::Cancelled);
            assert!(row.completed_at.is_some());
        }
        assert_eq!(store.promote_due(NOW + 1_000).await.unwrap(), 0);
        assert!(store
            .claim("default", 5, "w", NOW + 1_000, NOW + 2_000)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_interrupted_attempt_does_not_use_up_the_task() {
    each_store(Synchronous::Normal, |store| async move {
        let stored = store
            .insert(spool::testing::store::NewTask {
                max_attempts: 1,
                ..task(0, NOW)
            })
            .await
            .unwrap();
        store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        assert!(store.requeue(stored.id, 1, NOW + 1).await.unwrap());
        let row = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.attempt, row.max_attempts),
            ("PENDING", 1, 2)
        );
        // The next attempt is the task's real one: if it fails, the task fails for good.
        store
            .claim("default", 1, "w", NOW + 2, NOW + 10)
            .await
            .unwrap();
        store.rescue_expired(NOW + 11).await.unwrap();
        assert_eq!(status(&store, stored.id).await, "FAILED");
    })
    .await;
}

#[tokio::test]
async fn throughput_counts_each_task_once_in_the_minute_it_finished() {
    each_store(Synchronous::Normal, |store| async move {
        let minute = 60_000_000;
        let a = store.insert(task(0, NOW)).await.unwrap();
        let b = store.insert(task(0, NOW)).await.unwrap();
        let c = store.insert(task(0, NOW)).await.unwrap();
        store.claim("default", 3, "w", NOW, NOW + 10).await.unwrap();
        store
            .finish(a.id, 1, 5 * minute + 1, Outcome::Succeeded(json!(1)))
            .await
            .unwrap();
        store
            .finish(
                b.id,
                1,
                5 * minute + 2,
                Outcome::Failed {
                    error: "x".into(),
                    retry_at: None,
                },
            )
            .await
            .unwrap();
        // A retry is not a finish; its later success is.
        store
            .finish(
                c.id,
                1,
                6 * minute,
                Outcome::Failed {
                    error: "x".into(),
                    retry_at: Some(NOW),
                },
            )
            .await
            .unwrap();
        store.promote_due(NOW).await.unwrap();
        store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        store
            .finish(c.id, 2, 7 * minute, Outcome::Succeeded(json!(1)))
            .await
            .unwrap();
        // Retrying a finished task and finishing it again counts again.
        store.retry(b.id, NOW).await.unwrap();
        store.cancel(b.id, 7 * minute + 5).await.unwrap();

        let rows: Vec<_> = store
            .throughput(0)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.minute, r.status, r.n))
            .collect();
        assert_eq!(
            rows,
            vec![
                (5, "FAILED".to_string(), 1),
                (5, "SUCCESS".to_string(), 1),
                (7, "CANCELLED".to_string(), 1),
                (7, "SUCCESS".to_string(), 1),
            ]
        );
        assert_eq!(store.prune_throughput(6).await.unwrap(), 2);
        assert_eq!(store.throughput(0).await.unwrap().len(), 2);
    })
    .await;
}
