//! One attempt of one task: runs the handler in its own tokio task (so a panic is caught),
//! writes coalesced progress and renews the lease while it runs, enforces the timeout and
//! the cancel grace period, and records the outcome fenced on the attempt it claimed.

use super::workers::WorkerConfig;
use super::{backoff, now_micros, Queue};
use crate::server::store::{task_row, Heartbeat, Outcome};
use crate::server::tasks::{TaskContext, TaskError};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// What an attempt needs besides its task.
pub(super) struct Execution {
    pub queue: Queue,
    pub config: Arc<WorkerConfig>,
    /// Cancelled when the pool shuts down and the grace period is over.
    pub abort: CancellationToken,
}

/// Why the handler's token was cancelled, if it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    User,
    Timeout,
    Shutdown,
    Lost,
}

#[tracing::instrument(skip_all, fields(task = %task.id, kind = %task.task_type, attempt = task.attempt))]
pub(super) async fn execute(execution: Execution, task: task_row::Model) {
    let Execution {
        queue,
        config,
        abort,
    } = execution;
    let store = queue.store();
    let token = CancellationToken::new();
    let _tracked = queue.track(task.id, token.clone());
    let ctx = TaskContext::new(task.id, task.attempt, token.clone());
    let params = serde_json::from_str(&task.parameters).unwrap_or(serde_json::Value::Null);
    let Some(run) = queue.registry().start(&task.task_type, ctx.clone(), params) else {
        let error = format!("this Spool process has no task kind {:?}", task.task_type);
        record(
            &queue,
            &task,
            Outcome::Failed {
                error,
                retry_at: None,
            },
        )
        .await;
        return;
    };
    let mut handle = tokio::spawn(run);
    let mut ticker = tokio::time::interval_at(Instant::now() + config.heartbeat, config.heartbeat);
    let timeout = task
        .timeout_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms.max(0) as u64));
    // Set when the token is cancelled; the handler then has `cancel_grace` to return.
    let mut stop: Option<(StopReason, Instant)> = if task.cancel_requested {
        token.cancel();
        Some((StopReason::User, Instant::now() + config.cancel_grace))
    } else {
        None
    };
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);

    let joined = loop {
        let deadline = stop.map(|(_, at)| at).or(timeout).unwrap_or(far);
        tokio::select! {
            joined = &mut handle => break joined,
            _ = token.cancelled(), if stop.is_none() => {
                stop = Some((StopReason::User, Instant::now() + config.cancel_grace));
            }
            _ = abort.cancelled(), if stop.is_none() => {
                token.cancel();
                stop = Some((StopReason::Shutdown, Instant::now() + config.cancel_grace));
            }
            _ = sleep_until(deadline) => match stop {
                None => {
                    token.cancel();
                    stop = Some((StopReason::Timeout, Instant::now() + config.cancel_grace));
                }
                Some((reason, _)) => {
                    tracing::warn!(?reason, "the handler ignored cancellation; aborting it");
                    handle.abort();
                }
            },
            _ = ticker.tick() => {
                let lease_until = now_micros() + config.lease.as_micros() as i64;
                let progress = ctx.take_progress().map(|p| (p.percent, p.message));
                match store.heartbeat(task.id, task.attempt, lease_until, progress).await {
                    Ok(Heartbeat::Owned { cancel_requested: true }) if stop.is_none() => token.cancel(),
                    Ok(Heartbeat::Owned { .. }) => {}
                    Ok(Heartbeat::Lost) => {
                        tracing::warn!("the task is no longer this attempt's; stopping it");
                        token.cancel();
                        stop = Some((StopReason::Lost, Instant::now() + config.cancel_grace));
                    }
                    Err(err) => tracing::error!(error = %err, "heartbeat failed"),
                }
            }
        }
    };

    let reason = stop.map(|(reason, _)| reason);
    let outcome = match (joined, reason) {
        (_, Some(StopReason::Lost)) => return,
        (_, Some(StopReason::Shutdown)) => return requeue(&queue, &task).await,
        (Ok(Ok(result)), _) => Outcome::Succeeded(result),
        (_, Some(StopReason::User)) => Outcome::Cancelled,
        (_, Some(StopReason::Timeout)) => failure(
            &task,
            format!("timed out after {} ms", task.timeout_ms.unwrap_or(0)),
        ),
        (Ok(Err(TaskError::Failed(message))), None) => failure(&task, message),
        (Ok(Err(TaskError::Cancelled)), None) => {
            failure(&task, "the task stopped itself as cancelled".into())
        }
        (Err(join), None) if join.is_panic() => {
            failure(&task, format!("the task panicked: {}", panic_text(join)))
        }
        (Err(_), None) => failure(&task, "the attempt was aborted".into()),
    };
    // The last progress report may not have been written yet: keep its message.
    if let Some(last) = ctx.take_progress() {
        let lease_until = now_micros() + config.lease.as_micros() as i64;
        let progress = Some((last.percent, last.message));
        if let Err(err) = store
            .heartbeat(task.id, task.attempt, lease_until, progress)
            .await
        {
            tracing::warn!(error = %err, "could not write the final progress");
        }
    }
    record(&queue, &task, outcome).await;
}

/// A failed attempt: retried after a backoff while attempts remain, else final.
fn failure(task: &task_row::Model, error: String) -> Outcome {
    let retry_at = (task.attempt < task.max_attempts).then(|| {
        let delay = backoff::delay(task.attempt, &mut rand::rng());
        now_micros() + delay.as_micros() as i64
    });
    Outcome::Failed { error, retry_at }
}

async fn record(queue: &Queue, task: &task_row::Model, outcome: Outcome) {
    match queue
        .store()
        .finish(task.id, task.attempt, now_micros(), outcome)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!("outcome dropped: the task is no longer this attempt's"),
        Err(err) => {
            tracing::error!(error = %err, "could not record the outcome; the lease will expire and the task will be rescued")
        }
    }
}

async fn requeue(queue: &Queue, task: &task_row::Model) {
    if let Err(err) = queue
        .store()
        .requeue(task.id, task.attempt, now_micros())
        .await
    {
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
