//! The bounds `spool serve` holds clients to, each with a safe default: submits,
//! event streams and connections per client and in all, and how long a request may take
//! (README, "Limits under floods").

use clap::Args;

/// What one client, and all clients together, may hold and send.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// Tasks one client may submit per second on average (0: no limit)
    #[arg(long, env = "SPOOL_SUBMIT_RATE", default_value_t = 1000)]
    pub submit_rate: u32,

    /// Event streams (`/api/tasks/{id}/events`) one client may hold open at once; more
    /// get 429
    #[arg(long, env = "SPOOL_MAX_STREAMS_PER_CLIENT", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_streams_per_client: u32,

    /// Event streams the server holds open at once, from all clients; more get 429
    #[arg(long, env = "SPOOL_MAX_STREAMS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_streams: u32,

    /// Connections one client may hold open at once; more are answered 429 and closed
    #[arg(long, env = "SPOOL_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections_per_client: u32,

    /// Connections open at once from all clients; more wait to be accepted
    #[arg(long, env = "SPOOL_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a client may take to send a request's headers, and an idle keep-alive
    /// connection is kept
    #[arg(long, env = "SPOOL_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,

    /// Seconds a request may take to be answered (event streams: to start); longer is 503
    #[arg(long, env = "SPOOL_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,

    /// Tasks one client may submit at once above that rate before it gets 429
    #[arg(long, env = "SPOOL_SUBMIT_BURST", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub submit_burst: u32,
}
