//! The task store: the only code that talks to the database.
//!
//! On SQLite it keeps two pools on one file: a single writer connection, so writes are
//! serialised inside Spool and no client ever meets `SQLITE_BUSY`, and a few read-only
//! connections that WAL lets read while the writer writes. Every connection gets the same
//! pragmas (WAL, `synchronous`, `busy_timeout`, foreign keys) when it opens. The hot
//! writes (submits, claims, outcomes) are group-committed: see [`group_commit`].

pub mod attempt_row;
mod claims;
mod group_commit;
mod lifecycle;
mod queries;
pub mod queue_row;
mod stats;
mod successes;
pub mod task_row;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};
use std::time::Duration;

pub use claims::{Heartbeat, Outcome};
pub use group_commit::CommitStats;
pub use lifecycle::{CancelResult, Rescued, RetryResult};
pub use queries::{InsertError, ListFilter, NewTask};
pub use stats::{CountRow, ThroughputRow};

/// How long a connection waits on a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read-only connections for the API and the dashboard.
const READERS: u32 = 4;
/// After a checkpoint resets the WAL, it is truncated back to at most this size.
const WAL_SIZE_LIMIT: &str = "67108864";

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
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Full,
        }
    }
}

/// A storage failure. Its text is for logs only; clients get [`crate::error::AppError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (expected sqlite://PATH): {0}")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Handle to the task store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    writer: DatabaseConnection,
    reader: DatabaseConnection,
    /// Submits, claims and outcomes go through here to share commits.
    commits: group_commit::GroupCommit,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        }
        let writer = Database::connect(sqlite_options(url, options, 1, false)).await?;
        Migrator::up(&writer, None).await?;
        let reader = Database::connect(sqlite_options(url, options, READERS, true)).await?;
        let commits = group_commit::GroupCommit::start(writer.clone());
        Ok(Store {
            writer,
            reader,
            commits,
        })
    }

    /// How many transactions the group committer has made, and for how many writes.
    pub fn commit_stats(&self) -> CommitStats {
        self.commits.stats()
    }

    /// Reads a pragma's current value on the writer connection and on a reader (for tests
    /// and diagnostics: every connection must carry the same settings).
    pub async fn pragma(&self, name: &str) -> Result<(String, String), StoreError> {
        if !name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
            return Err(DbErr::Custom(format!("not a pragma name: {name}")).into());
        }
        let sql = format!("PRAGMA {name}");
        let read = |db: DatabaseConnection, sql: String| async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await?
                .ok_or_else(|| DbErr::Custom("pragma returned no row".into()))?;
            let value = row
                .try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))?;
            Ok::<_, DbErr>(value)
        };
        Ok((
            read(self.writer.clone(), sql.clone()).await?,
            read(self.reader.clone(), sql).await?,
        ))
    }

    /// How the database runs the claim's search for ready tasks (`EXPLAIN QUERY PLAN`),
    /// one line per step; for tests and diagnostics.
    pub async fn claim_plan(&self, queue: &str) -> Result<Vec<String>, StoreError> {
        let backend = self.reader.get_database_backend();
        let mut statement = backend.build(&claims::ready_tasks(queue, 10, 0));
        statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
        let rows = self.reader.query_all_raw(statement).await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(3).ok())
            .collect())
    }

    /// Copies the WAL into the database. When `truncate_above` or more frames were in the
    /// WAL, it is also truncated to nothing (which waits for readers to let go), so it
    /// stays small even when readers (the dashboard polling) never leave SQLite an idle
    /// moment to reset it. Returns how many frames the WAL held.
    pub async fn checkpoint(&self, truncate_above: i64) -> Result<i64, StoreError> {
        let frames = self.wal_checkpoint("PASSIVE").await?;
        if frames >= truncate_above {
            self.wal_checkpoint("TRUNCATE").await?;
        }
        Ok(frames)
    }

    async fn wal_checkpoint(&self, mode: &str) -> Result<i64, StoreError> {
        let statement = Statement::from_string(
            self.writer.get_database_backend(),
            format!("PRAGMA wal_checkpoint({mode})"),
        );
        let row = self
            .writer
            .query_one_raw(statement)
            .await?
            .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
        Ok(row.try_get_by_index::<i64>(1)?)
    }
}

fn sqlite_options(url: &str, options: &StoreOptions, pool: u32, read_only: bool) -> ConnectOptions {
    let synchronous = match options.synchronous {
        Synchronous::Full => SqliteSynchronous::Full,
        Synchronous::Normal => SqliteSynchronous::Normal,
    };
    let mut connect = ConnectOptions::new(url.to_string());
    connect
        .max_connections(pool)
        .min_connections(if read_only { 0 } else { 1 })
        // A local file needs no ping before each use; the ping is a round trip to
        // SQLite's thread on every transaction.
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(!read_only)
                .read_only(read_only)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                .pragma("journal_size_limit", WAL_SIZE_LIMIT)
        });
    connect
}

/// The URL without credentials, for error messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "…".to_string(),
    }
}
