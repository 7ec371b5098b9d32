//! One attempt of one task: runs the handler in its own tokio task (so a panic is caught;
//! the executor itself is polled by the pool's [`super::attempts::Attempts`]),
//! writes coalesced progress and renews the lease while it runs, stores what the handler
//! logs, enforces the timeout and the cancel grace period, and records the outcome fenced
//! on the attempt it claimed.

use super::decision::{decide, Decision, Ended, Facts, Stop};
use super::slot::Slot;
use super::worker_config::WorkerConfig;
use super::{backoff, Queue};
use crate::server::store::{ClaimedTask, CommitVerdict, Heartbeat, Outcome};
use crate::server::tasks::TaskContext;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// How long after a handler logs a line it is stored, with whatever else the handler logs
/// meanwhile: one write per burst, and a follower sees the line within this.
const LOG_FLUSH_DELAY: Duration = Duration::from_millis(200);

/// What an attempt needs besides its task.
pub(super) struct Execution {
    pub queue: Queue,
    pub config: Arc<WorkerConfig>,
    /// Cancelled when the pool shuts down and the grace period is over.
    pub abort: CancellationToken,
    /// Whether the claim that started this attempt committed. Until it is known the
    /// attempt writes nothing: if it did not, the task was never this attempt's, and a
    /// later claim may already hold it under the same attempt number.
    pub claim: CommitVerdict,
    /// The pool's slot this attempt holds while its handler runs. It is given back before
    /// the outcome is written, so the pool's next claim can share that commit.
    pub slot: Slot,
}

/// Writes an event about an attempt to the process's log with the fields every line about
/// a task carries: its id, kind, attempt and the worker pool running it.
macro_rules! attempt_event {
    ($level:ident, $ctx:expr, $($rest:tt)+) => {
        tracing::$level!(
            task = %$ctx.id(),
            kind = $ctx.kind(),
            attempt = $ctx.attempt(),
            process = $ctx.process(),
            $($rest)+
        )
    };
}

// A debug span: one at INFO per task would cost every task on the hot path, so the
// events below (`attempt_event!`) name their task, kind, attempt and pool themselves.
#[tracing::instrument(level = "debug", skip_all, fields(task = %task.id, kind = %task.task_type, attempt = task.attempt))]
pub(super) async fn execute(execution: Execution, task: ClaimedTask) {
    let Execution {
        queue,
        config,
        abort,
        mut claim,
        slot,
    } = execution;
    let store = queue.store();
    let started = Instant::now();
    // `user_cancel` is a user's request; `token` is what the handler watches.
    let user_cancel = CancellationToken::new();
    let _tracked = queue.track(task.id, user_cancel.clone());
    let token = CancellationToken::new();
    let ctx = TaskContext::for_attempt(
        task.id,
        task.attempt,
        &task.task_type,
        &config.worker_id,
        token.clone(),
    );
    let waited = (queue.now_micros() - task.run_at).max(0) as u64;
    queue.metrics().started(
        &config.queue,
        &task.task_type,
        Duration::from_micros(waited),
    );
    let params = serde_json::from_str(&task.parameters).unwrap_or(serde_json::Value::Null);
    let Some(run) = queue.registry().start(&task.task_type, ctx.clone(), params) else {
        let error = format!("this Spool process has no task kind {:?}", task.task_type);
        if !claim.committed().await {
            return;
        }
        record(
            &queue,
            &task,
            &ctx,
            Outcome::Failed {
                error,
                retry_at: None,
            },
            started,
            &config,
        )
        .await;
        return;
    };
    if task.cancel_requested {
        user_cancel.cancel();
    }
    let mut handle = tokio::spawn(run);
    let mut ticker = tokio::time::interval_at(Instant::now() + config.heartbeat, config.heartbeat);
    let timeout = task
        .timeout_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms.max(0) as u64));
    let never = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut stop: Option<Stop> = None;
    let mut user_cancelled = false;
    // Once the handler is told to stop, it has `cancel_grace` to return; then it is
    // aborted, and if even that does not end it, abandoned after one more grace period.
    let mut deadline: Option<Instant> = None;
    let mut aborted = false;
    // Whether the claim's verdict has been acted on. Not `claim.known()`: a commit that
    // failed before this attempt got going is known at once, and must stop it all the same.
    let mut verdict_seen = false;
    // When the lines logged since the last store are due to be stored.
    let mut store_log_at: Option<Instant> = None;

    let ended = loop {
        let wake_at = deadline
            .or(timeout.filter(|_| stop.is_none()))
            .unwrap_or(never);
        tokio::select! {
            biased;
            joined = &mut handle => break match joined {
                Ok(result) => Ended::Returned(result),
                Err(join) if join.is_panic() => {
                    attempt_event!(error, ctx, panic = %panic_text(join), "the task panicked");
                    Ended::Panicked
                }
                Err(_) => Ended::Stopped,
            },
            _ = user_cancel.cancelled(), if !user_cancelled => {
                user_cancelled = true;
                token.cancel();
                deadline.get_or_insert(Instant::now() + config.cancel_grace);
            }
            committed = claim.committed(), if !verdict_seen => {
                verdict_seen = true;
                if !committed {
                    attempt_event!(warn, ctx, "the claim of this task did not commit; stopping it");
                    stop = Some(Stop::Lost);
                    token.cancel();
                    deadline.get_or_insert(Instant::now() + config.cancel_grace);
                }
            }
            _ = abort.cancelled(), if stop.is_none() => {
                stop = Some(Stop::Shutdown);
                token.cancel();
                deadline.get_or_insert(Instant::now() + config.cancel_grace);
            }
            _ = sleep_until(wake_at) => {
                if deadline.is_none() {
                    stop = Some(Stop::Timeout);
                    token.cancel();
                    deadline = Some(Instant::now() + config.cancel_grace);
                } else if !aborted {
                    attempt_event!(warn, ctx, "the handler did not stop within the grace period; aborting it");
                    handle.abort();
                    aborted = true;
                    deadline = Some(Instant::now() + config.cancel_grace);
                } else {
                    attempt_event!(error, ctx, "the handler cannot be stopped (blocking code?); abandoning it");
                    break Ended::Stopped;
                }
            }
            // Nothing is written before the claim is known to have committed.
            _ = ctx.logged(), if store_log_at.is_none() && claim.known() == Some(true) => {
                store_log_at = Some(Instant::now() + LOG_FLUSH_DELAY);
            }
            _ = sleep_until(store_log_at.unwrap_or(never)), if store_log_at.is_some() => {
                store_log_at = None;
                store_log(&queue, &task, &ctx).await;
            }
            // The lease is renewed, and progress written, only once the claim committed.
            _ = ticker.tick(), if claim.known() == Some(true) => {
                let lease_until = queue.now_micros() + config.lease.as_micros() as i64;
                let progress = ctx.take_progress().map(|p| (p.percent, p.message));
                match store.heartbeat(task.id, task.attempt, lease_until, progress).await {
                    Ok(Heartbeat::Owned { cancel_requested: true }) => user_cancel.cancel(),
                    Ok(Heartbeat::Owned { .. }) => {}
                    Ok(Heartbeat::Lost) => {
                        attempt_event!(warn, ctx, "the task is no longer this attempt's; stopping it");
                        stop = Some(Stop::Lost);
                        token.cancel();
                        deadline.get_or_insert(Instant::now() + config.cancel_grace);
                    }
                    Err(err) => attempt_event!(error, ctx, error = %err, "heartbeat failed"),
                }
            }
        }
    };

    drop(slot);
    if !claim.committed().await {
        return attempt_event!(
            warn,
            ctx,
            "the claim of this task did not commit; its outcome is dropped"
        );
    }
    // While the task is still this attempt's: the lines are fenced on that.
    store_log(&queue, &task, &ctx).await;
    let retry_delay = backoff::delay(task.attempt, &mut rand::rng());
    let outcome = match decide(Facts {
        ended,
        stop,
        user_cancelled: user_cancelled || user_cancel.is_cancelled(),
        attempt: task.attempt,
        max_attempts: task.max_attempts,
        timeout_ms: task.timeout_ms,
        now: queue.now_micros(),
        backoff: retry_delay,
    }) {
        Decision::Nothing => return,
        Decision::Requeue => return requeue(&queue, &task, &ctx, started, &config).await,
        Decision::Record(outcome) => outcome,
    };
    // The last progress report may not have been written yet: keep its message.
    if let Some(last) = ctx.take_progress() {
        let lease_until = queue.now_micros() + config.lease.as_micros() as i64;
        let progress = Some((last.percent, last.message));
        if let Err(err) = store
            .heartbeat(task.id, task.attempt, lease_until, progress)
            .await
        {
            attempt_event!(warn, ctx, error = %err, "could not write the final progress");
        }
    }
    record(&queue, &task, &ctx, outcome, started, &config).await;
}

/// Writes the attempt's outcome. When the write fails (the database is unreachable, or
/// lost lock races past the store's own retries) it is tried again for as long as one
/// lease, the lease extended before each try, so a passing fault does not make the task
/// run again; after that the lease runs out and the task is rescued.
async fn record(
    queue: &Queue,
    task: &ClaimedTask,
    ctx: &TaskContext,
    outcome: Outcome,
    started: Instant,
    config: &WorkerConfig,
) {
    let lease = config.lease;
    let label = match &outcome {
        Outcome::Succeeded(_) => "success",
        Outcome::Failed { .. } => "failure",
        Outcome::Cancelled => "cancelled",
    };
    queue
        .metrics()
        .finished(&config.queue, &task.task_type, label, started.elapsed());
    let store = queue.store();
    let give_up = Instant::now() + lease;
    let mut pause = Duration::from_millis(50);
    loop {
        match store
            .finish(task.id, task.attempt, queue.now_micros(), outcome.clone())
            .await
        {
            Ok(true) => return,
            Ok(false) => {
                return attempt_event!(
                    warn,
                    ctx,
                    "outcome dropped: the task is no longer this attempt's"
                )
            }
            Err(err) if Instant::now() + pause >= give_up => {
                return attempt_event!(error, ctx, error = %err, "could not record the outcome; the lease will expire and the task will be rescued");
            }
            Err(err) => {
                attempt_event!(warn, ctx, error = %err, "could not record the outcome yet; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                let lease_until = queue.now_micros() + lease.as_micros() as i64;
                if let Ok(Heartbeat::Lost) = store
                    .heartbeat(task.id, task.attempt, lease_until, None)
                    .await
                {
                    return attempt_event!(
                        warn,
                        ctx,
                        "outcome dropped: the task is no longer this attempt's"
                    );
                }
            }
        }
    }
}

/// Stores the lines the handler logged since the last call. Lines a failed write loses are
/// still in the process's own log, and leave a gap in the stored one.
async fn store_log(queue: &Queue, task: &ClaimedTask, ctx: &TaskContext) {
    let Some(log) = ctx.take_log() else { return };
    let now = queue.now_micros();
    let taken = log.skipped + log.lines.len() as u64;
    match queue
        .store()
        .append_log(task.id, task.attempt, log.skipped, log.lines, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            attempt_event!(
                debug,
                ctx,
                "log lines dropped: the task is no longer this attempt's"
            )
        }
        Err(err) => {
            // Counted with the next lines stored, so the log shows where these were.
            ctx.lost_lines(taken);
            attempt_event!(warn, ctx, error = %err, "could not store log lines")
        }
    }
}

async fn requeue(
    queue: &Queue,
    task: &ClaimedTask,
    ctx: &TaskContext,
    started: Instant,
    config: &WorkerConfig,
) {
    queue.metrics().finished(
        &config.queue,
        &task.task_type,
        "interrupted",
        started.elapsed(),
    );
    if let Err(err) = queue
        .store()
        .requeue(task.id, task.attempt, queue.now_micros())
        .await
    {
        attempt_event!(error, ctx, error = %err, "could not requeue an interrupted attempt");
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
