//! Peer queues on the same machine and workload: each peer is a benchmark binary of its
//! own (bench/peers/*, built outside the workspace) that prints one JSON line.

use crate::{Paths, Plan};
use std::process::Command;

/// The peers, by binary name.
const PEERS: [&str; 2] = ["effectum-bench", "apalis-bench"];

/// What a peer reported, or why it could not be measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Peer {
    pub binary: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

pub fn measure(plan: &Plan, paths: &Paths) -> Vec<Peer> {
    PEERS
        .iter()
        .map(|binary| {
            eprintln!("  {binary}");
            match run(plan, paths, binary, plan.runs, plan.pickups) {
                Ok(result) => Peer {
                    binary: binary.to_string(),
                    result: Some(result),
                    error: None,
                },
                Err(error) => {
                    eprintln!("  {binary}: {error}");
                    Peer {
                        binary: binary.to_string(),
                        result: None,
                        error: Some(error),
                    }
                }
            }
        })
        .collect()
}

/// The peer Spool's burn-down is compared with, run by run (see [`crate::interleaved`]).
pub const REFERENCE: &str = "effectum-bench";

/// One burn-down of `binary` (and a single pickup, which its harness always measures);
/// tasks per second.
pub fn burn_down_once(plan: &Plan, paths: &Paths, binary: &str) -> Result<f64, String> {
    let result = run(plan, paths, binary, 1, 1)?;
    result["burn_down_tasks_per_s"]
        .as_f64()
        .filter(|rate| *rate > 0.0)
        .ok_or_else(|| format!("{binary} reported no burn-down rate"))
}

fn run(
    plan: &Plan,
    paths: &Paths,
    binary: &str,
    runs: usize,
    pickups: usize,
) -> Result<serde_json::Value, String> {
    let dir = paths.work.join(binary);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let output = Command::new(paths.peers.join(binary))
        .args(["--tasks", &plan.burn_tasks.to_string()])
        .args(["--runs", &runs.to_string()])
        .args(["--pickups", &pickups.to_string()])
        .args(["--concurrency", &plan.concurrency.to_string()])
        .args(["--cap-secs", &plan.peer_cap_secs.to_string()])
        .arg("--dir")
        .arg(&dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run it (was it built?): {e}"))?;
    if !output.status.success() {
        return Err(format!("it exited with {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("it printed no result")?;
    serde_json::from_str(line).map_err(|e| format!("unreadable result: {e}"))
}
