//! Schedules and the slots they fired. A slot fires in one transaction that inserts its
//! `schedule_runs` row (unique on schedule and slot) and, only if that row is new, the
//! slot's task: one task per slot whatever the number of processes trying, and the row
//! stays when the task is pruned, so a slot never fires twice.

use super::conn::{Begin, Commit, Conn};
use super::counting::Tally;
use super::queries::insert_all_in;
use super::writer::on_writer;
use super::writes::NewTask;
use super::{Store, StoreError, Task};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{DbErr, ExprTrait, FromQueryResult, Statement};

/// A stored schedule.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct ScheduleRow {
    pub name: String,
    /// The definition, as JSON.
    pub definition: String,
    pub enabled: i32,
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
}

impl Store {
    /// Every schedule, by name, with the latest slot it fired (read through the runs'
    /// key, one schedule at a time: never a scan of every run).
    pub async fn schedules(&self) -> Result<Vec<ScheduleRow>, StoreError> {
        let sql = "SELECT name, definition, enabled, changed_at, \
                   (SELECT MAX(slot) FROM schedule_runs WHERE schedule_runs.schedule = schedules.name) AS last_slot \
                   FROM schedules ORDER BY name";
        let statement = Statement::from_string(self.reader.get_database_backend(), sql);
        Ok(ScheduleRow::find_by_statement(statement)
            .all(&self.reader)
            .await?)
    }

    /// Forgets the runs fired before `cutoff`, except each schedule's latest, which
    /// alone decides what fires next.
    pub async fn prune_schedule_runs(&self, cutoff: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM schedule_runs WHERE fired_at < {cutoff} AND slot < \
                   (SELECT MAX(latest.slot) FROM schedule_runs latest WHERE latest.schedule = schedule_runs.schedule)";
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

    /// Stores the schedules a file declares (`(name, definition JSON, enabled)`), each
    /// replacing its earlier version but keeping when it was first stored, and disables
    /// the schedules an earlier file declared that this one does not. One transaction.
    pub async fn save_file_schedules(
        &self,
        schedules: Vec<(String, String, bool)>,
        now: i64,
    ) -> Result<(), StoreError> {
        Ok(on_writer!(&self.writer, |db| save_in(
            db,
            schedules.clone(),
            now
        ))?)
    }

    /// Fires `slot` (microseconds) of `schedule` with `task`: the task, when this call
    /// fired the slot; `None` when the slot had already fired.
    pub async fn fire(
        &self,
        schedule: &str,
        slot: i64,
        task: NewTask,
    ) -> Result<Option<Task>, StoreError> {
        let schedule = schedule.to_string();
        let fired = on_writer!(&self.writer, |db| fire_in(
            db,
            &schedule,
            slot,
            task.clone()
        ))?;
        Ok(fired.map(Task::from))
    }
}

/// A re-declared schedule's `changed_at`: now if its definition or `enabled` changed,
/// else as it was (every start re-declares every schedule of the file).
const CHANGED_AT: &str = "CASE WHEN schedules.definition <> excluded.definition \
     OR schedules.enabled <> excluded.enabled THEN excluded.changed_at ELSE schedules.changed_at END";

async fn save_in(
    db: &impl Begin,
    schedules: Vec<(String, String, bool)>,
    now: i64,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let names: Vec<String> = schedules.iter().map(|(name, _, _)| name.clone()).collect();
    for (name, definition, enabled) in schedules {
        let columns = [
            "name",
            "definition",
            "enabled",
            "source",
            "created_at",
            "changed_at",
            "updated_at",
        ];
        let upsert = Query::insert()
            .into_table(Alias::new("schedules"))
            .columns(columns.map(Alias::new))
            .values_panic([
                name.into(),
                definition.into(),
                i32::from(enabled).into(),
                "file".into(),
                now.into(),
                now.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(Alias::new("name"))
                    .update_columns(
                        ["definition", "enabled", "source", "updated_at"].map(Alias::new),
                    )
                    .value(Alias::new("changed_at"), Expr::cust(CHANGED_AT))
                    .to_owned(),
            )
            .to_owned();
        txn.run(&upsert).await?;
    }
    let dropped = Query::update()
        .table(Alias::new("schedules"))
        .value(Alias::new("enabled"), 0)
        .value(Alias::new("changed_at"), now)
        .value(Alias::new("updated_at"), now)
        .and_where(Expr::col(Alias::new("source")).eq("file"))
        .and_where(Expr::col(Alias::new("enabled")).ne(0))
        .and_where(Expr::col(Alias::new("name")).is_not_in(names))
        .to_owned();
    txn.run(&dropped).await?;
    txn.commit().await
}

async fn fire_in(
    db: &impl Begin,
    schedule: &str,
    slot: i64,
    task: NewTask,
) -> Result<Option<super::task_row::Model>, DbErr> {
    let txn = db.begin().await?;
    let run = Query::insert()
        .into_table(Alias::new("schedule_runs"))
        .columns(["schedule", "slot", "task_id", "fired_at"].map(Alias::new))
        .values_panic([
            schedule.into(),
            slot.into(),
            task.id.to_string().into(),
            task.created_at.into(),
        ])
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
    let stored = insert_all_in(&txn, vec![task], &mut tally).await?;
    tally.commit(txn).await?;
    Ok(stored.into_iter().next())
}
