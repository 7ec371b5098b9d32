//! The task change feed: which tasks changed in a way a follower sees (status, progress,
//! progress message, log line count) or were deleted, published once for the whole
//! process, so event streams learn of a change without reading the store on a timer.
//!
//! The database itself reports the changes, so no write path can forget to:
//! - On SQLite, where one process owns the file, temporary triggers on the writer's
//!   connection, installed while anything follows a task, call a function of this
//!   module for each changed row (see [`SqliteChanges::watch`]); the writer thread
//!   publishes what a job changed once the job is over, its commit included.
//! - On PostgreSQL, statement triggers send one notification per changing statement
//!   with the changed ids (a `*` when there are too many to list), delivered to every
//!   process on commit, the one that made the change included; each process's listener
//!   publishes them here (see `super::postgres::relay`).
//!
//! A change is a hint to read the task again, never the task itself: a change reported
//! for a transaction that then rolled back costs a read and nothing else.

use super::conn::Conn;
use sea_orm::{DatabaseBackend, DbErr, Statement};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Batches of changes held for a follower that lags; past this it hears
/// [`Changed::Unknown`] instead (see [`TaskChanges::subscribe`]).
const BACKLOG: usize = 256;
/// Ids one job may report; a job changing more reports [`Changed::Unknown`], so a bulk
/// update or a prune never buffers an id per row.
const MOST_IDS: usize = 1024;
/// The PostgreSQL notification's word for "more tasks than fit in one notification".
pub(super) const MANY: &str = "*";

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// These tasks changed or were deleted.
    Tasks(Vec<Uuid>),
    /// Any task may have changed: too many to list, or changes may have been missed (a
    /// lagging subscriber, a reconnected listener).
    Unknown,
}

/// The feed; cheap to clone.
#[derive(Clone, Debug)]
pub struct TaskChanges {
    sender: broadcast::Sender<Arc<Changed>>,
}

impl Default for TaskChanges {
    fn default() -> Self {
        TaskChanges {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl TaskChanges {
    /// Hears every change published from now on. A receiver that falls more than
    /// [`BACKLOG`] batches behind gets `RecvError::Lagged`, which means
    /// [`Changed::Unknown`].
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Changed>> {
        self.sender.subscribe()
    }

    /// Tells every subscriber; nothing to do when there is none.
    pub fn publish(&self, changed: Changed) {
        if self.sender.receiver_count() > 0 && changed != Changed::Tasks(Vec::new()) {
            // Only fails when no one listens, which is fine.
            let _ = self.sender.send(Arc::new(changed));
        }
    }

    /// Publishes a PostgreSQL notification's payload: ids separated by commas, or
    /// [`MANY`]. A payload that does not parse is published as [`Changed::Unknown`].
    pub(super) fn publish_payload(&self, payload: &str) {
        if self.sender.receiver_count() == 0 {
            return;
        }
        let ids: Option<Vec<Uuid>> = (payload != MANY)
            .then(|| payload.split(',').map(|id| id.parse().ok()).collect())
            .flatten();
        self.publish(ids.map_or(Changed::Unknown, Changed::Tasks));
    }
}

/// The changes the SQLite writer's current job has made, gathered by the triggers of
/// [`SqliteChanges::watch`] and published by [`SqliteChanges::publish`] after the job.
#[derive(Clone, Debug)]
pub(super) struct SqliteChanges {
    feed: TaskChanges,
    pending: Arc<Mutex<Pending>>,
    /// How many watch the changes (see [`SqliteChanges::watch`]).
    watchers: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct Pending {
    /// A set: a batch often changes one task several times (log lines, progress).
    ids: HashSet<Uuid>,
    overflowed: bool,
}

impl SqliteChanges {
    pub fn new(feed: TaskChanges) -> SqliteChanges {
        SqliteChanges {
            feed,
            pending: Arc::default(),
            watchers: Arc::default(),
        }
    }

    fn record(&self, id: Uuid) {
        if self.feed.sender.receiver_count() == 0 {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.ids.len() < MOST_IDS {
            pending.ids.insert(id);
        } else if !pending.ids.contains(&id) {
            pending.overflowed = true;
        }
    }

    /// Publishes what the job that just ended changed. Called by the writer thread after
    /// each job, so the changes are committed (or rolled back) by then.
    pub fn publish(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.ids.is_empty() && !pending.overflowed {
            return;
        }
        let pending = std::mem::take(&mut *pending);
        self.feed.publish(if pending.overflowed {
            Changed::Unknown
        } else {
            Changed::Tasks(pending.ids.into_iter().collect())
        });
    }
}

/// Registers on `conn` the function the triggers of [`SqliteChanges::watch`] call for
/// each changed task row; it tells `changes`.
pub(super) fn register_sqlite(
    conn: &rusqlite::Connection,
    changes: SqliteChanges,
) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "spool_task_changed",
        1,
        // Not deterministic: it must run for every row. Innocuous: its only effect is
        // outside the database, so triggers may call it.
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS,
        move |context| {
            if let Ok(id) = context.get::<Uuid>(0) {
                changes.record(id);
            }
            Ok(rusqlite::types::Null)
        },
    )
}

/// Temporary triggers, on the writer's connection only (the only one that writes), that
/// report each task row changed as a follower sees it, or deleted.
const TRIGGERS: [&str; 2] = [
    "CREATE TEMP TRIGGER IF NOT EXISTS spool_task_updated AFTER UPDATE ON main.tasks
     WHEN OLD.status IS NOT NEW.status OR OLD.progress IS NOT NEW.progress
       OR OLD.progress_message IS NOT NEW.progress_message
       OR OLD.log_lines IS NOT NEW.log_lines
     BEGIN SELECT spool_task_changed(NEW.id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS spool_task_deleted AFTER DELETE ON main.tasks
     BEGIN SELECT spool_task_changed(OLD.id); END",
];
const DROP_TRIGGERS: [&str; 2] = [
    "DROP TRIGGER IF EXISTS temp.spool_task_updated",
    "DROP TRIGGER IF EXISTS temp.spool_task_deleted",
];

impl SqliteChanges {
    /// One more (`true`) or one fewer watcher of the changes. A trigger costs every
    /// write a little, so they are there only while someone watches: a process that
    /// follows no task writes as fast as one without a feed. Runs on the writer's
    /// connection, one job at a time, so the count and the triggers agree. Each new
    /// watcher creates the triggers if they are missing (a create rolled back with a
    /// stuck transaction, say); the last one gone drops them.
    pub async fn watch(&self, conn: &impl Conn, on: bool) -> Result<(), DbErr> {
        let before = self.watchers.load(Relaxed);
        let (after, statements) = match (on, before) {
            (true, _) => (before + 1, TRIGGERS),
            (false, 1) => (0, DROP_TRIGGERS),
            (false, _) => (before.saturating_sub(1), [""; 2]),
        };
        for sql in statements.into_iter().filter(|sql| !sql.is_empty()) {
            conn.execute(Statement::from_string(DatabaseBackend::Sqlite, sql))
                .await?;
        }
        self.watchers.store(after, Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_ids_or_many_and_anything_else_is_unknown() {
        let feed = TaskChanges::default();
        let mut heard = feed.subscribe();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        feed.publish_payload(&format!("{a},{b}"));
        feed.publish_payload(MANY);
        feed.publish_payload("not-an-id");
        assert_eq!(*heard.try_recv().unwrap(), Changed::Tasks(vec![a, b]));
        assert_eq!(*heard.try_recv().unwrap(), Changed::Unknown);
        assert_eq!(*heard.try_recv().unwrap(), Changed::Unknown);
        assert!(heard.try_recv().is_err());
    }

    #[test]
    fn a_job_changing_more_rows_than_are_listed_reports_unknown() {
        let feed = TaskChanges::default();
        let mut heard = feed.subscribe();
        let changes = SqliteChanges::new(feed);
        changes.publish();
        assert!(
            heard.try_recv().is_err(),
            "a job that changed nothing is silent"
        );
        for _ in 0..=MOST_IDS {
            changes.record(Uuid::new_v4());
        }
        changes.publish();
        assert_eq!(*heard.try_recv().unwrap(), Changed::Unknown);
        let id = Uuid::new_v4();
        changes.record(id);
        changes.publish();
        assert_eq!(*heard.try_recv().unwrap(), Changed::Tasks(vec![id]));
    }
}
