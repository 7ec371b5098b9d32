//! The Markdown tables printed at the end of a run, ready for BENCHMARKS.md: the targets,
//! the rounds of the burn-down, PostgreSQL's rows and the peers'.

use crate::interleaved::Interleaved;
use crate::report::Results;

/// The table printed at the end of a run (Markdown, so it can go into BENCHMARKS.md).
pub fn table(results: &Results) -> String {
    let machine = &results.machine;
    let mut out = format!(
        "Machine: {} cores, {}, {} GB RAM{}\n\n| Measure | Spool | Target | Met |\n|---|---:|---:|:-:|\n",
        machine.cores,
        machine.cpu,
        machine.memory_gb,
        if results.plan.quick { " (quick mode: smaller runs)" } else { "" }
    );
    for target in &results.targets {
        out += &format!(
            "| {} | {} {} | {} {} {} | {} |\n",
            target.name,
            number(target.measured),
            target.unit,
            if target.higher_is_better {
                "≥"
            } else {
                "≤"
            },
            number(target.goal),
            target.unit,
            if target.met { "yes" } else { "no" }
        );
    }
    let burn = &results.details.burn_down;
    out += &format!(
        "\nBurn-down rounds (tasks/s), Spool FULL / Spool NORMAL / {}: {}\n",
        burn.peer,
        rounds(burn)
    );
    out += &format!(
        "The disk's fdatasync (1,000 small appends): p50 {:.2} ms, p99 {:.2} ms\n",
        results.fsync_p50_ms, results.fsync_p99_ms
    );
    out += &postgres_table(results);
    out += &peer_table(results);
    out
}

/// Each round's three rates, "full / normal / peer", rounds separated by semicolons.
fn rounds(burn: &Interleaved) -> String {
    let peer = |i: usize| {
        burn.peer_runs
            .get(i)
            .map_or("—".to_string(), |r| number(*r))
    };
    (0..burn.full.runs.len())
        .map(|i| {
            format!(
                "{} / {} / {}",
                number(burn.full.runs[i]),
                number(burn.normal.runs[i]),
                peer(i)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn postgres_table(results: &Results) -> String {
    let Some(postgres) = &results.postgres else {
        return format!(
            "\nPostgreSQL: not measured ({})\n",
            results.postgres_error.as_deref().unwrap_or("unknown")
        );
    };
    let mut out = format!(
        "\n| PostgreSQL, `spool worker` processes ({} workers each) | Burn-down tasks/s | ÷ one process | Deadlocks | Sessions waiting on a lock |\n|---|---:|---:|---:|---:|\n",
        results.plan.concurrency
    );
    let one = postgres
        .burn_down
        .first()
        .map_or(f64::NAN, |row| row.median_per_s);
    for row in &postgres.burn_down {
        let waiting: Vec<String> = row.lock_waiters.iter().map(|n| format!("{n:.2}")).collect();
        out += &format!(
            "| {} process(es), {} tasks | {} | {:.2}× | {} | {} |\n",
            row.processes,
            number(row.tasks as f64),
            number(row.median_per_s),
            row.median_per_s / one,
            row.deadlocks.iter().sum::<i64>(),
            waiting.join(", ")
        );
    }
    let pickup = &postgres.pickup_across_processes;
    out += &format!(
        "| pickup across processes (REST submit → NOTIFY → worker), p50 / p99 | {:.2} / {:.2} ms | | | |\n",
        pickup.p50_ms, pickup.p99_ms
    );
    out
}

fn peer_table(results: &Results) -> String {
    let spool_rate = results
        .burn_down_tasks_per_s_normal
        .max(results.burn_down_tasks_per_s);
    let mut out = format!(
        "\n| Queue ({} noop tasks, {} workers) | Burn-down tasks/s | Spool ÷ peer | Pickup p50 ms | Pickup p99 ms |\n|---|---:|---:|---:|---:|\n",
        results.plan.burn_tasks, results.plan.concurrency
    );
    out += &format!(
        "| Spool, FULL | {} | — | {:.2} | {:.2} |\n| Spool, NORMAL | {} | — | {:.2} | {:.2} |\n",
        number(results.burn_down_tasks_per_s),
        results.pickup_p50_ms,
        results.pickup_p99_ms,
        number(results.burn_down_tasks_per_s_normal),
        results.pickup_p50_ms_normal,
        results.pickup_p99_ms_normal,
    );
    for peer in &results.details.peers {
        match &peer.result {
            Some(result) => {
                let rate = result["burn_down_tasks_per_s"].as_f64().unwrap_or(0.0);
                let ratio = if rate > 0.0 {
                    spool_rate / rate
                } else {
                    f64::NAN
                };
                out += &format!(
                    "| {} | {} | {:.1}× | {:.2} | {:.2} |\n",
                    result["name"].as_str().unwrap_or(&peer.binary),
                    number(rate),
                    ratio,
                    result["pickup_p50_ms"].as_f64().unwrap_or(f64::NAN),
                    result["pickup_p99_ms"].as_f64().unwrap_or(f64::NAN),
                );
            }
            None => {
                out += &format!(
                    "| {} | not measured: {} | | | |\n",
                    peer.binary,
                    peer.error.as_deref().unwrap_or("unknown")
                );
            }
        }
    }
    out
}

/// Whole numbers with thousands separators; small ones with two decimals.
fn number(value: f64) -> String {
    if value.abs() < 100.0 {
        return format!("{value:.2}");
    }
    let digits = format!("{:.0}", value);
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_or_given_decimals() {
        assert_eq!(number(25_431.4), "25,431");
        assert_eq!(number(1_000_000.0), "1,000,000");
        assert_eq!(number(0.456), "0.46");
        assert_eq!(number(512.0), "512");
    }
}
