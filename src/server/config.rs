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
    /// Run workers only (no HTTP), against a database other processes share.
    Worker(EngineConfig),
    #[command(flatten)]
    Client(crate::cli::ClientCommand),
}

/// Settings of `spool serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SPOOL_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Serve the dashboard and the API only; `spool worker` processes run the tasks.
    #[arg(long, env = "SPOOL_NO_WORKERS")]
    pub no_workers: bool,

    #[command(flatten)]
    pub engine: EngineConfig,

    /// Directory holding the dashboard's compiled assets (wasm, JS, CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Full-access token (16 or more characters). With it set, the REST API needs
    /// `Authorization: Bearer <token>` and the dashboard a login.
    #[arg(long, env = "SPOOL_TOKEN", hide_env_values = true, value_parser = parse_token)]
    pub token: Option<String>,

    /// Read-only token: lets its holder look at everything and change nothing.
    #[arg(long, env = "SPOOL_READ_ONLY_TOKEN", hide_env_values = true,
          value_parser = parse_token, requires = "token")]
    pub read_only_token: Option<String>,

    /// Serve a non-loopback address with no token: anyone who can reach it can submit,
    /// cancel and read every task. Only behind something that does the checking.
    #[arg(long, env = "SPOOL_INSECURE_OPEN_ACCESS")]
    pub insecure_open_access: bool,

    /// Submit requests (REST and dashboard) one client (IP address) may make per
    /// second, on average; 0 turns the limit off.
    #[arg(long, env = "SPOOL_SUBMIT_RATE", default_value_t = 1000)]
    pub submit_rate: u32,

    /// Submit requests one client may make at once above the rate before it gets 429.
    #[arg(long, env = "SPOOL_SUBMIT_BURST", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub submit_burst: u32,
}

/// Settings of the queue itself, shared by `spool serve` and `spool worker`: the
/// database, the queues worked and how, and what tasks may touch.
#[derive(Clone, Debug, Args)]
pub struct EngineConfig {
    /// Database URL: `sqlite://PATH` (a file, created and migrated on first start) or
    /// `postgres://USER@HOST/DATABASE` (migrated on first start; shared by many processes).
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

    /// Seconds a claimed task stays this process's without a heartbeat (sent every
    /// 0.5 s while it runs). When a process dies, its running tasks are rescued by any
    /// other process (or its restart) this long after its last heartbeat.
    #[arg(long, env = "SPOOL_LEASE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_secs: u64,

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
}

/// Tokens are 16 to 512 visible ASCII characters, so they fit in a header and cannot be
/// guessed by trying.
fn parse_token(text: &str) -> Result<String, String> {
    if !(16..=512).contains(&text.len()) {
        return Err("a token must be 16 to 512 characters long".into());
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a token may hold only visible ASCII characters (no spaces)".into());
    }
    Ok(text.to_string())
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

impl EngineConfig {
    /// Why this process must not leave the work to others (`serve --no-workers`) or take
    /// work from others (`spool worker`): only PostgreSQL is shared. A SQLite file
    /// belongs to the one process that opened it.
    pub fn refusal_to_share(&self, what: &str) -> Option<String> {
        (!crate::server::store::is_postgres(&self.database_url)).then(|| {
            format!(
                "{what} needs a database that processes share (postgres://…); a SQLite \
                 file belongs to the one `spool serve` that opened it"
            )
        })
    }

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
}

impl ServeConfig {
    /// Why this configuration must not start, if it must not: an address other
    /// machines can reach needs a token (or the loudly named opt-out), the two tokens
    /// must differ, and a server without workers needs workers elsewhere (PostgreSQL).
    pub fn refusal(&self) -> Option<String> {
        if !self.addr.ip().is_loopback() && self.token.is_none() && !self.insecure_open_access {
            return Some(format!(
                "refusing to serve {} without an access token: anyone on the network could \
                 run and read tasks. Set --token (or SPOOL_TOKEN), or pass \
                 --insecure-open-access if something in front of Spool does the checking",
                self.addr
            ));
        }
        if self.token.is_some() && self.token == self.read_only_token {
            return Some("--token and --read-only-token must differ".into());
        }
        if self.no_workers {
            return self.engine.refusal_to_share("--no-workers");
        }
        None
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
        config.engine.database_url = database_url.into();
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
            other => panic!("parsed as another command: {other:?}"),
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
            .engine
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
            &["--token", "short"],
            &["--token", "sixteen chars ok?"],
            &["--read-only-token", "a-read-only-token-alone"],
            &["--submit-burst", "0"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
    }

    #[test]
    fn only_loopback_is_served_without_a_token_unless_explicitly_opened() {
        let token = "a-long-enough-token";
        let refused = |args: &[&str]| parse(args).unwrap().refusal();
        assert_eq!(refused(&[]), None, "the default address is loopback");
        assert_eq!(refused(&["--addr", "[::1]:3000"]), None);
        let open = refused(&["--addr", "0.0.0.0:3000"]).expect("refused");
        assert!(open.contains("--token"), "{open}");
        assert!(refused(&["--addr", "192.168.1.5:80"]).is_some());
        assert_eq!(refused(&["--addr", "0.0.0.0:3000", "--token", token]), None);
        assert_eq!(
            refused(&["--addr", "0.0.0.0:3000", "--insecure-open-access"]),
            None
        );
        assert!(refused(&["--token", token, "--read-only-token", token]).is_some());
    }

    #[test]
    fn only_postgresql_is_shared_between_processes() {
        let refused = |args: &[&str]| parse(args).unwrap().refusal();
        let alone = refused(&["--no-workers", "--database-url", "sqlite://spool.db"])
            .expect("refused on a SQLite file");
        assert!(alone.contains("postgres://"), "{alone}");
        assert!(refused(&["--no-workers", "--database-url", "sqlite://other.db"]).is_some());
        for url in ["postgres://u@db/spool", "postgresql://u@db/spool"] {
            assert_eq!(refused(&["--no-workers", "--database-url", url]), None);
        }
        let worker =
            |url: &str| match Cli::try_parse_from(["spool", "worker", "--database-url", url]) {
                Ok(Cli {
                    command: Command::Worker(config),
                    ..
                }) => config.refusal_to_share("spool worker"),
                other => panic!("did not parse as a worker: {other:?}"),
            };
        assert!(worker("sqlite://spool.db").is_some());
        assert_eq!(worker("postgres://u@db/spool"), None);
    }
}
