//! The per-queue and per-kind aggregates of finished tasks (table `task_stats`, migration
//! 000017): what one transaction adds to them, the latency buckets they are kept in, and
//! the reads the charts make. A finished task adds one to its final status's count and,
//! if it ran, one to the bucket of its wait time (due to started) and of its run time
//! (started to finished), under its minute and under its hour. So an hour's chart reads
//! at most sixty minutes' rows and a day's twenty-four hours' rows, however many tasks
//! there are.

use super::conn::{rows, Conn};
use super::{Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{DbErr, FromQueryResult, Statement, Value};
use std::collections::BTreeMap;

/// Slots of the minute rows, and of the hour rows, in minutes.
pub const MINUTE_SPAN: i32 = 1;
pub const HOUR_SPAN: i32 = 60;

const MICROS_PER_MINUTE: i64 = 60_000_000;

/// The measure of a wait-time or run-time bucket row.
pub const WAIT: &str = "wait";
pub const RUN: &str = "run";

/// Latencies of 2^(this + 1) ms (about 70 years) and more share the last bucket.
const LOG2_MAX_MS: u32 = 40;

/// The bucket of a latency: four to each doubling of milliseconds (each about a fifth
/// wider than the one before), so a percentile read from the buckets is within a fifth of
/// the true one. Bucket 0 holds everything under a millisecond. Integers only, so the
/// same latency lands in the same bucket on every machine.
pub fn latency_bucket(micros: i64) -> i32 {
    // `Ord::` by name: sea-query's `ExprTrait` has a `max` and a `min` too.
    let ms = Ord::min(Ord::max(micros, 0) / 1000, (1 << (LOG2_MAX_MS + 1)) - 1);
    if ms == 0 {
        return 0;
    }
    let log = 63 - ms.leading_zeros();
    // The leading bit and the two below it: 4 to 7.
    let top = if log >= 2 {
        ms >> (log - 2)
    } else {
        ms << (2 - log)
    };
    1 + (log as i32) * 4 + (top as i32 - 4)
}

/// The latency a bucket stands for, in milliseconds: the middle of its range.
pub fn bucket_millis(bucket: i32) -> i64 {
    if bucket <= 0 {
        return 0;
    }
    let log = ((bucket - 1) / 4) as u32;
    let quarter = ((bucket - 1) % 4) as i64;
    let low = ((4 + quarter) << log) / 4;
    let high = ((5 + quarter) << log) / 4;
    (low + Ord::max(high, low + 1) - 1) / 2
}

/// The times of a task that moved, as far as the statement returned them; only a task
/// that finished needs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Times {
    /// When it became due (its latest attempt's).
    pub run_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

/// What one transaction adds to `task_stats`, by (queue, type, minute, measure, bucket).
#[derive(Debug, Default)]
pub(super) struct StatsTally {
    rows: BTreeMap<(String, String, i64, &'static str, i32), i64>,
}

impl StatsTally {
    /// The measures tallied, one per row (for tests).
    #[cfg(test)]
    pub fn measures(&self) -> Vec<&'static str> {
        self.rows.keys().map(|key| key.3).collect()
    }

    /// A task of `queue` and `task_type` reached the final `status`.
    pub fn finished(&mut self, queue: &str, task_type: &str, status: TaskStatus, times: Times) {
        let completed_at = times.completed_at.unwrap_or(0);
        let minute = completed_at.div_euclid(MICROS_PER_MINUTE);
        let mut add = |measure: &'static str, bucket: i32| {
            let key = (
                queue.to_string(),
                task_type.to_string(),
                minute,
                measure,
                bucket,
            );
            *self.rows.entry(key).or_default() += 1;
        };
        add(status.as_str(), 0);
        if let Some(started_at) = times.started_at {
            add(WAIT, latency_bucket(started_at - times.run_at));
            add(RUN, latency_bucket(completed_at - started_at));
        }
    }

    /// Adds the tally to the minute rows and the hour rows, in the caller's transaction;
    /// sorted keys, so concurrent transactions on PostgreSQL meet the rows in one order.
    pub async fn write(self, db: &impl Conn) -> Result<(), DbErr> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut spans: BTreeMap<(i32, i64, String, String, &'static str, i32), i64> =
            BTreeMap::new();
        for ((queue, task_type, minute, measure, bucket), n) in self.rows {
            let hour = minute - minute.rem_euclid(HOUR_SPAN as i64);
            let key = (
                HOUR_SPAN,
                hour,
                queue.clone(),
                task_type.clone(),
                measure,
                bucket,
            );
            *spans.entry(key).or_default() += n;
            spans.insert((MINUTE_SPAN, minute, queue, task_type, measure, bucket), n);
        }
        let backend = db.backend();
        let spans: Vec<_> = spans.into_iter().collect();
        for chunk in spans.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len() * 7);
            for ((span, at, queue, task_type, measure, bucket), n) in chunk {
                values.extend([
                    Value::from(*span),
                    Value::from(*at),
                    Value::from(queue.as_str()),
                    Value::from(task_type.as_str()),
                    Value::from(*measure),
                    Value::from(*bucket),
                    Value::from(*n),
                ]);
            }
            let sql = format!(
                "INSERT INTO task_stats (span, at, queue, task_type, measure, bucket, n) VALUES {} \
                 ON CONFLICT (span, at, queue, task_type, measure, bucket) \
                 DO UPDATE SET n = task_stats.n + excluded.n",
                rows(backend, chunk.len(), 7)
            );
            db.execute(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        Ok(())
    }
}

/// Rows per upsert: 7,000 bound values at most, far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// How the charts' reads group the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsBy {
    /// By slot of time (`slot` is the slot's first minute, `name` empty).
    Slot,
    /// By queue (`name`; `slot` is 0).
    Queue,
    /// By task type (`name`; `slot` is 0).
    Kind,
}

/// One measure's count in one group: a status's count (bucket 0) or a latency bucket's.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct StatRow {
    pub slot: i64,
    pub name: String,
    pub measure: String,
    pub bucket: i32,
    pub n: i64,
}

/// Which rows a chart reads: slots of `span` minutes from minute `since` on, of one queue
/// and one task type when given.
#[derive(Clone, Copy, Debug)]
pub struct StatsRange<'a> {
    pub span: i32,
    pub since: i64,
    pub queue: Option<&'a str>,
    pub task_type: Option<&'a str>,
}

fn grouped(range: StatsRange<'_>, by: StatsBy) -> SelectStatement {
    let col = |name: &str| Expr::col(Alias::new(name));
    let mut query = Query::select();
    let zero = Expr::cust("CAST(0 AS BIGINT)");
    let (slot, name, group) = match by {
        StatsBy::Slot => (col("at"), Expr::cust("''"), "at"),
        StatsBy::Queue => (zero, col("queue"), "queue"),
        StatsBy::Kind => (zero, col("task_type"), "task_type"),
    };
    query
        .expr_as(slot, Alias::new("slot"))
        .expr_as(name, Alias::new("name"))
        .column(Alias::new("measure"))
        .column(Alias::new("bucket"))
        .expr_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), Alias::new("n"))
        .from(Alias::new("task_stats"))
        .and_where(col("span").eq(range.span))
        .and_where(col("at").gte(range.since))
        .group_by_col(Alias::new(group))
        .group_by_col(Alias::new("measure"))
        .group_by_col(Alias::new("bucket"));
    if let Some(queue) = range.queue {
        query.and_where(col("queue").eq(queue));
    }
    if let Some(task_type) = range.task_type {
        query.and_where(col("task_type").eq(task_type));
    }
    query
}

#[derive(FromQueryResult)]
struct Oldest {
    run_at: Option<i64>,
}

impl Store {
    /// The aggregates in `range`, summed by `by`.
    pub async fn task_stats(
        &self,
        range: StatsRange<'_>,
        by: StatsBy,
    ) -> Result<Vec<StatRow>, StoreError> {
        let statement = self
            .reader
            .get_database_backend()
            .build(&grouped(range, by));
        Ok(StatRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// Forgets the rows of `span` minutes whose slot began before minute `before`.
    pub async fn prune_task_stats(&self, span: i32, before: i64) -> Result<u64, StoreError> {
        let query = Query::delete()
            .from_table(Alias::new("task_stats"))
            .and_where(Expr::col(Alias::new("span")).eq(span))
            .and_where(Expr::col(Alias::new("at")).lt(before))
            .to_owned();
        Ok(super::writer::on_writer!(&self.writer, |db| db.run(&query))?)
    }

    /// When the longest-waiting PENDING task of `queue` became due. The ready index is
    /// ordered by priority before due time, so this skips from one priority to the next
    /// (a recursive query) and takes each priority's first entry: a handful of index
    /// seeks, however many tasks wait.
    pub async fn oldest_pending(&self, queue: &str) -> Result<Option<i64>, StoreError> {
        let backend = self.reader.get_database_backend();
        let mark = |n: usize| match backend {
            sea_orm::DatabaseBackend::Postgres => format!("${n}"),
            _ => "?".to_string(),
        };
        let sql = format!(
            "WITH RECURSIVE priorities(p) AS ( \
               SELECT MIN(priority) FROM tasks WHERE status = 'PENDING' AND queue = {} \
               UNION ALL \
               SELECT (SELECT MIN(priority) FROM tasks \
                       WHERE status = 'PENDING' AND queue = {} AND priority > p) \
               FROM priorities WHERE p IS NOT NULL) \
             SELECT MIN((SELECT MIN(run_at) FROM tasks \
                         WHERE status = 'PENDING' AND queue = {} AND priority = p)) AS run_at \
             FROM priorities WHERE p IS NOT NULL",
            mark(1),
            mark(2),
            mark(3)
        );
        let values = vec![Value::from(queue); 3];
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let oldest = Oldest::find_by_statement(statement)
            .one(&self.reader)
            .await?;
        Ok(oldest.and_then(|row| row.run_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_grow_by_quarters_of_a_doubling_and_stand_for_their_middle() {
        assert_eq!(latency_bucket(-5), 0);
        assert_eq!(latency_bucket(999), 0);
        assert_eq!(latency_bucket(1_000), 1);
        let mut last = 0;
        for ms in [1, 2, 3, 5, 8, 13, 100, 1_000, 60_000, 3_600_000, 86_400_000] {
            let bucket = latency_bucket(ms * 1000);
            assert!(bucket > last, "{ms} ms → {bucket}");
            last = bucket;
            let middle = bucket_millis(bucket);
            assert!(
                middle * 5 >= ms * 4 && middle * 4 <= ms * 5,
                "{ms} ms stands as {middle}"
            );
        }
        assert_eq!(latency_bucket(i64::MAX), latency_bucket(1 << 60));
        assert!(bucket_millis(latency_bucket(i64::MAX)) > 0);
    }

    #[test]
    fn a_finished_task_counts_under_its_status_and_its_latencies() {
        let mut tally = StatsTally::default();
        let minute = MICROS_PER_MINUTE * 1_000;
        let times = Times {
            run_at: minute,
            started_at: Some(minute + 2_000_000),
            completed_at: Some(minute + 2_500_000),
        };
        tally.finished("q", "t", TaskStatus::Success, times);
        tally.finished("q", "t", TaskStatus::Success, times);
        let never_ran = Times {
            started_at: None,
            ..times
        };
        tally.finished("q", "t", TaskStatus::Cancelled, never_ran);
        let rows: Vec<_> = tally
            .rows
            .iter()
            .map(|((_, _, at, measure, bucket), n)| (*at, *measure, *bucket, *n))
            .collect();
        assert_eq!(
            rows,
            [
                (1_000, "CANCELLED", 0, 1),
                (1_000, "SUCCESS", 0, 2),
                (1_000, "run", latency_bucket(500_000), 2),
                (1_000, "wait", latency_bucket(2_000_000), 2),
            ]
        );
    }
}
