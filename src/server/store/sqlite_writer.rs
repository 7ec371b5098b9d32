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
    /// the thread that owns it.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<SqliteWriter, DbErr> {
        let conn = SqliteConn::open(path, options).map_err(db_err)?;
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
mod tests {
    use super::*;
    use sea_orm::Value;

    fn open() -> (tempfile::TempDir, SqliteConn) {
        let dir = tempfile::tempdir().unwrap();
        let conn = SqliteConn::open(&dir.path().join("w.db"), &StoreOptions::default()).unwrap();
        (dir, conn)
    }

    fn sql(text: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Sqlite, text, values)
    }

    #[test]
    fn values_are_stored_as_sqlx_stores_them_and_read_back() {
        let (_dir, conn) = open();
        let id = uuid::Uuid::now_v7();
        finish_at_once(async {
            conn.execute(sql(
                "CREATE TABLE t (id BLOB, flag INTEGER, n INTEGER, doc TEXT)",
                vec![],
            ))
            .await?;
            let row = vec![
                Value::from(id),
                Value::from(true),
                Value::BigUnsigned(Some(7)),
                Value::from(serde_json::json!({"a": 1})),
            ];
            conn.execute(sql("INSERT INTO t VALUES (?, ?, ?, ?)", row))
                .await?;
            let types: Vec<String> = conn
                .query(sql(
                    "SELECT typeof(id) || typeof(flag) || typeof(n) || typeof(doc) FROM t",
                    vec![],
                ))
                .await?;
            assert_eq!(types, ["blobintegerintegertext"]);
            let read: Vec<(uuid::Uuid, i32)> = conn
                .query(sql(
                    "SELECT id, n FROM t WHERE flag = ?",
                    vec![Value::from(true)],
                ))
                .await?;
            assert_eq!(read, [(id, 7)]);
            Ok::<_, DbErr>(())
        })
        .unwrap();
    }

    #[test]
    fn a_dropped_transaction_rolls_back_and_a_duplicate_is_marked() {
        let (_dir, conn) = open();
        finish_at_once(async {
            conn.execute(sql("CREATE TABLE t (k TEXT UNIQUE)", vec![]))
                .await?;
            {
                let txn = conn.begin().await?;
                txn.execute(sql("INSERT INTO t VALUES ('a')", vec![]))
                    .await?;
            }
            let txn = conn.begin().await?;
            txn.execute(sql("INSERT INTO t VALUES ('b')", vec![]))
                .await?;
            txn.commit().await?;
            let keys: Vec<String> = conn.query(sql("SELECT k FROM t", vec![])).await?;
            assert_eq!(keys, ["b"]);
            let err = conn
                .execute(sql("INSERT INTO t VALUES ('b')", vec![]))
                .await
                .unwrap_err();
            assert!(super::super::conn::is_unique_violation(&err), "{err}");
            let other = conn
                .execute(sql("INSERT INTO nowhere VALUES (1)", vec![]))
                .await;
            assert!(!super::super::conn::is_unique_violation(
                &other.unwrap_err()
            ));
            Ok::<_, DbErr>(())
        })
        .unwrap();
    }

    #[tokio::test]
    async fn a_job_runs_on_the_writer_thread_and_a_waiting_job_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let writer =
            SqliteWriter::open(&dir.path().join("w.db"), &StoreOptions::default()).unwrap();
        let thread = writer
            .run(async |_conn: &SqliteConn| Ok(std::thread::current().name().map(String::from)))
            .await
            .unwrap();
        assert_eq!(thread.as_deref(), Some("spool-sqlite-writer"));
        let waited = writer
            .run(async |_conn: &SqliteConn| std::future::pending::<Result<(), DbErr>>().await)
            .await;
        assert!(waited.is_err());
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_leaves_no_transaction_open() {
        let dir = tempfile::tempdir().unwrap();
        let writer =
            SqliteWriter::open(&dir.path().join("w.db"), &StoreOptions::default()).unwrap();
        let create = sql("CREATE TABLE t (k TEXT)", vec![]);
        writer
            .run(async move |conn: &SqliteConn| conn.execute(create).await)
            .await
            .unwrap();
        let panicked = writer
            .run(async |conn: &SqliteConn| -> Result<(), DbErr> {
                let txn = conn.begin().await?;
                txn.execute(sql("INSERT INTO t VALUES ('lost')", vec![]))
                    .await?;
                std::mem::forget(txn);
                panic!("a bug in a write");
            })
            .await;
        assert!(panicked.is_err());
        let keys = writer
            .run(async |conn: &SqliteConn| {
                let txn = conn.begin().await?;
                txn.execute(sql("INSERT INTO t VALUES ('kept')", vec![]))
                    .await?;
                txn.commit().await?;
                conn.query::<String>(sql("SELECT k FROM t", vec![])).await
            })
            .await
            .unwrap();
        assert_eq!(keys, ["kept"]);
    }
}
