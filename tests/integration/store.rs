//! The store on a real database (SQLite, and PostgreSQL when one is configured): atomic
//! claims that never exceed their limit, fenced writes that a stale attempt cannot make,
//! search that means the same on both, and on SQLite the pragmas on every connection and
//! the background checkpoints.

use crate::databases::each_store;
use serde_json::json;
use spool::model::TaskStatus;
use spool::testing::store::{
    from_micros, CancelResult, ClaimedTask, Heartbeat, NewTask, Outcome, Store, StoreOptions,
    Synchronous,
};
use tempfile::TempDir;
use uuid::Uuid;

pub async fn open_store(synchronous: Synchronous) -> (Store, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::open(
        &url,
        &StoreOptions {
            synchronous,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    (store, dir)
}

/// Makes the COMMIT of every claim on a SQLite file fail until disarmed: a trigger adds
/// a row whose deferred foreign key points nowhere, so the claim's statement runs and
/// only its commit fails, as on a disk that fails at the sync.
pub struct CommitTrap(sea_orm::DatabaseConnection);

impl CommitTrap {
    pub async fn arm(file: &std::path::Path) -> CommitTrap {
        use sea_orm::ConnectionTrait;
        let url = format!("sqlite://{}", file.display());
        let db = sea_orm::Database::connect(url).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY); \
             CREATE TABLE trap (parent INTEGER REFERENCES trap_parent (id) DEFERRABLE INITIALLY DEFERRED); \
             CREATE TRIGGER trap AFTER UPDATE OF status ON tasks WHEN NEW.status = 'RUNNING' \
             BEGIN INSERT INTO trap VALUES (1); END;",
        )
        .await
        .unwrap();
        CommitTrap(db)
    }

    pub async fn disarm(&self) {
        use sea_orm::ConnectionTrait;
        self.0
            .execute_unprepared("DROP TRIGGER trap")
            .await
            .unwrap();
    }
}

pub fn task(priority: i32, run_at: i64) -> NewTask {
    NewTask {
        id: Uuid::new_v4(),
        task_type: "noop".into(),
        queue: "default".into(),
        priority,
        max_attempts: 3,
        parameters: json!({}),
        created_at: run_at,
        run_at,
        timeout_ms: None,
        idempotency_key: None,
        unique: None,
    }
}

#[tokio::test]
async fn every_connection_carries_the_configured_pragmas() {
    for (synchronous, expected) in [(Synchronous::Full, "2"), (Synchronous::Normal, "1")] {
        let (store, _dir) = open_store(synchronous).await;
        let both = |v: &str| (v.to_string(), v.to_string());
        assert_eq!(store.pragma("journal_mode").await.unwrap(), both("wal"));
        assert_eq!(store.pragma("synchronous").await.unwrap(), both(expected));
        assert_eq!(store.pragma("busy_timeout").await.unwrap(), both("5000"));
        assert_eq!(store.pragma("foreign_keys").await.unwrap(), both("1"));
    }
}

#[tokio::test]
async fn a_pragma_name_cannot_smuggle_sql() {
    let (store, _dir) = open_store(Synchronous::Full).await;
    assert!(store
        .pragma("user_version; DROP TABLE tasks")
        .await
        .is_err());
}

#[tokio::test]
async fn claims_take_the_most_urgent_ready_tasks_and_never_more_than_asked() {
    each_store(Synchronous::Normal, |store| async move {
        let now = 1_000_000;
        let low = store.insert(task(5, now - 10)).await.unwrap();
        // Every column the claim returns differs from the other tasks' and its neighbours'.
        let urgent = store
            .insert(NewTask {
                task_type: "email_simulation".into(),
                max_attempts: 5,
                parameters: json!({ "to": "a@example.com" }),
                timeout_ms: Some(7_000),
                ..task(1, now - 5)
            })
            .await
            .unwrap();
        let older_urgent = store.insert(task(0, now - 20)).await.unwrap();
        let future = store
            .insert(NewTask {
                created_at: now - 30,
                ..task(0, now + 1_000)
            })
            .await
            .unwrap();

        let first = store
            .claim("default", 2, "w1", now, now + 30)
            .await
            .unwrap();
        let ids: Vec<_> = first.iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![older_urgent.id, urgent.id]);
        for claimed in &first {
            let stored = store.get(claimed.id).await.unwrap().unwrap();
            assert_eq!(
                (stored.status.as_str(), stored.worker_id.as_deref()),
                ("RUNNING", Some("w1"))
            );
            assert_eq!(
                (stored.started_at, stored.lease_expires_at),
                (Some(from_micros(now)), Some(from_micros(now + 30)))
            );
            // The claim hands over the stored task as it now is, column for column.
            let expected = ClaimedTask {
                id: stored.id,
                task_type: stored.task_type,
                attempt: 1,
                max_attempts: stored.max_attempts,
                parameters: stored.parameters.to_string(),
                timeout_ms: stored.timeout_ms,
                cancel_requested: stored.cancel_requested,
                priority: stored.priority,
                run_at: stored.run_at.timestamp_micros(),
            };
            assert_eq!(claimed, &expected);
        }

        let second = store
            .claim("default", 10, "w2", now, now + 30)
            .await
            .unwrap();
        assert_eq!(
            second.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![low.id]
        );
        assert!(store
            .claim("default", 10, "w3", now, now + 30)
            .await
            .unwrap()
            .is_empty());
        // Past its run_at but not yet promoted from SCHEDULED: still not claimable.
        assert!(store
            .claim("default", 10, "w3", now + 5_000, now + 30)
            .await
            .unwrap()
            .is_empty());
        // The scheduled task is not claimable before its time, whatever its priority.
        assert_eq!(
            store.get(future.id).await.unwrap().unwrap().status,
            TaskStatus::Scheduled
        );
    })
    .await;
}

#[tokio::test]
async fn a_stale_attempt_can_neither_finish_nor_heartbeat() {
    each_store(Synchronous::Normal, |store| async move {
        let now = 1_000_000;
        let stored = store.insert(task(0, now)).await.unwrap();
        let claimed = store
            .claim("default", 1, "w1", now, now + 30)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);

        // The attempt is interrupted and put back; a late outcome from it must change nothing.
        assert!(store.requeue(stored.id, 1, now + 1).await.unwrap());
        assert!(!store
            .finish(stored.id, 1, now + 1, Outcome::Succeeded(json!(1)))
            .await
            .unwrap());
        assert_eq!(
            store
                .heartbeat(stored.id, 1, now + 60, Some((50, None)))
                .await
                .unwrap(),
            Heartbeat::Lost
        );
        let row = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.attempt, row.result_data),
            ("PENDING", 1, None)
        );

        let again = store
            .claim("default", 1, "w2", now + 2, now + 30)
            .await
            .unwrap();
        assert_eq!(again[0].attempt, 2);
        assert_eq!(
            store
                .heartbeat(stored.id, 2, now + 60, Some((50, Some("half".into()))))
                .await
                .unwrap(),
            Heartbeat::Owned {
                cancel_requested: false
            }
        );
        // A cancel requested now (from any process) reaches the attempt on its next beat.
        assert_eq!(
            store.cancel(stored.id, now + 2).await.unwrap(),
            CancelResult::Requested
        );
        assert_eq!(
            store.heartbeat(stored.id, 2, now + 60, None).await.unwrap(),
            Heartbeat::Owned {
                cancel_requested: true
            }
        );
        let failed = Outcome::Failed {
            error: "boom".into(),
            retry_at: None,
        };
        assert!(store.finish(stored.id, 2, now + 3, failed).await.unwrap());
        let row = store.get(stored.id).await.unwrap().unwrap();
        assert_eq!(row.status, TaskStatus::Failed);
        assert_eq!(row.error_message.as_deref(), Some("boom"));
        assert_eq!(row.progress, 50);
        // Finished is final for the fence too.
        assert!(!store
            .finish(stored.id, 2, now + 4, Outcome::Succeeded(json!(1)))
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn shutdown_requeues_only_the_tasks_of_its_own_worker() {
    each_store(Synchronous::Normal, |store| async move {
        let now = 1_000_000;
        store.insert(task(0, now)).await.unwrap();
        store.insert(task(0, now)).await.unwrap();
        store
            .claim("default", 1, "mine", now, now + 30)
            .await
            .unwrap();
        store
            .claim("default", 1, "theirs", now, now + 30)
            .await
            .unwrap();
        assert_eq!(store.requeue_worker("mine", now).await.unwrap(), 1);
        let running = store.running().await.unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].worker_id.as_deref(), Some("theirs"));
    })
    .await;
}

#[tokio::test]
async fn a_checkpoint_empties_the_wal_while_readers_keep_polling() {
    let (store, dir) = open_store(Synchronous::Normal).await;
    let wal = dir.path().join("store.db-wal");
    let polling = {
        let store = store.clone();
        tokio::spawn(async move {
            let filter = spool::testing::store::ListFilter {
                limit: 50,
                ..Default::default()
            };
            loop {
                store.list(&filter).await.unwrap();
                store.counts().await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for i in 0..2_000 {
        store.insert(task(0, i)).await.unwrap();
    }
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    // A checkpoint under the threshold copies but leaves the file; over it, truncates.
    let frames = store.checkpoint(i64::MAX).await.unwrap();
    assert!(frames > 0);
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    store.checkpoint(frames).await.unwrap();
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        0,
        "the WAL was not truncated"
    );
    assert_eq!(
        store.pragma("journal_size_limit").await.unwrap().0,
        "67108864"
    );
    polling.abort();
}

#[tokio::test]
async fn the_writer_never_checkpoints_and_the_store_copies_the_wal_in_the_background() {
    let (store, dir) = open_store(Synchronous::Full).await;
    assert_eq!(store.pragma("wal_autocheckpoint").await.unwrap().0, "0");
    let database = dir.path().join("store.db");
    let before = std::fs::metadata(&database).unwrap().len();
    for i in 0..500 {
        store.insert(task(0, i)).await.unwrap();
    }
    // Nothing here calls `checkpoint`: only the store's own task can move the rows from
    // the WAL into the database file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let after = std::fs::metadata(&database).unwrap().len();
        if after >= before + 64 * 1024 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {after} bytes (from {before}): nothing checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Runs `count` inserts at once; the one at `bad` (if any) reuses the key "same-key".
async fn insert_concurrently(store: &Store, count: i64, bad: Option<i64>) -> Vec<String> {
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..count {
        let store = store.clone();
        let mut new = task(0, 2_000 + i);
        if Some(i) == bad {
            new.idempotency_key = Some("same-key".into());
        }
        writes.spawn(async move {
            match new.idempotency_key {
                Some(_) => store
                    .insert_keyed(new)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => store
                    .insert(new)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(result) = writes.join_next().await {
        if let Err(error) = result.unwrap() {
            failures.push(error);
        }
    }
    failures
}

async fn stored_tasks(store: &Store) -> i64 {
    store.counts().await.unwrap().iter().map(|row| row.n).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    each_store(Synchronous::Full, |store| async move {
        let before = store.commit_stats();
        assert!(insert_concurrently(&store, 200, None).await.is_empty());
        assert_eq!(stored_tasks(&store).await, 200);
        let after = store.commit_stats();
        assert_eq!(after.writes - before.writes, 200);
        // Writes that arrive while a commit is syncing join the next one.
        assert!(
            after.transactions - before.transactions < 200,
            "no write shared a commit: {before:?} → {after:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_fails_alone_when_its_commit_is_shared() {
    each_store(Synchronous::Full, |store| async move {
        let mut keyed = task(0, 1_000);
        keyed.idempotency_key = Some("same-key".into());
        let first = store.insert_keyed(keyed).await.unwrap();

        let failures = insert_concurrently(&store, 200, Some(100)).await;
        assert_eq!(failures, vec!["idempotency key already used".to_string()]);
        assert_eq!(
            stored_tasks(&store).await,
            200,
            "the first task and 199 of the 200"
        );
        let holder = store.find_by_key("same-key").await.unwrap().unwrap();
        assert_eq!(holder.id, first.id);
    })
    .await;
}

/// The outcomes of one claim's tasks, sent a few scheduler turns apart as handlers end,
/// share one commit (one disk sync under FULL) instead of splitting in two.
#[tokio::test]
async fn the_outcomes_of_one_claim_sent_turns_apart_share_one_commit() {
    let (store, _dir) = open_store(Synchronous::Normal).await;
    for i in 0..12 {
        store.insert(task(0, 1_000 + i)).await.unwrap();
    }
    let claimed = store.claim("default", 12, "w", 2_000, 9_000).await.unwrap();
    assert_eq!(claimed.len(), 12);
    let before = store.commit_stats();
    let mut finishes = tokio::task::JoinSet::new();
    for (i, task) in claimed.into_iter().enumerate() {
        let store = store.clone();
        finishes.spawn(async move {
            for _ in 0..i % 4 {
                tokio::task::yield_now().await;
            }
            let result = Outcome::Succeeded(json!({ "n": i }));
            store.finish(task.id, task.attempt, 3_000, result).await
        });
    }
    while let Some(finished) = finishes.join_next().await {
        assert!(finished.unwrap().unwrap());
    }
    let after = store.commit_stats();
    assert_eq!(after.writes - before.writes, 12);
    assert_eq!(after.transactions - before.transactions, 1);
}

#[tokio::test]
async fn the_claim_walks_its_index_in_order_instead_of_sorting_the_backlog() {
    let (store, _dir) = open_store(Synchronous::Normal).await;
    let plan = store.claim_plan("default").await.unwrap();
    let text = plan.join("\n");
    assert!(text.contains("ix_tasks_ready (queue=?"), "{text}");
    assert!(!text.contains("TEMP B-TREE"), "{text}");
}

/// Every trigger on `UPDATE OF status` runs for every task that changes status, whatever
/// its `WHEN` says: the store counts and records attempts itself, once per transaction,
/// so on SQLite no trigger is left on `tasks` at all.
#[tokio::test]
async fn a_status_change_on_sqlite_runs_no_trigger() {
    use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
    let (_store, dir) = open_store(Synchronous::Normal).await;
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let db = Database::connect(url).await.unwrap();
    let sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tasks'";
    let triggers = db
        .query_all_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .unwrap();
    let names: Vec<String> = triggers
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    assert!(names.is_empty(), "triggers on tasks: {names:?}");
    // And the statement's program has no trigger program in it.
    let sql = "EXPLAIN UPDATE tasks SET status = 'SUCCESS' WHERE id = 'x'";
    let rows = db
        .query_all_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .unwrap();
    let programs = rows
        .iter()
        .filter(|row| row.try_get_by_index::<String>(1).unwrap() == "Init")
        .count();
    assert_eq!(programs, 1, "only the UPDATE's own program");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_recorded_together_still_each_check_their_own_attempt() {
    each_store(Synchronous::Normal, |store| async move {
        for i in 0..10 {
            store.insert(task(0, 1_000 + i)).await.unwrap();
        }
        let claimed = store.claim("default", 10, "w", 2_000, 9_000).await.unwrap();
        assert_eq!(claimed.len(), 10);
        let mut finishes = tokio::task::JoinSet::new();
        for (i, task) in claimed.iter().enumerate() {
            let store = store.clone();
            // The first one finishes as a stale attempt: it must change nothing.
            let attempt = if i == 0 {
                task.attempt + 1
            } else {
                task.attempt
            };
            let id = task.id;
            finishes.spawn(async move {
                let result = Outcome::Succeeded(json!({ "n": i }));
                (id, store.finish(id, attempt, 3_000, result).await.unwrap())
            });
        }
        while let Some(joined) = finishes.join_next().await {
            let (id, changed) = joined.unwrap();
            assert_eq!(changed, id != claimed[0].id, "task {id}");
        }
        let stale = store.get(claimed[0].id).await.unwrap().unwrap();
        assert_eq!(stale.status, TaskStatus::Running);
        assert_eq!(
            store.attempts(claimed[0].id).await.unwrap()[0].finished_at,
            None
        );
        for (i, task) in claimed.iter().enumerate().skip(1) {
            let done = store.get(task.id).await.unwrap().unwrap();
            assert_eq!(done.status, TaskStatus::Success);
            assert_eq!(done.completed_at, Some(from_micros(3_000)));
            assert_eq!(done.result_data, Some(json!({ "n": i })));
            let attempts = store.attempts(task.id).await.unwrap();
            assert_eq!(attempts[0].outcome.as_deref(), Some("SUCCESS"));
            assert_eq!(attempts[0].finished_at, Some(from_micros(3_000)));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successes_recorded_together_are_counted_once_by_kind_and_by_minute() {
    use std::collections::BTreeMap;
    each_store(Synchronous::Normal, |store| async move {
        let minute = 60_000_000;
        for i in 0..12 {
            let mut new = task(0, 1_000 + i);
            if i % 2 == 0 {
                new.task_type = "data_processing".into();
            }
            if i % 3 == 0 {
                new.queue = "emails".into();
            }
            store.insert(new).await.unwrap();
        }
        let mut claimed = store.claim("default", 12, "w", 2_000, 9_000).await.unwrap();
        claimed.extend(store.claim("emails", 12, "w", 2_000, 9_000).await.unwrap());
        assert_eq!(claimed.len(), 12);
        let mut finishes = tokio::task::JoinSet::new();
        for (i, task) in claimed.iter().enumerate() {
            let store = store.clone();
            // The first one is a stale attempt: it must count nowhere.
            let attempt = task.attempt + i32::from(i == 0);
            let finished_at = (5 + i as i64 % 2) * minute + i as i64;
            let id = task.id;
            finishes.spawn(async move {
                let result = Outcome::Succeeded(json!(i));
                store
                    .finish(id, attempt, finished_at, result)
                    .await
                    .unwrap()
            });
        }
        while let Some(changed) = finishes.join_next().await {
            assert!(changed.is_ok());
        }
        assert_eq!(
            store.get(claimed[0].id).await.unwrap().unwrap().status,
            TaskStatus::Running
        );

        let counted: BTreeMap<_, _> = store
            .counts()
            .await
            .unwrap()
            .into_iter()
            .map(|row| ((row.queue, row.task_type, row.status), row.n))
            .collect();
        let mut scanned: BTreeMap<_, i64> = BTreeMap::new();
        let filter = spool::testing::store::ListFilter {
            limit: 100,
            ..Default::default()
        };
        for row in store.list(&filter).await.unwrap() {
            *scanned
                .entry((row.queue, row.task_type, row.status.as_str().to_string()))
                .or_default() += 1;
        }
        assert_eq!(counted, scanned);
        assert_eq!(scanned.values().sum::<i64>(), 12);
        let running: Vec<_> = scanned.keys().filter(|key| key.2 == "RUNNING").collect();
        assert_eq!(running.len(), 1, "{scanned:?}");

        // Tasks 2, 4, … 10 finished in minute 5; 1, 3, … 11 in minute 6.
        let throughput: Vec<_> = store
            .throughput(0)
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.minute, row.status, row.n))
            .collect();
        assert_eq!(
            throughput,
            vec![(5, "SUCCESS".to_string(), 5), (6, "SUCCESS".to_string(), 6)]
        );
    })
    .await;
}

#[tokio::test]
async fn search_ignores_case_and_takes_wildcards_literally_on_every_database() {
    use spool::testing::store::ListFilter;
    each_store(Synchronous::Normal, |store| async move {
        let now = 1_000_000;
        let with = |parameters: serde_json::Value| NewTask {
            parameters,
            ..task(0, now)
        };
        let mixed = store
            .insert(with(json!({"to": "Ada@Example.org"})))
            .await
            .unwrap();
        let percent = store
            .insert(with(json!({"note": "50% off_today"})))
            .await
            .unwrap();
        store
            .insert(with(json!({"note": "5000 offstoday"})))
            .await
            .unwrap();
        let found = |text: &str| {
            let store = store.clone();
            let filter = ListFilter {
                search: Some(text.to_string()),
                limit: 10,
                ..ListFilter::default()
            };
            async move {
                let rows = store.list(&filter).await.unwrap();
                rows.into_iter().map(|row| row.id).collect::<Vec<_>>()
            }
        };
        let accented = store.insert(with(json!({"city": "Évora"}))).await.unwrap();
        assert_eq!(found("ada@example.ORG").await, [mixed.id]);
        assert_eq!(
            found("Évora").await,
            [accented.id],
            "exact text always matches"
        );
        assert_eq!(found("50%").await, [percent.id]);
        assert_eq!(found("f_t").await, [percent.id], "_ is not a wildcard");
        assert_eq!(found("OFF_TODAY").await, [percent.id]);
        assert!(found("nobody").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn counts_stop_at_their_cap_and_match_the_lists_filter() {
    use spool::testing::store::ListFilter;
    each_store(Synchronous::Normal, |store| async move {
        let now = 1_000_000;
        for n in 0..5 {
            store
                .insert(NewTask {
                    parameters: json!({ "n": n }),
                    ..task(0, now)
                })
                .await
                .unwrap();
        }
        let later = NewTask {
            created_at: now,
            ..task(0, now + 60_000_000)
        };
        store.insert(later).await.unwrap();
        let pending = ListFilter {
            statuses: vec![TaskStatus::Pending],
            ..ListFilter::default()
        };
        assert_eq!(store.count(&pending, 10).await.unwrap(), (5, false));
        assert_eq!(store.count(&pending, 5).await.unwrap(), (5, false));
        assert_eq!(store.count(&pending, 3).await.unwrap(), (3, true));
        let either = ListFilter {
            statuses: vec![TaskStatus::Pending, TaskStatus::Scheduled],
            search: Some("\"n\":4".into()),
            ..ListFilter::default()
        };
        assert_eq!(store.count(&either, 10).await.unwrap(), (1, false));
        let none = ListFilter {
            statuses: vec![TaskStatus::Failed],
            ..ListFilter::default()
        };
        assert_eq!(store.count(&none, 10).await.unwrap(), (0, false));
    })
    .await;
}

/// A worker pool's claim is answered before its commit, so its tasks run while the
/// commit syncs. When that commit fails, the claim never happened: its verdict says so,
/// the task is still PENDING with no attempt, and until a commit succeeds again claims
/// are answered only after their commit, so a failing disk cannot start tasks in a loop.
#[tokio::test]
async fn a_claim_whose_commit_fails_after_it_was_answered_is_undone() {
    let (store, dir) = open_store(Synchronous::Normal).await;
    let queued = store.insert(task(0, 1_000)).await.unwrap();
    let trap = CommitTrap::arm(&dir.path().join("store.db")).await;

    let (claimed, mut verdict) = store
        .claim_before_commit("default", 5, "w", 2_000, 9_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "the claim is answered before its commit");
    assert_eq!((claimed[0].id, claimed[0].attempt), (queued.id, 1));
    assert!(
        !verdict.committed().await,
        "the verdict tells of the failed commit"
    );
    let stored = store.get(queued.id).await.unwrap().unwrap();
    assert_eq!((stored.status.as_str(), stored.attempt), ("PENDING", 0));
    assert!(store.attempts(queued.id).await.unwrap().is_empty());

    // The next claim fails as a whole instead of starting the task again.
    let again = store
        .claim_before_commit("default", 5, "w", 3_000, 9_000)
        .await;
    assert!(
        again.is_err(),
        "a claim after a failed commit waits for its own"
    );

    // Without the trap the writer carries on: the task is claimed again, answered early
    // once a commit has succeeded, and finishes.
    trap.disarm().await;
    let (again, mut verdict) = store
        .claim_before_commit("default", 5, "w", 4_000, 9_000)
        .await
        .unwrap();
    assert_eq!(
        (again.len(), again[0].id, again[0].attempt),
        (1, queued.id, 1)
    );
    assert!(verdict.committed().await);
    let outcome = Outcome::Succeeded(json!({ "done": true }));
    assert!(store.finish(queued.id, 1, 5_000, outcome).await.unwrap());
    let stored = store.get(queued.id).await.unwrap().unwrap();
    assert_eq!(stored.status, TaskStatus::Success);
    assert_eq!(store.attempts(queued.id).await.unwrap().len(), 1);
}
