//! PostgreSQL only: a store write that PostgreSQL aborts to break a deadlock is run again
//! instead of failing. Another connection builds the deadlock on purpose: it holds the
//! RUNNING counter row that a rescue needs, waits until the rescue is stuck on it, then
//! asks for the task row the rescue holds. Runs when `SPOOL_TEST_POSTGRES_URL` is set.

use crate::databases::{postgres_schema, query_i64};
use crate::store::task;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, TransactionTrait,
};
use spool::model::TaskStatus;
use spool::testing::store::{Store, StoreOptions};
use std::time::{Duration, Instant};

async fn deadlocks_so_far(db: &DatabaseConnection) -> i64 {
    query_i64(
        db,
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
    )
    .await
}

/// Waits until some other transaction is waiting for `holder` to end.
async fn until_someone_waits_for(holder: &DatabaseTransaction) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = query_i64(
            holder,
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))",
        )
        .await;
        if waiting > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the rescue never waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescue_aborted_to_break_a_deadlock_runs_again_and_keeps_the_counters_exact() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    // PostgreSQL looks for a deadlock once, this long after a wait begins: long enough
    // for this test to close the cycle first however slow the machine.
    let url = format!("{}%20-c%20deadlock_timeout%3D5s", schema.url);
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    let now = 1_000_000;
    let stored = store.insert(task(0, now)).await.unwrap();
    let claimed = store
        .claim("default", 1, "w1", now, now + 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let other = Database::connect(&schema.url).await.unwrap();
    let deadlocks_before = deadlocks_so_far(&other).await;
    let holder = other.begin().await.unwrap();
    // The rescue's session, not this one, must be the one that finds the deadlock.
    holder
        .execute_unprepared("SET LOCAL deadlock_timeout = '60s'")
        .await
        .unwrap();
    holder
        .execute_unprepared("UPDATE task_counts SET n = n WHERE status = 'RUNNING'")
        .await
        .unwrap();

    // The lease has expired: the rescue takes the task row, then its trigger waits for
    // the RUNNING counter.
    let rescue = tokio::spawn({
        let store = store.clone();
        async move { store.rescue_expired(now + 20).await }
    });
    until_someone_waits_for(&holder).await;
    // Now the cycle closes: this waits for the task row the rescue holds. PostgreSQL
    // aborts the rescue's transaction, which lets this through.
    holder
        .execute_unprepared(&format!(
            "UPDATE tasks SET progress = progress WHERE id = '{}'",
            stored.id
        ))
        .await
        .unwrap();
    holder.commit().await.unwrap();

    let rescued = rescue.await.unwrap().expect("the rescue ran again");
    assert_eq!(rescued.retried, 1, "{rescued:?}");
    let task = store.get(stored.id).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Pending);
    let counts: Vec<_> = store
        .counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.n != 0)
        .map(|row| (row.status, row.n))
        .collect();
    assert_eq!(counts, [("PENDING".to_string(), 1)]);
    // The deadlock really happened (the statistics arrive a little later).
    let deadline = Instant::now() + Duration::from_secs(60);
    while deadlocks_so_far(&other).await == deadlocks_before {
        assert!(Instant::now() < deadline, "PostgreSQL saw no deadlock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
