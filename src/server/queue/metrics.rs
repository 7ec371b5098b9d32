//! Counters this process keeps for `/metrics`: tasks submitted, attempts finished by
//! outcome, and a histogram of attempt durations. Lock-free; cheap on the hot path.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Attempt outcomes, as the `outcome` label spells them.
pub const OUTCOMES: [&str; 4] = ["success", "failure", "cancelled", "interrupted"];

#[derive(Default)]
pub struct Metrics {
    started: StartTime,
    submitted: AtomicU64,
    finished: [AtomicU64; OUTCOMES.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
}

/// When the engine, and so in practice the process, started: Prometheus's standard
/// `process_start_time_seconds`, which tells a restart from a counter going down.
struct StartTime(f64);

impl Default for StartTime {
    fn default() -> StartTime {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        StartTime(since_epoch.as_secs_f64())
    }
}

impl Metrics {
    pub fn submitted(&self, n: u64) {
        self.submitted.fetch_add(n, Ordering::Relaxed);
    }

    /// Records an attempt that ended with `outcome` (one of [`OUTCOMES`]) after `took`.
    pub fn finished(&self, outcome: &str, took: Duration) {
        if let Some(index) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.finished[index].fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros.fetch_add(
            took.as_micros().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// This process's counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
             # TYPE process_start_time_seconds gauge\n\
             process_start_time_seconds {:.3}",
            self.started.0
        );
        let _ = writeln!(
            out,
            "# HELP spool_tasks_submitted_total Tasks submitted to this process."
        );
        let _ = writeln!(out, "# TYPE spool_tasks_submitted_total counter");
        let _ = writeln!(
            out,
            "spool_tasks_submitted_total {}",
            self.submitted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP spool_attempts_finished_total Attempts this process finished, by outcome."
        );
        let _ = writeln!(out, "# TYPE spool_attempts_finished_total counter");
        for (outcome, count) in OUTCOMES.iter().zip(&self.finished) {
            let _ = writeln!(
                out,
                "spool_attempts_finished_total{{outcome=\"{outcome}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP spool_attempt_duration_seconds How long attempts ran in this process."
        );
        let _ = writeln!(out, "# TYPE spool_attempt_duration_seconds histogram");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "spool_attempt_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "spool_attempt_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.duration_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "spool_attempt_duration_seconds_sum {sum}");
        let _ = writeln!(out, "spool_attempt_duration_seconds_count {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_text_is_prometheus_format() {
        let metrics = Metrics::default();
        metrics.submitted(3);
        metrics.finished("success", Duration::from_millis(2));
        metrics.finished("failure", Duration::from_secs(2));
        let mut text = String::new();
        metrics.render(&mut text);
        assert!(text.contains("spool_tasks_submitted_total 3\n"), "{text}");
        let started: f64 = text
            .lines()
            .find_map(|line| line.strip_prefix("process_start_time_seconds "))
            .and_then(|value| value.parse().ok())
            .expect("the start time is a number");
        assert!(started > 1.7e9, "{started} is not a recent unix time");
        assert!(text.contains("spool_attempts_finished_total{outcome=\"success\"} 1\n"));
        assert!(text.contains("spool_attempts_finished_total{outcome=\"failure\"} 1\n"));
        assert!(text.contains("spool_attempt_duration_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("spool_attempt_duration_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("spool_attempt_duration_seconds_bucket{le=\"5\"} 2\n"));
        assert!(text.contains("spool_attempt_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("spool_attempt_duration_seconds_count 2\n"));
    }
}
