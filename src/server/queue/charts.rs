//! What the charts show: the aggregates the store keeps as tasks finish, read back as
//! slots of time, queues and kinds, with percentiles taken from their latency buckets,
//! and each queue's longest-waiting task. Nothing here scans the tasks table.

use super::submit::QUEUE_NAME_MAX;
use super::{Queue, QueueError, MICROS_PER_MINUTE};
use crate::model::{ChartGroup, ChartSlot, ChartWindow, Charts, Finished, Percentiles};
use crate::server::store::{
    bucket_millis, from_micros, CountRow, StatRow, StatsBy, StatsRange, RUN, WAIT,
};
use std::collections::BTreeMap;

/// Queues whose oldest pending task is looked up, at most; each costs a few index seeks.
const OLDEST_PENDING_QUEUES: usize = 200;

impl Queue {
    /// The charts of `window`, limited to one queue and one task type when given (an
    /// empty name is no limit, as an empty filter field is).
    pub async fn charts(
        &self,
        window: ChartWindow,
        queue: Option<&str>,
        task_type: Option<&str>,
    ) -> Result<Charts, QueueError> {
        let queue = queue.filter(|name| !name.is_empty());
        let task_type = task_type.filter(|name| !name.is_empty());
        // Queue names and type names are stored in columns of the same width.
        for name in [queue, task_type].into_iter().flatten() {
            if name.len() > QUEUE_NAME_MAX {
                return Err(QueueError::BadRequest(format!(
                    "a queue or type name is at most {QUEUE_NAME_MAX} bytes long"
                )));
            }
        }
        let now = self.now_micros();
        let span = window.slot_minutes();
        let now_minute = now.div_euclid(MICROS_PER_MINUTE);
        let first = now_minute - now_minute.rem_euclid(span) - (window.slots() - 1) * span;
        let range = StatsRange {
            span: span as i32,
            since: first,
            queue,
            task_type,
        };
        let store = self.store();
        let by_queue = StatsRange {
            queue: None,
            ..range
        };
        let by_kind = StatsRange {
            task_type: None,
            ..range
        };
        // Three reads of the same rows, on three of the readers' connections at once.
        let (by_slot, by_queue, by_kind) = tokio::try_join!(
            store.task_stats(range, StatsBy::Slot),
            store.task_stats(by_queue, StatsBy::Queue),
            store.task_stats(by_kind, StatsBy::Kind),
        )?;
        let mut slots: Vec<Summary> = (0..window.slots()).map(|_| Summary::default()).collect();
        let mut total = Summary::default();
        for row in by_slot {
            total.add(&row);
            let index = (row.slot - first) / span;
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| slots.get_mut(i)) {
                slot.add(&row);
            }
        }
        let mut queues = groups(by_queue);
        // A queue's waiting tasks are not told apart by type.
        if task_type.is_none() {
            self.add_oldest_pending(&mut queues).await?;
        }
        let kinds = groups(by_kind);
        Ok(Charts {
            window,
            queue: queue.map(str::to_string),
            task_type: task_type.map(str::to_string),
            slots: slots
                .into_iter()
                .zip(0..)
                .map(|(summary, i)| ChartSlot {
                    at: from_micros((first + i * span) * MICROS_PER_MINUTE),
                    finished: summary.finished(),
                })
                .collect(),
            total: total.finished(),
            queues: queues.into_values().collect(),
            kinds: kinds.into_values().collect(),
        })
    }

    /// Sets the oldest pending age of every queue with PENDING tasks (the first
    /// [`OLDEST_PENDING_QUEUES`] by name), adding the queues that finished nothing.
    async fn add_oldest_pending(
        &self,
        queues: &mut BTreeMap<String, ChartGroup>,
    ) -> Result<(), QueueError> {
        let counts = self.store().counts().await?;
        for (name, age) in self.oldest_pending_ages(&counts).await? {
            let group = queues.entry(name.clone()).or_insert_with(|| ChartGroup {
                name,
                ..ChartGroup::default()
            });
            group.oldest_pending_ms = Some(age / 1000);
        }
        Ok(())
    }

    /// How long, in microseconds, the longest-waiting PENDING task of each queue that
    /// `counts` shows PENDING tasks in (the first [`OLDEST_PENDING_QUEUES`] by name) has
    /// been due.
    pub(super) async fn oldest_pending_ages(
        &self,
        counts: &[CountRow],
    ) -> Result<Vec<(String, i64)>, QueueError> {
        let mut waiting: Vec<&str> = counts
            .iter()
            .filter(|row| row.status == "PENDING" && row.n > 0)
            .map(|row| row.queue.as_str())
            .collect();
        waiting.dedup();
        waiting.truncate(OLDEST_PENDING_QUEUES);
        let store = self.store();
        let lookups = waiting.iter().map(|name| store.oldest_pending(name));
        let oldest = futures_util::future::try_join_all(lookups).await?;
        let now = self.now_micros();
        Ok(waiting
            .into_iter()
            .zip(oldest)
            .filter_map(|(name, due)| due.map(|due| (name.to_string(), (now - due).max(0))))
            .collect())
    }
}

/// Rows summed by name, as groups.
fn groups(rows: Vec<StatRow>) -> BTreeMap<String, ChartGroup> {
    let mut summaries: BTreeMap<String, Summary> = BTreeMap::new();
    for row in &rows {
        summaries.entry(row.name.clone()).or_default().add(row);
    }
    summaries
        .into_iter()
        .map(|(name, summary)| {
            let group = ChartGroup {
                name: name.clone(),
                finished: summary.finished(),
                oldest_pending_ms: None,
            };
            (name, group)
        })
        .collect()
}

/// Counts and latency buckets added up from rows.
#[derive(Debug, Default)]
struct Summary {
    succeeded: i64,
    failed: i64,
    cancelled: i64,
    wait: BTreeMap<i32, i64>,
    run: BTreeMap<i32, i64>,
}

impl Summary {
    fn add(&mut self, row: &StatRow) {
        match row.measure.as_str() {
            "SUCCESS" => self.succeeded += row.n,
            "FAILED" => self.failed += row.n,
            "CANCELLED" => self.cancelled += row.n,
            WAIT => *self.wait.entry(row.bucket).or_default() += row.n,
            RUN => *self.run.entry(row.bucket).or_default() += row.n,
            _ => {}
        }
    }

    fn finished(&self) -> Finished {
        Finished {
            succeeded: self.succeeded,
            failed: self.failed,
            cancelled: self.cancelled,
            wait: percentiles(&self.wait),
            run: percentiles(&self.run),
        }
    }
}

fn percentiles(buckets: &BTreeMap<i32, i64>) -> Percentiles {
    Percentiles {
        p50_ms: percentile(buckets, 50),
        p95_ms: percentile(buckets, 95),
    }
}

/// The latency below which `per_cent` of the samples fall: the nearest-rank sample's
/// bucket, as the middle of its range.
fn percentile(buckets: &BTreeMap<i32, i64>, per_cent: i64) -> Option<i64> {
    let total: i64 = buckets.values().sum();
    if total <= 0 {
        return None;
    }
    let rank = ((total * per_cent + 99) / 100).max(1);
    let mut seen = 0;
    for (bucket, n) in buckets {
        seen += n;
        if seen >= rank {
            return Some(bucket_millis(*bucket));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::latency_bucket;

    #[test]
    fn percentiles_take_the_nearest_rank_bucket() {
        let mut buckets = BTreeMap::new();
        // 90 samples at about 10 ms, 10 at about 1 s.
        buckets.insert(latency_bucket(10_000), 90);
        buckets.insert(latency_bucket(1_000_000), 10);
        let found = percentiles(&buckets);
        let p50 = found.p50_ms.unwrap();
        let p95 = found.p95_ms.unwrap();
        assert!((8..=12).contains(&p50), "{p50}");
        assert!((800..=1_200).contains(&p95), "{p95}");
        assert_eq!(percentiles(&BTreeMap::new()), Percentiles::default());
    }

    #[test]
    fn rows_add_up_by_measure() {
        let row = |measure: &str, bucket, n| StatRow {
            slot: 0,
            name: "q".into(),
            measure: measure.into(),
            bucket,
            n,
        };
        let mut summary = Summary::default();
        for r in [
            row("SUCCESS", 0, 3),
            row("FAILED", 0, 2),
            row("CANCELLED", 0, 1),
            row("SUCCESS", 0, 4),
            row(RUN, latency_bucket(5_000), 6),
            row("unknown", 0, 100),
        ] {
            summary.add(&r);
        }
        let finished = summary.finished();
        assert_eq!(
            (finished.succeeded, finished.failed, finished.cancelled),
            (7, 2, 1)
        );
        assert_eq!(
            finished.run.p50_ms,
            Some(bucket_millis(latency_bucket(5_000)))
        );
        assert_eq!(finished.wait, Percentiles::default());
    }
}
