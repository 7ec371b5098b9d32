//! The producer of one queue's worker pool: a claim loop that keeps up to `concurrency`
//! attempts running, each handed to an executor (see [`super::executor`]); when idle it
//! parks a claim for the next submit, wakes at once on a local wake-up and polls as the
//! fallback; and it shuts down gracefully (stop claiming, drain, then cancel and requeue).
//!
//! A slot is free again as soon as its handler returns, while the outcome is still on its
//! way to the database, so under load the next claim and the last outcomes share one
//! group commit instead of taking turns.

use super::attempts::Attempts;
use super::autoscaler::{run_autoscaler, Sizing};
use super::executor::{execute, Execution};
use super::slot::Slots;
use super::worker_config::WorkerConfig;
use super::Queue;
use crate::server::store::{ClaimedTask, CommitVerdict, StoreError};
use crate::server::turns::gather_over_turns;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Pause after a failed claim, so a broken database is not hammered.
const CLAIM_ERROR_BACKOFF: Duration = Duration::from_millis(500);

/// Runs the pool until `shutdown` is cancelled, then drains it. When this returns no
/// task is left RUNNING under this pool's worker id.
pub async fn run_producer(queue: Queue, config: WorkerConfig, shutdown: CancellationToken) {
    let config = Arc::new(config);
    let initial = (config.autoscale.as_ref()).map_or(config.concurrency, |auto| auto.min);
    let gauges = queue.metrics().pool(&config.queue);
    gauges.workers.set(initial as i64);
    let pool = Slots::new(initial, gauges.busy.clone());
    let slots = Arc::clone(pool.semaphore());
    let abort = CancellationToken::new();
    let running = Attempts::start();
    let autoscaler = config.autoscale.clone().map(|autoscale| {
        let sizing = Sizing {
            queue_name: config.queue.clone(),
            slots: pool.clone(),
            workers: gauges.workers.clone(),
        };
        let stop = shutdown.clone();
        tokio::spawn(run_autoscaler(queue.clone(), autoscale, sizing, stop))
    });
    tracing::info!(queue = %config.queue, concurrency = initial, autoscale = ?config.autoscale, worker = %config.worker_id, "workers started");

    loop {
        let first = tokio::select! {
            // A free slot must not win over a shutdown that has begun.
            biased;
            _ = shutdown.cancelled() => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let mut permits = vec![first];
        take_free_slots(&slots, &mut permits);
        gather_slots(&slots, &mut permits, pool.size()).await;
        // A pool that shrank gives up the free slots it no longer has.
        pool.trim(&mut permits);
        if permits.is_empty() {
            continue;
        }
        let now = queue.now_micros();
        let lease_until = now + config.lease.as_micros() as i64;
        // The tasks may start before the claim's commit is on disk; each attempt waits
        // for its verdict before it writes (see `Store::claim_before_commit`).
        let claimed = queue
            .store()
            .claim_before_commit(
                &config.queue,
                permits.len() as u64,
                &config.worker_id,
                now,
                lease_until,
            )
            .await;
        let (tasks, verdict) = match claimed {
            Ok((tasks, _)) if tasks.is_empty() => {
                match wait_while_idle(&queue, &config, permits.len(), &shutdown).await {
                    Idle::Claimed(tasks) => (tasks, CommitVerdict::committed_already()),
                    Idle::Woken => continue,
                    Idle::ShuttingDown => break,
                }
            }
            Ok(claimed) => claimed,
            Err(err) => {
                drop(permits);
                match back_off(err, &shutdown).await {
                    Idle::ShuttingDown => break,
                    _ => continue,
                }
            }
        };
        for (task, slot) in tasks.into_iter().zip(permits) {
            let execution = Execution {
                queue: queue.clone(),
                config: Arc::clone(&config),
                abort: abort.child_token(),
                claim: verdict.clone(),
                slot: pool.taken(slot),
            };
            running.run(execute(execution, task));
        }
    }

    if let Some(autoscaler) = autoscaler {
        let _ = autoscaler.await;
    }
    drain(&queue, &config, &abort, running).await;
}

/// How an idle pool's wait ended.
enum Idle {
    /// A submit's commit claimed these tasks for the pool (durably).
    Claimed(Vec<ClaimedTask>),
    /// A wake-up, the poll interval or the pause after a failed claim: time to claim
    /// again.
    Woken,
    ShuttingDown,
}

/// Waits for work after a claim found none: parks a claim for the `slots` free slots that the next
/// submit to the queue runs in its own transaction, so the task starts after one commit,
/// not two (see `Store::park_claim`); a wake-up (a retry made ready, a resumed queue,
/// another process's submit) or the poll interval ends the wait too. Tasks claimed for a
/// pool that is shutting down are left RUNNING under its worker id, which the drain puts
/// back in the queue.
async fn wait_while_idle(
    queue: &Queue,
    config: &WorkerConfig,
    slots: usize,
    shutdown: &CancellationToken,
) -> Idle {
    let lease = config.lease.as_micros() as i64;
    let mut parked =
        queue
            .store()
            .park_claim(&config.queue, slots as u64, &config.worker_id, lease);
    let claimed = tokio::select! {
        claimed = parked.claimed() => claimed,
        _ = queue.wake().notified() => parked.withdraw().await,
        _ = tokio::time::sleep(config.poll_interval) => parked.withdraw().await,
        _ = shutdown.cancelled() => {
            let _ = parked.withdraw().await;
            return Idle::ShuttingDown;
        }
    };
    match claimed {
        Ok(tasks) if !tasks.is_empty() => Idle::Claimed(tasks),
        Ok(_) => Idle::Woken,
        Err(err) => back_off(err, shutdown).await,
    }
}

/// After a failed claim: logs it and pauses, so a broken database is not hammered.
async fn back_off(err: StoreError, shutdown: &CancellationToken) -> Idle {
    tracing::error!(error = %err, "claim failed");
    tokio::select! {
        _ = tokio::time::sleep(CLAIM_ERROR_BACKOFF) => Idle::Woken,
        _ = shutdown.cancelled() => Idle::ShuttingDown,
    }
}

/// While other attempts still hold slots: lets them run, and takes the slots they free
/// (see [`gather_over_turns`]). The attempts of one claim end a few scheduler turns
/// apart; claiming on the first freed slot split every wave into small claims, each a
/// transaction of its own. An idle pool, whose slots are all free, does not wait at
/// all; a pool with an attempt running yields at least two turns before each claim.
async fn gather_slots(
    slots: &Arc<Semaphore>,
    permits: &mut Vec<OwnedSemaphorePermit>,
    concurrency: usize,
) {
    gather_over_turns(
        permits,
        |permits| permits.len() >= concurrency,
        |permits| {
            let before = permits.len();
            take_free_slots(slots, permits);
            permits.len() > before
        },
    )
    .await;
}

fn take_free_slots(slots: &Arc<Semaphore>, permits: &mut Vec<OwnedSemaphorePermit>) {
    while let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
        permits.push(permit);
    }
}

/// Lets running tasks finish within the grace period, then cancels them; whatever is
/// still RUNNING under this worker id afterwards is put back in the queue.
async fn drain(queue: &Queue, config: &WorkerConfig, abort: &CancellationToken, running: Attempts) {
    if running.running() > 0 {
        tracing::info!(tasks = running.running(), grace = ?config.shutdown_grace, "draining running tasks");
    }
    if let Err(running) = running.finish_within(config.shutdown_grace).await {
        tracing::warn!(
            tasks = running.running(),
            "grace period over; cancelling running tasks"
        );
        abort.cancel();
        // Each attempt stops itself within `cancel_grace` (aborting a handler that does not
        // listen) and requeues its task; the margin covers the store writes.
        let margin = config.cancel_grace + Duration::from_secs(5);
        if let Err(running) = running.finish_within(margin).await {
            running.abandon().await;
        }
    }
    match queue
        .store()
        .requeue_worker(&config.worker_id, queue.now_micros())
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(tasks = n, "requeued tasks that did not stop in time"),
        Err(err) => tracing::error!(error = %err, "could not requeue tasks at shutdown"),
    }
    tracing::info!(queue = %config.queue, "workers stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` attempts holding a slot each; the n-th gives it back after n scheduler turns.
    fn hold_slots(slots: &Arc<Semaphore>, count: usize) {
        for turns in 0..count {
            let permit = Arc::clone(slots).try_acquire_owned().unwrap();
            tokio::spawn(async move {
                for _ in 0..turns {
                    tokio::task::yield_now().await;
                }
                drop(permit);
            });
        }
    }

    /// Attempts that end a few scheduler turns apart, as one claim's do, free their slots
    /// for one claim.
    #[tokio::test(flavor = "current_thread")]
    async fn slots_freed_a_few_turns_apart_go_to_one_claim() {
        let slots = Arc::new(Semaphore::new(6));
        hold_slots(&slots, 6);
        let first = Arc::clone(&slots).acquire_owned().await.unwrap();
        let mut permits = vec![first];
        gather_slots(&slots, &mut permits, 6).await;
        assert_eq!(permits.len(), 6);
    }

    /// An attempt that ends only after two quiet turns is not waited for.
    #[tokio::test(flavor = "current_thread")]
    async fn a_long_attempt_does_not_hold_the_claim_back() {
        let slots = Arc::new(Semaphore::new(3));
        let long = Arc::clone(&slots).try_acquire_owned().unwrap();
        tokio::spawn(async move {
            for _ in 0..crate::server::turns::GATHER_TURNS - 2 {
                tokio::task::yield_now().await;
            }
            drop(long);
        });
        hold_slots(&slots, 2);
        let first = Arc::clone(&slots).acquire_owned().await.unwrap();
        let mut permits = vec![first];
        gather_slots(&slots, &mut permits, 3).await;
        assert_eq!(permits.len(), 2);
    }

    /// An idle pool claims for every slot at once, without yielding.
    #[tokio::test(flavor = "current_thread")]
    async fn an_idle_pool_claims_for_all_its_slots_without_waiting() {
        use futures_util::FutureExt;
        let slots = Arc::new(Semaphore::new(4));
        let mut permits = vec![Arc::clone(&slots).try_acquire_owned().unwrap()];
        take_free_slots(&slots, &mut permits);
        let gathered = gather_slots(&slots, &mut permits, 4).now_or_never();
        assert!(gathered.is_some(), "gather_slots yielded");
        assert_eq!(permits.len(), 4);
    }
}
