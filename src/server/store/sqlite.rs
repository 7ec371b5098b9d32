//! Connections to a SQLite file: one writer (so writes are serialised inside Spool and no
//! client ever meets `SQLITE_BUSY`), a few read-only connections that WAL lets read while
//! the writer writes, and one that checkpoints the WAL (see [`super::checkpoints`]). Every
//! connection gets the same pragmas (WAL, `synchronous`, `busy_timeout`, foreign keys)
//! when it opens.

use super::{StoreOptions, Synchronous};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::ConnectOptions;
use std::time::Duration;

/// How long a connection waits on a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the readers' pool.
const READERS: u32 = 4;
/// After a checkpoint resets the WAL, it is truncated back to at most this size.
const WAL_SIZE_LIMIT: &str = "67108864";

/// What a connection of the store is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// The one connection that writes; it never checkpoints.
    Writer,
    /// Read-only connections for the API and the dashboard.
    Reader,
    /// The connection that copies the WAL into the database.
    Checkpointer,
}

/// Settings of the pool that plays `role` on the SQLite file at `url`.
pub(super) fn options(url: &str, options: &StoreOptions, role: Role) -> ConnectOptions {
    let read_only = role == Role::Reader;
    let pool = if read_only { READERS } else { 1 };
    // The writer leaves checkpoints to the checkpointer; 1000 pages is SQLite's default.
    let autocheckpoint = if role == Role::Writer { "0" } else { "1000" };
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
                .pragma("wal_autocheckpoint", autocheckpoint)
        });
    connect
}
