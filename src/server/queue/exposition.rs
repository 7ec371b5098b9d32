//! What `/metrics` answers, in the Prometheus text format: the state of the whole
//! database read at each scrape (tasks by queue, kind and status; each queue's depth and
//! its oldest pending task's age; the group committer's counters), then this process's
//! own metrics (see [`super::metrics`]). Every process sharing a database reports the
//! same database figures.

use super::metrics::{collect_into, OTHER, QUEUE_LABELS};
use super::{Queue, QueueError};
use prometheus::core::Collector;
use prometheus::{Encoder, Gauge, GaugeVec, IntCounter, IntGaugeVec, Opts, TextEncoder};
use std::collections::{BTreeMap, BTreeSet};

/// The `Content-Type` of [`Queue::metrics_text`].
pub const METRICS_CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

impl Queue {
    /// Every metric, as Prometheus text.
    pub async fn metrics_text(&self) -> Result<String, QueueError> {
        let counts = self.store().counts().await?;
        let oldest = self.oldest_pending_ages(&counts).await?;
        let metrics = self.metrics();
        let tasks = IntGaugeVec::new(
            Opts::new(
                "spool_tasks",
                "Tasks in the database by queue, kind and status.",
            ),
            &["queue", "kind", "status"],
        )
        .expect("a valid metric definition");
        let depth = IntGaugeVec::new(
            Opts::new(
                "spool_queue_depth",
                "Tasks ready to run (PENDING), by queue.",
            ),
            &["queue"],
        )
        .expect("a valid metric definition");
        // The database's queues past the first QUEUE_LABELS by name share one label, the
        // same in every process; kinds were checked at submit, so each keeps its own.
        let named: BTreeSet<&str> = counts.iter().map(|row| row.queue.as_str()).collect();
        let named: BTreeSet<&str> = named.into_iter().take(QUEUE_LABELS).collect();
        // Folded labels can make one series of several rows: sum them first.
        let mut task_rows: BTreeMap<[&str; 3], i64> = BTreeMap::new();
        let mut depths: BTreeMap<&str, i64> = BTreeMap::new();
        for row in &counts {
            let queue = folded(&named, &row.queue);
            let kind = row.task_type.as_str();
            *task_rows.entry([queue, kind, &row.status]).or_default() += row.n;
            let ready = depths.entry(queue).or_default();
            if row.status == "PENDING" {
                *ready += row.n;
            }
        }
        for (labels, n) in task_rows {
            tasks.with_label_values(&labels).set(n);
        }
        for (queue, n) in &depths {
            depth.with_label_values(&[queue]).set(*n);
        }
        let age = GaugeVec::new(
            Opts::new(
                "spool_queue_oldest_pending_age_seconds",
                "How long the longest-waiting PENDING task of a queue has been due (0 when none waits).",
            ),
            &["queue"],
        )
        .expect("a valid metric definition");
        let mut ages: BTreeMap<&str, f64> = depths.keys().map(|queue| (*queue, 0.0)).collect();
        for (queue, micros) in &oldest {
            let seconds = *micros as f64 / 1e6;
            let oldest = ages.entry(folded(&named, queue)).or_default();
            *oldest = oldest.max(seconds);
        }
        for (queue, seconds) in ages {
            age.with_label_values(&[queue]).set(seconds);
        }
        let commits = self.commit_stats();
        let transactions = IntCounter::new(
            "spool_store_transactions_total",
            "Transactions this process's group committer made (submits, claims, outcomes).",
        )
        .expect("a valid metric definition");
        transactions.inc_by(commits.transactions);
        let writes = IntCounter::new(
            "spool_store_writes_total",
            "Writes those transactions carried.",
        )
        .expect("a valid metric definition");
        writes.inc_by(commits.writes);
        let draining = Gauge::new(
            "spool_draining",
            "1 while this process is shutting down (no longer claiming), else 0.",
        )
        .expect("a valid metric definition");
        draining.set(if self.is_draining() { 1.0 } else { 0.0 });

        let mut families = Vec::new();
        for collector in [
            &tasks as &dyn Collector,
            &depth,
            &age,
            &transactions,
            &writes,
            &draining,
        ] {
            collect_into(&mut families, collector);
        }
        families.extend(metrics.gather());
        let mut out = Vec::new();
        // Writing to memory fails only on an invalid metric, which the checks above rule out.
        if let Err(err) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(error = %err, "could not encode the metrics");
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// `queue` when it is among `named`, else [`OTHER`].
fn folded<'a>(named: &BTreeSet<&str>, queue: &'a str) -> &'a str {
    if named.contains(queue) {
        queue
    } else {
        OTHER
    }
}
