//! sqlx's connections to a SQLite file: the one that creates and migrates it, a few
//! read-only connections that WAL lets read while the writer writes, and one that
//! checkpoints the WAL (see [`super::checkpoints`]). Every write goes through the writer
//! thread's own connection (see [`super::sqlite_writer`]), so writes are serialised inside
//! Spool and no client ever meets `SQLITE_BUSY`. Every connection gets the same pragmas
//! (WAL, `synchronous`, `busy_timeout`, foreign keys) when it opens.

use super::{StoreError, StoreOptions, Synchronous};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DbErr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// How long a connection waits on a lock held by another process before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the readers' pool.
const READERS: u32 = 4;
/// After a checkpoint resets the WAL, it is truncated back to at most this size.
pub(super) const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// What a connection of the store is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// The connection that creates and migrates the file, closed once it has.
    Migrator,
    /// Read-only connections for the API and the dashboard.
    Reader,
    /// The connection that copies the WAL into the database.
    Checkpointer,
}

/// Settings of the pool that plays `role` on the SQLite file at `url`.
pub(super) fn options(url: &str, options: &StoreOptions, role: Role) -> ConnectOptions {
    let read_only = role == Role::Reader;
    let pool = if read_only { READERS } else { 1 };
    // Writers leave checkpoints to the checkpointer; 1000 pages is SQLite's default.
    let autocheckpoint = if role == Role::Migrator { "0" } else { "1000" };
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
                .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
                .pragma("wal_autocheckpoint", autocheckpoint)
        });
    connect
}

/// The file a `sqlite:` URL names, as sqlx reads the URL, so the writer thread opens the
/// same file as sqlx's connections.
pub(super) fn path(url: &str) -> Result<PathBuf, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| DbErr::Custom(format!("invalid SQLite URL: {err}")))?;
    Ok(options.get_filename().to_path_buf())
}
