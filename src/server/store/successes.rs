//! Recording many successful attempts at once: one update for a whole group commit's
//! worth of them instead of one per task, and one upsert each into `task_counts` and
//! `task_throughput`. Each row still carries its own fence (RUNNING, this attempt), its
//! own finish time and result, and a trigger still closes each attempt record. The
//! counter triggers skip RUNNING → SUCCESS (migration 000008; on PostgreSQL only in a
//! transaction that sets `spool.successes_counted`, as this one does), so the successes
//! are counted here, in the same transaction.

use super::conn::{Conn, FromRow};
use sea_orm::{DatabaseBackend, DbErr, QueryResult, Statement, Value as SqlValue};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// One successful attempt to record.
#[derive(Clone, Debug)]
pub(super) struct Success {
    pub id: Uuid,
    pub attempt: i32,
    pub now: i64,
    /// The handler's result, as JSON text.
    pub result: String,
}

/// Rows per statement, so the bound values stay far below SQLite's limit (32,766).
const CHUNK: usize = 1000;

/// Minutes in the throughput table are this many microseconds (as in its triggers).
const MINUTE_MICROS: i64 = 60_000_000;

/// A task the success update changed.
struct Finished {
    id: Uuid,
    attempt: i32,
    queue: String,
    task_type: String,
    completed_at: i64,
}

/// Marks every task in `successes` that is still RUNNING under that attempt as SUCCESS,
/// and counts them. Returns the `(id, attempt)` pairs that changed; the others were no
/// longer their attempt's and are left alone. Callers run it inside a transaction, so the
/// counters change with the tasks or not at all.
pub(super) async fn record_all(
    db: &impl Conn,
    successes: &[&Success],
) -> Result<HashSet<(Uuid, i32)>, DbErr> {
    let backend = db.backend();
    if backend == DatabaseBackend::Postgres {
        // Tells the counter triggers that this transaction counts its own successes.
        let flag = "SELECT set_config('spool.successes_counted', 'on', true)";
        db.query::<String>(Statement::from_string(backend, flag))
            .await?;
    }
    let mut finished = Vec::with_capacity(successes.len());
    for chunk in successes.chunks(CHUNK) {
        finished.extend(finish_tasks(db, chunk).await?);
    }
    // Sorted, so the batch's own upserts meet the counter rows in one order (the
    // triggers of other writes in the transaction may still meet them in any).
    let mut per_kind: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut per_minute: BTreeMap<i64, i64> = BTreeMap::new();
    for task in &finished {
        *per_kind.entry((&task.queue, &task.task_type)).or_default() += 1;
        *per_minute
            .entry(task.completed_at / MINUTE_MICROS)
            .or_default() += 1;
    }
    count_successes(db, &per_kind, &per_minute).await?;
    Ok(finished
        .into_iter()
        .map(|task| (task.id, task.attempt))
        .collect())
}

/// Moves `per_kind` tasks from RUNNING to SUCCESS in `task_counts` and adds `per_minute`
/// successes to `task_throughput`.
async fn count_successes(
    db: &impl Conn,
    per_kind: &BTreeMap<(&str, &str), i64>,
    per_minute: &BTreeMap<i64, i64>,
) -> Result<(), DbErr> {
    let backend = db.backend();
    if !per_kind.is_empty() {
        let mut values = Vec::with_capacity(per_kind.len() * 8);
        for ((queue, task_type), n) in per_kind {
            for (status, delta) in [("RUNNING", -n), ("SUCCESS", *n)] {
                values.push(SqlValue::from(*queue));
                values.push(SqlValue::from(*task_type));
                values.push(SqlValue::from(status));
                values.push(SqlValue::from(delta));
            }
        }
        let sql = format!(
            "INSERT INTO task_counts (queue, task_type, status, n) VALUES {} \
             ON CONFLICT (queue, task_type, status) DO UPDATE SET n = task_counts.n + excluded.n",
            rows(backend, per_kind.len() * 2, 4)
        );
        db.execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    if !per_minute.is_empty() {
        let mut values = Vec::with_capacity(per_minute.len() * 3);
        for (minute, n) in per_minute {
            values.push(SqlValue::from(*minute));
            values.push(SqlValue::from("SUCCESS"));
            values.push(SqlValue::from(*n));
        }
        let sql = format!(
            "INSERT INTO task_throughput (minute, status, n) VALUES {} \
             ON CONFLICT (minute, status) DO UPDATE SET n = task_throughput.n + excluded.n",
            rows(backend, per_minute.len(), 3)
        );
        db.execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

async fn finish_tasks(db: &impl Conn, chunk: &[&Success]) -> Result<Vec<Finished>, DbErr> {
    let backend = db.backend();
    let mut values = Vec::with_capacity(chunk.len() * 4);
    for success in chunk {
        values.push(SqlValue::from(success.id));
        values.push(SqlValue::from(success.attempt));
        values.push(SqlValue::from(success.now));
        values.push(SqlValue::from(success.result.clone()));
    }
    let sql = format!(
        "UPDATE tasks SET status = 'SUCCESS', completed_at = v.column3, result_data = v.column4, \
         progress = 100, error_message = NULL, lease_expires_at = NULL, worker_id = NULL \
         FROM (VALUES {}) AS v \
         WHERE tasks.id = v.column1 AND tasks.attempt = v.column2 AND tasks.status = 'RUNNING' \
         RETURNING tasks.id, tasks.attempt, tasks.queue, tasks.task_type, tasks.completed_at",
        rows(backend, chunk.len(), 4)
    );
    db.query::<Finished>(Statement::from_sql_and_values(backend, sql, values))
        .await
}

/// By position, in the RETURNING's order: by name, each column's name would be formatted
/// and looked up for every row (as the claim found, see `claimed`).
impl FromRow for Finished {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Finished {
            id: row.try_get_by_index(0)?,
            attempt: row.try_get_by_index(1)?,
            queue: row.try_get_by_index(2)?,
            task_type: row.try_get_by_index(3)?,
            completed_at: row.try_get_by_index(4)?,
        })
    }

    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(Finished {
            id: row.get(0)?,
            attempt: row.get(1)?,
            queue: row.get(2)?,
            task_type: row.get(3)?,
            completed_at: row.get(4)?,
        })
    }
}

/// `(?, ?), (?, ?)…` — `count` rows of `width` placeholders in the backend's syntax.
fn rows(backend: DatabaseBackend, count: usize, width: usize) -> String {
    let mut sql = String::with_capacity(count * width * 5);
    for row in 0..count {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                DatabaseBackend::Postgres => {
                    sql.push_str(&format!("${}", row * width + column + 1))
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::conn::{Begin, Commit};
    use crate::server::store::writer::on_writer;
    use crate::server::store::{NewTask, Store, StoreOptions};
    use std::collections::BTreeMap;

    impl Store {
        /// Records `successes` in one transaction of their own.
        async fn record_successes(
            &self,
            successes: Vec<Success>,
        ) -> Result<HashSet<(Uuid, i32)>, DbErr> {
            on_writer!(&self.writer, |db| record_at_once(db, successes.clone()))
        }
    }

    async fn record_at_once(
        db: &impl Begin,
        successes: Vec<Success>,
    ) -> Result<HashSet<(Uuid, i32)>, DbErr> {
        let txn = db.begin().await?;
        let batch: Vec<&Success> = successes.iter().collect();
        let changed = record_all(&txn, &batch).await?;
        txn.commit().await?;
        Ok(changed)
    }

    #[test]
    fn placeholders_follow_the_backend() {
        assert_eq!(rows(DatabaseBackend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            rows(DatabaseBackend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
    }

    fn task(queue: &str, task_type: &str) -> NewTask {
        NewTask {
            id: Uuid::now_v7(),
            task_type: task_type.into(),
            queue: queue.into(),
            priority: 0,
            max_attempts: 1,
            parameters: serde_json::json!({}),
            created_at: 1,
            run_at: 1,
            timeout_ms: None,
            idempotency_key: None,
        }
    }

    /// One batch, in one transaction, whatever the timing: two queues, two kinds, two
    /// minutes, a stale attempt and the same success twice.
    #[tokio::test]
    async fn one_batch_counts_each_success_once_by_kind_and_by_minute() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("batch.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        for (queue, kind) in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "x"), ("a", "x")] {
            store.insert(task(queue, kind)).await.unwrap();
        }
        let mut claimed = Vec::new();
        for queue in ["a", "b"] {
            for task in store.claim(queue, 10, "w", 2, 100).await.unwrap() {
                claimed.push((queue, task));
            }
        }
        assert_eq!(claimed.len(), 5);
        let mut successes: Vec<Success> = claimed
            .iter()
            .enumerate()
            .map(|(i, (_, task))| Success {
                id: task.id,
                attempt: task.attempt,
                now: (3 + i as i64 % 2) * MINUTE_MICROS + i as i64,
                result: "1".into(),
            })
            .collect();
        successes[0].attempt += 1; // stale: counts nowhere
        successes.push(successes[1].clone()); // the same success twice counts once

        let changed = store.record_successes(successes.clone()).await.unwrap();
        assert_eq!(changed.len(), 4);
        assert!(!changed.contains(&(successes[0].id, successes[0].attempt)));

        let counts: BTreeMap<_, _> = store
            .counts()
            .await
            .unwrap()
            .into_iter()
            .map(|row| ((row.queue, row.task_type, row.status), row.n))
            .collect();
        let stale = &claimed[0].1;
        let mut expected: BTreeMap<_, i64> = BTreeMap::new();
        for (queue, task) in &claimed {
            let status = if task.id == stale.id {
                "RUNNING"
            } else {
                "SUCCESS"
            };
            *expected
                .entry((
                    queue.to_string(),
                    task.task_type.clone(),
                    status.to_string(),
                ))
                .or_default() += 1;
        }
        assert_eq!(counts, expected);
        // Tasks 1 and 3 finished in minute 4, task 2 and 4 in minute 3 (0 is stale).
        let throughput: Vec<_> = store
            .throughput(0)
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.minute, row.status, row.n))
            .collect();
        assert_eq!(
            throughput,
            vec![(3, "SUCCESS".to_string(), 2), (4, "SUCCESS".to_string(), 2)]
        );
    }
}
