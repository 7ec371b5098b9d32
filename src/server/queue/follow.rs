//! Followers of a task, as event streams follow it: one reader per followed task, however
//! many streams follow it, publishing each change of the task to all of them through a
//! `watch` channel. A follower slower than the changes sees only the latest state (a
//! watch channel holds one value), so nothing buffers without bound; a reader stops when
//! its last follower goes.

use super::{Queue, QueueError};
use crate::model::TaskView;
use std::collections::HashMap;
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
}

impl Followed {
    /// Forgets `sender`'s feed of task `id` when no one follows it; true when it did.
    fn stop_unless_followed(&self, id: Uuid, sender: &watch::Sender<Arc<TaskView>>) -> bool {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if !sender.is_closed() {
            return false;
        }
        if feeds.get(&id).is_some_and(|kept| kept.same_channel(sender)) {
            feeds.remove(&id);
        }
        true
    }

    /// Forgets `sender`'s feed of task `id`: its reader is done.
    fn forget(&self, id: Uuid, sender: &watch::Sender<Arc<TaskView>>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if feeds.get(&id).is_some_and(|kept| kept.same_channel(sender)) {
            feeds.remove(&id);
        }
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
        let closed = tokio::select! {
            _ = sender.closed() => true,
            _ = ticker.tick() => false,
        };
        // A follower may have subscribed since: stop only if none has, under the lock
        // that `follow` subscribes under.
        if closed && queue.followed.stop_unless_followed(id, &sender) {
            return;
        }
        if closed {
            continue;
        }
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
    queue.followed.forget(id, &sender);
}
