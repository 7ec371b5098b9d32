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
    #[command(flatten)]
    pub client: crate::cli::ClientArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and the REST API, and run workers.
    Serve(ServeConfig),
    #[command(flatten)]
    Client(crate::cli::ClientCommand),
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

    /// Tasks of the `default` queue this process runs at once.
    #[arg(long, env = "SPOOL_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// More queues this process works, as NAME=CONCURRENCY (repeat the flag, or separate
    /// with commas in the environment). `default=N` overrides --concurrency.
    #[arg(long = "queue", env = "SPOOL_QUEUES", value_delimiter = ',', value_parser = parse_queue)]
    pub queues: Vec<QueueSpec>,

    /// Seconds running tasks get to finish on shutdown before they are cancelled and requeued.
    #[arg(long, env = "SPOOL_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_secs: u64,

    /// Folder for what tasks make: the email outbox (`outbox/`) and images (`images/`).
    #[arg(long, env = "SPOOL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Deliver `email_simulation` messages to this SMTP relay (HOST:PORT, no TLS) instead of
    /// the outbox folder.
    #[arg(long, env = "SPOOL_SMTP_RELAY", value_parser = parse_relay)]
    pub smtp_relay: Option<(String, u16)>,

    /// Hours finished tasks are kept before they are deleted.
    #[arg(long, env = "SPOOL_RETENTION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    pub retention_hours: u64,

    /// Directory holding the dashboard's compiled assets (wasm, JS, CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// One queue this process works and how many of its tasks it runs at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    pub concurrency: usize,
}

fn parse_relay(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?}: expected HOST:PORT, e.g. 127.0.0.1:25"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    if host.is_empty() {
        return Err("the relay's host is empty".into());
    }
    Ok((host.to_string(), port))
}

fn parse_queue(text: &str) -> Result<QueueSpec, String> {
    let (name, concurrency) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=CONCURRENCY, e.g. emails=2"))?;
    if !crate::server::queue::valid_queue_name(name) {
        return Err(format!(
            "{name:?} is not a queue name (letters, digits, '_', '-', '.')"
        ));
    }
    let concurrency = concurrency
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| format!("{text:?}: concurrency must be from 1 to 1024"))?;
    Ok(QueueSpec {
        name: name.to_string(),
        concurrency,
    })
}

impl ServeConfig {
    /// Every queue this process works, `default` first, each once.
    pub fn worked_queues(&self) -> Vec<QueueSpec> {
        let mut queues = vec![QueueSpec {
            name: crate::server::queue::DEFAULT_QUEUE.to_string(),
            concurrency: usize::from(self.concurrency),
        }];
        for spec in &self.queues {
            match queues.iter_mut().find(|q| q.name == spec.name) {
                Some(existing) => existing.concurrency = spec.concurrency,
                None => queues.push(spec.clone()),
            }
        }
        queues
    }

    /// Defaults for tests and embedding: every field as if no flag were given.
    pub fn with_database(database_url: impl Into<String>) -> ServeConfig {
        let mut config = match Cli::try_parse_from(["spool", "serve"]) {
            Ok(Cli {
                command: Command::Serve(config),
                ..
            }) => config,
            _ => unreachable!("`spool serve` with no flags parses as serve"),
        };
        config.database_url = database_url.into();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ServeConfig, clap::Error> {
        let argv = ["spool", "serve"].iter().chain(args).copied();
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Serve(config) => config,
            Command::Client(other) => panic!("parsed as a client command: {other:?}"),
        })
    }

    #[test]
    fn queues_are_named_with_their_concurrency_and_default_can_be_overridden() {
        let config = parse(&[
            "--concurrency",
            "4",
            "--queue",
            "emails=2",
            "--queue",
            "default=6",
        ])
        .unwrap();
        let queues: Vec<_> = config
            .worked_queues()
            .into_iter()
            .map(|q| (q.name, q.concurrency))
            .collect();
        assert_eq!(
            queues,
            vec![("default".to_string(), 6), ("emails".to_string(), 2)]
        );
    }

    #[test]
    fn bad_settings_are_refused_at_start() {
        for args in [
            &["--queue", "emails"][..],
            &["--queue", "bad name=2"],
            &["--queue", "emails=0"],
            &["--concurrency", "0"],
            &["--addr", "not-an-address"],
            &["--sqlite-synchronous", "sometimes"],
            &["--smtp-relay", "localhost"],
            &["--smtp-relay", "localhost:smtp"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
    }
}
