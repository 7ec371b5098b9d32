//! The task store: the only code that talks to the database, a SQLite file (see
//! [`sqlite`]) or PostgreSQL shared by many processes (see [`postgres`]). The SQL is the
//! same on both but for a few marked places. Every write is a function over
//! [`conn::Conn`], run where [`writer`] says; the hot ones (submits, claims, outcomes)
//! are group-committed: see [`group_commit`].

mod actions;
pub mod attempt_row;
mod attempts;
mod audit;
mod batch;
mod changes;
mod checkpoints;
mod claimed;
mod claims;
mod conflicts;
mod conn;
mod counting;
mod group_commit;
mod lifecycle;
mod logs;
mod one_commit;
mod parked;
mod postgres;
mod processes;
mod queries;
pub mod queue_row;
mod schedule_definitions;
mod schedules;
mod sqlite;
mod sqlite_values;
mod sqlite_writer;
mod stats;
mod successes;
mod task;
pub mod task_row;
mod task_stats;
mod unique;
mod verdict;
mod writer;
mod writes;

use conn::{AsText, Conn};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio_util::sync::CancellationToken;
use writer::{on_writer, Writer};

pub use actions::ActionResult;
pub use attempts::Outcome;
pub use audit::{AuditNote, AUDIT_PAGE_MAX};
pub use changes::Changed;
pub use claimed::ClaimedTask;
pub use group_commit::CommitStats;
pub use lifecycle::{CancelResult, RetryResult};
pub use logs::LOG_PAGE_MAX;
pub use parked::ParkedClaim;
pub use postgres::is_postgres;
pub use processes::ProcessRow;
pub use queries::{InsertError, ListFilter};
pub use schedule_definitions::Saved;
pub use schedules::ScheduleRow;
pub use stats::CountRow;
pub use task::Task;
pub use task_row::from_micros;
pub use task_stats::{
    bucket_millis, StatRow, StatsBy, StatsRange, HOUR_SPAN, MINUTE_SPAN, RUN, WAIT,
};
pub use unique::Unique;
pub use verdict::CommitVerdict;
pub use writes::{Heartbeat, NewTask, UniqueKey};
#[cfg(feature = "testing")]
pub use {lifecycle::Rescued, schedules::RunRow, stats::ThroughputRow, task_stats::latency_bucket};

/// SQLite's `synchronous` setting: how hard a commit waits for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// The WAL is synced on every commit: an acknowledged task survives a power loss.
    Full,
    /// The WAL is synced at checkpoints: an acknowledged task survives a process crash,
    /// but the last commits may roll back on a power loss. Faster.
    Normal,
}

/// Settings of the store that are not in the URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub synchronous: Synchronous,
    /// How many of a task's newest log lines are kept; older ones are dropped.
    pub log_lines_per_task: u32,
}

/// Log lines kept per task unless configured.
pub const DEFAULT_LOG_LINES_PER_TASK: u32 = 1000;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Full,
            log_lines_per_task: DEFAULT_LOG_LINES_PER_TASK,
        }
    }
}

/// A storage failure. Its text is for logs only; clients get [`crate::error::AppError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (expected sqlite://PATH or postgres://…): {0}")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Handle to the task store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// SQLite: the writer thread. PostgreSQL: the pool.
    writer: Writer,
    /// SQLite: the read-only connections. PostgreSQL: the same pool as `writer`.
    reader: DatabaseConnection,
    /// Submits, claims and outcomes go through here to share commits.
    commits: group_commit::GroupCommit,
    /// SQLite only: the background WAL checkpoints.
    checkpoints: Option<checkpoints::Checkpoints>,
    /// See [`StoreOptions::log_lines_per_task`].
    log_lines_per_task: u32,
    /// The tasks changed, as the database reports them (see [`changes`]).
    changes: changes::TaskChanges,
    /// SQLite only: what reports the changes on the writer's connection.
    sqlite_changes: Option<changes::SqliteChanges>,
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if postgres::is_postgres(url) {
            let pool = postgres::connect(url).await?;
            let writer = Writer::Postgres(pool.clone());
            return Ok(Store {
                commits: group_commit::GroupCommit::start(writer.clone()),
                writer,
                reader: pool,
                checkpoints: None,
                log_lines_per_task: options.log_lines_per_task,
                changes: changes::TaskChanges::default(),
                sqlite_changes: None,
            });
        }
        // Every connection of the store opens the file anew, so an in-memory database
        // would be a different one on each.
        if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        }
        use sqlite::Role;
        let migrator = Database::connect(sqlite::options(url, options, Role::Migrator)).await?;
        Migrator::up(&migrator, None).await?;
        migrator.close().await?;
        let path = sqlite::path(url)?;
        let changes = changes::TaskChanges::default();
        let sqlite_changes = changes::SqliteChanges::new(changes.clone());
        let writer = Writer::Sqlite(sqlite_writer::SqliteWriter::open(
            &path,
            options,
            sqlite_changes.clone(),
        )?);
        let reader = Database::connect(sqlite::options(url, options, Role::Reader)).await?;
        let checkpointer =
            Database::connect(sqlite::options(url, options, Role::Checkpointer)).await?;
        Ok(Store {
            commits: group_commit::GroupCommit::start(writer.clone()),
            writer,
            reader,
            checkpoints: Some(checkpoints::Checkpoints::start(checkpointer)),
            log_lines_per_task: options.log_lines_per_task,
            changes,
            sqlite_changes: Some(sqlite_changes),
        })
    }

    /// Which database this store is on.
    pub fn backend(&self) -> DatabaseBackend {
        self.reader.get_database_backend()
    }

    /// Relays PostgreSQL's notifications, from this process and every other sharing the
    /// database, until `stop` is cancelled: wakes this process's idle workers (`wake`)
    /// whenever a task becomes ready, and publishes the tasks changed to
    /// [`Store::task_changes`]. On SQLite, where one process owns the file and reports
    /// its own changes, this returns at once.
    pub async fn relay_notifications(&self, wake: impl Fn(), stop: CancellationToken) {
        if let Writer::Postgres(pool) = &self.writer {
            postgres::relay(pool, wake, &self.changes, stop).await;
        }
    }

    /// Hears which tasks change from now on, as a follower sees them (status, progress,
    /// progress message, log line count) or deleted, whichever process changes them; on
    /// PostgreSQL only while [`Store::relay_notifications`] runs. A receiver that lags hears
    /// `RecvError::Lagged`: any task may have changed.
    pub fn task_changes(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<Changed>> {
        self.changes.subscribe()
    }

    /// Whether [`Store::task_changes`] reports every change: on SQLite, where the
    /// writer's own connection reports them, it does; PostgreSQL's notifications can be
    /// lost on the way (a proxy that drops them, a half-open connection), so a follower
    /// also reads its tasks again now and then.
    pub fn change_feed_is_complete(&self) -> bool {
        matches!(self.writer, Writer::Sqlite(_))
    }

    /// One more (`on`) or one fewer watcher of [`Store::task_changes`]. On SQLite the
    /// changes are reported only while someone watches, since reporting them costs every
    /// write a little; PostgreSQL reports them always (any process may follow a task).
    pub async fn watch_task_changes(&self, on: bool) -> Result<(), StoreError> {
        if let (Writer::Sqlite(thread), Some(changes)) = (&self.writer, &self.sqlite_changes) {
            let changes = changes.clone();
            thread
                .run(async move |db: &sqlite_writer::SqliteConn| changes.watch(db, on).await)
                .await?;
        }
        Ok(())
    }

    /// How many transactions the group committer has made, and for how many writes.
    pub fn commit_stats(&self) -> CommitStats {
        self.commits.stats()
    }

    /// Whether the database answers a query now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.reader.ping().await?)
    }

    /// Reads a pragma's current value on the writer connection and on a reader (for tests
    /// and diagnostics: every connection must carry the same settings).
    pub async fn pragma(&self, name: &str) -> Result<(String, String), StoreError> {
        if !name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
            return Err(DbErr::Custom(format!("not a pragma name: {name}")).into());
        }
        let sql = format!("PRAGMA {name}");
        let backend = self.backend();
        let first = |rows: Vec<AsText>| {
            rows.into_iter()
                .next()
                .map(|value| value.0)
                .ok_or_else(|| DbErr::Custom("pragma returned no row".into()))
        };
        let on_writer_sql = sql.clone();
        let written = on_writer!(&self.writer, |db| db
            .query::<AsText>(Statement::from_string(backend, on_writer_sql.clone())))?;
        let read = self
            .reader
            .query::<AsText>(Statement::from_string(backend, sql))
            .await?;
        Ok((first(written)?, first(read)?))
    }

    /// How the database runs the claim's search for ready tasks (`EXPLAIN QUERY PLAN`),
    /// one line per step; for tests and diagnostics.
    pub async fn claim_plan(&self, queue: &str) -> Result<Vec<String>, StoreError> {
        let backend = self.backend();
        let mut statement =
            claims::sqlite_limit_unplanned(backend.build(&claims::ready_tasks(queue, 10, 0)));
        // SQLite's plan has the step's text in its fourth column, PostgreSQL's in its only.
        let (explain, column) = match backend {
            DatabaseBackend::Postgres => ("EXPLAIN", 0),
            _ => ("EXPLAIN QUERY PLAN", 3),
        };
        statement.sql = format!("{explain} {}", statement.sql);
        let rows = self.reader.query_all_raw(statement).await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(column).ok())
            .collect())
    }

    /// SQLite: copies the WAL into the database now, as the store's own checkpoints do
    /// every 100 ms. When `truncate_above` or more frames were in the WAL, it is also
    /// truncated to nothing. Returns how many frames the WAL held (0 on PostgreSQL).
    pub async fn checkpoint(&self, truncate_above: i64) -> Result<i64, StoreError> {
        match &self.checkpoints {
            Some(checkpoints) => Ok(checkpoints.checkpoint(truncate_above).await?),
            None => Ok(0),
        }
    }
}

/// The URL without credentials, for error messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "…".to_string(),
    }
}
