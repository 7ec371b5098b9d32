//! Claiming ready tasks: the most urgent PENDING tasks of a queue move to RUNNING under a
//! worker's lease, in one statement on SQLite. What an attempt writes after its claim is
//! in [`super::attempts`].

use super::claimed::{self, ClaimedTask};
use super::conn::rows;
use super::conn::Conn;
use super::counting::Tally;
use super::task_row::{status_is, Column, Entity as Tasks};
use super::task_stats::Times;
use super::writes::Write;
use super::{CommitVerdict, ParkedClaim, Store, StoreError};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, ExprTrait, QueryFilter, QueryTrait,
    Statement, Value,
};
use uuid::Uuid;

impl Store {
    /// Atomically moves up to `limit` ready tasks of `queue` to RUNNING under a lease held
    /// by `worker_id` until `lease_until`, most urgent first (priority, then run_at), and
    /// opens an attempt record for each. Nothing is claimed from a paused queue. The claim
    /// shares its commit with other writes waiting at that moment, and is answered once
    /// that commit is durable.
    pub async fn claim(
        &self,
        queue: &str,
        limit: u64,
        worker_id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let write = claim_write(queue, limit, worker_id, now, lease_until);
        self.commits.write(write).await?.into_claimed()
    }

    /// A worker pool's claim: as [`Store::claim`], but on SQLite answered as soon as the
    /// claim has run, before its commit is on disk, so the tasks start while it syncs.
    /// The verdict says later whether that commit happened; until it has, an attempt of
    /// the claim must write nothing (no heartbeat, no outcome). Should the commit fail,
    /// the claim never happened and the tasks are still PENDING: a later claim may take
    /// them again under the same attempt number, which the fence cannot tell apart. A
    /// crash before the commit is the same as a crash while the tasks run: they run again.
    pub async fn claim_before_commit(
        &self,
        queue: &str,
        limit: u64,
        worker_id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<(Vec<ClaimedTask>, CommitVerdict), StoreError> {
        let write = claim_write(queue, limit, worker_id, now, lease_until);
        let (written, verdict) = self.commits.write_before_commit(write).await?;
        Ok((written.into_claimed()?, verdict))
    }

    /// An idle pool's claim of up to `limit` tasks of `queue`, left for the next submit
    /// of a ready task to that queue, which runs it in its own transaction (see
    /// [`super::parked`]); `lease` is the claim's lease, in microseconds.
    pub fn park_claim(&self, queue: &str, limit: u64, worker_id: &str, lease: i64) -> ParkedClaim {
        self.commits.park(queue, limit, worker_id, lease)
    }

    /// How many claims idle pools of this process have parked on `queue` (for tests and
    /// diagnostics).
    pub fn parked_claims(&self, queue: &str) -> usize {
        self.commits.parked(queue)
    }
}

fn claim_write(queue: &str, limit: u64, worker_id: &str, now: i64, lease_until: i64) -> Write {
    Write::Claim {
        queue: queue.to_string(),
        limit,
        worker_id: worker_id.to_string(),
        now,
        lease_until,
    }
}

/// The claim itself: on SQLite one statement, `UPDATE … WHERE id IN (SELECT … ORDER BY …
/// LIMIT n) RETURNING …`; on PostgreSQL the SELECT first, then the UPDATE. Then one insert
/// opens the attempt records, and the tally counts the moves.
pub(super) async fn claim_in(
    db: &impl Conn,
    queue: &str,
    limit: u64,
    worker_id: &str,
    now: i64,
    lease_until: i64,
    tally: &mut Tally,
) -> Result<Vec<ClaimedTask>, DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.backend();
    let statement = match backend {
        // PostgreSQL may run an `IN (subquery)` more than once in one statement, locking
        // more than `limit` rows; there the ids are picked (and locked) first. This needs
        // a transaction, which the group committer always opens for a claim on PostgreSQL.
        DatabaseBackend::Postgres => {
            let ids = db.fetch::<Uuid>(&ready_tasks(queue, limit, now)).await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let update = claim_update(worker_id, now, lease_until).filter(Column::Id.is_in(ids));
            returning_claimed(update, backend)
        }
        _ => sqlite_claim(queue, limit, worker_id, now, lease_until),
    };
    let mut claimed = db.query::<ClaimedTask>(statement).await?;
    claimed.sort_by_key(|task| (task.priority, task.run_at));
    open_attempts(db, &claimed, worker_id, now).await?;
    for task in &claimed {
        tally.moved(
            queue,
            &task.task_type,
            TaskStatus::Pending,
            TaskStatus::Running,
            Times::default(),
        );
    }
    Ok(claimed)
}

/// Rows per attempt insert, so the bound values stay far below SQLite's limit.
const ATTEMPTS_CHUNK: usize = 1000;

/// One attempt record for each claimed task, started now.
async fn open_attempts(
    db: &impl Conn,
    claimed: &[ClaimedTask],
    worker_id: &str,
    now: i64,
) -> Result<(), DbErr> {
    let backend = db.backend();
    for chunk in claimed.chunks(ATTEMPTS_CHUNK) {
        let mut values = Vec::with_capacity(chunk.len() * 4);
        for task in chunk {
            values.extend([
                Value::from(task.id),
                Value::from(task.attempt),
                Value::from(worker_id),
                Value::from(now),
            ]);
        }
        let sql = format!(
            "INSERT INTO task_attempts (task_id, attempt, worker_id, started_at) VALUES {}",
            rows(backend, chunk.len(), 4)
        );
        db.execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// The ids of up to `limit` ready tasks of `queue`, most urgent first; nothing when the
/// queue is paused.
///
/// It walks the partial index `ix_tasks_ready` (queue, priority, run_at; PENDING tasks
/// only) in order and stops after `limit` rows, however long the backlog. On PostgreSQL
/// it locks the rows it picks and skips rows other processes' claims have locked, so
/// concurrent claims never take the same task and do not queue up behind each other for
/// task rows (they still meet on the counter rows their transactions update; see
/// [`super::conflicts`]). SQLite, with one writer, has no row locks and leaves the clause
/// out.
pub(super) fn ready_tasks(queue: &str, limit: u64, now: i64) -> SelectStatement {
    let paused = Query::select()
        .expr(Expr::val(1))
        .from(super::queue_row::Entity)
        .and_where(super::queue_row::Column::Name.eq(queue))
        .and_where(super::queue_row::Column::Paused.eq(true))
        .to_owned();
    // The queue's name while it is not paused, else NULL, which no task matches. As the
    // index's search key, the check runs once before the walk: as a filter beside it,
    // SQLite would walk the whole backlog of a paused queue and reject every row.
    let open_queue = Query::select()
        .expr(Expr::val(queue))
        .and_where(Expr::exists(paused).not())
        .to_owned();
    Query::select()
        .column(Column::Id)
        .from(Tasks)
        .and_where(status_is(TaskStatus::Pending))
        .and_where(Expr::col(Column::Queue).eq(Expr::SubQuery(None, Box::new(open_queue.into()))))
        .and_where(Column::RunAt.lte(now))
        .order_by(Column::Priority, sea_orm::Order::Asc)
        .order_by(Column::RunAt, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned()
}

/// Moves the chosen tasks to RUNNING under this claim's lease.
fn claim_update(worker_id: &str, now: i64, lease_until: i64) -> sea_orm::UpdateMany<Tasks> {
    Tasks::update_many()
        .col_expr(Column::Status, Expr::value(TaskStatus::Running.as_str()))
        .col_expr(Column::Attempt, Expr::col(Column::Attempt).add(1))
        .col_expr(Column::StartedAt, Expr::value(now))
        .col_expr(Column::LeaseExpiresAt, Expr::value(lease_until))
        .col_expr(Column::WorkerId, Expr::value(worker_id))
        .col_expr(Column::Progress, Expr::value(0))
        .col_expr(Column::ProgressMessage, Expr::value(Option::<String>::None))
}

/// The whole claim on SQLite, one statement: `UPDATE … WHERE id IN (ready tasks) RETURNING …`.
fn sqlite_claim(queue: &str, limit: u64, worker_id: &str, now: i64, lease_until: i64) -> Statement {
    let update = claim_update(worker_id, now, lease_until)
        .filter(Column::Id.in_subquery(ready_tasks(queue, limit, now)));
    sqlite_limit_unplanned(returning_claimed(update, DatabaseBackend::Sqlite))
}

/// The claim's update, returning what its worker needs (see [`claimed`]).
fn returning_claimed(update: sea_orm::UpdateMany<Tasks>, backend: DatabaseBackend) -> Statement {
    let mut update = update.into_query();
    update.returning(Query::returning().columns(claimed::COLUMNS));
    backend.build(&update)
}

/// SQLite plans a `LIMIT ?` with the value bound at the time, so it prepares the
/// statement again whenever the limit is bound anew, which is on every claim (it was 8 %
/// of SQLite's instructions on a burn-down, BENCHMARKS.md). The plan is the same whatever
/// the limit (the walk of `ix_tasks_ready` stops after it), and behind a cast the planner
/// no longer reads the value.
pub(super) fn sqlite_limit_unplanned(mut statement: Statement) -> Statement {
    statement.sql = statement
        .sql
        .replacen(" LIMIT ?", " LIMIT CAST(? AS INTEGER)", 1);
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_claim_binds_its_limit_behind_a_cast() {
        let statement = sqlite_claim("default", 5, "w", 0, 10);
        assert!(statement.sql.starts_with("UPDATE "), "{}", statement.sql);
        assert_eq!(
            statement.sql.matches(" LIMIT CAST(? AS INTEGER)").count(),
            1,
            "{}",
            statement.sql
        );
        assert!(!statement.sql.contains("LIMIT ?"), "{}", statement.sql);
        let values = statement.values.map(|values| values.0).unwrap_or_default();
        assert!(
            values.contains(&sea_orm::Value::BigUnsigned(Some(5))),
            "the limit is still a bound value: {values:?}"
        );
    }

    #[test]
    fn the_claim_returns_its_columns_in_the_order_they_are_read() {
        use sea_orm::IdenStatic;
        let statement = sqlite_claim("default", 5, "w", 0, 10);
        let columns: Vec<String> = claimed::COLUMNS
            .iter()
            .map(|column| format!("\"{}\"", column.as_str()))
            .collect();
        let returning = format!(" RETURNING {}", columns.join(", "));
        assert!(statement.sql.ends_with(&returning), "{}", statement.sql);
    }
}
