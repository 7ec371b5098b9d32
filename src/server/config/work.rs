//! Settings of `spool worker`: the queue's settings shared with `spool serve`, and the
//! optional HTTP port that makes the process observable.

use super::{AccessConfig, EngineConfig};
use clap::Args;
use std::net::SocketAddr;

/// Settings of `spool worker`.
#[derive(Clone, Debug, Args)]
pub struct WorkConfig {
    /// Serve `/metrics`, `/healthz` and `/readyz` on this address (a non-loopback one
    /// needs --token or --insecure-open-access) [default: no HTTP]
    #[arg(long, env = "SPOOL_METRICS_ADDR", help_heading = "HTTP")]
    pub metrics_addr: Option<SocketAddr>,

    /// Who may read the metrics.
    #[command(flatten)]
    pub access: AccessConfig,

    /// The queue's settings, shared with `spool serve`.
    #[command(flatten)]
    pub engine: EngineConfig,
}

impl WorkConfig {
    /// Why this worker must not start, if it must not (see
    /// [`AccessConfig::refusal`]; the database rule is checked with the engine's).
    pub fn refusal(&self) -> Option<String> {
        let addr = self.metrics_addr?;
        self.access.refusal("the metrics", addr)
    }
}
