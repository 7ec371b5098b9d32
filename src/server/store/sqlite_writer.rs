//! SQLite's writer: one thread that owns the file's only writing connection and runs every
//! write on it, each a whole unit of work (a group commit, a cancel, a rescue) handed over
//! as one job and answered once. The statements themselves are plain rusqlite calls on
//! prepared statements cached by their SQL, so a group commit costs one hand-over to this
//! thread and back, not a round trip per statement as an async driver's connection thread
//! does.
//!
//! Jobs are the store's async functions over [`Conn`]: on this connection nothing they
//! await ever waits (every call is synchronous underneath), so the thread polls a job's
//! future once and it is done. A future that does wait is a bug, reported as an error.

use super::changes::{register_sqlite, SqliteChanges};
use super::conn::{Begin, Commit, Conn, FromRow};
use super::sqlite::{BUSY_TIMEOUT, WAL_SIZE_LIMIT};
use super::sqlite_values::{db_err, values};
use super::{StoreOptions, Synchronous};
use sea_orm::{DatabaseBackend, DbErr, Statement};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use tokio::sync::oneshot;

/// Prepared statements kept: every statement the store writes with, and the multi-row
/// inserts and updates for the few batch sizes a busy queue keeps using.
const STATEMENT_CACHE: usize = 256;

type Job = Box<dyn FnOnce(&SqliteConn) + Send>;

/// Hands jobs to the writer thread; cheap to clone. The thread ends when the last handle
/// is dropped, after the jobs already handed over.
#[derive(Clone)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteWriter")
    }
}

impl SqliteWriter {
    /// Opens the writing connection to the (already migrated) file at `path` and starts
    /// the thread that owns it, which publishes to `changes` what each job changed.
    pub fn open(
        path: &Path,
        options: &StoreOptions,
        changes: SqliteChanges,
    ) -> Result<SqliteWriter, DbErr> {
        let conn = SqliteConn::open(path, options).map_err(db_err)?;
        register_sqlite(&conn.conn, changes.clone()).map_err(db_err)?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("spool-sqlite-writer".into())
            .spawn(move || {
                while let Ok(job) = receiver.recv() {
                    // A job that panics fails alone (its caller hears that the writer
                    // stopped), and whatever it left open is rolled back; the writer
                    // goes on with the next job.
                    if std::panic::catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
                        tracing::error!(
                            "a write panicked on the SQLite writer; it was rolled back"
                        );
                        conn.roll_back_if_open();
                    }
                    changes.publish();
                }
            })
            .map_err(|err| DbErr::Custom(format!("cannot start the SQLite writer: {err}")))?;
        Ok(SqliteWriter { jobs })
    }

    /// Runs `job` on the writer's connection and returns what it returned.
    pub async fn run<R, F>(&self, job: F) -> Result<R, DbErr>
    where
        R: Send + 'static,
        F: AsyncFnOnce(&SqliteConn) -> Result<R, DbErr> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // Nobody waiting for the answer any more is fine: the work is done.
            let _ = reply.send(finish_at_once(job(conn)));
        });
        let stopped = || DbErr::Custom("the SQLite writer has stopped".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Polls `future` once: a job on the writer's connection never waits.
pub(super) fn finish_at_once<R>(
    future: impl Future<Output = Result<R, DbErr>>,
) -> Result<R, DbErr> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(DbErr::Custom(
            "a job on the SQLite writer waited on something other than SQLite".into(),
        )),
    }
}

/// The writer's connection.
pub(super) struct SqliteConn {
    conn: rusqlite::Connection,
    /// Set when a rollback failed and left a transaction open: the next `begin` ends it.
    stuck: std::cell::Cell<bool>,
}

impl SqliteConn {
    pub(super) fn open(path: &Path, options: &StoreOptions) -> rusqlite::Result<SqliteConn> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "journal_mode", "wal")?;
        let synchronous = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        // The checkpointer copies the WAL into the database (see `super::checkpoints`);
        // the writer never stops to do it.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(SqliteConn {
            conn,
            stuck: std::cell::Cell::new(false),
        })
    }

    /// Ends a transaction a failed job left open, so the next one can begin.
    fn roll_back_if_open(&self) {
        if !self.conn.is_autocommit() {
            let failed = self.conn.execute_batch("ROLLBACK").is_err();
            if failed {
                tracing::error!("rolling back a failed write failed; the next write tries again");
            }
            self.stuck.set(failed);
        }
    }

    fn statement(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, DbErr> {
        self.conn.prepare_cached(sql).map_err(db_err)
    }
}

impl Conn for SqliteConn {
    fn backend(&self) -> DatabaseBackend {
        DatabaseBackend::Sqlite
    }

    async fn execute(&self, statement: Statement) -> Result<u64, DbErr> {
        let values = values(statement.values)?;
        let changed = self
            .statement(&statement.sql)?
            .execute(rusqlite::params_from_iter(values))
            .map_err(db_err)?;
        Ok(changed as u64)
    }

    async fn query<T: FromRow>(&self, statement: Statement) -> Result<Vec<T>, DbErr> {
        let values = values(statement.values)?;
        let mut prepared = self.statement(&statement.sql)?;
        let mut rows = prepared
            .query(rusqlite::params_from_iter(values))
            .map_err(db_err)?;
        let mut read = Vec::new();
        while let Some(row) = rows.next().map_err(db_err)? {
            read.push(T::from_sqlite(row).map_err(db_err)?);
        }
        Ok(read)
    }
}

impl Begin for SqliteConn {
    type Txn<'a> = SqliteTxn<'a>;

    async fn begin(&self) -> Result<SqliteTxn<'_>, DbErr> {
        // A rollback that failed earlier must not make every later write fail. (Any
        // other open transaction is a bug, which BEGIN reports.)
        if self.stuck.get() {
            self.roll_back_if_open();
        }
        // IMMEDIATE: the write lock is taken now, so a transaction that reads before it
        // writes cannot find its snapshot stale at its first write.
        self.statement("BEGIN IMMEDIATE")?
            .execute([])
            .map_err(db_err)?;
        Ok(SqliteTxn {
            conn: self,
            committed: false,
        })
    }
}

/// A transaction on the writer's connection; rolled back when dropped uncommitted.
pub(super) struct SqliteTxn<'a> {
    conn: &'a SqliteConn,
    committed: bool,
}

impl Conn for SqliteTxn<'_> {
    fn backend(&self) -> DatabaseBackend {
        DatabaseBackend::Sqlite
    }

    async fn execute(&self, statement: Statement) -> Result<u64, DbErr> {
        self.conn.execute(statement).await
    }

    async fn query<T: FromRow>(&self, statement: Statement) -> Result<Vec<T>, DbErr> {
        self.conn.query(statement).await
    }
}

impl Commit for SqliteTxn<'_> {
    async fn commit(mut self) -> Result<(), DbErr> {
        self.conn.statement("COMMIT")?.execute([]).map_err(db_err)?;
        self.committed = true;
        Ok(())
    }

    async fn rollback(self) -> Result<(), DbErr> {
        // Dropping it rolls it back.
        Ok(())
    }
}

impl Drop for SqliteTxn<'_> {
    fn drop(&mut self) {
        // A failed COMMIT may have ended the transaction already (SQLite rolls back on
        // some errors, a full disk among them); otherwise it is still open.
        if !self.committed {
            self.conn.roll_back_if_open();
        }
    }
}

#[cfg(test)]
mod tests;
