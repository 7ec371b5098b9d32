//! Claims parked by idle worker pools. A pool that found its queue empty leaves a claim
//! for its free slots with the group committer; the next submit of a ready task to that
//! queue carries the claim into its own transaction, after the insert, so the submit and
//! the pickup share one commit and one disk sync. The pool hears of its tasks only once
//! that commit is durable: a task never starts before its submit is stored.

use super::claimed::ClaimedTask;
use super::writes::{committer_stopped, Write, Written};
use super::StoreError;
use sea_orm::DbErr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Where the committer answers a write.
pub(super) type Reply = oneshot::Sender<Result<Written, DbErr>>;

/// The parked claims of one process, by queue.
#[derive(Debug, Default)]
pub(super) struct ParkedClaims {
    by_queue: Mutex<HashMap<String, Vec<Parked>>>,
    next_id: AtomicU64,
}

/// A claim waiting for a submit.
#[derive(Debug)]
pub(super) struct Parked {
    id: u64,
    limit: u64,
    worker_id: String,
    /// How long the claim's lease lasts, in microseconds.
    lease: i64,
    reply: Reply,
}

impl Parked {
    /// The claim as a write made at `now` (the submit's own time), and where to answer it.
    pub fn into_write(self, queue: &str, now: i64) -> (Write, Reply) {
        let claim = Write::Claim {
            queue: queue.to_string(),
            limit: self.limit,
            worker_id: self.worker_id,
            now,
            lease_until: now + self.lease,
        };
        (claim, self.reply)
    }
}

impl ParkedClaims {
    /// Parks a claim of up to `limit` tasks of `queue` for `worker_id`.
    pub fn park(
        self: &Arc<Self>,
        queue: &str,
        limit: u64,
        worker_id: &str,
        lease: i64,
    ) -> ParkedClaim {
        let id = self.next_id.fetch_add(1, Relaxed);
        let (reply, answer) = oneshot::channel();
        let parked = Parked {
            id,
            limit,
            worker_id: worker_id.to_string(),
            lease,
            reply,
        };
        self.lock()
            .entry(queue.to_string())
            .or_default()
            .push(parked);
        ParkedClaim {
            claims: Arc::clone(self),
            queue: queue.to_string(),
            id,
            answer,
        }
    }

    /// How many claims are parked on `queue`.
    pub fn count(&self, queue: &str) -> usize {
        self.lock().get(queue).map_or(0, Vec::len)
    }

    /// Takes every claim parked on `queue`; the caller must answer each.
    pub fn take(&self, queue: &str) -> Vec<Parked> {
        self.lock().remove(queue).unwrap_or_default()
    }

    /// Removes the claim `id` from `queue`'s, if it is still parked; true if it was.
    fn remove(&self, queue: &str, id: u64) -> bool {
        let mut parked = self.lock();
        let Some(waiting) = parked.get_mut(queue) else {
            return false;
        };
        let Some(at) = waiting.iter().position(|claim| claim.id == id) else {
            return false;
        };
        waiting.swap_remove(at);
        if waiting.is_empty() {
            parked.remove(queue);
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Parked>>> {
        // A panic while holding this lock cannot leave the map half-changed.
        self.by_queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The pool's side of a parked claim.
#[derive(Debug)]
pub struct ParkedClaim {
    claims: Arc<ParkedClaims>,
    queue: String,
    id: u64,
    answer: oneshot::Receiver<Result<Written, DbErr>>,
}

impl ParkedClaim {
    /// Waits until a submit's commit has claimed tasks for this claim (possibly none, if
    /// the queue was paused), durably.
    pub async fn claimed(&mut self) -> Result<Vec<ClaimedTask>, StoreError> {
        claimed((&mut self.answer).await)
    }

    /// Takes the claim back. If a commit took it first, its tasks are the pool's: this
    /// waits for that commit and returns them.
    pub async fn withdraw(mut self) -> Result<Vec<ClaimedTask>, StoreError> {
        if self.claims.remove(&self.queue, self.id) {
            return Ok(Vec::new());
        }
        claimed((&mut self.answer).await)
    }
}

/// A pool that stops waiting without withdrawing (its task aborted) takes its claim back
/// too, so no commit claims tasks that nobody would run.
impl Drop for ParkedClaim {
    fn drop(&mut self) {
        self.claims.remove(&self.queue, self.id);
    }
}

fn claimed(
    answer: Result<Result<Written, DbErr>, oneshot::error::RecvError>,
) -> Result<Vec<ClaimedTask>, StoreError> {
    answer
        .unwrap_or_else(|_| Err(committer_stopped()))?
        .into_claimed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_withdrawn_claim_is_gone_and_a_taken_one_waits_for_its_answer() {
        let claims = Arc::new(ParkedClaims::default());
        let first = claims.park("q", 2, "w", 10);
        let second = claims.park("q", 3, "w", 10);
        assert!(first.withdraw().await.unwrap().is_empty());
        let taken = claims.take("q");
        assert_eq!(taken.len(), 1, "only the claim still parked");
        assert!(claims.take("q").is_empty());

        let (write, reply) = taken.into_iter().next().unwrap().into_write("q", 100);
        match write {
            Write::Claim {
                limit, lease_until, ..
            } => assert_eq!((limit, lease_until), (3, 110)),
            other => panic!("{other:?}"),
        }
        let withdrawing = tokio::spawn(second.withdraw());
        reply.send(Ok(Written::Claimed(Vec::new()))).unwrap();
        assert!(withdrawing.await.unwrap().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_claim_is_no_longer_parked() {
        let claims = Arc::new(ParkedClaims::default());
        let parked = claims.park("q", 1, "w", 10);
        let kept = claims.park("q", 1, "w", 10);
        drop(parked);
        assert_eq!(claims.count("q"), 1);
        drop(kept);
        assert_eq!(claims.count("q"), 0);
    }

    #[tokio::test]
    async fn a_claim_whose_committer_stopped_is_an_error() {
        let claims = Arc::new(ParkedClaims::default());
        let mut parked = claims.park("q", 1, "w", 10);
        drop(claims.take("q"));
        assert!(parked.claimed().await.is_err());
    }
}
