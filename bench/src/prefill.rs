//! Databases made ready before a measurement starts (their making is not timed): a backlog
//! of `noop` tasks, or a history of finished ones.

use sea_orm::{ConnectionTrait, Database};
use spool::testing::queue::now_micros;
use spool::testing::store::{NewTask, Store, StoreOptions, Synchronous};
use std::path::Path;

type Error = Box<dyn std::error::Error>;

/// Tasks stored per transaction while filling.
const CHUNK: u64 = 10_000;

pub fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

pub fn synchronous(name: &str) -> Synchronous {
    if name == "normal" {
        Synchronous::Normal
    } else {
        Synchronous::Full
    }
}

/// Opens (creating and migrating) the store at `path`.
pub async fn open(path: &Path, synchronous_name: &str) -> Result<Store, Error> {
    let options = StoreOptions {
        synchronous: synchronous(synchronous_name),
        ..StoreOptions::default()
    };
    Ok(Store::open(&url(path), &options).await?)
}

/// `count` PENDING `noop` tasks in the `default` queue, which is left paused so that no
/// worker starts before the measurement does.
pub async fn backlog(path: &Path, count: u64) -> Result<(), Error> {
    let store = open(path, "normal").await?;
    store.set_paused("default", true, now_micros()).await?;
    insert_noops(&store, count).await
}

/// `count` tasks that finished successfully, as a long-running installation keeps them.
pub async fn history(path: &Path, count: u64) -> Result<(), Error> {
    let store = open(path, "normal").await?;
    insert_noops(&store, count).await?;
    drop(store);
    let db = Database::connect(url(path)).await?;
    let now = now_micros();
    db.execute_unprepared(&format!(
        "UPDATE tasks SET status = 'SUCCESS', attempt = 1, progress = 100, \
         started_at = created_at, completed_at = {now}, result_data = '{{}}' \
         WHERE status = 'PENDING'"
    ))
    .await?;
    // Written behind the store's back, so counted here as the store would have.
    db.execute_unprepared(&format!(
        "DELETE FROM task_counts; \
         INSERT INTO task_counts (queue, task_type, status, n) \
         SELECT queue, task_type, status, COUNT(*) FROM tasks GROUP BY queue, task_type, status; \
         INSERT INTO task_throughput (minute, status, n) \
         SELECT {now} / 60000000, 'SUCCESS', COUNT(*) FROM tasks WHERE status = 'SUCCESS' \
         ON CONFLICT (minute, status) DO UPDATE SET n = task_throughput.n + excluded.n"
    ))
    .await?;
    busy_day_of_aggregates(&db, now).await?;
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await?;
    db.close().await?;
    Ok(())
}

/// The charts' aggregates of a busy day: four queues of three kinds each finishing tasks
/// every minute, with latencies spread over several buckets, for as long as the server
/// keeps each kind of row (two hours of minutes, two days of hours). The charts read
/// these, not the tasks.
async fn busy_day_of_aggregates(db: &impl ConnectionTrait, now: i64) -> Result<(), Error> {
    let minute = now / 60_000_000;
    let mut rows = Vec::new();
    let mut slot = |span: i64, at: i64, buckets: i32, n: i64| {
        for queue in ["default", "mail", "images", "reports"] {
            for kind in ["noop", "email_simulation", "image_processing"] {
                for (measure, count) in [("SUCCESS", n), ("FAILED", n / 100)] {
                    rows.push(format!(
                        "({span}, {at}, '{queue}', '{kind}', '{measure}', 0, {count})"
                    ));
                }
                for (measure, first) in [("wait", 20), ("run", 30)] {
                    for bucket in first..first + buckets {
                        rows.push(format!(
                            "({span}, {at}, '{queue}', '{kind}', '{measure}', {bucket}, {n})"
                        ));
                    }
                }
            }
        }
    };
    for at in minute - 120..=minute {
        slot(1, at, 6, 300);
    }
    let hour = minute - minute % 60;
    for i in 0..48 {
        slot(60, hour - i * 60, 8, 18_000);
    }
    for chunk in rows.chunks(1_000) {
        db.execute_unprepared(&format!(
            "INSERT INTO task_stats (span, at, queue, task_type, measure, bucket, n) VALUES {}",
            chunk.join(", ")
        ))
        .await?;
    }
    Ok(())
}

async fn insert_noops(store: &Store, count: u64) -> Result<(), Error> {
    let start = now_micros() - count as i64;
    let mut made = 0;
    while made < count {
        let chunk = CHUNK.min(count - made);
        let tasks = (made..made + chunk)
            .map(|i| {
                let created_at = start + i as i64;
                NewTask {
                    id: uuid::Uuid::now_v7(),
                    task_type: "noop".into(),
                    queue: "default".into(),
                    priority: 0,
                    max_attempts: 3,
                    parameters: serde_json::json!({}),
                    created_at,
                    run_at: created_at,
                    timeout_ms: None,
                    idempotency_key: None,
                    unique: None,
                }
            })
            .collect();
        store.insert_all(tasks).await?;
        made += chunk;
    }
    Ok(())
}

/// Deletes a database file and its WAL companions.
pub fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}
