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

use super::conn::{Begin, Commit, Conn, FromRow, UNIQUE_VIOLATION};
use super::sqlite::{BUSY_TIMEOUT, WAL_SIZE_LIMIT};
use super::{StoreOptions, Synchronous};
use rusqlite::types::Value as SqliteValue;
use sea_orm::{DatabaseBackend, DbErr, RuntimeErr, Statement, Value};
use std::future::Future;
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
                    job(&conn);
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
fn finish_at_once<R>(future: impl Future<Output = Result<R, DbErr>>) -> Result<R, DbErr> {
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
pub(super) struct SqliteConn(rusqlite::Connection);

impl SqliteConn {
    fn open(path: &Path, options: &StoreOptions) -> rusqlite::Result<SqliteConn> {
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
        Ok(SqliteConn(conn))
    }

    fn statement(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, DbErr> {
        self.0.prepare_cached(sql).map_err(db_err)
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
}

impl Drop for SqliteTxn<'_> {
    fn drop(&mut self) {
        // A failed COMMIT may have ended the transaction already (SQLite rolls back on
        // some errors, a full disk among them); otherwise it is still open.
        if !self.committed && !self.conn.0.is_autocommit() {
            if let Err(err) = self.conn.0.execute_batch("ROLLBACK") {
                tracing::error!(error = %err, "rolling back a failed write");
            }
        }
    }
}

/// sea-query's values as SQLite's, stored as sqlx stores them (ids as 16-byte blobs,
/// JSON as text, booleans as integers), so both drivers read each other's rows.
fn values(values: Option<sea_orm::sea_query::Values>) -> Result<Vec<SqliteValue>, DbErr> {
    let Some(values) = values else {
        return Ok(Vec::new());
    };
    values.0.into_iter().map(value).collect()
}

fn value(value: Value) -> Result<SqliteValue, DbErr> {
    fn int(n: Option<impl Into<i64>>) -> SqliteValue {
        n.map_or(SqliteValue::Null, |n| SqliteValue::Integer(n.into()))
    }
    Ok(match value {
        Value::Bool(b) => int(b),
        Value::TinyInt(n) => int(n),
        Value::SmallInt(n) => int(n),
        Value::Int(n) => int(n),
        Value::BigInt(n) => int(n),
        Value::TinyUnsigned(n) => int(n),
        Value::SmallUnsigned(n) => int(n),
        Value::Unsigned(n) => int(n),
        Value::BigUnsigned(n) => match n.map(i64::try_from) {
            None => SqliteValue::Null,
            Some(Ok(n)) => SqliteValue::Integer(n),
            Some(Err(_)) => return Err(DbErr::Custom("an integer is too large".into())),
        },
        Value::Float(x) => x.map_or(SqliteValue::Null, |x| SqliteValue::Real(x.into())),
        Value::Double(x) => x.map_or(SqliteValue::Null, SqliteValue::Real),
        Value::String(text) => text.map_or(SqliteValue::Null, SqliteValue::Text),
        Value::Char(c) => c.map_or(SqliteValue::Null, |c| SqliteValue::Text(c.to_string())),
        Value::Bytes(bytes) => bytes.map_or(SqliteValue::Null, SqliteValue::Blob),
        Value::Json(json) => json.map_or(SqliteValue::Null, |json| {
            SqliteValue::Text(json.to_string())
        }),
        Value::Uuid(id) => id.map_or(SqliteValue::Null, |id| {
            SqliteValue::Blob(id.as_bytes().to_vec())
        }),
        other => {
            return Err(DbErr::Custom(format!(
                "the SQLite writer cannot bind {other:?}"
            )))
        }
    })
}

/// rusqlite's error as sea-orm's, keeping SQLite's message (which the queue reads to tell
/// a full disk or a lock from other failures) and marking unique-constraint failures.
fn db_err(err: rusqlite::Error) -> DbErr {
    use rusqlite::ffi;
    let text = match &err {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            format!("{UNIQUE_VIOLATION}: {err}")
        }
        _ => err.to_string(),
    };
    DbErr::Exec(RuntimeErr::Internal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(value(Value::BigUnsigned(Some(u64::MAX))).is_err());
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
}
