//! Storing schedules' definitions: those a `--schedules` file declares (applied at each
//! start) and those the API makes, replaces, pauses, resumes and deletes. The file owns
//! what it declares; the statements here keep it so even when a start and an API call
//! race.

use super::conn::{Begin, Commit, Conn};
use super::writer::on_writer;
use super::{Store, StoreError};
use sea_orm::sea_query::{Alias, Expr, InsertStatement, OnConflict, Query};
use sea_orm::{DbErr, ExprTrait};

/// What storing or deleting a schedule through the API did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Created,
    Replaced,
    Deleted,
    /// Nothing: there is no schedule by that name.
    Missing,
    /// Nothing: the schedule is the `--schedules` file's to change.
    FileOwned,
}

impl Store {
    /// Stores a schedule made or replaced through the API (`definition` as JSON), unless
    /// the `--schedules` file declared it.
    pub async fn save_schedule(
        &self,
        name: &str,
        definition: String,
        enabled: bool,
        now: i64,
    ) -> Result<Saved, StoreError> {
        let name = name.to_string();
        Ok(on_writer!(&self.writer, |db| save_api_in(
            db,
            &name,
            definition.clone(),
            enabled,
            now
        ))?)
    }

    /// Pauses or resumes a schedule; false when there is none by that name. A change
    /// restarts its slots from now, so the slots of a pause never fire.
    pub async fn set_schedule_enabled(
        &self,
        name: &str,
        enabled: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed_at = format!(
            "CASE WHEN enabled <> {} THEN {now} ELSE changed_at END",
            i32::from(enabled)
        );
        let update = Query::update()
            .table(Alias::new("schedules"))
            .value(Alias::new("changed_at"), Expr::cust(changed_at))
            .value(Alias::new("enabled"), i32::from(enabled))
            .value(Alias::new("updated_at"), now)
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .to_owned();
        Ok(on_writer!(&self.writer, |db| db.run(&update))? > 0)
    }

    /// Deletes a schedule the API made, and its runs (not their tasks).
    pub async fn delete_schedule(&self, name: &str) -> Result<Saved, StoreError> {
        let name = name.to_string();
        Ok(on_writer!(&self.writer, |db| delete_in(db, &name))?)
    }

    /// Stores the schedules a file declares (`(name, definition JSON, enabled)`), each
    /// replacing its earlier version (the API's too) but keeping when it was first
    /// stored, and a pause or resume unless its definition changed. The schedules an
    /// earlier file declared that this one does not are disabled and left to the API
    /// (to delete, say). One transaction.
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
}

/// Whether a stored schedule is being declared anew by the file: a different definition
/// (which holds the file's `enabled`), or one the API made. Every start re-declares every
/// schedule of the file; one it declares unchanged keeps its pause or resume.
const FILE_CHANGES_IT: &str =
    "(schedules.definition <> excluded.definition OR schedules.source <> 'file')";

/// A schedule replaced through the API changes when its definition or `enabled` does.
const API_CHANGES_IT: &str =
    "(schedules.definition <> excluded.definition OR schedules.enabled <> excluded.enabled)";

/// The insert of a schedule first stored `now`, from `source` (`file` or `api`); each
/// caller says what a name already stored means.
fn new_schedule(
    name: &str,
    definition: String,
    enabled: bool,
    source: &str,
    now: i64,
) -> InsertStatement {
    let columns = [
        "name",
        "definition",
        "enabled",
        "source",
        "created_at",
        "changed_at",
        "updated_at",
    ];
    Query::insert()
        .into_table(Alias::new("schedules"))
        .columns(columns.map(Alias::new))
        .values_panic([
            name.into(),
            definition.into(),
            i32::from(enabled).into(),
            source.into(),
            now.into(),
            now.into(),
            now.into(),
        ])
        .to_owned()
}

/// `column` takes the new row's value when `changes` holds, else keeps its own.
fn when_changed(changes: &str, column: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!(
        "CASE WHEN {changes} THEN excluded.{column} ELSE schedules.{column} END"
    ))
}

async fn save_in(
    db: &impl Begin,
    schedules: Vec<(String, String, bool)>,
    now: i64,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let names: Vec<String> = schedules.iter().map(|(name, _, _)| name.clone()).collect();
    for (name, definition, enabled) in schedules {
        let upsert = new_schedule(&name, definition, enabled, "file", now)
            .on_conflict(
                OnConflict::column(Alias::new("name"))
                    .update_columns(["definition", "source", "updated_at"].map(Alias::new))
                    .value(
                        Alias::new("enabled"),
                        when_changed(FILE_CHANGES_IT, "enabled"),
                    )
                    .value(
                        Alias::new("changed_at"),
                        when_changed(FILE_CHANGES_IT, "changed_at"),
                    )
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
        .value(Alias::new("source"), "api")
        .and_where(Expr::col(Alias::new("source")).eq("file"))
        .and_where(Expr::col(Alias::new("name")).is_not_in(names))
        .to_owned();
    txn.run(&dropped).await?;
    txn.commit().await
}

async fn save_api_in(
    db: &impl Begin,
    name: &str,
    definition: String,
    enabled: bool,
    now: i64,
) -> Result<Saved, DbErr> {
    let txn = db.begin().await?;
    let source = Query::select()
        .column(Alias::new("source"))
        .from(Alias::new("schedules"))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .to_owned();
    let saved = match txn
        .fetch::<String>(&source)
        .await?
        .first()
        .map(String::as_str)
    {
        Some("file") => {
            txn.rollback().await?;
            return Ok(Saved::FileOwned);
        }
        Some(_) => Saved::Replaced,
        None => Saved::Created,
    };
    let upsert = new_schedule(name, definition, enabled, "api", now)
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .update_columns(["definition", "enabled", "updated_at"].map(Alias::new))
                .value(
                    Alias::new("changed_at"),
                    when_changed(API_CHANGES_IT, "changed_at"),
                )
                // A file that declared it since the look above keeps it.
                .action_and_where(Expr::cust("schedules.source <> 'file'"))
                .to_owned(),
        )
        .to_owned();
    if txn.run(&upsert).await? == 0 {
        txn.rollback().await?;
        return Ok(Saved::FileOwned);
    }
    txn.commit().await?;
    Ok(saved)
}

async fn delete_in(db: &impl Begin, name: &str) -> Result<Saved, DbErr> {
    let txn = db.begin().await?;
    let schedule = Query::delete()
        .from_table(Alias::new("schedules"))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .and_where(Expr::col(Alias::new("source")).ne("file"))
        .to_owned();
    if txn.run(&schedule).await? == 0 {
        let exists = Query::select()
            .column(Alias::new("source"))
            .from(Alias::new("schedules"))
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .to_owned();
        let found = txn.fetch::<String>(&exists).await?;
        txn.rollback().await?;
        return Ok(if found.is_empty() {
            Saved::Missing
        } else {
            Saved::FileOwned
        });
    }
    let runs = Query::delete()
        .from_table(Alias::new("schedule_runs"))
        .and_where(Expr::col(Alias::new("schedule")).eq(name))
        .to_owned();
    txn.run(&runs).await?;
    txn.commit().await?;
    Ok(Saved::Deleted)
}
