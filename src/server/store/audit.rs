//! The audit log: what operators did to tasks, by which access and from where. A
//! single-task action writes its entry in the same transaction as the change it records,
//! so an action that took effect is never missing from the log; a bulk action, made of
//! one transaction per task, writes one entry for the whole once it is done. Entries are
//! pruned after their own retention, outliving the tasks they name.

use super::conn::Conn;
use super::writer::{in_batches_until_none_left, on_writer};
use super::{Store, StoreError};
use crate::model::AuditEntry;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{DbErr, ExprTrait, FromQueryResult};
use uuid::Uuid;

/// Most entries one page holds.
pub const AUDIT_PAGE_MAX: u64 = 500;

/// An action to record.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditNote {
    pub at: i64,
    /// `cancel`, `retry`, `run_now`, `delete`, `edit_retry`, or `bulk_` and one of
    /// `cancel`, `retry`, `delete`.
    pub action: &'static str,
    /// How the request proved its access (see `crate::server::access::Actor`).
    pub access: String,
    /// The client's address, when known.
    pub address: Option<String>,
    /// The task acted on (single-task actions).
    pub task_id: Option<Uuid>,
    /// The filter that chose the tasks (bulk actions), as a query string.
    pub filter: Option<String>,
    /// How many tasks changed.
    pub changed: i64,
    /// More about the action (an edit's old and new parameters), as JSON.
    pub details: Option<serde_json::Value>,
}

#[derive(FromQueryResult)]
struct AuditRow {
    id: i64,
    at: i64,
    action: String,
    access: String,
    address: Option<String>,
    task_id: Option<Uuid>,
    filter: Option<String>,
    changed: i64,
    details: Option<String>,
}

const COLUMNS: [&str; 9] = [
    "id", "at", "action", "access", "address", "task_id", "filter", "changed", "details",
];

impl Store {
    /// Records a bulk action once its tasks have been acted on.
    pub async fn record_audit(&self, note: AuditNote) -> Result<(), StoreError> {
        Ok(on_writer!(&self.writer, |db| write_audit(
            db,
            note.clone()
        ))?)
    }

    /// Entries newest first, before entry `before` if given, of task `task` if given.
    pub async fn audit_page(
        &self,
        task: Option<Uuid>,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut select = Query::select()
            .columns(COLUMNS.map(Alias::new))
            .from(Alias::new("audit_log"))
            .order_by(Alias::new("id"), Order::Desc)
            .limit(limit.clamp(1, AUDIT_PAGE_MAX))
            .to_owned();
        if let Some(task) = task {
            select.and_where(Expr::col(Alias::new("task_id")).eq(task));
        }
        if let Some(before) = before {
            select.and_where(Expr::col(Alias::new("id")).lt(before));
        }
        let backend = self.reader.get_database_backend();
        let rows = AuditRow::find_by_statement(backend.build(&select))
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(AuditRow::into_entry).collect())
    }

    /// Deletes entries older than `cutoff`, [`PRUNE_BATCH`] per write so that a
    /// backlog of them never holds the writer long; returns how many went.
    pub async fn prune_audit(&self, cutoff: i64) -> Result<u64, StoreError> {
        let batch = || async { on_writer!(&self.writer, |db| prune_audit_batch_in(db, cutoff)) };
        Ok(in_batches_until_none_left(batch).await?)
    }
}

/// Entries deleted per write.
const PRUNE_BATCH: u64 = 1000;

/// Deletes up to [`PRUNE_BATCH`] entries older than `cutoff`, oldest first: they have
/// the lowest ids, so the primary key finds them without an index on the time.
async fn prune_audit_batch_in(db: &impl Conn, cutoff: i64) -> Result<u64, DbErr> {
    let oldest = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("audit_log"))
        .and_where(Expr::col(Alias::new("at")).lt(cutoff))
        .order_by(Alias::new("id"), Order::Asc)
        .limit(PRUNE_BATCH)
        .to_owned();
    let delete = Query::delete()
        .from_table(Alias::new("audit_log"))
        .and_where(Expr::col(Alias::new("id")).in_subquery(oldest))
        .to_owned();
    db.run(&delete).await
}

/// Writes `note` on `db`: inside the transaction of the action it records.
pub(super) async fn write_audit(db: &impl Conn, note: AuditNote) -> Result<(), DbErr> {
    let details = note.details.as_ref().map(|details| details.to_string());
    let insert = Query::insert()
        .into_table(Alias::new("audit_log"))
        .columns(COLUMNS[1..].iter().copied().map(Alias::new))
        .values([
            note.at.into(),
            note.action.into(),
            note.access.into(),
            note.address.into(),
            note.task_id.into(),
            note.filter.into(),
            note.changed.into(),
            details.into(),
        ])
        .map_err(|err| DbErr::Custom(err.to_string()))?
        .to_owned();
    db.run(&insert).await.map(|_| ())
}

impl AuditRow {
    fn into_entry(self) -> AuditEntry {
        AuditEntry {
            id: self.id,
            at: super::from_micros(self.at),
            action: self.action,
            access: self.access,
            address: self.address,
            task_id: self.task_id,
            filter: self.filter,
            changed: self.changed,
            // Only Spool writes the column; unreadable text shows as none.
            details: self
                .details
                .and_then(|text| serde_json::from_str(&text).ok()),
        }
    }
}
