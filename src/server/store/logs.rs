//! Task logs. A running attempt appends lines fenced on itself (RUNNING, this attempt),
//! as a heartbeat is; each line takes the next number from the task's `log_lines`
//! counter, and only the newest [`StoreOptions::log_lines_per_task`] are kept, so the
//! numbers a reader sees jump where lines were dropped. Lines are deleted with their task
//! (a cascading foreign key); pruning deletes them first, a bounded batch at a time.
//!
//! [`StoreOptions::log_lines_per_task`]: super::StoreOptions

use super::conn::{by_position, Begin, Commit, Conn};
use super::task_row::{status_is, Column, Entity as Tasks};
use super::writer::on_writer;
use super::{Store, StoreError};
use crate::model::{bounded_message, LogLine, LogPage, NewLogLine, TaskStatus};
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
    QueryTrait, Statement,
};
use uuid::Uuid;

/// Most lines one page holds.
pub const LOG_PAGE_MAX: u64 = 1000;
/// Lines deleted per write when their tasks are pruned.
pub(super) const PRUNE_LINES: u64 = 10_000;

struct LogRow {
    seq: i64,
    attempt: i32,
    level: String,
    message: String,
    logged_at: i64,
}

by_position!(LogRow {
    seq,
    attempt,
    level,
    message,
    logged_at
});

impl Store {
    /// Appends `lines` to the log of task `id` while attempt `attempt` runs it, after
    /// `skipped` lines that were dropped before they could be stored (they take numbers
    /// too, so readers see the gap); `now` is the time of lines that carry none. False,
    /// storing nothing, when the task is no longer this attempt's (or is gone).
    pub async fn append_log(
        &self,
        id: Uuid,
        attempt: i32,
        skipped: u64,
        lines: Vec<NewLogLine>,
        now: i64,
    ) -> Result<bool, StoreError> {
        if lines.is_empty() && skipped == 0 {
            return Ok(true);
        }
        let keep = i64::from(self.log_lines_per_task);
        Ok(on_writer!(&self.writer, |db| append_in(
            db,
            id,
            attempt,
            skipped,
            lines.clone(),
            now,
            keep
        ))?)
    }

    /// Up to `limit` (at most [`LOG_PAGE_MAX`]) lines of task `id` numbered after
    /// `after`, oldest first; none if there is no such task.
    pub async fn log_page(
        &self,
        id: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<Option<LogPage>, StoreError> {
        let limit = limit.clamp(1, LOG_PAGE_MAX);
        let lines = Query::select()
            .columns(["seq", "attempt", "level", "message", "logged_at"].map(Alias::new))
            .from(Alias::new("task_logs"))
            .and_where(Expr::col(Alias::new("task_id")).eq(id))
            .and_where(Expr::col(Alias::new("seq")).gt(after))
            .order_by(Alias::new("seq"), Order::Asc)
            .limit(limit + 1)
            .to_owned();
        let mut rows: Vec<LogRow> = self.reader.fetch(&lines).await?;
        // Read after the lines, so it is never below the last one read.
        let total = Tasks::find()
            .select_only()
            .column(Column::LogLines)
            .filter(Column::Id.eq(id))
            .into_query();
        let Some(&total) = self.reader.fetch::<i64>(&total).await?.first() else {
            return Ok(None);
        };
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let lines: Vec<LogLine> = rows.into_iter().map(LogRow::into_line).collect();
        let next_after = lines.last().map_or(after, |line| line.seq);
        Ok(Some(LogPage {
            lines,
            total,
            next_after,
            more,
        }))
    }
}

impl LogRow {
    fn into_line(self) -> LogLine {
        LogLine {
            seq: self.seq,
            attempt: self.attempt,
            // Only Spool writes the column; an unreadable level shows as info.
            level: self.level.parse().unwrap_or(crate::model::LogLevel::Info),
            message: self.message,
            at: super::from_micros(self.logged_at),
        }
    }
}

/// Deletes up to [`PRUNE_LINES`] log lines of the finished tasks completed before
/// `cutoff` (the ones a prune deletes); returns how many went. Left to the cascade, one
/// batch of pruned tasks could delete millions of lines in a single write.
pub(super) async fn prune_lines_in(db: &impl Conn, cutoff: i64) -> Result<u64, DbErr> {
    let placeholder = match db.backend() {
        DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "DELETE FROM task_logs WHERE (task_id, seq) IN (\
           SELECT l.task_id, l.seq FROM task_logs l JOIN tasks t ON t.id = l.task_id \
           WHERE t.status IN ('SUCCESS', 'FAILED', 'CANCELLED') AND t.completed_at < {placeholder} \
           LIMIT {PRUNE_LINES})"
    );
    let statement = Statement::from_sql_and_values(db.backend(), sql, [cutoff.into()]);
    db.execute(statement).await
}

async fn append_in(
    db: &impl Begin,
    id: Uuid,
    attempt: i32,
    skipped: u64,
    lines: Vec<NewLogLine>,
    now: i64,
    keep: i64,
) -> Result<bool, DbErr> {
    let added = skipped as i64 + lines.len() as i64;
    let mut count = Tasks::update_many()
        .col_expr(Column::LogLines, Expr::col(Column::LogLines).add(added))
        .filter(Column::Id.eq(id))
        .filter(Column::Attempt.eq(attempt))
        .filter(status_is(TaskStatus::Running))
        .into_query();
    count.returning_col(Column::LogLines);
    let txn = db.begin().await?;
    let Some(&total) = txn.fetch::<i64>(&count).await?.first() else {
        txn.rollback().await?;
        return Ok(false);
    };
    let first = total - lines.len() as i64 + 1;
    let oldest_kept = total - keep + 1;
    let mut insert = Query::insert()
        .into_table(Alias::new("task_logs"))
        .columns(["task_id", "seq", "attempt", "level", "message", "logged_at"].map(Alias::new))
        .to_owned();
    let mut any = false;
    for (seq, line) in (first..).zip(lines) {
        if seq < oldest_kept {
            continue;
        }
        let at = line.at.map_or(now, |at| at.timestamp_micros());
        insert
            .values([
                id.into(),
                seq.into(),
                attempt.into(),
                line.level.as_str().into(),
                bounded_message(line.message).into(),
                at.into(),
            ])
            .map_err(|err| DbErr::Custom(err.to_string()))?;
        any = true;
    }
    if any {
        txn.run(&insert).await?;
    }
    if oldest_kept > 1 {
        let trim = Query::delete()
            .from_table(Alias::new("task_logs"))
            .and_where(Expr::col(Alias::new("task_id")).eq(id))
            .and_where(Expr::col(Alias::new("seq")).lt(oldest_kept))
            .to_owned();
        txn.run(&trim).await?;
    }
    txn.commit().await?;
    Ok(true)
}
