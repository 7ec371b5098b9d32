//! Housekeeping that keeps the queue moving: promotes SCHEDULED tasks whose time has come,
//! rescues tasks whose worker died (expired lease) and prunes old finished tasks (and
//! old schedule runs, but each schedule's latest) and old audit entries. (The
//! store checkpoints its WAL on its own.)
//! Every step is a fenced, idempotent statement, so it is safe in any number of processes.

use super::Queue;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often each housekeeping step runs, and how long finished tasks are kept.
#[derive(Clone, Debug)]
pub struct MaintenanceConfig {
    /// Delayed tasks and retries start at most this late.
    pub promote_every: Duration,
    /// A dead worker's tasks are rescued at most this long after its lease expired.
    pub rescue_every: Duration,
    pub prune_every: Duration,
    /// Finished tasks older than this are deleted.
    pub retention: Duration,
    /// Audit entries older than this are deleted.
    pub audit_retention: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            promote_every: Duration::from_millis(250),
            rescue_every: Duration::from_secs(2),
            prune_every: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// Runs housekeeping until `stop` is cancelled.
pub async fn run_maintenance(queue: Queue, config: MaintenanceConfig, stop: CancellationToken) {
    let mut promote = tokio::time::interval(config.promote_every);
    let mut rescue = tokio::time::interval(config.rescue_every);
    let mut prune = tokio::time::interval(config.prune_every);
    for timer in [&mut promote, &mut rescue, &mut prune] {
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    let store = queue.store();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = promote.tick() => match store.promote_due(queue.now_micros()).await {
                Ok(0) => {}
                Ok(_) => queue.wake_workers(),
                Err(err) => tracing::error!(error = %err, "promoting scheduled tasks failed"),
            },
            _ = rescue.tick() => match store.rescue_expired(queue.now_micros()).await {
                Ok(rescued) if rescued == Default::default() => {}
                Ok(rescued) => {
                    queue.metrics().rescued(rescued.retried, rescued.failed, rescued.cancelled);
                    tracing::warn!(?rescued, "rescued tasks whose worker stopped responding");
                    queue.wake_workers();
                }
                Err(err) => tracing::error!(error = %err, "rescuing expired tasks failed"),
            },
            _ = prune.tick() => {
                let cutoff = queue.now_micros() - config.retention.as_micros() as i64;
                match store.prune(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(tasks = n, "pruned finished tasks past retention"),
                    Err(err) => tracing::error!(error = %err, "pruning failed"),
                }
                let a_day_ago = queue.now_micros() / 60_000_000 - 24 * 60;
                if let Err(err) = store.prune_throughput(a_day_ago).await {
                    tracing::error!(error = %err, "pruning throughput counters failed");
                }
                if let Err(err) = prune_task_stats(store, queue.now_micros()).await {
                    tracing::error!(error = %err, "pruning the charts' aggregates failed");
                }
                if let Err(err) = store.prune_schedule_runs(cutoff).await {
                    tracing::error!(error = %err, "pruning schedule runs failed");
                }
                let audit_cutoff = queue.now_micros() - config.audit_retention.as_micros() as i64;
                if let Err(err) = store.prune_audit(audit_cutoff).await {
                    tracing::error!(error = %err, "pruning the audit log failed");
                }
            }
        }
    }
}

/// Keeps the charts' minute rows for two hours and their hour rows for two days: a
/// window and a margin for a clock that moved.
async fn prune_task_stats(
    store: &crate::server::store::Store,
    now: i64,
) -> Result<(), crate::server::store::StoreError> {
    use crate::server::store::{HOUR_SPAN, MINUTE_SPAN};
    let minute = now.div_euclid(super::MICROS_PER_MINUTE);
    store.prune_task_stats(MINUTE_SPAN, minute - 2 * 60).await?;
    store
        .prune_task_stats(HOUR_SPAN, minute - 2 * 24 * 60)
        .await?;
    Ok(())
}
