//! The processes table: each process's row, written when it starts, renewed by its
//! heartbeat (which also prunes rows gone a day), and marked stopped once it drained;
//! read for the processes page with the tasks each runs now.

use super::conn::{Begin, Commit, Conn};
use super::task_row::status_is;
use super::writer::on_writer;
use super::{Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Order, Query};
use sea_orm::{DbErr, ExprTrait, FromQueryResult};

/// A process as stored.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct ProcessRow {
    pub id: String,
    pub role: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub stopped_at: Option<i64>,
    /// JSON: `[{"name": …, "concurrency": …}, …]`.
    pub queues: String,
}

const COLUMNS: [&str; 9] = [
    "id",
    "role",
    "host",
    "pid",
    "version",
    "started_at",
    "heartbeat_at",
    "stopped_at",
    "queues",
];

fn table() -> Alias {
    Alias::new("processes")
}

impl Store {
    /// Writes the process's row as live at `row.heartbeat_at` (made again if it was
    /// pruned while the process was cut off), and deletes the rows of processes not
    /// heard from since `forget_before` (stopped, or silent).
    pub async fn save_process(
        &self,
        row: ProcessRow,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        Ok(on_writer!(&self.writer, |db| save_process_in(
            db,
            row.clone(),
            forget_before
        ))?)
    }

    /// Marks the process stopped at `now`.
    pub async fn stop_process(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let id = id.to_string();
        Ok(on_writer!(&self.writer, |db| stop_process_in(
            db,
            id.clone(),
            now
        ))?)
    }

    /// The processes heard from since `since` (a stop counts as the last beat), the
    /// most recently heard first, at most `limit`.
    pub async fn processes(&self, since: i64, limit: u64) -> Result<Vec<ProcessRow>, StoreError> {
        let select = Query::select()
            .columns(COLUMNS.map(Alias::new))
            .from(table())
            .and_where(Expr::col(Alias::new("heartbeat_at")).gte(since))
            .order_by(Alias::new("heartbeat_at"), Order::Desc)
            .limit(limit)
            .to_owned();
        let backend = self.reader.get_database_backend();
        let rows = ProcessRow::find_by_statement(backend.build(&select))
            .all(&self.reader)
            .await?;
        Ok(rows)
    }

    /// How many tasks each worker id runs now (read through the RUNNING partial index).
    pub async fn running_by_worker(&self) -> Result<Vec<(String, i64)>, StoreError> {
        #[derive(FromQueryResult)]
        struct Running {
            worker_id: Option<String>,
            n: i64,
        }
        let select = Query::select()
            .column(Alias::new("worker_id"))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from(Alias::new("tasks"))
            .cond_where(status_is(TaskStatus::Running))
            .group_by_col(Alias::new("worker_id"))
            .to_owned();
        let backend = self.reader.get_database_backend();
        let rows = Running::find_by_statement(backend.build(&select))
            .all(&self.reader)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Some((row.worker_id?, row.n)))
            .collect())
    }
}

async fn save_process_in(
    db: &impl Begin,
    row: ProcessRow,
    forget_before: i64,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let insert = Query::insert()
        .into_table(table())
        .columns(COLUMNS.map(Alias::new))
        .values([
            row.id.into(),
            row.role.into(),
            row.host.into(),
            row.pid.into(),
            row.version.into(),
            row.started_at.into(),
            row.heartbeat_at.into(),
            Option::<i64>::None.into(),
            row.queues.into(),
        ])
        .map_err(|err| DbErr::Custom(err.to_string()))?
        .on_conflict(
            OnConflict::column(Alias::new("id"))
                .update_columns(["heartbeat_at", "stopped_at", "queues"].map(Alias::new))
                .to_owned(),
        )
        .to_owned();
    txn.run(&insert).await?;
    let forget = Query::delete()
        .from_table(table())
        .and_where(
            Expr::col(Alias::new("heartbeat_at")).lt(forget_before).and(
                Expr::col(Alias::new("stopped_at"))
                    .is_null()
                    .or(Expr::col(Alias::new("stopped_at")).lt(forget_before)),
            ),
        )
        .to_owned();
    txn.run(&forget).await?;
    txn.commit().await
}

async fn stop_process_in(db: &impl Conn, id: String, now: i64) -> Result<(), DbErr> {
    let update = Query::update()
        .table(table())
        .value(Alias::new("stopped_at"), now)
        .value(Alias::new("heartbeat_at"), now)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    db.run(&update).await.map(|_| ())
}
