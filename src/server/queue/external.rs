//! Tasks run by external workers: processes in any language that claim tasks over REST
//! with a lease, renew it with heartbeats, and report the outcome. Every call after the
//! claim names the attempt the claim started and is fenced on it, exactly as the
//! in-process executor's writes are: once a lease has run out and the rescuer has put the
//! task back (or another worker holds it), the old worker's calls are refused, never
//! applied.

use super::decision::{decide, Decision, Ended, Facts};
use super::{backoff, valid_queue_name, Queue, QueueError};
use crate::error::FieldError;
use crate::model::{
    ClaimRequest, ClaimedWork, CompleteRequest, FailRequest, HeartbeatAnswer, HeartbeatRequest,
    TaskStatus,
};
use crate::server::store::{from_micros, Heartbeat, NewTask, Outcome};
use crate::server::tasks::TaskError;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Bounds of a claim.
const MAX_CLAIM: u32 = 100;
const MAX_QUEUES: usize = 16;
const MAX_WORKER_NAME: usize = 128;
const LEASE_SECS: std::ops::RangeInclusive<u64> = 2..=3600;
const DEFAULT_LEASE_SECS: u64 = 30;
const MAX_WAIT_SECS: u64 = 30;
/// How often a long poll looks again when nothing wakes it (another process's submit on
/// a database that cannot tell this one).
const POLL: Duration = Duration::from_secs(1);

/// What an external worker's call was refused for, when the task is no longer its own.
const NOT_YOURS: &str =
    "the task is no longer this attempt's: its lease ran out and it was rescued, or it finished";

impl Queue {
    /// Claims up to `request.max` ready tasks from `request.queues` (in that order) for
    /// an external worker; with `wait_secs`, waits that long for one to be submitted
    /// when none is ready. Answers early with nothing when `stop` is cancelled.
    pub async fn claim_external(
        &self,
        request: ClaimRequest,
        stop: &CancellationToken,
    ) -> Result<Vec<ClaimedWork>, QueueError> {
        let claim = Claim::check(request)?;
        if let Some(queue) = claim
            .queues
            .iter()
            .find(|queue| self.own_workers_take(queue))
        {
            return Err(QueueError::Invalid(vec![FieldError::new(
                "queues",
                format!("{queue:?} is worked by Spool's own workers; external workers take only the queues of external kinds"),
            )]));
        }
        let deadline = Instant::now() + claim.wait;
        loop {
            // Listen before looking, so a submit between the two is not missed.
            let woken = self.wake_claims().notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let claimed = self.claim_external_now(&claim).await?;
            let now = Instant::now();
            if !claimed.is_empty() || now >= deadline {
                return Ok(claimed);
            }
            tokio::select! {
                _ = &mut woken => {}
                _ = tokio::time::sleep(POLL.min(deadline - now)) => {}
                _ = stop.cancelled() => return Ok(Vec::new()),
            }
        }
    }

    /// Claims from each queue in turn. Should one claim fail after another has taken
    /// tasks, those are answered (they are the worker's now) and the failure only logged.
    async fn claim_external_now(&self, claim: &Claim) -> Result<Vec<ClaimedWork>, QueueError> {
        let mut claimed = Vec::new();
        for queue in &claim.queues {
            let wanted = claim.max - claimed.len() as u64;
            if wanted == 0 {
                break;
            }
            let now = self.now_micros();
            let lease_until = now + claim.lease.as_micros() as i64;
            let tasks = match self
                .store()
                .claim(queue, wanted, &claim.worker_id, now, lease_until)
                .await
            {
                Ok(tasks) => tasks,
                Err(err) if !claimed.is_empty() => {
                    tracing::error!(error = %err, queue = %queue, "claim for an external worker failed");
                    break;
                }
                Err(err) => return Err(err.into()),
            };
            claimed.extend(tasks.into_iter().map(|task| ClaimedWork {
                id: task.id,
                parameters: serde_json::from_str(&task.parameters).unwrap_or_default(),
                task_type: task.task_type,
                attempt: task.attempt,
                max_attempts: task.max_attempts,
                lease_expires_at: from_micros(lease_until),
                timeout_ms: task.timeout_ms,
            }));
        }
        Ok(claimed)
    }

    /// Renews an external worker's lease on task `id`, with its progress if given.
    pub async fn heartbeat_external(
        &self,
        id: Uuid,
        request: HeartbeatRequest,
    ) -> Result<HeartbeatAnswer, QueueError> {
        let lease = lease(request.lease_secs).map_err(|err| QueueError::Invalid(vec![err]))?;
        let lease_until = self.now_micros() + lease.as_micros() as i64;
        let progress = match (request.progress, request.message) {
            (None, None) => None,
            (percent, message) => {
                let percent = self.progress_of(id, percent).await?;
                Some((percent.min(100), message))
            }
        };
        match self
            .store()
            .heartbeat(id, request.attempt, lease_until, progress)
            .await?
        {
            Heartbeat::Owned { cancel_requested } => Ok(HeartbeatAnswer {
                cancel_requested,
                lease_expires_at: from_micros(lease_until),
            }),
            Heartbeat::Lost => Err(self.not_yours_or_gone(id).await),
        }
    }

    /// Records that an external worker's attempt at task `id` succeeded.
    pub async fn complete_external(
        &self,
        id: Uuid,
        request: CompleteRequest,
    ) -> Result<(), QueueError> {
        let outcome = Outcome::Succeeded(request.result);
        self.finish_external(id, request.attempt, outcome).await
    }

    /// Records that an external worker's attempt at task `id` failed: retried by the
    /// task's policy unless the worker says another attempt cannot help.
    pub async fn fail_external(&self, id: Uuid, request: FailRequest) -> Result<(), QueueError> {
        let error = match (request.retryable, request.retry_after_secs) {
            (Some(false), _) => TaskError::Permanent(request.error),
            (_, Some(secs)) => TaskError::RetryAfter {
                message: request.error,
                after: Duration::from_secs(secs),
            },
            _ => TaskError::Failed(request.error),
        };
        let task = self
            .store()
            .get(id)
            .await?
            .ok_or(QueueError::NotFound(id))?;
        if task.status != TaskStatus::Running || task.attempt != request.attempt {
            return Err(QueueError::Conflict(NOT_YOURS.into()));
        }
        let decision = decide(Facts {
            ended: Ended::Returned(Err(error)),
            stop: None,
            user_cancelled: task.cancel_requested,
            attempt: task.attempt,
            max_attempts: task.max_attempts,
            timeout_ms: task.timeout_ms,
            now: self.now_micros(),
            backoff: backoff::delay(task.attempt, &mut rand::rng()),
        });
        match decision {
            Decision::Record(outcome) => self.finish_external(id, request.attempt, outcome).await,
            Decision::Nothing | Decision::Requeue => Err(QueueError::Conflict(NOT_YOURS.into())),
        }
    }

    async fn finish_external(
        &self,
        id: Uuid,
        attempt: i32,
        outcome: Outcome,
    ) -> Result<(), QueueError> {
        let now = self.now_micros();
        if self.store().finish(id, attempt, now, outcome).await? {
            self.wake_workers();
            Ok(())
        } else {
            Err(self.not_yours_or_gone(id).await)
        }
    }

    /// Why a worker's report about task `id` changed nothing: the task is not (or no
    /// longer) this attempt's (409), or there is no such task (404).
    pub(super) async fn not_yours_or_gone(&self, id: Uuid) -> QueueError {
        match self.store().get(id).await {
            Ok(Some(_)) => QueueError::Conflict(NOT_YOURS.into()),
            Ok(None) => QueueError::NotFound(id),
            Err(err) => err.into(),
        }
    }

    /// The progress to write: the one given, or the task's current one when only a
    /// message is.
    async fn progress_of(&self, id: Uuid, percent: Option<u8>) -> Result<u8, QueueError> {
        match percent {
            Some(percent) => Ok(percent),
            None => Ok(self
                .store()
                .get(id)
                .await?
                .ok_or(QueueError::NotFound(id))?
                .progress),
        }
    }
}

impl Queue {
    /// Refuses a task of an external kind in a queue this process's own workers take:
    /// they cannot run it, and would fail it. `field` prefixes the field's name (a
    /// batch's index).
    pub(super) fn refuse_external_here(
        &self,
        task: &NewTask,
        field: &str,
    ) -> Result<(), QueueError> {
        if !self.registry().is_external(&task.task_type) || !self.own_workers_take(&task.queue) {
            return Ok(());
        }
        Err(QueueError::Invalid(vec![FieldError::new(
            format!("{field}queue"),
            format!(
                "{:?} is worked by Spool's own workers, which cannot run {:?}: leave the queue \
                 out (its tasks then join {:?}) or name one that only external workers take",
                task.queue,
                task.task_type,
                self.registry()
                    .default_queue(&task.task_type)
                    .unwrap_or_default()
            ),
        )]))
    }
}

/// A claim request, checked.
struct Claim {
    worker_id: String,
    queues: Vec<String>,
    max: u64,
    lease: Duration,
    wait: Duration,
}

impl Claim {
    fn check(request: ClaimRequest) -> Result<Claim, QueueError> {
        let mut errors = Vec::new();
        let worker = request.worker.trim();
        if worker.is_empty()
            || worker.len() > MAX_WORKER_NAME
            || worker.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "worker",
                format!("must be 1 to {MAX_WORKER_NAME} printable characters"),
            ));
        }
        if request.queues.is_empty() || request.queues.len() > MAX_QUEUES {
            errors.push(FieldError::new(
                "queues",
                format!("name 1 to {MAX_QUEUES} queues"),
            ));
        }
        for (index, queue) in request.queues.iter().enumerate() {
            if !valid_queue_name(queue) {
                errors.push(FieldError::new(
                    format!("queues[{index}]"),
                    "not a queue name (letters, digits, '_', '-', '.')",
                ));
            }
        }
        let max = request.max.unwrap_or(1);
        if !(1..=MAX_CLAIM).contains(&max) {
            errors.push(FieldError::new(
                "max",
                format!("must be from 1 to {MAX_CLAIM}"),
            ));
        }
        let lease = lease(request.lease_secs).map_err(|err| errors.push(err));
        let wait = request.wait_secs.unwrap_or(0);
        if wait > MAX_WAIT_SECS {
            errors.push(FieldError::new(
                "wait_secs",
                format!("must be from 0 to {MAX_WAIT_SECS}"),
            ));
        }
        match lease {
            Ok(lease) if errors.is_empty() => Ok(Claim {
                worker_id: format!("external:{worker}"),
                queues: request.queues,
                max: u64::from(max),
                lease,
                wait: Duration::from_secs(wait),
            }),
            _ => Err(QueueError::Invalid(errors)),
        }
    }
}

fn lease(secs: Option<u64>) -> Result<Duration, FieldError> {
    let secs = secs.unwrap_or(DEFAULT_LEASE_SECS);
    if LEASE_SECS.contains(&secs) {
        Ok(Duration::from_secs(secs))
    } else {
        Err(FieldError::new("lease_secs", "must be from 2 to 3600"))
    }
}
