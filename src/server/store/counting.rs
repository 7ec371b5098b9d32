//! Every counting rule of the store, in one place. `task_counts` holds how many tasks of
//! each queue, type and status there are, and `task_throughput` how many tasks reached
//! each final status in each minute; both change in the same transaction as the tasks
//! they count, so reading them is exact without scanning `tasks`.
//!
//! The rules: a stored task counts once under its status; a task that changes status
//! moves from the old status's count to the new one's; a deleted task leaves its count;
//! and a task that reaches SUCCESS, FAILED or CANCELLED from another status counts once
//! more in the throughput of the minute of its `completed_at`. A write that adds, moves or
//! deletes tasks tells a [`Tally`] what its statements changed (from the rows they
//! returned), and the tally is written once per transaction: two upserts, however many
//! tasks moved. The SQL below is the same on both databases but for placeholders. A
//! finished task is also added to the per-queue and per-kind aggregates of
//! [`super::task_stats`], in the same write.
//!
//! No trigger counts anything (migration 000010 dropped them), so an older Spool, which
//! relied on them, must not write to the same database (README, "Upgrading").

use super::conn::rows;
use super::conn::{Commit, Conn, FromRow};
use super::task_row::Column;
use super::task_stats::{StatsTally, Times};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Query, ReturningClause};
use sea_orm::{DbErr, QueryResult, Statement, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Minutes in the throughput table are this many microseconds.
const MINUTE_MICROS: i64 = 60_000_000;

/// What one transaction changed in the counters.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// By (queue, task type, status): how the count changes.
    counts: BTreeMap<(String, String, &'static str), i64>,
    /// By (minute, final status): how many tasks finished.
    finished: BTreeMap<(i64, &'static str), i64>,
    /// Finished tasks by queue, kind and minute, with their wait and run times.
    stats: StatsTally,
}

impl Tally {
    /// A task stored with `status`.
    pub fn added(&mut self, queue: &str, task_type: &str, status: TaskStatus) {
        self.count(queue, task_type, status, 1);
    }

    /// A task deleted while it had `status`.
    pub fn removed(&mut self, queue: &str, task_type: &str, status: TaskStatus) {
        self.count(queue, task_type, status, -1);
    }

    /// A task moved from `from` to `to`; `times` matter only if it finished.
    pub fn moved(
        &mut self,
        queue: &str,
        task_type: &str,
        from: TaskStatus,
        to: TaskStatus,
        times: Times,
    ) {
        if from == to {
            return;
        }
        self.count(queue, task_type, from, -1);
        self.count(queue, task_type, to, 1);
        if to.is_final() {
            // Integer division, as SQL's `/` (what the counts written before the store
            // counted for itself used).
            let minute = times.completed_at.unwrap_or(0) / MINUTE_MICROS;
            *self.finished.entry((minute, to.as_str())).or_default() += 1;
            // Only a task that ends from RUNNING ran just now: one cancelled while it
            // waited for a retry still carries its earlier attempt's start.
            let ran = if from == TaskStatus::Running {
                times
            } else {
                Times {
                    started_at: None,
                    ..times
                }
            };
            self.stats.finished(queue, task_type, to, ran);
        }
    }

    /// Each row of `changed` moved from `from` to the status it now has.
    pub fn moved_all(&mut self, from: TaskStatus, changed: &[Changed]) {
        for task in changed {
            self.moved(
                &task.queue,
                &task.task_type,
                from,
                task.status,
                task.times(),
            );
        }
    }

    fn count(&mut self, queue: &str, task_type: &str, status: TaskStatus, delta: i64) {
        let key = (queue.to_string(), task_type.to_string(), status.as_str());
        *self.counts.entry(key).or_default() += delta;
    }

    /// Adds what was tallied to the counters, in the caller's transaction. Sorted keys, so
    /// concurrent transactions on PostgreSQL meet the counter rows in one order; a few
    /// hundred rows per statement, so a batch of thousands of tasks in as many queues
    /// stays within both databases' limits on bound values.
    pub async fn write(self, db: &impl Conn) -> Result<(), DbErr> {
        let backend = db.backend();
        let counts: Vec<_> = self.counts.into_iter().filter(|(_, n)| *n != 0).collect();
        for chunk in counts.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for ((queue, task_type, status), n) in chunk {
                values.extend([
                    Value::from(queue.as_str()),
                    Value::from(task_type.as_str()),
                    Value::from(*status),
                    Value::from(*n),
                ]);
            }
            let sql = format!(
                "INSERT INTO task_counts (queue, task_type, status, n) VALUES {} \
                 ON CONFLICT (queue, task_type, status) DO UPDATE SET n = task_counts.n + excluded.n",
                rows(backend, chunk.len(), 4)
            );
            db.execute(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        let finished: Vec<_> = self.finished.into_iter().collect();
        for chunk in finished.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * 3);
            for ((minute, status), n) in chunk {
                values.extend([Value::from(*minute), Value::from(*status), Value::from(*n)]);
            }
            let sql = format!(
                "INSERT INTO task_throughput (minute, status, n) VALUES {} \
                 ON CONFLICT (minute, status) DO UPDATE SET n = task_throughput.n + excluded.n",
                rows(backend, chunk.len(), 3)
            );
            db.execute(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        self.stats.write(db).await
    }

    /// Writes what was tallied in `txn`, then commits it.
    pub async fn commit(self, txn: impl Commit) -> Result<(), DbErr> {
        self.write(&txn).await?;
        txn.commit().await
    }
}

/// Counter rows per upsert: 4,000 bound values at most, far below SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 1000;

/// A task a statement changed, as its `RETURNING` ([`CHANGED`]) gives it.
#[derive(Clone, Debug)]
pub(super) struct Changed {
    pub id: Uuid,
    pub attempt: i32,
    pub queue: String,
    pub task_type: String,
    /// The status the statement left (or, for a delete, found).
    pub status: TaskStatus,
    pub run_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

impl Changed {
    pub fn times(&self) -> Times {
        Times {
            run_at: self.run_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
        }
    }
}

/// The columns a counted statement returns, in [`Changed`]'s order.
pub(super) const CHANGED: [Column; 8] = [
    Column::Id,
    Column::Attempt,
    Column::Queue,
    Column::TaskType,
    Column::Status,
    Column::RunAt,
    Column::StartedAt,
    Column::CompletedAt,
];

/// The `RETURNING` clause that gives [`Changed`] rows.
pub(super) fn returning_changed() -> ReturningClause {
    Query::returning().columns(CHANGED)
}

fn status(text: &str) -> TaskStatus {
    // Statuses are written only by the store; anything else is a corrupted row, counted
    // where the dashboard shows it (see `task_row::Model::status`).
    text.parse().unwrap_or(TaskStatus::Failed)
}

impl FromRow for Changed {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Changed {
            id: row.try_get_by_index(0)?,
            attempt: row.try_get_by_index(1)?,
            queue: row.try_get_by_index(2)?,
            task_type: row.try_get_by_index(3)?,
            status: status(&row.try_get_by_index::<String>(4)?),
            run_at: row.try_get_by_index(5)?,
            started_at: row.try_get_by_index(6)?,
            completed_at: row.try_get_by_index(7)?,
        })
    }

    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(Changed {
            id: row.get(0)?,
            attempt: row.get(1)?,
            queue: row.get(2)?,
            task_type: row.get(3)?,
            status: status(&row.get::<_, String>(4)?),
            run_at: row.get(5)?,
            started_at: row.get(6)?,
            completed_at: row.get(7)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DatabaseBackend;
    use TaskStatus::*;

    fn done_at(completed_at: i64) -> Times {
        Times {
            completed_at: Some(completed_at),
            ..Times::default()
        }
    }

    #[test]
    fn a_tally_of_thousands_of_queues_is_written_in_statements_within_the_limits() {
        use crate::server::store::sqlite_writer::{finish_at_once, SqliteConn};
        let dir = tempfile::tempdir().unwrap();
        let options = crate::server::store::StoreOptions::default();
        let conn = SqliteConn::open(&dir.path().join("t.db"), &options).unwrap();
        let mut tally = Tally::default();
        for queue in 0..2_500 {
            tally.added(&format!("q{queue}"), "t", Pending);
            tally.moved(
                &format!("q{queue}"),
                "t",
                Pending,
                Success,
                done_at(queue * MINUTE_MICROS),
            );
        }
        let sql = |text: &str| Statement::from_string(DatabaseBackend::Sqlite, text);
        let counted = finish_at_once(async {
            conn.execute(sql(
                "CREATE TABLE task_counts (queue TEXT, task_type TEXT, status TEXT, n INTEGER, \
                 PRIMARY KEY (queue, task_type, status))",
            ))
            .await?;
            conn.execute(sql(
                "CREATE TABLE task_throughput (minute INTEGER, status TEXT, n INTEGER, \
                 PRIMARY KEY (minute, status))",
            ))
            .await?;
            conn.execute(sql(
                "CREATE TABLE task_stats (span INTEGER, at INTEGER, queue TEXT, task_type TEXT, \
                 measure TEXT, bucket INTEGER, n INTEGER, \
                 PRIMARY KEY (span, at, queue, task_type, measure, bucket))",
            ))
            .await?;
            tally.write(&conn).await?;
            conn.query::<i64>(sql(
                "SELECT (SELECT SUM(n) FROM task_counts WHERE status = 'SUCCESS') \
                 + (SELECT COUNT(*) FROM task_throughput) \
                 + (SELECT COUNT(*) FROM task_stats)",
            ))
            .await
        })
        .unwrap();
        // 2,500 successes counted, in 2,500 minutes, each in a minute row and an hour row.
        assert_eq!(counted, [2_500 + 2_500 + 5_000]);
    }

    #[test]
    fn only_a_task_that_ends_while_running_has_its_latencies_kept() {
        let mut tally = Tally::default();
        let times = Times {
            run_at: 0,
            started_at: Some(1_000_000),
            completed_at: Some(3_000_000),
        };
        tally.moved("q", "t", Running, Success, times);
        tally.moved("q", "t", Scheduled, Cancelled, times);
        let mut measures = tally.stats.measures();
        measures.sort();
        assert_eq!(measures, ["CANCELLED", "SUCCESS", "run", "wait"]);
    }

    #[test]
    fn moves_net_out_and_only_final_statuses_count_as_finished() {
        let mut tally = Tally::default();
        tally.added("q", "t", Pending);
        tally.moved("q", "t", Pending, Running, Times::default());
        tally.moved("q", "t", Running, Scheduled, Times::default());
        tally.moved("q", "t", Scheduled, Scheduled, Times::default());
        tally.moved(
            "q",
            "t",
            Scheduled,
            Cancelled,
            done_at(2 * MINUTE_MICROS + 1),
        );
        tally.removed("q", "t", Cancelled);
        assert!(tally.counts.values().all(|n| *n == 0), "{:?}", tally.counts);
        assert_eq!(
            tally.finished.into_iter().collect::<Vec<_>>(),
            vec![((2, "CANCELLED"), 1)]
        );
    }
}
