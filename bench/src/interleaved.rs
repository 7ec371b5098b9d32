//! Spool's burn-downs beside the reference peer's, run after run: Spool under FULL, Spool
//! under NORMAL, then the peer (which runs NORMAL), and again. This machine's speed drifts
//! by a third from one minute to the next, so rates measured minutes apart compare badly;
//! each run's ratio to the peer's run beside it does not drift with the machine, and the
//! median of those ratios is what the targets hold Spool to.

use crate::burn_down::{self, BurnDown};
use crate::peers;
use crate::sample::median;
use crate::server::PeakRss;
use crate::{Paths, Plan};

type Error = Box<dyn std::error::Error>;

/// Spool's runs, the peer's runs beside them, and the run-by-run ratios.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Interleaved {
    pub full: BurnDown,
    pub normal: BurnDown,
    pub peer: String,
    /// The peer's rate in each round; empty when it could not run.
    pub peer_runs: Vec<f64>,
    pub peer_error: Option<String>,
    /// Spool under NORMAL ÷ the peer, round by round.
    pub normal_ratios: Vec<f64>,
    /// Spool under FULL ÷ the peer (NORMAL), round by round.
    pub full_ratios: Vec<f64>,
}

impl Interleaved {
    /// The median ratio under NORMAL; NaN when the peer did not run.
    pub fn normal_ratio(&self) -> f64 {
        median_or_nan(&self.normal_ratios)
    }

    /// The median ratio under FULL; NaN when the peer did not run.
    pub fn full_ratio(&self) -> f64 {
        median_or_nan(&self.full_ratios)
    }
}

fn median_or_nan(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        median(values)
    }
}

pub async fn measure(plan: &Plan, paths: &Paths, rss: &mut PeakRss) -> Result<Interleaved, Error> {
    let mut full = Vec::new();
    let mut normal = Vec::new();
    let mut peer_runs = Vec::new();
    let mut peer_error = None;
    for run in 0..plan.runs {
        full.push(burn_down::run_once(plan, paths, "full", run, rss).await?);
        normal.push(burn_down::run_once(plan, paths, "normal", run, rss).await?);
        if peer_error.is_some() {
            continue;
        }
        match peers::burn_down_once(plan, paths, peers::REFERENCE) {
            Ok(rate) => {
                eprintln!("  {} run {}: {rate:.0} tasks/s", peers::REFERENCE, run + 1);
                peer_runs.push(rate);
            }
            Err(err) => {
                eprintln!("  {}: {err}; no ratios this run", peers::REFERENCE);
                peer_error = Some(err);
            }
        }
    }
    let ratios =
        |spool: &[f64]| -> Vec<f64> { spool.iter().zip(&peer_runs).map(|(s, p)| s / p).collect() };
    Ok(Interleaved {
        normal_ratios: ratios(&normal),
        full_ratios: ratios(&full),
        full: BurnDown::of(plan, "full", full),
        normal: BurnDown::of(plan, "normal", normal),
        peer: peers::REFERENCE.to_string(),
        peer_runs,
        peer_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_peer_runs_the_ratio_is_unknown_not_zero() {
        assert!(median_or_nan(&[]).is_nan());
        assert_eq!(median_or_nan(&[1.2, 0.9, 1.1]), 1.1);
    }
}
