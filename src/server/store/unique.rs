//! Inserting unique tasks. The partial unique index `tasks_unique_key` holds only the
//! tasks that count for their key, so an insert that would be a second one does nothing
//! (`ON CONFLICT … DO NOTHING`) and the task that holds the key is read instead: one per
//! key across every process, decided by the database.

use super::conn::{is_unique_violation, Begin, Conn};
use super::counting::Tally;
use super::queries::{new_row, InsertError};
use super::task_row::{self, Column, Entity as Tasks};
use super::writer::on_writer;
use super::writes::NewTask;
use super::{Store, StoreError, Task};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

/// Whether a task counts for its unique key: the condition of the `tasks_unique_key`
/// index, written exactly as migration 13 wrote it so that both databases match a
/// conflict, and a lookup, to that index.
const COUNTS: &str = "unique_key IS NOT NULL AND (\
        status IN ('PENDING', 'SCHEDULED', 'RUNNING') \
        OR (status = 'SUCCESS' AND (unique_states & 1) <> 0) \
        OR (status = 'FAILED' AND (unique_states & 2) <> 0) \
        OR (status = 'CANCELLED' AND (unique_states & 4) <> 0))";

/// How often an insert looks again when the task holding its key stopped counting
/// between the insert and the lookup.
const TRIES: usize = 3;

/// What inserting a unique task found.
#[derive(Debug)]
pub enum Unique<T> {
    /// It was stored.
    Stored(T),
    /// Another task holds its key: that one.
    Held(T),
}

impl Store {
    /// Stores a unique task, unless a task that counts holds its key: then that task.
    pub async fn insert_unique(&self, task: NewTask) -> Result<Unique<Task>, InsertError> {
        let inserted = on_writer!(&self.writer, |db| insert_unique_at_once(db, task.clone()));
        match inserted {
            Ok(Some(Unique::Stored(row))) => Ok(Unique::Stored(Task::from(row))),
            Ok(Some(Unique::Held(row))) => Ok(Unique::Held(Task::from(row))),
            Ok(None) => Err(InsertError::UniqueKeyMoved),
            // Only the idempotency key's index can still refuse it.
            Err(err) if is_unique_violation(&err) => Err(InsertError::DuplicateKey),
            Err(err) => Err(StoreError::from(err).into()),
        }
    }
}

async fn insert_unique_at_once(
    db: &impl Begin,
    task: NewTask,
) -> Result<Option<Unique<task_row::Model>>, DbErr> {
    let txn = db.begin().await?;
    let mut tally = Tally::default();
    let found = insert_unique_in(&txn, task, &mut tally).await?;
    tally.commit(txn).await?;
    Ok(found)
}

/// Inserts `task` (which has a unique key) unless a task that counts holds its key;
/// none when the holder stopped counting each time it was looked for.
pub(super) async fn insert_unique_in(
    db: &impl Conn,
    task: NewTask,
    tally: &mut Tally,
) -> Result<Option<Unique<task_row::Model>>, DbErr> {
    let key = task.unique.as_ref().map(|unique| unique.key.clone());
    for _ in 0..TRIES {
        let mut insert = Tasks::insert(new_row(task.clone())).into_query();
        insert
            .on_conflict(
                OnConflict::column(Column::UniqueKey)
                    .target_and_where(Expr::cust(COUNTS))
                    .do_nothing()
                    .to_owned(),
            )
            .returning_all();
        if let Some(row) = db.fetch::<task_row::Model>(&insert).await?.pop() {
            tally.added(&row.queue, &row.task_type, row.status());
            return Ok(Some(Unique::Stored(row)));
        }
        let holder = Tasks::find()
            .filter(Column::UniqueKey.eq(key.clone()))
            .filter(Expr::cust(COUNTS))
            .limit(1)
            .build(db.backend());
        if let Some(row) = db.query::<task_row::Model>(holder).await?.pop() {
            return Ok(Some(Unique::Held(row)));
        }
    }
    Ok(None)
}
