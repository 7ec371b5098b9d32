//! Followers of a task, as event streams follow it. The store's change feed (see
//! `Store::task_changes`) tells which tasks changed; one hub per process reads again only
//! the followed ones among them, all in one read, and publishes each to its followers
//! through a `watch` channel. So the store is read once per change of a followed task:
//! never per stream, and never on a timer while nothing changes.
//!
//! A follower slower than the changes sees only the latest state (a watch channel holds
//! one value), so nothing buffers without bound. A task's channel closes after its final
//! state, when the task is deleted, or when its last follower goes; the hub stops when
//! nothing is followed and starts again with the next follower.

use super::{Queue, QueueError};
use crate::model::TaskView;
use crate::server::store::Changed;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch, Notify};
use uuid::Uuid;

/// Tasks read at once, at most.
const MOST_READ: usize = 500;
/// How often the hub forgets the tasks no one follows any more, and reads again the ones
/// whose last read failed.
const SWEEP: Duration = Duration::from_secs(1);

/// The followed tasks and their hub.
#[derive(Default)]
pub struct Followed {
    state: Mutex<State>,
    /// Wakes the hub for a newly followed task.
    poke: Notify,
    /// Tasks read for followers since the process started.
    reads: AtomicU64,
}

#[derive(Default)]
struct State {
    feeds: HashMap<Uuid, watch::Sender<Arc<TaskView>>>,
    /// Tasks the hub reads at its next pass whatever the feed said: newly followed ones
    /// (they may have changed between their first read and their joining the feeds) and
    /// those whose last read failed.
    recheck: HashSet<Uuid>,
    hub_running: bool,
}

impl Followed {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many tasks are followed now.
    pub fn tasks(&self) -> usize {
        self.state()
            .feeds
            .values()
            .filter(|sender| !sender.is_closed())
            .count()
    }

    /// How many task reads the followers have cost since the process started.
    pub fn reads(&self) -> u64 {
        self.reads.load(Relaxed)
    }
}

impl Queue {
    /// Follows task `id`: the receiver holds the task now, then each change of its
    /// status, progress, message or log line count, until the task is final or gone.
    /// 404 for an unknown task.
    pub async fn follow(&self, id: Uuid) -> Result<watch::Receiver<Arc<TaskView>>, QueueError> {
        if let Some(sender) = self.followed.state().feeds.get(&id) {
            if !sender.is_closed() {
                return Ok(sender.subscribe());
            }
        }
        self.followed.reads.fetch_add(1, Relaxed);
        let task = Arc::new(self.get(id).await?);
        let (sender, receiver) = watch::channel(Arc::clone(&task));
        if task.status.is_final() {
            // Nothing more to follow: the receiver holds the last state.
            return Ok(receiver);
        }
        let mut state = self.followed.state();
        // Another follower may have joined meanwhile.
        if let Some(sender) = state.feeds.get(&id).filter(|sender| !sender.is_closed()) {
            return Ok(sender.subscribe());
        }
        state.feeds.insert(id, sender);
        state.recheck.insert(id);
        if state.hub_running {
            self.followed.poke.notify_one();
        } else {
            state.hub_running = true;
            // Subscribed now, before the recheck: no change after it goes unheard.
            tokio::spawn(run_hub(self.clone(), self.store.task_changes()));
        }
        Ok(receiver)
    }

    /// The followed tasks.
    pub fn followed(&self) -> &Followed {
        &self.followed
    }

    /// Those of `ids` that exist, as `get` shows them, in two reads however many.
    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<TaskView>, QueueError> {
        let rows = self.store.get_many(ids).await?;
        let mut attempts = self.store.attempts_of(ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut task = self.view(row);
                task.attempts = Some(attempts.remove(&task.id).unwrap_or_default());
                task
            })
            .collect())
    }
}

/// Which followed tasks the hub is to read.
#[derive(Default)]
struct Wanted {
    all: bool,
    ids: HashSet<Uuid>,
}

impl Wanted {
    fn hear(&mut self, heard: Result<Arc<Changed>, ()>) {
        match heard.as_deref() {
            Ok(Changed::Tasks(ids)) => self.ids.extend(ids),
            // Unknown, or missed: read them all.
            Ok(Changed::Unknown) | Err(()) => self.all = true,
        }
    }
}

/// Publishes the changes of the followed tasks until none is followed.
async fn run_hub(queue: Queue, changes: broadcast::Receiver<Arc<Changed>>) {
    if let Err(err) = queue.store.watch_task_changes(true).await {
        // Without the changes, the followers would wait for nothing.
        tracing::warn!(error = %err, "cannot follow task changes; ending the event streams");
        return stop_hub(&queue);
    }
    relay_changes(&queue, changes).await;
    if let Err(err) = queue.store.watch_task_changes(false).await {
        tracing::warn!(error = %err, "cannot stop watching task changes");
    }
}

/// Publishes the changes of the followed tasks until none is followed.
async fn relay_changes(queue: &Queue, mut changes: broadcast::Receiver<Arc<Changed>>) {
    let mut sweep = tokio::time::interval(SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut wanted = Wanted::default();
        tokio::select! {
            heard = changes.recv() => match heard {
                Ok(changed) => wanted.hear(Ok(changed)),
                Err(RecvError::Lagged(_)) => wanted.hear(Err(())),
                // The store is gone: nothing will change any more.
                Err(RecvError::Closed) => return stop_hub(queue),
            },
            _ = queue.followed.poke.notified() => {}
            _ = sweep.tick() => {}
        }
        // Whatever else has been heard meanwhile goes into the same read.
        loop {
            match changes.try_recv() {
                Ok(changed) => wanted.hear(Ok(changed)),
                Err(TryRecvError::Lagged(_)) => wanted.hear(Err(())),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        let Some(ids) = to_read(queue, wanted) else {
            return;
        };
        for chunk in ids.chunks(MOST_READ) {
            queue.followed.reads.fetch_add(chunk.len() as u64, Relaxed);
            match queue.get_many(chunk).await {
                Ok(tasks) => publish(queue, chunk, tasks),
                Err(err) => {
                    tracing::debug!(error = %err, "could not read followed tasks; trying again");
                    queue.followed.state().recheck.extend(chunk);
                }
            }
        }
    }
}

/// The followed tasks among `wanted` and those to recheck, after forgetting the ones no
/// one follows any more; `None` when nothing is followed, and the hub is to stop.
fn to_read(queue: &Queue, wanted: Wanted) -> Option<Vec<Uuid>> {
    let mut state = queue.followed.state();
    state.feeds.retain(|_, sender| !sender.is_closed());
    if state.feeds.is_empty() {
        state.recheck.clear();
        state.hub_running = false;
        return None;
    }
    let mut ids: HashSet<Uuid> = std::mem::take(&mut state.recheck);
    if wanted.all {
        ids.extend(state.feeds.keys());
    } else {
        ids.extend(wanted.ids);
    }
    ids.retain(|id| state.feeds.contains_key(id));
    Some(ids.into_iter().collect())
}

/// Sends each read task to its followers when it changed, and closes the channels of the
/// tasks now final and of those no longer there.
fn publish(queue: &Queue, read: &[Uuid], tasks: Vec<TaskView>) {
    let mut state = queue.followed.state();
    let mut gone: HashSet<&Uuid> = read.iter().collect();
    for current in tasks {
        gone.remove(&current.id);
        let id = current.id;
        let Some(sender) = state.feeds.get(&id) else {
            continue;
        };
        let last_state = current.status.is_final();
        sender.send_if_modified(|last| {
            let changed = (
                current.status,
                current.progress,
                &current.progress_message,
                current.log_lines,
            ) != (
                last.status,
                last.progress,
                &last.progress_message,
                last.log_lines,
            );
            if changed {
                *last = Arc::new(current);
            }
            changed
        });
        if last_state {
            state.feeds.remove(&id);
        }
    }
    for id in gone {
        state.feeds.remove(id);
    }
}

/// Ends every follow: the followers' streams end rather than wait for changes no one
/// will report.
fn stop_hub(queue: &Queue) {
    let mut state = queue.followed.state();
    state.feeds.clear();
    state.recheck.clear();
    state.hub_running = false;
}
