//! A pool's worker slots: a semaphore with one permit per worker, the size the pool
//! should have (its autoscaler moves it; a fixed pool keeps it), and how many slots
//! attempts hold. The pool grows by adding permits; it shrinks by forgetting permits as
//! they come back (from a finished attempt, or unused from the claim loop), so shrinking
//! never stops a running task.

use prometheus::IntGauge;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub(super) struct Slots(Arc<Inner>);

struct Inner {
    semaphore: Arc<Semaphore>,
    /// Permits the semaphore has in all, free or held.
    permits: AtomicUsize,
    target: AtomicUsize,
    busy: AtomicUsize,
    busy_gauge: IntGauge,
}

impl Slots {
    pub(super) fn new(size: usize, busy_gauge: IntGauge) -> Slots {
        Slots(Arc::new(Inner {
            semaphore: Arc::new(Semaphore::new(size)),
            permits: AtomicUsize::new(size),
            target: AtomicUsize::new(size),
            busy: AtomicUsize::new(0),
            busy_gauge,
        }))
    }

    pub(super) fn semaphore(&self) -> &Arc<Semaphore> {
        &self.0.semaphore
    }

    /// Workers the pool has now (above its target until busy ones come back).
    pub(super) fn size(&self) -> usize {
        self.0.permits.load(Ordering::SeqCst)
    }

    /// Slots attempts hold now.
    pub(super) fn busy(&self) -> usize {
        self.0.busy.load(Ordering::SeqCst)
    }

    /// Sets the pool's size: at once when it grows, as permits come back when it shrinks.
    pub(super) fn resize(&self, target: usize) {
        self.0.target.store(target, Ordering::SeqCst);
        let now = self.0.permits.load(Ordering::SeqCst);
        if target > now {
            self.0.permits.fetch_add(target - now, Ordering::SeqCst);
            self.0.semaphore.add_permits(target - now);
        }
    }

    /// Forgets the permits among `permits` that the pool no longer has room for.
    pub(super) fn trim(&self, permits: &mut Vec<OwnedSemaphorePermit>) {
        while !permits.is_empty() && self.take_one_away() {
            if let Some(permit) = permits.pop() {
                permit.forget();
            }
        }
    }

    /// The slot of an attempt, holding `permit` until the attempt gives it back.
    pub(super) fn taken(&self, permit: OwnedSemaphorePermit) -> Slot {
        self.0.busy.fetch_add(1, Ordering::SeqCst);
        self.0.busy_gauge.inc();
        Slot {
            permit: Some(permit),
            slots: self.clone(),
        }
    }

    /// Counts one permit fewer when the pool is over its target; true when it did.
    fn take_one_away(&self) -> bool {
        let target = self.0.target.load(Ordering::SeqCst);
        self.0
            .permits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > target).then(|| n - 1)
            })
            .is_ok()
    }
}

/// A worker's slot, held by an attempt while its handler runs.
pub(super) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    slots: Slots,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.0.busy.fetch_sub(1, Ordering::SeqCst);
        self.slots.0.busy_gauge.dec();
        if let Some(permit) = self.permit.take() {
            if self.slots.take_one_away() {
                permit.forget();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge() -> IntGauge {
        IntGauge::new("busy", "busy").unwrap()
    }

    #[test]
    fn a_shrunk_pool_forgets_permits_as_they_come_back_and_grows_at_once() {
        let slots = Slots::new(4, gauge());
        let semaphore = Arc::clone(slots.semaphore());
        let held: Vec<Slot> = (0..3)
            .map(|_| slots.taken(Arc::clone(&semaphore).try_acquire_owned().unwrap()))
            .collect();
        assert_eq!((slots.busy(), slots.0.busy_gauge.get()), (3, 3));
        slots.resize(1);
        // The free permit, taken by the claim loop, goes first.
        let mut free = vec![Arc::clone(&semaphore).try_acquire_owned().unwrap()];
        slots.trim(&mut free);
        assert!(free.is_empty());
        assert_eq!(slots.size(), 3);
        drop(held);
        assert_eq!(
            slots.size(),
            1,
            "two came back and were forgotten, one stays"
        );
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!((slots.busy(), slots.0.busy_gauge.get()), (0, 0));
        slots.resize(5);
        assert_eq!((slots.size(), semaphore.available_permits()), (5, 5));
    }
}
