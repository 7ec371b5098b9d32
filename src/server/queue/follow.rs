//! Followers of a task, as event streams follow it: one reader per followed task, however
//! many streams follow it, publishing each change of the task to all of them through a
//! `watch` channel. A follower slower than the changes sees only the latest state (a
//! watch channel holds one value), so nothing buffers without bound; a reader stops when
//! its last follower goes.

use super::{Queue, QueueError};
use crate::model::TaskView;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How often a followed task is read for changes.
const POLL: Duration = Duration::from_millis(250);

/// The readers of followed tasks, by task id.
#[derive(Default)]
pub struct Followed {
    feeds: Mutex<HashMap<Uuid, watch::Sender<Arc<TaskView>>>>,
    /// Reads of followed tasks since the start: what the tests compare with the number
    /// of followers.
    reads: AtomicU64,
}

impl Followed {
    /// How many times followed tasks were read.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// How many tasks are followed now: one reader each.
    pub fn readers(&self) -> usize {
        let feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        feeds.values().filter(|sender| !sender.is_closed()).count()
    }
}

impl Queue {
    /// Follows task `id`: the receiver holds the task now, then each change of its
    /// status, progress, message or log line count, until the task is gone. 404 for an
    /// unknown task.
    pub async fn follow(&self, id: Uuid) -> Result<watch::Receiver<Arc<TaskView>>, QueueError> {
        if let Some(receiver) = self.existing_feed(id) {
            return Ok(receiver);
        }
        let task = Arc::new(self.get(id).await?);
        let mut feeds = self
            .followed
            .feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Another follower may have started the reader meanwhile.
        if let Some(sender) = feeds.get(&id).filter(|sender| !sender.is_closed()) {
            return Ok(sender.subscribe());
        }
        let (sender, receiver) = watch::channel(task);
        feeds.insert(id, sender.clone());
        drop(feeds);
        tokio::spawn(read_while_followed(self.clone(), id, sender));
        Ok(receiver)
    }

    fn existing_feed(&self, id: Uuid) -> Option<watch::Receiver<Arc<TaskView>>> {
        let feeds = self
            .followed
            .feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let sender = feeds.get(&id).filter(|sender| !sender.is_closed())?;
        Some(sender.subscribe())
    }

    /// The readers of followed tasks.
    pub fn followed(&self) -> &Followed {
        &self.followed
    }
}

/// Reads task `id` every [`POLL`] and publishes it when it changed, until no one follows
/// it, the task is final and published, or it is gone.
async fn read_while_followed(queue: Queue, id: Uuid, sender: watch::Sender<Arc<TaskView>>) {
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        if sender.borrow().status.is_final() {
            break;
        }
        tokio::select! {
            _ = sender.closed() => break,
            _ = ticker.tick() => {}
        }
        queue.followed.reads.fetch_add(1, Ordering::Relaxed);
        let Ok(current) = queue.get(id).await else {
            // Pruned, or the store is unreachable: the followers end their streams.
            break;
        };
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
    let mut feeds = queue
        .followed
        .feeds
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if feeds
        .get(&id)
        .is_some_and(|kept| kept.same_channel(&sender))
    {
        feeds.remove(&id);
    }
}
