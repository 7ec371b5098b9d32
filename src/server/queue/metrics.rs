//! This process's own metrics for `/metrics`, kept in a Prometheus registry: tasks
//! submitted, attempts started (with how long they waited) and finished (with how long
//! they ran), attempts rescued from dead workers, and each pool's workers. Labels are
//! bounded: a kind this process does not know and queues past the first
//! [`QUEUE_LABELS`] are counted as `other`, so a flood of queue names cannot grow the
//! scrape without end.

use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use std::collections::{BTreeSet, HashSet};
use std::sync::RwLock;
use std::time::Duration;

/// Distinct queue names that get a label of their own; later ones are `other`.
pub const QUEUE_LABELS: usize = 100;
/// The label value standing for every value past the bound.
pub const OTHER: &str = "other";

/// Upper bounds, in seconds, of the run-time and wait-time histograms' buckets.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Every metric this process keeps of its own.
pub struct Metrics {
    submitted: IntCounterVec,
    started: IntCounterVec,
    finished: IntCounterVec,
    wait_time: HistogramVec,
    run_time: HistogramVec,
    rescued: IntCounterVec,
    workers: IntGaugeVec,
    busy: IntGaugeVec,
    kinds: BTreeSet<String>,
    queues: RwLock<HashSet<String>>,
    #[cfg(target_os = "linux")]
    process: prometheus::process_collector::ProcessCollector,
}

/// A pool's gauges, looked up once when the pool starts.
#[derive(Clone)]
pub struct PoolGauges {
    /// Workers the pool may run at once now.
    pub workers: IntGauge,
    /// Workers running an attempt now.
    pub busy: IntGauge,
}

impl Metrics {
    /// Metrics labelling the kinds in `kinds` by name and the queues in `queues` (the
    /// ones this process works) always by name.
    pub fn new(
        kinds: impl IntoIterator<Item = String>,
        queues: impl IntoIterator<Item = String>,
    ) -> Metrics {
        let by_kind = ["queue", "kind"];
        let metrics = Metrics {
            submitted: counter("spool_tasks_submitted_total", "Tasks submitted through this process.", &by_kind),
            started: counter("spool_attempts_started_total", "Attempts this process started.", &by_kind),
            finished: counter(
                "spool_attempts_finished_total",
                "Attempts this process finished, by outcome (interrupted: put back in the queue by a shutdown).",
                &["queue", "kind", "outcome"],
            ),
            wait_time: histogram(
                "spool_task_wait_seconds",
                "From when a task was due (its submit, or the time it was scheduled or retried for) to the start of its attempt here.",
                &by_kind,
            ),
            run_time: histogram("spool_attempt_duration_seconds", "How long attempts ran in this process.", &by_kind),
            rescued: counter(
                "spool_attempts_rescued_total",
                "Attempts of dead workers (lease expired, LOST) this process's housekeeping rescued, by what became of their task.",
                &["outcome"],
            ),
            workers: gauge("spool_workers", "Workers a pool of this process may run at once.", &["queue"]),
            busy: gauge("spool_workers_busy", "Workers of this process running an attempt.", &["queue"]),
            kinds: kinds.into_iter().collect(),
            queues: RwLock::new(queues.into_iter().collect()),
            #[cfg(target_os = "linux")]
            process: prometheus::process_collector::ProcessCollector::for_self(),
        };
        // Rescues are rare: their series exist from the start, so a rate over them
        // works before the first one.
        metrics.rescued(0, 0, 0);
        metrics
    }

    pub fn submitted(&self, queue: &str, kind: &str) {
        let labels = [self.queue_label(queue), self.kind_label(kind)];
        self.submitted.with_label_values(&labels).inc();
    }

    /// Records an attempt starting after its task waited `waited` since it was due.
    pub fn started(&self, queue: &str, kind: &str, waited: Duration) {
        let labels = [self.queue_label(queue), self.kind_label(kind)];
        self.started.with_label_values(&labels).inc();
        self.wait_time
            .with_label_values(&labels)
            .observe(waited.as_secs_f64());
    }

    /// Records an attempt that ended with `outcome` (`success`, `failure`, `cancelled`,
    /// or `interrupted` by a shutdown that put it back in the queue) after `took`.
    pub fn finished(&self, queue: &str, kind: &str, outcome: &'static str, took: Duration) {
        let (queue, kind) = (self.queue_label(queue), self.kind_label(kind));
        self.finished
            .with_label_values(&[queue, kind, outcome])
            .inc();
        self.run_time
            .with_label_values(&[queue, kind])
            .observe(took.as_secs_f64());
    }

    /// Counts rescued attempts by what became of their task.
    pub fn rescued(&self, retried: u64, failed: u64, cancelled: u64) {
        for (outcome, n) in [
            ("retried", retried),
            ("failed", failed),
            ("cancelled", cancelled),
        ] {
            self.rescued.with_label_values(&[outcome]).inc_by(n);
        }
    }

    /// The gauges of the pool working `queue`.
    pub fn pool(&self, queue: &str) -> PoolGauges {
        let queue = self.queue_label(queue);
        PoolGauges {
            workers: self.workers.with_label_values(&[queue]),
            busy: self.busy.with_label_values(&[queue]),
        }
    }

    /// Everything kept here, as metric families to encode.
    pub fn gather(&self) -> Vec<MetricFamily> {
        let mut families = Vec::new();
        for collector in [
            &self.submitted as &dyn Collector,
            &self.started,
            &self.finished,
            &self.wait_time,
            &self.run_time,
            &self.rescued,
            &self.workers,
            &self.busy,
        ] {
            collect_into(&mut families, collector);
        }
        #[cfg(target_os = "linux")]
        collect_into(&mut families, &self.process);
        families
    }

    /// `kind` when this process knows the kind, else [`OTHER`].
    pub fn kind_label<'a>(&self, kind: &'a str) -> &'a str {
        if self.kinds.contains(kind) {
            kind
        } else {
            OTHER
        }
    }

    /// `queue` when it already has a label or there is room for one more, else
    /// [`OTHER`].
    pub fn queue_label<'a>(&self, queue: &'a str) -> &'a str {
        let known = self.queues.read().unwrap_or_else(|e| e.into_inner());
        if known.contains(queue) {
            return queue;
        }
        if known.len() >= QUEUE_LABELS {
            return OTHER;
        }
        drop(known);
        let mut known = self.queues.write().unwrap_or_else(|e| e.into_inner());
        if known.len() >= QUEUE_LABELS {
            return OTHER;
        }
        known.insert(queue.to_string());
        queue
    }
}

/// Adds what `collector` holds to `families`, leaving out families with no series yet
/// (a labelled metric before its first use), which the text format cannot carry.
pub fn collect_into(families: &mut Vec<MetricFamily>, collector: &dyn Collector) {
    let collected = collector.collect().into_iter();
    families.extend(collected.filter(|family| !family.get_metric().is_empty()));
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric definition")
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid metric definition")
}

fn histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(BUCKETS.to_vec());
    HistogramVec::new(opts, labels).expect("a valid metric definition")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(metrics: &Metrics) -> String {
        let mut out = String::new();
        prometheus::TextEncoder::new()
            .encode_utf8(&metrics.gather(), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn attempts_are_counted_by_queue_kind_and_outcome_with_cumulative_buckets() {
        let metrics = Metrics::new(["noop".to_string()], ["default".to_string()]);
        metrics.submitted("default", "noop");
        metrics.started("default", "noop", Duration::from_millis(30));
        metrics.finished("default", "noop", "success", Duration::from_millis(2));
        metrics.finished("default", "noop", "failure", Duration::from_secs(2));
        let text = text(&metrics);
        for line in [
            "spool_tasks_submitted_total{kind=\"noop\",queue=\"default\"} 1",
            "spool_attempts_started_total{kind=\"noop\",queue=\"default\"} 1",
            "spool_attempts_finished_total{kind=\"noop\",outcome=\"success\",queue=\"default\"} 1",
            "spool_attempts_finished_total{kind=\"noop\",outcome=\"failure\",queue=\"default\"} 1",
            "spool_attempt_duration_seconds_bucket{kind=\"noop\",queue=\"default\",le=\"0.001\"} 0",
            "spool_attempt_duration_seconds_bucket{kind=\"noop\",queue=\"default\",le=\"0.005\"} 1",
            "spool_attempt_duration_seconds_bucket{kind=\"noop\",queue=\"default\",le=\"5\"} 2",
            "spool_attempt_duration_seconds_count{kind=\"noop\",queue=\"default\"} 2",
            "spool_task_wait_seconds_bucket{kind=\"noop\",queue=\"default\",le=\"0.01\"} 0",
            "spool_task_wait_seconds_bucket{kind=\"noop\",queue=\"default\",le=\"0.05\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn unknown_kinds_and_queues_past_the_bound_fold_into_other() {
        let metrics = Metrics::new(["noop".to_string()], []);
        for n in 0..QUEUE_LABELS + 50 {
            metrics.submitted(&format!("q{n}"), "noop");
        }
        metrics.submitted("q0", "retired-kind");
        let text = text(&metrics);
        let series = text
            .lines()
            .filter(|l| l.starts_with("spool_tasks_submitted_total{"))
            .count();
        assert_eq!(series, QUEUE_LABELS + 2, "{text}");
        assert!(text.contains("spool_tasks_submitted_total{kind=\"noop\",queue=\"other\"} 50\n"));
        assert!(text.contains("spool_tasks_submitted_total{kind=\"other\",queue=\"q0\"} 1\n"));
        // A queue that already has its label keeps it.
        assert_eq!(metrics.queue_label("q7"), "q7");
    }

    #[test]
    fn rescues_and_pool_gauges_are_reported() {
        let metrics = Metrics::new([], ["emails".to_string()]);
        metrics.rescued(2, 1, 0);
        let pool = metrics.pool("emails");
        pool.workers.set(4);
        pool.busy.inc();
        let text = text(&metrics);
        assert!(
            text.contains("spool_attempts_rescued_total{outcome=\"retried\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("spool_attempts_rescued_total{outcome=\"failed\"} 1\n"));
        assert!(text.contains("spool_workers{queue=\"emails\"} 4\n"));
        assert!(text.contains("spool_workers_busy{queue=\"emails\"} 1\n"));
        #[cfg(target_os = "linux")]
        assert!(text.contains("process_start_time_seconds "), "{text}");
    }
}
