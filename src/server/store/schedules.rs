//! Schedules and the slots they fired. A slot fires in one transaction that inserts its
//! `schedule_runs` row (unique on schedule and slot) and, only if that row is new, the
//! slot's task: one task per slot whatever the number of processes trying, and the row
//! stays when the task is pruned, so a slot never fires twice. Runs asked for by hand
//! are kept there too, marked `manual`, and never count as the latest slot fired.

use super::conn::{Begin, Commit, Conn};
use super::counting::Tally;
use super::queries::insert_all_in;
use super::task_row::{Column, Entity as Tasks};
use super::unique::{insert_unique_in, Unique};
use super::writer::on_writer;
use super::writes::NewTask;
use super::{Store, StoreError, Task};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QuerySelect,
    Statement,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A stored schedule.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct ScheduleRow {
    pub name: String,
    /// The definition, as JSON.
    pub definition: String,
    pub enabled: i32,
    /// `file` or `api`.
    pub source: String,
    pub created_at: i64,
    /// When its definition or `enabled` last changed: its slots start after this.
    pub changed_at: i64,
    /// The latest slot it fired, if any.
    pub last_slot: Option<i64>,
}

/// A slot a schedule fired, and its task.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct RunRow {
    pub schedule: String,
    pub slot: i64,
    pub task_id: String,
    pub manual: i32,
}

/// The columns of [`ScheduleRow`], with the latest slot the timing fired.
const SCHEDULE_COLUMNS: &str = "name, definition, enabled, source, created_at, changed_at, \
     (SELECT MAX(slot) FROM schedule_runs WHERE schedule_runs.schedule = schedules.name \
     AND schedule_runs.manual = 0) AS last_slot";

impl Store {
    /// Every schedule, by name, with the latest slot it fired (read through the runs'
    /// key, one schedule at a time: never a scan of every run).
    pub async fn schedules(&self) -> Result<Vec<ScheduleRow>, StoreError> {
        let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY name");
        let statement = Statement::from_string(self.reader.get_database_backend(), sql);
        Ok(ScheduleRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// One schedule by name.
    pub async fn schedule(&self, name: &str) -> Result<Option<ScheduleRow>, StoreError> {
        let backend = self.reader.get_database_backend();
        let placeholder = match backend {
            sea_orm::DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE name = {placeholder}");
        let statement = Statement::from_sql_and_values(backend, sql, [name.into()]);
        Ok(ScheduleRow::find_by_statement(statement)
            .one(&self.reader)
            .await?)
    }

    /// The status of each of these tasks that still exists.
    pub async fn statuses(&self, ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, StoreError> {
        let rows: Vec<(Uuid, String)> = Tasks::find()
            .select_only()
            .column(Column::Id)
            .column(Column::Status)
            .filter(Column::Id.is_in(ids))
            .into_tuple()
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Forgets the runs fired before `cutoff`, except each schedule's latest slot, which
    /// alone decides what fires next.
    pub async fn prune_schedule_runs(&self, cutoff: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM schedule_runs WHERE fired_at < {cutoff} AND (manual <> 0 OR slot < \
                   (SELECT MAX(latest.slot) FROM schedule_runs latest \
                   WHERE latest.schedule = schedule_runs.schedule AND latest.manual = 0))";
        let sql = sql.replace("{cutoff}", &cutoff.to_string());
        let statement = Statement::from_string(self.reader.get_database_backend(), sql);
        Ok(on_writer!(&self.writer, |db| db.execute(statement.clone()))?)
    }

    /// The latest `limit` slots `schedule` fired, newest first.
    pub async fn runs(&self, schedule: &str, limit: u64) -> Result<Vec<RunRow>, StoreError> {
        let query = Query::select()
            .columns([
                Alias::new("schedule"),
                Alias::new("slot"),
                Alias::new("task_id"),
                Alias::new("manual"),
            ])
            .from(Alias::new("schedule_runs"))
            .and_where(Expr::col(Alias::new("schedule")).eq(schedule))
            .order_by(Alias::new("slot"), sea_orm::Order::Desc)
            .limit(limit)
            .to_owned();
        let statement = self.reader.get_database_backend().build(&query);
        Ok(RunRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// Fires `slot` (microseconds) of `schedule` with `task`: the task, when this call
    /// fired the slot (for a unique task whose key is held, the task holding it); `None`
    /// when the slot had already fired, or its schedule no longer fires it (deleted,
    /// paused or changed since it was read). A `manual` run is one
    /// asked for by hand, its slot the time it was asked for.
    pub async fn fire(
        &self,
        schedule: &str,
        slot: i64,
        task: NewTask,
        manual: bool,
    ) -> Result<Option<Unique<Task>>, StoreError> {
        let schedule = schedule.to_string();
        let fired = on_writer!(&self.writer, |db| fire_in(
            db,
            &schedule,
            slot,
            task.clone(),
            manual
        ))?;
        Ok(fired.map(|fired| match fired {
            Unique::Stored(row) => Unique::Stored(Task::from(row)),
            Unique::Held(row) => Unique::Held(Task::from(row)),
        }))
    }
}

async fn fire_in(
    db: &impl Begin,
    schedule: &str,
    slot: i64,
    task: NewTask,
    manual: bool,
) -> Result<Option<Unique<super::task_row::Model>>, DbErr> {
    let txn = db.begin().await?;
    // The slot fires only if its schedule still fires it: not deleted, and for a timed
    // slot not paused or changed since the caller read it.
    let mut still = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new("schedules"))
        .and_where(Expr::col(Alias::new("name")).eq(schedule))
        .to_owned();
    if !manual {
        still
            .and_where(Expr::col(Alias::new("enabled")).ne(0))
            .and_where(Expr::col(Alias::new("changed_at")).lt(slot));
    }
    let row = Query::select()
        .exprs([
            Expr::val(schedule),
            Expr::val(slot),
            Expr::val(task.id.to_string()),
            Expr::val(task.created_at),
            Expr::val(i32::from(manual)),
        ])
        .and_where(Expr::exists(still))
        .to_owned();
    let run = Query::insert()
        .into_table(Alias::new("schedule_runs"))
        .columns(["schedule", "slot", "task_id", "fired_at", "manual"].map(Alias::new))
        .select_from(row)
        .map_err(|err| DbErr::Custom(err.to_string()))?
        .on_conflict(
            OnConflict::columns([Alias::new("schedule"), Alias::new("slot")])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    if txn.run(&run).await? == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    let mut tally = Tally::default();
    let fired = if task.unique.is_some() {
        let found = insert_unique_in(&txn, task, &mut tally).await?;
        let Some(found) = found else {
            txn.rollback().await?;
            return Err(DbErr::Custom(
                "the unique key changed hands; fire again".into(),
            ));
        };
        if let Unique::Held(holder) = &found {
            // The slot's run shows the task that holds the key.
            let run = Query::update()
                .table(Alias::new("schedule_runs"))
                .value(Alias::new("task_id"), holder.id.to_string())
                .and_where(Expr::col(Alias::new("schedule")).eq(schedule))
                .and_where(Expr::col(Alias::new("slot")).eq(slot))
                .to_owned();
            txn.run(&run).await?;
        }
        found
    } else {
        let stored = insert_all_in(&txn, vec![task], &mut tally).await?;
        match stored.into_iter().next() {
            Some(row) => Unique::Stored(row),
            None => return Err(DbErr::RecordNotInserted),
        }
    };
    tally.commit(txn).await?;
    Ok(Some(fired))
}
