//! The results: the flat fields `results.json` promises, the details behind them, and
//! the targets they are held to (`table` prints them).

use crate::flood::Flood;
use crate::interleaved::Interleaved;
use crate::machine::Machine;
use crate::peers::Peer;
use crate::pickup::Pickup;
use crate::postgres::PostgresResults;
use crate::rest_submit::RestSubmit;
use crate::retained::Retained;
use crate::sample::Latency;
use crate::wasm::WasmSize;
use crate::Plan;

/// Everything one run measured.
pub struct Measured {
    /// Spool's burn-downs, each round beside the reference peer's.
    pub burn: Interleaved,
    /// The disk's own `fdatasync`, in the databases' directory.
    pub fsync: Latency,
    pub pickup_full: Pickup,
    pub pickup_normal: Pickup,
    pub pickup_rest: Pickup,
    pub submit: RestSubmit,
    pub retained: Retained,
    pub flood: Flood,
    pub wasm: WasmSize,
    pub rss_peak_mb: f64,
    /// The PostgreSQL rows, or why they were not measured.
    pub postgres: Result<PostgresResults, String>,
    pub peers: Vec<Peer>,
}

#[derive(serde::Serialize)]
pub struct Results {
    /// Default durability (synchronous=FULL) unless the name says otherwise.
    pub burn_down_tasks_per_s: f64,
    pub burn_down_tasks_per_s_normal: f64,
    /// Median of the round-by-round ratios to the reference peer's burn-down (NORMAL).
    pub burn_down_ratio_to_peer: f64,
    pub burn_down_ratio_to_peer_normal: f64,
    /// 1,000 small appends, each made durable by `fdatasync`.
    pub fsync_p50_ms: f64,
    pub fsync_p99_ms: f64,
    pub rest_submit_per_s: f64,
    pub pickup_p50_ms: f64,
    pub pickup_p99_ms: f64,
    pub pickup_p50_ms_normal: f64,
    pub pickup_p99_ms_normal: f64,
    pub pickup_rest_p50_ms: f64,
    pub pickup_rest_p99_ms: f64,
    /// With `plan.retained` finished tasks (1,000,000 unless quick).
    pub stats_p99_ms_1m: f64,
    pub list_p99_ms_1m: f64,
    pub wasm_raw_bytes: u64,
    pub wasm_gz_bytes: u64,
    /// The main module as the release binary sends it to a browser that accepts brotli.
    pub wasm_br_bytes: u64,
    /// The chunks the other pages fetch on demand, gzipped one by one, summed.
    pub wasm_chunks: u64,
    pub wasm_chunks_gz_bytes: u64,
    pub rss_peak_mb: f64,
    /// Several processes on one PostgreSQL database (absent when none was reachable).
    pub postgres: Option<PostgresResults>,
    pub postgres_error: Option<String>,
    pub machine: Machine,
    pub plan: Plan,
    pub targets: Vec<Target>,
    pub details: Details,
    pub measured_at: chrono::DateTime<chrono::Utc>,
}

#[derive(serde::Serialize)]
pub struct Details {
    pub burn_down: Interleaved,
    pub pickup: [Pickup; 3],
    pub rest_submit: RestSubmit,
    pub retained: Retained,
    pub flood: Flood,
    pub peers: Vec<Peer>,
}

/// One target of the benchmark and whether this run met it.
#[derive(serde::Serialize)]
pub struct Target {
    pub name: &'static str,
    pub measured: f64,
    pub goal: f64,
    pub unit: &'static str,
    pub higher_is_better: bool,
    pub met: bool,
}

impl Target {
    fn new(
        name: &'static str,
        measured: f64,
        goal: f64,
        unit: &'static str,
        higher: bool,
    ) -> Target {
        let met = if higher {
            measured >= goal
        } else {
            measured <= goal
        };
        Target {
            name,
            measured,
            goal,
            unit,
            higher_is_better: higher,
            met,
        }
    }
}

impl Results {
    pub fn new(plan: &Plan, m: Measured) -> Results {
        let targets = vec![
            Target::new(
                "burn-down, NORMAL ÷ effectum's (median of round ratios)",
                m.burn.normal_ratio(),
                1.1,
                "×",
                true,
            ),
            Target::new(
                "burn-down, FULL ÷ effectum's NORMAL (median of round ratios)",
                m.burn.full_ratio(),
                0.65,
                "×",
                true,
            ),
            Target::new("REST submits", m.submit.median_per_s, 5_000.0, "/s", true),
            Target::new(
                "pickup p99 in-process, FULL, above the disk's fdatasync p99",
                m.pickup_full.latency.p99_ms - m.fsync.p99_ms,
                0.3,
                "ms",
                false,
            ),
            Target::new(
                "pickup p99 in-process, NORMAL",
                m.pickup_normal.latency.p99_ms,
                1.0,
                "ms",
                false,
            ),
            Target::new(
                "pickup p99 through REST",
                m.pickup_rest.latency.p99_ms,
                2.0,
                "ms",
                false,
            ),
            Target::new(
                "GET /api/stats p99",
                m.retained.stats.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "GET /api/tasks/ p99",
                m.retained.list.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "overview server function p99",
                m.retained.overview.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "GET /api/charts p99 (hour)",
                m.retained.charts_hour.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "GET /api/charts p99 (day)",
                m.retained.charts_day.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "GET /api/processes p99",
                m.retained.processes.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "wasm the overview loads, gzipped",
                m.wasm.gz_bytes as f64 / 1000.0,
                230.0,
                "KB",
                false,
            ),
            Target::new(
                "GET /api/stats p99, 4,000 event streams open (caps raised by flag)",
                m.flood.stats.p99_ms,
                20.0,
                "ms",
                false,
            ),
            Target::new(
                "server RSS, 4,000 event streams open",
                m.flood.rss_mb_with_streams,
                64.0,
                "MB",
                false,
            ),
            Target::new("server peak RSS", m.rss_peak_mb, 64.0, "MB", false),
        ];
        Results {
            burn_down_tasks_per_s: m.burn.full.median_per_s,
            burn_down_tasks_per_s_normal: m.burn.normal.median_per_s,
            burn_down_ratio_to_peer: m.burn.full_ratio(),
            burn_down_ratio_to_peer_normal: m.burn.normal_ratio(),
            fsync_p50_ms: m.fsync.p50_ms,
            fsync_p99_ms: m.fsync.p99_ms,
            rest_submit_per_s: m.submit.median_per_s,
            pickup_p50_ms: m.pickup_full.latency.p50_ms,
            pickup_p99_ms: m.pickup_full.latency.p99_ms,
            pickup_p50_ms_normal: m.pickup_normal.latency.p50_ms,
            pickup_p99_ms_normal: m.pickup_normal.latency.p99_ms,
            pickup_rest_p50_ms: m.pickup_rest.latency.p50_ms,
            pickup_rest_p99_ms: m.pickup_rest.latency.p99_ms,
            stats_p99_ms_1m: m.retained.stats.p99_ms,
            list_p99_ms_1m: m.retained.list.p99_ms,
            wasm_raw_bytes: m.wasm.raw_bytes,
            wasm_gz_bytes: m.wasm.gz_bytes,
            wasm_br_bytes: m.wasm.br_bytes,
            wasm_chunks: m.wasm.chunks,
            wasm_chunks_gz_bytes: m.wasm.chunks_gz_bytes,
            rss_peak_mb: m.rss_peak_mb,
            postgres_error: m.postgres.as_ref().err().cloned(),
            postgres: m.postgres.ok(),
            machine: Machine::current(),
            plan: plan.clone(),
            targets,
            details: Details {
                burn_down: m.burn,
                pickup: [m.pickup_full, m.pickup_normal, m.pickup_rest],
                rest_submit: m.submit,
                retained: m.retained,
                flood: m.flood,
                peers: m.peers,
            },
            measured_at: chrono::Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_met_on_the_right_side_of_its_goal() {
        assert!(Target::new("x", 30_000.0, 25_000.0, "/s", true).met);
        assert!(!Target::new("x", 20_000.0, 25_000.0, "/s", true).met);
        assert!(Target::new("x", 0.8, 1.0, "ms", false).met);
        assert!(!Target::new("x", 1.2, 1.0, "ms", false).met);
    }
}
