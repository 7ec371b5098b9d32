//! Where the store's writes run: on SQLite, the writer thread that owns the file's one
//! writing connection; on PostgreSQL, the pool. Writes are functions over
//! [`super::conn::Conn`], handed to [`on_writer!`].

use super::sqlite_writer::SqliteWriter;
use sea_orm::{DatabaseConnection, DbErr};
use std::future::Future;

#[derive(Clone, Debug)]
pub(super) enum Writer {
    Sqlite(SqliteWriter),
    Postgres(DatabaseConnection),
}

/// Runs a write, `on_writer!(writer, |db| body)`, where `body` is a future over `db`, the
/// writing connection: on SQLite once, on the writer thread (so `body` may capture only
/// owned values); on PostgreSQL in place, again while it loses a lock race to another
/// process (see [`super::conflicts`]), so `body` must be safe to run twice.
macro_rules! on_writer {
    ($writer:expr, |$db:ident| $body:expr) => {
        match $writer {
            $crate::server::store::writer::Writer::Postgres($db) => {
                $crate::server::store::conflicts::retry_conflicts(|| $body).await
            }
            $crate::server::store::writer::Writer::Sqlite(thread) => {
                thread
                    .run(
                        async move |$db: &$crate::server::store::sqlite_writer::SqliteConn| {
                            $body.await
                        },
                    )
                    .await
            }
        }
    };
}
pub(super) use on_writer;

/// Runs `batch` (one write deleting up to some number of rows) until one deletes nothing,
/// and returns how many went in all: one batch per write, so pruning never holds the
/// writer long. Not until a short batch: one that another process pruned half of is not
/// the last.
pub(super) async fn in_batches_until_none_left<F, Fut>(mut batch: F) -> Result<u64, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DbErr>>,
{
    let mut total = 0;
    loop {
        match batch().await? {
            0 => return Ok(total),
            deleted => total += deleted,
        }
    }
}
