//! Followers of a task, as event streams follow it. The store's change feed (see
//! `Store::task_changes`) tells which tasks changed; one hub per queue reads again only
//! the followed ones among them, all in one read, and publishes each to its followers
//! through a `watch` channel. So the store is read once per change of a followed task,
//! never per stream.
//!
//! On PostgreSQL, whose notifications can be lost on the way (a proxy that drops them, a
//! half-open connection), the hub also reads every followed task again every
//! [`RESYNC_SWEEPS`] seconds.
//!
//! A follower slower than the changes sees only the latest state (a watch channel holds
//! one value), so nothing buffers without bound. A task's channel closes after its final
//! state, when the task is deleted, or when its last follower goes; the hub stops when
//! nothing has been followed for [`LINGER_SWEEPS`] seconds, and starts again with the
//! next follower.

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
/// Sweeps with nothing followed before the hub stops: streams that come and go do not
/// install and drop SQLite's triggers each time (which makes every cached statement be
/// prepared again).
const LINGER_SWEEPS: u32 = 30;
/// Sweeps between two reads of every followed task, when the change feed may miss
/// changes (PostgreSQL's notifications, which a proxy or a half-open connection can
/// lose).
const RESYNC_SWEEPS: u32 = 10;

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

/// A followed task to read, with the channel it was followed through when the read
/// began: a task followed anew meanwhile has a new channel, which this read may be too
/// old for.
type ToRead = (Uuid, watch::Sender<Arc<TaskView>>);

/// Ends every follow if the hub ends other than by running out of followers (a panic
/// in a kind's `redact`, the runtime shutting down): a later follower then starts a new
/// hub instead of waiting on this one.
struct HubGuard<'a> {
    queue: &'a Queue,
    armed: bool,
}

impl Drop for HubGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            stop_hub(self.queue);
        }
    }
}

/// Publishes the changes of the followed tasks until none has been followed for a
/// while. The changes are reported only meanwhile (see `Store::watch_task_changes`).
async fn run_hub(queue: Queue, changes: broadcast::Receiver<Arc<Changed>>) {
    let mut guard = HubGuard {
        queue: &queue,
        armed: true,
    };
    if let Err(err) = queue.store.watch_task_changes(true).await {
        // Without the changes, the followers would wait for nothing.
        tracing::warn!(error = %err, "cannot follow task changes; ending the event streams");
        return;
    }
    relay_changes(&queue, changes).await;
    guard.armed = false;
    if let Err(err) = queue.store.watch_task_changes(false).await {
        tracing::warn!(error = %err, "cannot stop watching task changes");
    }
}

async fn relay_changes(queue: &Queue, mut changes: broadcast::Receiver<Arc<Changed>>) {
    let mut sweep = tokio::time::interval(SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let complete = queue.store.change_feed_is_complete();
    let (mut sweeps, mut unfollowed_sweeps) = (0u32, 0u32);
    loop {
        let mut wanted = Wanted::default();
        let mut swept = false;
        tokio::select! {
            heard = changes.recv() => match heard {
                Ok(changed) => wanted.hear(Ok(changed)),
                Err(RecvError::Lagged(_)) => wanted.hear(Err(())),
                // Only if the store were dropped, which the hub's queue prevents.
                Err(RecvError::Closed) => return stop_hub(queue),
            },
            _ = queue.followed.poke.notified() => {}
            _ = sweep.tick() => {
                swept = true;
                sweeps = sweeps.wrapping_add(1);
                // A feed that may miss changes (see `Store::change_feed_is_complete`)
                // is backed by reading every followed task now and then.
                if !complete && sweeps % RESYNC_SWEEPS == 0 {
                    wanted.all = true;
                }
            }
        }
        // Whatever else has been heard meanwhile goes into the same read.
        loop {
            match changes.try_recv() {
                Ok(changed) => wanted.hear(Ok(changed)),
                Err(TryRecvError::Lagged(_)) => wanted.hear(Err(())),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        let Some(read) = to_read(queue, wanted) else {
            unfollowed_sweeps += u32::from(swept);
            if unfollowed_sweeps > LINGER_SWEEPS && stop_if_unfollowed(queue) {
                return;
            }
            continue;
        };
        unfollowed_sweeps = 0;
        for chunk in read.chunks(MOST_READ) {
            let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
            queue.followed.reads.fetch_add(ids.len() as u64, Relaxed);
            match queue.get_many(&ids).await {
                Ok(tasks) => publish(queue, chunk, tasks),
                Err(err) => {
                    tracing::debug!(error = %err, "could not read followed tasks; trying again");
                    queue.followed.state().recheck.extend(ids);
                }
            }
        }
    }
}

/// The followed tasks among `wanted` and those to recheck, after forgetting the ones no
/// one follows any more; `None` when none is followed.
fn to_read(queue: &Queue, wanted: Wanted) -> Option<Vec<ToRead>> {
    let mut state = queue.followed.state();
    state.feeds.retain(|_, sender| !sender.is_closed());
    if state.feeds.is_empty() {
        return None;
    }
    let mut ids: HashSet<Uuid> = std::mem::take(&mut state.recheck);
    if wanted.all {
        ids.extend(state.feeds.keys());
    } else {
        ids.extend(wanted.ids);
    }
    let read = ids
        .into_iter()
        .filter_map(|id| Some((id, state.feeds.get(&id)?.clone())))
        .collect();
    Some(read)
}

/// Stops the hub if nothing is followed, under the lock `follow` starts one under; true
/// when it did.
fn stop_if_unfollowed(queue: &Queue) -> bool {
    let mut state = queue.followed.state();
    state.feeds.retain(|_, sender| !sender.is_closed());
    if !state.feeds.is_empty() {
        return false;
    }
    state.recheck.clear();
    state.hub_running = false;
    true
}

/// Sends each read task to its followers when it changed, and closes the channels of the
/// tasks now final and of those no longer there.
fn publish(queue: &Queue, read: &[ToRead], tasks: Vec<TaskView>) {
    let mut found: HashMap<Uuid, TaskView> = tasks.into_iter().map(|t| (t.id, t)).collect();
    let mut state = queue.followed.state();
    for (id, sender) in read {
        let current = found.remove(id);
        let ends = current.as_ref().is_none_or(|task| task.status.is_final());
        if let Some(current) = current {
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
        }
        // A channel opened since the read began stays: its recheck reads it afresh.
        if ends
            && state
                .feeds
                .get(id)
                .is_some_and(|kept| kept.same_channel(sender))
        {
            state.feeds.remove(id);
        }
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
