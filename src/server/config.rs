//! Every setting of the `spool` binary, from flags with environment fallbacks, validated
//! once at start-up by clap.

use crate::server::store::Synchronous;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Spool: a durable background task queue with a live web dashboard.
#[derive(Debug, Parser)]
#[command(name = "spool", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and the REST API, and run workers.
    Serve(ServeConfig),
}

/// Settings of `spool serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SPOOL_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database URL; a SQLite file is created and migrated on first start.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://spool.db")]
    pub database_url: String,

    /// SQLite commit durability: `full` survives power loss, `normal` only process crashes.
    #[arg(
        long,
        env = "SPOOL_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: Synchronous,

    /// Tasks this process runs at once.
    #[arg(long, env = "SPOOL_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Seconds running tasks get to finish on shutdown before they are cancelled and requeued.
    #[arg(long, env = "SPOOL_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_secs: u64,

    /// Hours finished tasks are kept before they are deleted.
    #[arg(long, env = "SPOOL_RETENTION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    pub retention_hours: u64,

    /// Directory holding the dashboard's compiled assets (wasm, JS, CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

impl ServeConfig {
    /// Defaults for tests and embedding: every field as if no flag were given.
    pub fn with_database(database_url: impl Into<String>) -> ServeConfig {
        let mut config = match Cli::try_parse_from(["spool", "serve"]) {
            Ok(Cli {
                command: Command::Serve(config),
            }) => config,
            Err(_) => unreachable!("the defaults parse"),
        };
        config.database_url = database_url.into();
        config
    }
}
