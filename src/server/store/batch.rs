//! One batch of writes applied together: submits as multi-row inserts, successful
//! outcomes as one set-based update plus their counters (see [`super::successes`]),
//! claims, other endings and heartbeats each as their statement, all in one
//! transaction. The group committer (see [`super::group_commit`]) decides what goes in a
//! batch and answers the callers; this only runs the statements.

use super::attempts::{finish_in, heartbeat_in};
use super::claims::claim_in;
use super::conflicts::retry_conflicts;
use super::conn::{Begin, Conn};
use super::counting::Tally;
use super::queries::insert_all_in;
use super::successes::{self, Success};
use super::task_row;
use super::writes::{NewTask, Write, Written};
use sea_orm::{DatabaseBackend, DbErr};
use std::collections::HashMap;
use uuid::Uuid;

/// Runs `writes` in one transaction (again, on PostgreSQL, while it loses lock races) and
/// answers each, in order. Submits go in as multi-row inserts and successful outcomes as
/// one set-based update (see [`super::successes`]); what the batch changed is counted
/// once, at its end (see [`super::counting`]).
pub(super) async fn apply_all(db: &impl Begin, writes: &[&Write]) -> Result<Vec<Written>, DbErr> {
    match db.backend() {
        DatabaseBackend::Postgres => retry_conflicts(|| apply_once(db, writes)).await,
        _ => apply_once(db, writes).await,
    }
}

async fn apply_once(db: &impl Begin, writes: &[&Write]) -> Result<Vec<Written>, DbErr> {
    if let [write] = writes {
        if write.is_one_statement() {
            // A statement is atomic on its own: no BEGIN and COMMIT needed.
            return apply_writes(db, writes, &mut Tally::default()).await;
        }
    }
    let txn = db.begin().await?;
    let mut tally = Tally::default();
    let results = apply_writes(&txn, writes, &mut tally).await?;
    tally.commit(txn).await?;
    Ok(results)
}

impl Write {
    /// True when this write alone is a single SQL statement: a heartbeat. Every other
    /// write changes counters and attempt records besides its tasks.
    fn is_one_statement(&self) -> bool {
        matches!(self, Write::Heartbeat { .. })
    }
}

/// Runs `writes` in the caller's transaction, answers each, and adds what they changed
/// to `tally`, which the caller writes once, before its commit.
pub(super) async fn apply_writes(
    db: &impl Conn,
    writes: &[&Write],
    tally: &mut Tally,
) -> Result<Vec<Written>, DbErr> {
    let mut results: Vec<Option<Written>> = writes.iter().map(|_| None).collect();

    let inserts: Vec<(usize, &NewTask)> = writes
        .iter()
        .enumerate()
        .filter_map(|(i, write)| match write {
            Write::Insert(task) => Some((i, task)),
            _ => None,
        })
        .collect();
    if !inserts.is_empty() {
        let tasks: Vec<NewTask> = inserts.iter().map(|(_, task)| (*task).clone()).collect();
        let mut stored: HashMap<Uuid, task_row::Model> = insert_all_in(db, tasks, tally)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        for (i, task) in inserts {
            let row = stored
                .remove(&task.id)
                .ok_or_else(|| DbErr::Custom("an inserted task was not returned".into()))?;
            results[i] = Some(Written::Inserted(Box::new(row)));
        }
    }

    let mut successes = Vec::new();
    for (i, write) in writes.iter().enumerate() {
        match write {
            Write::Insert(_) => {}
            Write::Claim {
                queue,
                limit,
                worker_id,
                now,
                lease_until,
            } => {
                let claimed =
                    claim_in(db, queue, *limit, worker_id, *now, *lease_until, tally).await?;
                results[i] = Some(Written::Claimed(claimed));
            }
            Write::Succeed(success) => successes.push((i, success)),
            Write::Finish {
                id,
                attempt,
                now,
                ending,
            } => {
                let changed = finish_in(db, *id, *attempt, *now, ending.clone(), tally).await?;
                results[i] = Some(Written::Finished(changed));
            }
            Write::Heartbeat {
                id,
                attempt,
                lease_until,
                progress,
            } => {
                let beat = heartbeat_in(db, *id, *attempt, *lease_until, progress.clone()).await?;
                results[i] = Some(Written::Beat(beat));
            }
        }
    }
    if !successes.is_empty() {
        let (slots, successes): (Vec<usize>, Vec<&Success>) = successes.into_iter().unzip();
        let changed = successes::record_all(db, &successes, tally).await?;
        for (i, success) in slots.into_iter().zip(&successes) {
            results[i] = Some(Written::Finished(
                changed.contains(&(success.id, success.attempt)),
            ));
        }
    }

    results
        .into_iter()
        .map(|result| result.ok_or_else(|| DbErr::Custom("a write was not applied".into())))
        .collect()
}
