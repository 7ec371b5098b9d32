//! The seam between the store's statements and a database connection. Every write is a
//! plain function over [`Conn`] (and [`Begin`] where it needs a transaction): on SQLite
//! the writer thread runs it on its own connection (see [`super::sqlite_writer`]), on
//! PostgreSQL sea-orm's pool does, so both backends share one copy of each rule. Rows come
//! back as domain types through [`FromRow`], never as a driver's row.

use super::claimed::ClaimedTask;
use super::task_row;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    FromQueryResult, QueryResult, RuntimeErr, SqlErr, Statement, StatementBuilder,
    TransactionTrait,
};

/// A connection, or a transaction on one, that runs the store's statements.
pub(super) trait Conn {
    fn backend(&self) -> DatabaseBackend;

    /// Runs a statement that returns no rows; how many rows it changed.
    async fn execute(&self, statement: Statement) -> Result<u64, DbErr>;

    /// Runs a statement and reads every row it returns.
    async fn query<T: FromRow>(&self, statement: Statement) -> Result<Vec<T>, DbErr>;

    /// [`Conn::execute`] of a statement built for this connection's backend.
    async fn run(&self, statement: &impl StatementBuilder) -> Result<u64, DbErr> {
        self.execute(statement.build(&self.backend())).await
    }

    /// [`Conn::query`] of a statement built for this connection's backend.
    async fn fetch<T: FromRow>(&self, statement: &impl StatementBuilder) -> Result<Vec<T>, DbErr> {
        self.query(statement.build(&self.backend())).await
    }
}

/// A connection that can open a transaction.
pub(super) trait Begin: Conn {
    type Txn<'a>: Commit
    where
        Self: 'a;

    async fn begin(&self) -> Result<Self::Txn<'_>, DbErr>;
}

/// An open transaction: committed by [`Commit::commit`], or rolled back by
/// [`Commit::rollback`] or when dropped (on PostgreSQL only later, when its connection
/// is next used: a transaction that ends without an error says so at once).
pub(super) trait Commit: Conn {
    async fn commit(self) -> Result<(), DbErr>;
    async fn rollback(self) -> Result<(), DbErr>;
}

/// A value read from a returned row, on either backend.
pub(super) trait FromRow: Sized {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr>;
    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self>;
}

/// A whole task row, read by column name (`RETURNING *` or `SELECT *`).
impl FromRow for task_row::Model {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
        <task_row::Model as FromQueryResult>::from_query_result(row, "")
    }

    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(task_row::Model {
            id: row.get("id")?,
            task_type: row.get("task_type")?,
            queue: row.get("queue")?,
            status: row.get("status")?,
            priority: row.get("priority")?,
            attempt: row.get("attempt")?,
            max_attempts: row.get("max_attempts")?,
            parameters: row.get("parameters")?,
            result_data: row.get("result_data")?,
            error_message: row.get("error_message")?,
            progress: row.get("progress")?,
            progress_message: row.get("progress_message")?,
            created_at: row.get("created_at")?,
            run_at: row.get("run_at")?,
            started_at: row.get("started_at")?,
            completed_at: row.get("completed_at")?,
            lease_expires_at: row.get("lease_expires_at")?,
            worker_id: row.get("worker_id")?,
            cancel_requested: row.get("cancel_requested")?,
            timeout_ms: row.get("timeout_ms")?,
            idempotency_key: row.get("idempotency_key")?,
            unique_key: row.get("unique_key")?,
            unique_states: row.get("unique_states")?,
            log_lines: row.get("log_lines")?,
        })
    }
}

/// Implements [`FromRow`] for a struct whose fields are the returned columns in order,
/// read by position: by name, each column's name would be formatted and looked up for
/// every row, which showed in the claim's profile (BENCHMARKS.md).
macro_rules! by_position {
    ($row:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::server::store::conn::FromRow for $row {
            fn from_query_result(row: &sea_orm::QueryResult) -> Result<Self, sea_orm::DbErr> {
                let mut column = 0;
                $(
                    let $field = row.try_get_by_index(column)?;
                    column += 1;
                )+
                let _ = column;
                Ok(Self { $($field),+ })
            }

            fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
                let mut column = 0;
                $(
                    let $field = row.get(column)?;
                    column += 1;
                )+
                let _ = column;
                Ok(Self { $($field),+ })
            }
        }
    };
}
pub(super) use by_position;

by_position!(ClaimedTask {
    id,
    task_type,
    attempt,
    max_attempts,
    parameters,
    timeout_ms,
    cancel_requested,
    priority,
    run_at,
});

/// One column of one type, for statements that return a single value per row.
macro_rules! single_column {
    ($($ty:ty),*) => {$(
        impl FromRow for $ty {
            fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
                row.try_get_by_index(0)
            }

            fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
                row.get(0)
            }
        }
    )*};
}
single_column!(bool, i64, String, uuid::Uuid);

/// The first column read as text whatever its type (a pragma's value, say).
pub(super) struct AsText(pub String);

impl FromRow for AsText {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
        row.try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .map(AsText)
    }

    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        use rusqlite::types::ValueRef;
        Ok(AsText(match row.get_ref(0)? {
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Real(x) => x.to_string(),
            ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
            ValueRef::Null | ValueRef::Blob(_) => String::new(),
        }))
    }
}

/// A task's id and attempt number.
impl FromRow for (uuid::Uuid, i32) {
    fn from_query_result(row: &QueryResult) -> Result<Self, DbErr> {
        Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
    }

    fn from_sqlite(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

/// Marks the text of a unique-constraint failure on the SQLite writer's connection, so
/// [`is_unique_violation`] can tell it from other errors as sea-orm does for sqlx's.
pub(super) const UNIQUE_VIOLATION: &str = "unique constraint violated";

/// True when `err` says a row broke a unique constraint (on either backend).
pub(super) fn is_unique_violation(err: &DbErr) -> bool {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
        return true;
    }
    matches!(err, DbErr::Exec(RuntimeErr::Internal(text)) | DbErr::Query(RuntimeErr::Internal(text))
        if text.starts_with(UNIQUE_VIOLATION))
}

macro_rules! sea_orm_conn {
    ($($ty:ty),*) => {$(
        impl Conn for $ty {
            fn backend(&self) -> DatabaseBackend {
                self.get_database_backend()
            }

            async fn execute(&self, statement: Statement) -> Result<u64, DbErr> {
                Ok(self.execute_raw(statement).await?.rows_affected())
            }

            async fn query<T: FromRow>(&self, statement: Statement) -> Result<Vec<T>, DbErr> {
                self.query_all_raw(statement)
                    .await?
                    .iter()
                    .map(T::from_query_result)
                    .collect()
            }
        }
    )*};
}
sea_orm_conn!(DatabaseConnection, DatabaseTransaction);

impl Begin for DatabaseConnection {
    type Txn<'a> = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        TransactionTrait::begin(self).await
    }
}

impl Commit for DatabaseTransaction {
    async fn commit(self) -> Result<(), DbErr> {
        DatabaseTransaction::commit(self).await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        DatabaseTransaction::rollback(self).await
    }
}

/// `(?, ?), (?, ?)…` — `count` rows of `width` placeholders in the backend's syntax.
pub(super) fn rows(backend: DatabaseBackend, count: usize, width: usize) -> String {
    let mut sql = String::with_capacity(count * width * 5);
    for row in 0..count {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                DatabaseBackend::Postgres => {
                    sql.push_str(&format!("${}", row * width + column + 1))
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        assert_eq!(rows(DatabaseBackend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            rows(DatabaseBackend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
    }
}
