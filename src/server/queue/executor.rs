//! One attempt of one task: runs the handler in its own tokio task (so a panic is caught),
//! writes coalesced progress and renews the lease while it runs, and records the outcome,
//! fenced on the attempt it claimed.

use super::workers::WorkerConfig;
use super::{now_micros, Queue};
use crate::server::store::task_row;
use crate::server::store::Outcome;
use crate::server::tasks::{TaskContext, TaskError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What an attempt needs besides its task.
pub(super) struct Execution {
    pub queue: Queue,
    pub config: Arc<WorkerConfig>,
    /// Cancelled when the pool shuts down and the grace period is over.
    pub abort: CancellationToken,
}

#[tracing::instrument(skip_all, fields(task = %task.id, kind = %task.task_type, attempt = task.attempt))]
pub(super) async fn execute(execution: Execution, task: task_row::Model) {
    let Execution {
        queue,
        config,
        abort,
    } = execution;
    let store = queue.store();
    let ctx = TaskContext::new(task.id, task.attempt, abort.clone());
    let params = serde_json::from_str(&task.parameters).unwrap_or(serde_json::Value::Null);
    let Some(run) = queue.registry().start(&task.task_type, ctx.clone(), params) else {
        let error = format!("this Spool process has no task kind {:?}", task.task_type);
        record(&queue, &task, Outcome::Failed(error)).await;
        return;
    };
    let mut handle = tokio::spawn(run);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + config.heartbeat,
        config.heartbeat,
    );
    let joined = loop {
        tokio::select! {
            joined = &mut handle => break joined,
            _ = ticker.tick() => {
                let lease_until = now_micros() + config.lease.as_micros() as i64;
                let progress = ctx.take_progress().map(|p| (p.percent, p.message));
                match store.heartbeat(task.id, task.attempt, lease_until, progress).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("task is no longer this attempt's; stopping it");
                        abort.cancel();
                    }
                    Err(err) => tracing::error!(error = %err, "heartbeat failed"),
                }
            }
        }
    };
    let outcome = match joined {
        Ok(Ok(result)) => Outcome::Succeeded(result),
        Ok(Err(TaskError::Failed(message))) => Outcome::Failed(message),
        Ok(Err(TaskError::Cancelled)) if abort.is_cancelled() => {
            return requeue(&queue, &task).await
        }
        Ok(Err(TaskError::Cancelled)) => {
            Outcome::Failed("the task stopped itself as cancelled".into())
        }
        Err(join) if join.is_panic() => {
            Outcome::Failed(format!("the task panicked: {}", panic_text(join)))
        }
        Err(_) => return requeue(&queue, &task).await,
    };
    record(&queue, &task, outcome).await;
}

async fn record(queue: &Queue, task: &task_row::Model, outcome: Outcome) {
    let succeeded = matches!(outcome, Outcome::Succeeded(_));
    match queue
        .store()
        .finish(task.id, task.attempt, now_micros(), outcome)
        .await
    {
        Ok(true) => tracing::debug!(succeeded, "attempt recorded"),
        Ok(false) => tracing::warn!("outcome dropped: the task is no longer this attempt's"),
        Err(err) => {
            tracing::error!(error = %err, "could not record the outcome; the lease will expire and the task will be rescued")
        }
    }
}

async fn requeue(queue: &Queue, task: &task_row::Model) {
    if let Err(err) = queue.store().requeue(task.id, task.attempt).await {
        tracing::error!(error = %err, "could not requeue an interrupted attempt");
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    let payload = join.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}
