//! What the group committer carries: the writes that can share a transaction, what
//! each one did, and the rows they need. The statements that run them (claims,
//! queries, successes) and the committer that batches them both use these; neither
//! imports the other's types.

use super::claimed::ClaimedTask;
use super::successes::Success;
use super::task_row;
use super::StoreError;
use sea_orm::DbErr;
use uuid::Uuid;

/// A validated task, ready to store.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub id: Uuid,
    pub task_type: String,
    pub queue: String,
    pub priority: i32,
    pub max_attempts: i32,
    pub parameters: serde_json::Value,
    pub created_at: i64,
    pub run_at: i64,
    pub timeout_ms: Option<i64>,
    /// A client's key that makes repeating this submit harmless.
    pub idempotency_key: Option<String>,
    /// At most one task with this key in the states that count (see [`UniqueKey`]).
    pub unique: Option<UniqueKey>,
}

/// A unique task's stored key (its kind, key and period folded into one) and the mask of
/// finished states that count for it (`model::FINISHED_BITS`); waiting and running
/// always count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueKey {
    pub key: String,
    pub finished_states: i32,
}

/// A write that can share a transaction with others.
#[derive(Clone, Debug)]
pub(super) enum Write {
    Insert(NewTask),
    Claim {
        queue: String,
        limit: u64,
        worker_id: String,
        now: i64,
        lease_until: i64,
    },
    /// A successful attempt; a batch's successes are recorded together.
    Succeed(Success),
    /// An attempt that failed or was cancelled.
    Finish {
        id: Uuid,
        attempt: i32,
        now: i64,
        ending: Ending,
    },
    /// A running attempt's lease renewed, with its latest progress.
    Heartbeat {
        id: Uuid,
        attempt: i32,
        lease_until: i64,
        progress: Option<(u8, Option<String>)>,
    },
}

/// What a write did, by kind.
#[derive(Debug)]
pub(super) enum Written {
    Inserted(Box<task_row::Model>),
    Claimed(Vec<ClaimedTask>),
    Finished(bool),
    Beat(Heartbeat),
}

/// What a heartbeat learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// The attempt still owns the task.
    Owned { cancel_requested: bool },
    /// The task is no longer this attempt's (rescued, cancelled, finished elsewhere).
    Lost,
}

/// How an attempt ended other than in success. Successes are recorded in batches (see
/// [`super::successes`]), so the code that records the other endings never sees one.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Ending {
    Failed {
        error: String,
        retry_at: Option<i64>,
    },
    Cancelled,
}

impl Written {
    /// The tasks a claim took.
    pub fn into_claimed(self) -> Result<Vec<ClaimedTask>, StoreError> {
        match self {
            Written::Claimed(tasks) => Ok(tasks),
            other => Err(unexpected(other)),
        }
    }
}

/// The error a caller gets when the committer is gone (the store is shutting down).
pub(super) fn committer_stopped() -> DbErr {
    DbErr::Custom("the store's committer has stopped".into())
}

/// A write answered with another kind of result than it asks for: a bug in the store.
pub(super) fn unexpected(written: Written) -> StoreError {
    DbErr::Custom(format!("the committer answered a write with {written:?}")).into()
}
