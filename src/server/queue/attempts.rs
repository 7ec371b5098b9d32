//! The attempts of one pool, watched from one tokio task.
//!
//! Each attempt is two parts: its handler, spawned as a tokio task of its own (so a panic
//! is caught and a handler stuck in blocking code can be abandoned), and its executor
//! (see [`super::executor`]), which watches that handler and writes what it reports. The
//! executors are futures polled together here rather than tasks of their own, so an
//! attempt costs one spawn, not two; their work between awaits is short bookkeeping.

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type Executor = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The executors of one pool's running attempts.
pub(super) struct Attempts {
    incoming: mpsc::UnboundedSender<Executor>,
    watcher: JoinHandle<()>,
    running: Arc<AtomicUsize>,
}

impl Attempts {
    /// Starts the tokio task that polls the pool's executors.
    pub fn start() -> Attempts {
        let (incoming, receiver) = mpsc::unbounded_channel();
        let running = Arc::new(AtomicUsize::new(0));
        let watcher = tokio::spawn(watch(receiver, Arc::clone(&running)));
        Attempts {
            incoming,
            watcher,
            running,
        }
    }

    /// Runs `executor` beside the others until it returns.
    pub fn run(&self, executor: impl Future<Output = ()> + Send + 'static) {
        self.running.fetch_add(1, Ordering::Relaxed);
        if self.incoming.send(Box::pin(executor)).is_err() {
            // Only after the watcher panicked: nothing is left to run the attempt, whose
            // lease will expire and whose task the rescuer will put back.
            self.running.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("the pool's attempt watcher is gone; the claimed task waits for its lease to expire");
        }
    }

    /// How many executors have not returned yet.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Takes no more attempts and waits up to `limit` for the running ones to return;
    /// `Err(self)` when some are still running then.
    pub async fn finish_within(mut self, limit: Duration) -> Result<(), Attempts> {
        // A closed channel tells the watcher to return once its executors have.
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.incoming, closed));
        match tokio::time::timeout(limit, &mut self.watcher).await {
            Ok(_) => Ok(()),
            Err(_) => Err(self),
        }
    }

    /// Drops every executor still running (their handlers' tasks are not aborted by this;
    /// each executor has already aborted or abandoned its own).
    pub async fn abandon(self) {
        self.watcher.abort();
        let _ = self.watcher.await;
    }
}

async fn watch(mut incoming: mpsc::UnboundedReceiver<Executor>, running: Arc<AtomicUsize>) {
    let mut executors = FuturesUnordered::new();
    let mut open = true;
    while open || !executors.is_empty() {
        tokio::select! {
            next = incoming.recv(), if open => match next {
                // A panic ends that executor alone, never its neighbours; its task's lease
                // then runs out and the rescuer puts it back.
                Some(executor) => executors.push(AssertUnwindSafe(executor).catch_unwind()),
                None => open = false,
            },
            Some(ended) = executors.next(), if !executors.is_empty() => {
                running.fetch_sub(1, Ordering::Relaxed);
                if ended.is_err() {
                    tracing::error!("an attempt's executor panicked; its task will be rescued when its lease runs out");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    /// Every executor runs to its end, and finishing waits for the last one.
    #[tokio::test]
    async fn finishing_waits_for_every_executor() {
        let attempts = Attempts::start();
        let (release, released) = oneshot::channel::<()>();
        let (done, mut finished) = mpsc::unbounded_channel();
        let first = done.clone();
        attempts.run(async move {
            let _ = released.await;
            let _ = first.send(1);
        });
        attempts.run(async move {
            let _ = done.send(2);
        });
        assert_eq!(finished.recv().await, Some(2));
        assert_eq!(attempts.running(), 1);
        let attempts = match attempts.finish_within(Duration::from_millis(20)).await {
            Err(still_running) => still_running,
            Ok(()) => panic!("finished while an executor was still waiting"),
        };
        release.send(()).unwrap();
        assert!(attempts
            .finish_within(Duration::from_secs(30))
            .await
            .is_ok());
        assert_eq!(finished.recv().await, Some(1));
    }

    /// A panicking executor ends alone; the others go on.
    #[tokio::test]
    async fn a_panicking_executor_does_not_take_the_others_down() {
        let attempts = Attempts::start();
        let (done, mut finished) = mpsc::unbounded_channel();
        attempts.run(async { panic!("an executor's bug") });
        attempts.run(async move {
            tokio::task::yield_now().await;
            let _ = done.send("still running");
        });
        assert_eq!(finished.recv().await, Some("still running"));
        assert!(attempts
            .finish_within(Duration::from_secs(30))
            .await
            .is_ok());
    }

    /// Abandoning drops the executors that never returned.
    #[tokio::test]
    async fn abandoning_drops_stuck_executors() {
        let attempts = Attempts::start();
        let (dropped, was_dropped) = oneshot::channel::<()>();
        attempts.run(async move {
            let _guard = dropped;
            std::future::pending::<()>().await;
        });
        let attempts = attempts
            .finish_within(Duration::from_millis(20))
            .await
            .expect_err("a pending executor cannot finish");
        attempts.abandon().await;
        // The sender inside the executor is dropped with it.
        assert!(was_dropped.await.is_err());
    }
}
