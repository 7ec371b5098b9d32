//! Inserting tasks and reading them back: single lookups, keyset-paged lists, and counts
//! of what a filter selects.

use super::conn::{is_unique_violation, Begin, Conn};
use super::counting::Tally;
use super::task_row::{self, Column, Entity as Tasks};
use super::writer::on_writer;
use super::writes::{unexpected, NewTask, Write, Written};
use super::{Store, StoreError, Task};
use crate::model::TaskStatus;
use sea_orm::sea_query::{Alias, Expr, Func, LikeExpr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

/// Why an insert failed.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// Another task already holds this idempotency key.
    #[error("idempotency key already used")]
    DuplicateKey,
    /// The task holding a unique key stopped counting each time it was looked for.
    #[error("the unique key changed hands; try again")]
    UniqueKeyMoved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which tasks a list shows, newest first.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only tasks in one of these statuses (none: any).
    pub statuses: Vec<TaskStatus>,
    pub task_type: Option<String>,
    pub queue: Option<String>,
    /// Text to find in parameters, results or errors, ignoring case.
    pub search: Option<String>,
    /// Kinds whose parameters hold hidden secrets, which the search must not look in (a
    /// search could reveal them a character at a time).
    pub secret_parameters_of: Vec<String>,
    /// Keyset cursor: only tasks strictly older than this `(created_at, id)`.
    pub before: Option<(i64, Uuid)>,
    pub limit: u64,
}

impl Store {
    /// Stores a new task; it is durable when this returns.
    /// Concurrent submits share one commit.
    pub async fn insert(&self, task: NewTask) -> Result<Task, StoreError> {
        match self.commits.write(Write::Insert(task)).await? {
            Written::Inserted(row) => Ok(Task::from(*row)),
            other => Err(unexpected(other)),
        }
    }

    /// Stores a task carrying an idempotency key, or reports that the key is taken.
    pub async fn insert_keyed(&self, task: NewTask) -> Result<Task, InsertError> {
        match self.commits.write(Write::Insert(task)).await {
            Ok(Written::Inserted(row)) => Ok(Task::from(*row)),
            Ok(other) => Err(unexpected(other).into()),
            Err(err) if is_unique_violation(&err) => Err(InsertError::DuplicateKey),
            Err(err) => Err(StoreError::from(err).into()),
        }
    }

    /// Stores every task or none, in one transaction.
    pub async fn insert_all(&self, tasks: Vec<NewTask>) -> Result<Vec<Task>, StoreError> {
        let rows = on_writer!(&self.writer, |db| insert_all_at_once(db, tasks.clone()))?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// The task submitted with this idempotency key, if any.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<Task>, StoreError> {
        // A reader sees every commit made before the read began, so a task whose key
        // was refused a moment ago is found.
        let row = Tasks::find()
            .filter(Column::IdempotencyKey.eq(key))
            .one(&self.reader)
            .await?;
        Ok(row.map(Task::from))
    }

    /// One task by id.
    pub async fn get(&self, id: Uuid) -> Result<Option<Task>, StoreError> {
        let row = Tasks::find_by_id(id).one(&self.reader).await?;
        Ok(row.map(Task::from))
    }

    /// Those of these tasks that exist, in one read (the caller keeps the list short).
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<Task>, StoreError> {
        let rows = Tasks::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// A page of tasks, newest first, read through the `(created_at, id)` indexes.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Task>, StoreError> {
        let rows = self
            .selecting(filter)
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(filter.limit)
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// The ids and creation times of a page of the tasks `filter` selects, newest first:
    /// what a bulk action needs of them.
    pub async fn list_ids(&self, filter: &ListFilter) -> Result<Vec<(Uuid, i64)>, StoreError> {
        Ok(self
            .selecting(filter)
            .select_only()
            .column(Column::Id)
            .column(Column::CreatedAt)
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(filter.limit)
            .into_tuple::<(Uuid, i64)>()
            .all(&self.reader)
            .await?)
    }

    /// How many tasks `filter` selects (its limit aside), counting at most `cap` of them;
    /// and whether more match. Capped so a count never reads more rows than that.
    pub async fn count(&self, filter: &ListFilter, cap: u64) -> Result<(u64, bool), StoreError> {
        let matched = self
            .selecting(filter)
            .select_only()
            .column(Column::Id)
            .limit(cap.saturating_add(1))
            .into_query();
        let count = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(matched, Alias::new("matched"))
            .to_owned();
        let counted = self.reader.fetch::<i64>(&count).await?;
        let counted = u64::try_from(counted.first().copied().unwrap_or(0)).unwrap_or(0);
        Ok((Ord::min(counted, cap), counted > cap))
    }

    /// Tasks whose id ends with the hex digits `suffix` (see [`crate::model::id_suffix`]),
    /// newest first, at most `limit`. A scan of the ids: for looking up one task by the
    /// digits a person typed.
    pub async fn find_by_id_suffix(
        &self,
        suffix: &str,
        limit: u64,
    ) -> Result<Vec<Task>, StoreError> {
        let rows = Tasks::find()
            .filter(self.id_ends_with(suffix))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// The id ends with `suffix`. Written into the SQL, so only for hex digits (the
    /// caller's `id_suffix` checked them): SQLite stores an id as 16 bytes, PostgreSQL
    /// as a `uuid`, and each spells it as text its own way.
    fn id_ends_with(&self, suffix: &str) -> Expr {
        let digits: String = suffix.chars().filter(char::is_ascii_hexdigit).collect();
        let id_text = match self.backend() {
            sea_orm::DatabaseBackend::Postgres => "replace(tasks.id::text, '-', '')",
            _ => "lower(hex(tasks.id))",
        };
        Expr::cust(format!("{id_text} LIKE '%{digits}'"))
    }

    /// The query selecting what `filter` asks for, unordered and unlimited.
    fn selecting(&self, filter: &ListFilter) -> Select<Tasks> {
        let mut query = Tasks::find();
        if !filter.statuses.is_empty() {
            query = query.filter(Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
        }
        if let Some(task_type) = &filter.task_type {
            query = query.filter(Column::TaskType.eq(task_type.as_str()));
        }
        if let Some(queue) = &filter.queue {
            query = query.filter(Column::Queue.eq(queue.as_str()));
        }
        if let Some(text) = &filter.search {
            // Case-insensitive on both databases: the column goes through the database's
            // LOWER, the text through the same folding in Rust (SQLite's LOWER folds ASCII
            // letters only, PostgreSQL's every letter).
            let folded = match self.backend() {
                sea_orm::DatabaseBackend::Postgres => text.to_lowercase(),
                _ => text.to_ascii_lowercase(),
            };
            let pattern = format!("%{}%", escape_like(&folded));
            let like = |column: Column| {
                Func::lower(Expr::col(column)).like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            let parameters = Condition::all()
                .add(like(Column::Parameters))
                .add(Column::TaskType.is_not_in(filter.secret_parameters_of.iter().cloned()));
            let mut any = Condition::any()
                .add(parameters)
                .add(like(Column::ResultData))
                .add(like(Column::ErrorMessage));
            if let Some(suffix) = crate::model::id_suffix(text) {
                any = any.add(self.id_ends_with(&suffix));
            }
            query = query.filter(any);
        }
        if let Some((created_at, id)) = filter.before {
            query = query.filter(
                Condition::any().add(Column::CreatedAt.lt(created_at)).add(
                    Condition::all()
                        .add(Column::CreatedAt.eq(created_at))
                        .add(Column::Id.lt(id)),
                ),
            );
        }
        query
    }
}
/// `text` with LIKE's wildcards (and the escape character) escaped by a backslash.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Stores every task or none (see [`Store::insert_all`]).
async fn insert_all_at_once(
    db: &impl Begin,
    tasks: Vec<NewTask>,
) -> Result<Vec<task_row::Model>, DbErr> {
    let txn = db.begin().await?;
    let mut tally = Tally::default();
    let stored = insert_all_in(&txn, tasks, &mut tally).await?;
    tally.commit(txn).await?;
    Ok(stored)
}

/// Stores tasks, a few hundred rows per statement, and tallies them (atomic only inside a
/// transaction).
pub(super) async fn insert_all_in(
    db: &impl Conn,
    tasks: Vec<NewTask>,
    tally: &mut Tally,
) -> Result<Vec<task_row::Model>, DbErr> {
    let mut stored = Vec::with_capacity(tasks.len());
    for chunk in tasks.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().cloned().map(new_row);
        let mut insert = Tasks::insert_many(rows).into_query();
        insert.returning_all();
        stored.extend(db.fetch::<task_row::Model>(&insert).await?);
    }
    for task in &stored {
        tally.added(&task.queue, &task.task_type, task.status());
    }
    Ok(stored)
}

/// Rows inserted per statement (SQLite binds at most 32,766 values; a task binds 21).
const INSERT_CHUNK: usize = 500;

/// The row a new task is stored as: SCHEDULED when it must wait, else PENDING.
pub(super) fn new_row(task: NewTask) -> task_row::ActiveModel {
    let status = if task.run_at > task.created_at {
        TaskStatus::Scheduled
    } else {
        TaskStatus::Pending
    };
    task_row::ActiveModel {
        id: Set(task.id),
        task_type: Set(task.task_type),
        queue: Set(task.queue),
        status: Set(status.as_str().to_string()),
        priority: Set(task.priority),
        attempt: Set(0),
        max_attempts: Set(task.max_attempts),
        parameters: Set(task.parameters.to_string()),
        result_data: Set(None),
        error_message: Set(None),
        progress: Set(0),
        progress_message: Set(None),
        created_at: Set(task.created_at),
        run_at: Set(task.run_at),
        started_at: Set(None),
        completed_at: Set(None),
        lease_expires_at: Set(None),
        worker_id: Set(None),
        cancel_requested: Set(false),
        timeout_ms: Set(task.timeout_ms),
        idempotency_key: Set(task.idempotency_key),
        unique_key: Set(task.unique.as_ref().map(|unique| unique.key.clone())),
        unique_states: Set(task.unique.map_or(0, |unique| unique.finished_states)),
        log_lines: Set(0),
    }
}
