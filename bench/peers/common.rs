//! Shared by the peer benchmark binaries (included with `#[path]`, so each crate stays
//! standalone): command-line parsing, the burn-down wait loop, statistics and the JSON line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The command line: `--tasks N --runs R --pickups P --concurrency C --cap-secs S --dir DIR`.
pub struct Args {
    pub tasks: usize,
    pub runs: usize,
    pub pickups: usize,
    pub concurrency: usize,
    /// How long a burn-down run may take before it is stopped and reported over what
    /// finished (a peer that slows as its backlog grows would otherwise run for long).
    pub cap: Duration,
    pub dir: PathBuf,
}

const USAGE: &str =
    "usage: <bin> --tasks N --runs R --pickups P --concurrency C --cap-secs S --dir DIR";

impl Args {
    /// One line on stderr saying what is about to be measured, and with which queue.
    pub fn announce(&self, queue: &str) {
        eprintln!(
            "{queue}: {} tasks x {} runs, {} pickups, concurrency {}, dir {}",
            self.tasks,
            self.runs,
            self.pickups,
            self.concurrency,
            self.dir.display()
        );
    }

    /// Parses `std::env::args`; prints the usage and exits on anything it doesn't understand.
    pub fn parse() -> Args {
        let mut args = Args {
            tasks: 20_000,
            runs: 3,
            pickups: 1_000,
            concurrency: 64,
            cap: Duration::from_secs(120),
            dir: std::env::temp_dir().join("peerbench"),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                eprintln!("{USAGE}");
                std::process::exit(0);
            }
            let Some(value) = it.next() else {
                usage_error(&format!("{flag} needs a value"))
            };
            let number = || -> usize {
                match value.parse() {
                    Ok(n) if n > 0 => n,
                    _ => usage_error(&format!("{flag} wants a positive integer, got {value:?}")),
                }
            };
            match flag.as_str() {
                "--tasks" => args.tasks = number(),
                "--runs" => args.runs = number(),
                "--pickups" => args.pickups = number(),
                "--concurrency" => args.concurrency = number(),
                "--cap-secs" => args.cap = Duration::from_secs(number() as u64),
                "--dir" => args.dir = PathBuf::from(&value),
                _ => usage_error(&format!("unknown argument {flag:?}")),
            }
        }
        args
    }
}

fn usage_error(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    std::process::exit(2);
}

/// Prints the error and exits with status 1 (the harness then records no result).
pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// A fresh directory inside `dir` for one database; removed (with the -wal and -shm files)
/// when dropped.
pub fn fresh_db_dir(dir: &std::path::Path) -> tempfile::TempDir {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| panic!("cannot create --dir {}: {e}", dir.display()));
    tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(dir)
        .unwrap_or_else(|e| panic!("cannot create a directory in {}: {e}", dir.display()))
}

/// How a burn-down run ended.
pub enum BurnDown {
    /// All jobs are recorded complete in the database.
    Done { elapsed: Duration },
    /// The run hit its time cap first; `completed` jobs were recorded complete by then.
    Capped { elapsed: Duration, completed: usize },
}

/// Waits until all `tasks` jobs are committed as complete, measured from `start`.
///
/// `handled` counts handler calls; while it is below `tasks` we only sleep (so the wait adds
/// no load to the database). Once every handler has run, `committed()` is polled every
/// millisecond until the database agrees that all `tasks` jobs are complete. At `cap` the
/// run stops and the number the database has recorded so far is returned.
pub async fn wait_for_burn_down(
    start: Instant,
    tasks: usize,
    handled: &AtomicUsize,
    cap: Duration,
    mut committed: impl AsyncFnMut() -> usize,
) -> BurnDown {
    let mut last_report = Instant::now();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= cap {
            return BurnDown::Capped {
                elapsed,
                completed: committed().await,
            };
        }
        if handled.load(Ordering::Relaxed) < tasks {
            tokio::time::sleep(Duration::from_millis(2)).await;
        } else {
            if committed().await >= tasks {
                return BurnDown::Done {
                    elapsed: start.elapsed(),
                };
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "  ... {:.0} s, {} handled",
                elapsed.as_secs_f64(),
                handled.load(Ordering::Relaxed)
            );
        }
    }
}

/// Pickup latency, `pickups` times in sequence: take t0, `submit()` one job, and wait for the
/// handler to send the `Instant` it started at; the latency is that instant minus t0. The
/// next job is submitted only after the handler of the previous one has started. Returns the
/// latencies in milliseconds, sorted.
pub async fn measure_pickups(
    pickups: usize,
    started: &mut tokio::sync::mpsc::UnboundedReceiver<Instant>,
    mut submit: impl AsyncFnMut() -> Result<(), String>,
) -> Result<Vec<f64>, String> {
    const PICKUP_TIMEOUT: Duration = Duration::from_secs(60);
    let mut latencies = Vec::with_capacity(pickups);
    for i in 0..pickups {
        let t0 = Instant::now();
        submit().await?;
        let at = match tokio::time::timeout(PICKUP_TIMEOUT, started.recv()).await {
            Ok(Some(at)) => at,
            Ok(None) => return Err("the handler channel closed".into()),
            Err(_) => {
                return Err(format!(
                    "pickup {i}: the handler did not start within {PICKUP_TIMEOUT:?}"
                ))
            }
        };
        latencies.push(at.saturating_duration_since(t0).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// Median of a non-empty list (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile (`q` in 0..=1) of a list that is already sorted.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The version of `package` recorded in a Cargo.lock's text.
pub fn locked_version(lock: &str, package: &str) -> String {
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return v.trim_end_matches('"').to_string();
            }
        }
    }
    "unknown".to_string()
}

/// Rounds to 3 decimals for the JSON line.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
