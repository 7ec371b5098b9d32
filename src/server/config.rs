//! Every setting of the `spool` binary, from flags with environment fallbacks, validated
//! once at start-up by clap.

mod access;
mod concurrency;
mod limits;
mod work;

pub use access::AccessConfig;
pub use concurrency::Concurrency;
pub use limits::LimitsConfig;
pub use work::WorkConfig;

use crate::server::store::Synchronous;
use crate::server::tasks::HttpAllow;
use clap::{Args, Parser, Subcommand};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;

/// Spool: a durable background task queue with a live web dashboard.
#[derive(Debug, Parser)]
#[command(
    name = "spool",
    version,
    about,
    after_help = "With no command, `spool` runs `spool serve`. `spool help COMMAND` tells more."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and the REST API, and run workers (the default command).
    Serve(ServeConfig),
    /// Run workers only, against a PostgreSQL database other processes share; HTTP only
    /// for metrics and probes (--metrics-addr).
    Worker(WorkConfig),
    #[command(flatten)]
    Client(crate::cli::ClientCommand),
}

impl Cli {
    /// The command to run: the one given, or `serve` with its defaults (and whatever
    /// the environment sets) when none was, as under `cargo leptos watch`.
    pub fn command_or_serve(self) -> Result<Command, clap::Error> {
        match self.command {
            Some(command) => Ok(command),
            None => Ok(Command::Serve(ServeConfig::from_env()?)),
        }
    }
}

/// Where `spool serve` listens when neither `--addr` nor SPOOL_ADDR says.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// Settings of `spool serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeConfig {
    /// Address to listen on [default: LEPTOS_SITE_ADDR if set, else 127.0.0.1:3000]
    #[arg(long, env = "SPOOL_ADDR", help_heading = "HTTP")]
    pub addr: Option<SocketAddr>,

    /// The address cargo-leptos serves on (`cargo leptos watch`); used only when
    /// `--addr` and SPOOL_ADDR are not given.
    #[arg(long, env = "LEPTOS_SITE_ADDR", hide = true)]
    pub leptos_site_addr: Option<SocketAddr>,

    /// Run no tasks here: `spool worker` processes do (PostgreSQL only)
    #[arg(long, env = "SPOOL_NO_WORKERS", help_heading = "HTTP")]
    pub no_workers: bool,

    /// The queue's settings, shared with `spool worker`.
    #[command(flatten)]
    pub engine: EngineConfig,

    /// Serve the dashboard's compiled assets (wasm, JS, CSS) from this directory
    /// [default: those built into the binary by `make build`, else target/site]
    #[arg(long, env = "LEPTOS_SITE_ROOT", help_heading = "HTTP")]
    pub site_root: Option<PathBuf>,

    /// Who may use the API and the dashboard.
    #[command(flatten)]
    pub access: AccessConfig,

    /// What one client, and all together, may hold and send.
    #[command(flatten)]
    pub limits: LimitsConfig,
}

/// Settings of the queue itself, shared by `spool serve` and `spool worker`: the
/// database, the queues worked and how, and what tasks may touch.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Queue")]
pub struct EngineConfig {
    /// `sqlite://PATH` (one process) or `postgres://USER@HOST/DB` (shared); migrated at start
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://spool.db")]
    pub database_url: String,

    /// SQLite durability: `full` survives power loss, `normal` only process crashes
    #[arg(
        long,
        env = "SPOOL_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full",
        hide_possible_values = true
    )]
    pub sqlite_synchronous: Synchronous,

    /// Tasks of the `default` queue this process runs at once: 1–1024, or auto=MIN..MAX
    /// to grow with the backlog and shrink when idle or when the machine is loaded
    #[arg(long, env = "SPOOL_CONCURRENCY", default_value = "8", value_parser = Concurrency::parse)]
    pub concurrency: Concurrency,

    /// Another queue to work, as NAME=CONCURRENCY (a number or auto=MIN..MAX);
    /// repeatable (`default=…` too)
    #[arg(long = "queue", env = "SPOOL_QUEUES", value_delimiter = ',', value_parser = parse_queue)]
    pub queues: Vec<QueueSpec>,

    /// Seconds running tasks get on shutdown before they are stopped and requeued
    #[arg(long, env = "SPOOL_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_secs: u64,

    /// Seconds after its last heartbeat that a dead process's task is rescued
    #[arg(long, env = "SPOOL_LEASE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_secs: u64,

    /// Folder for what tasks make: `outbox/` (emails) and `images/`
    #[arg(long, env = "SPOOL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Send `email_simulation` messages to this SMTP relay (HOST:PORT, no TLS)
    #[arg(long, env = "SPOOL_SMTP_RELAY", value_parser = parse_relay)]
    pub smtp_relay: Option<(String, u16)>,

    /// A kind external workers run over REST, as NAME or NAME=QUEUE (its tasks' queue,
    /// NAME by default); repeatable
    #[arg(long = "external-kind", env = "SPOOL_EXTERNAL_KINDS", value_delimiter = ',',
          value_parser = parse_external_kind)]
    pub external_kinds: Vec<ExternalKind>,

    /// The JSON Schema an external kind's parameters must match, as NAME=FILE (a JSON
    /// file); repeatable
    #[arg(long = "external-kind-schema", env = "SPOOL_EXTERNAL_KIND_SCHEMAS",
          value_delimiter = ',', value_parser = parse_kind_schema)]
    pub external_kind_schemas: Vec<(String, PathBuf)>,

    /// A local or private destination the `http` kind may call: HOST, HOST:PORT, IP,
    /// IP:PORT or a network such as 10.0.0.0/8; repeatable
    #[arg(long = "http-allow", env = "SPOOL_HTTP_ALLOW", value_delimiter = ',')]
    pub http_allow: Vec<HttpAllow>,

    /// A TOML file of `[[schedule]]` tables: periodic tasks, stored at start (README,
    /// "Schedules")
    #[arg(long, env = "SPOOL_SCHEDULES")]
    pub schedules: Option<PathBuf>,

    /// How many of a task's newest log lines are kept (older ones are dropped; 0 keeps
    /// none)
    #[arg(long, env = "SPOOL_LOG_LINES_PER_TASK", default_value_t = crate::server::store::DEFAULT_LOG_LINES_PER_TASK,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub log_lines_per_task: u32,

    /// Days the audit log keeps an entry
    #[arg(long, env = "SPOOL_AUDIT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub audit_retention_days: u64,

    /// Hours finished tasks are kept before they are deleted
    #[arg(long, env = "SPOOL_RETENTION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    pub retention_hours: u64,

    /// The process's log on stderr: `text` for people, `json` for one JSON object a line
    #[arg(long, env = "SPOOL_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: crate::server::logging::LogFormat,
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
    /// The queue's name.
    pub name: String,
    /// How many of its tasks run at once.
    pub concurrency: Concurrency,
}

/// A kind of task that external workers run, and the queue its tasks wait in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalKind {
    /// The `task_type` submits name.
    pub name: String,
    /// The queue its tasks join when a submit names none.
    pub queue: String,
}

fn parse_external_kind(text: &str) -> Result<ExternalKind, String> {
    let (name, queue) = text.split_once('=').unwrap_or((text, text));
    let kind = ExternalKind {
        name: name.to_string(),
        queue: queue.to_string(),
    };
    kind.check().map(|()| kind)
}

impl ExternalKind {
    /// Whether the names are ones Spool takes.
    fn check(&self) -> Result<(), String> {
        for (what, value) in [("kind", &self.name), ("queue", &self.queue)] {
            if !crate::server::queue::valid_queue_name(value) {
                return Err(format!(
                    "{value:?} is not a {what} name (1 to 64 letters, digits, '_', '-', '.')"
                ));
            }
        }
        Ok(())
    }
}

fn parse_kind_schema(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "{text:?}: expected NAME=FILE, e.g. resize=resize.schema.json"
        )),
    }
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
    Ok(QueueSpec {
        name: name.to_string(),
        concurrency: Concurrency::parse(concurrency)?,
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

    /// Why the external kinds cannot be served as given, if they cannot: a bad name, a
    /// kind declared twice, or a queue that Spool's own workers take (they would claim
    /// its tasks and could not run them).
    pub fn external_kinds_refusal(&self) -> Option<String> {
        let worked = self.worked_queues();
        self.external_kinds.iter().enumerate().find_map(|(index, kind)| {
            if let Err(reason) = kind.check() {
                return Some(format!("external kind: {reason}"));
            }
            if self.external_kinds[..index]
                .iter()
                .any(|other| other.name == kind.name)
            {
                return Some(format!("external kind {:?} is declared twice", kind.name));
            }
            worked
                .iter()
                .any(|queue| queue.name == kind.queue)
                .then(|| {
                    format!(
                        "external kind {:?}: its queue {:?} is worked by Spool's own workers, \
                         which cannot run it; give it a queue of its own (--external-kind {}=QUEUE)",
                        kind.name, kind.queue, kind.name
                    )
                })
        })
        .or_else(|| {
            let declared = |name: &String| self.external_kinds.iter().any(|kind| &kind.name == name);
            self.external_kind_schemas
                .iter()
                .find(|(name, _)| !declared(name))
                .map(|(name, _)| {
                    format!("--external-kind-schema {name}=…: {name:?} is not declared with --external-kind")
                })
        })
    }

    /// Every queue this process works, `default` first, each once.
    pub fn worked_queues(&self) -> Vec<QueueSpec> {
        let mut queues = vec![QueueSpec {
            name: crate::server::queue::DEFAULT_QUEUE.to_string(),
            concurrency: self.concurrency,
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
    /// The address to listen on: `--addr` (or SPOOL_ADDR), else cargo-leptos's site
    /// address, else 127.0.0.1:3000.
    pub fn listen_addr(&self) -> SocketAddr {
        self.addr.or(self.leptos_site_addr).unwrap_or(DEFAULT_ADDR)
    }

    /// Why this configuration must not start, if it must not: the access rule (see
    /// [`AccessConfig::refusal`]), and a server without workers needs workers elsewhere
    /// (PostgreSQL).
    pub fn refusal(&self) -> Option<String> {
        if let Some(reason) = self.access.refusal("Spool", self.listen_addr()) {
            return Some(reason);
        }
        if self.no_workers {
            return self.engine.refusal_to_share("--no-workers");
        }
        None
    }

    /// `spool serve` with no flags: every setting from the environment or its default.
    pub fn from_env() -> Result<ServeConfig, clap::Error> {
        #[derive(Parser)]
        struct ServeOnly {
            #[command(flatten)]
            config: ServeConfig,
        }
        ServeOnly::try_parse_from(["spool"]).map(|parsed| parsed.config)
    }

    /// Defaults for tests and embedding: every field as if no flag were given.
    pub fn with_database(database_url: impl Into<String>) -> ServeConfig {
        let mut config = ServeConfig::from_env()
            .unwrap_or_else(|err| panic!("the environment's Spool settings do not parse: {err}"));
        config.engine.database_url = database_url.into();
        config
    }
}

#[cfg(test)]
mod tests;
