//! Recording many successful attempts at once: one update for a whole group commit's
//! worth of them instead of one per task, one update closing their attempt records, and
//! their counts added to the batch's [`Tally`]. Each row still carries its own fence
//! (RUNNING, this attempt), its own finish time and result.

use super::conn::rows;
use super::conn::{by_position, Conn};
use super::counting::Tally;
use super::task_stats::Times;
use crate::model::TaskStatus;
use sea_orm::{DbErr, Statement, Value as SqlValue};
use std::collections::HashSet;
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

/// A task the success update changed.
struct Finished {
    id: Uuid,
    attempt: i32,
    queue: String,
    task_type: String,
    run_at: i64,
    started_at: Option<i64>,
    completed_at: i64,
}

/// Marks every task in `successes` that is still RUNNING under that attempt as SUCCESS,
/// closes its attempt record and tallies it. Returns the `(id, attempt)` pairs that
/// changed; the others were no longer their attempt's and are left alone. Callers run it
/// inside a transaction, so the records change with the tasks or not at all.
pub(super) async fn record_all(
    db: &impl Conn,
    successes: &[&Success],
    tally: &mut Tally,
) -> Result<HashSet<(Uuid, i32)>, DbErr> {
    let mut changed = HashSet::with_capacity(successes.len());
    for chunk in successes.chunks(CHUNK) {
        let finished = finish_tasks(db, chunk).await?;
        close_attempts(db, &finished).await?;
        for task in finished {
            tally.moved(
                &task.queue,
                &task.task_type,
                TaskStatus::Running,
                TaskStatus::Success,
                Times {
                    run_at: task.run_at,
                    started_at: task.started_at,
                    completed_at: Some(task.completed_at),
                },
            );
            changed.insert((task.id, task.attempt));
        }
    }
    Ok(changed)
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
         RETURNING tasks.id, tasks.attempt, tasks.queue, tasks.task_type, tasks.run_at, \
         tasks.started_at, tasks.completed_at",
        rows(backend, chunk.len(), 4)
    );
    db.query::<Finished>(Statement::from_sql_and_values(backend, sql, values))
        .await
}

/// Closes the open attempt record of each finished task as SUCCESS.
async fn close_attempts(db: &impl Conn, finished: &[Finished]) -> Result<(), DbErr> {
    if finished.is_empty() {
        return Ok(());
    }
    let backend = db.backend();
    let mut values = Vec::with_capacity(finished.len() * 3);
    for task in finished {
        values.push(SqlValue::from(task.id));
        values.push(SqlValue::from(task.attempt));
        values.push(SqlValue::from(task.completed_at));
    }
    let sql = format!(
        "UPDATE task_attempts SET finished_at = v.column3, outcome = 'SUCCESS', error = NULL \
         FROM (VALUES {}) AS v \
         WHERE task_attempts.task_id = v.column1 AND task_attempts.attempt = v.column2 \
         AND task_attempts.finished_at IS NULL",
        rows(backend, finished.len(), 3)
    );
    db.execute(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

// In the RETURNING's order.
by_position!(Finished {
    id,
    attempt,
    queue,
    task_type,
    run_at,
    started_at,
    completed_at,
});

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
        let mut tally = Tally::default();
        let changed = record_all(&txn, &batch, &mut tally).await?;
        tally.write(&txn).await?;
        txn.commit().await?;
        Ok(changed)
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
            unique: None,
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
                now: (3 + i as i64 % 2) * 60_000_000 + i as i64,
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
