//! What operators do to one task — cancel, retry (with new parameters, if given), run
//! now, delete — each recorded in the audit log with who did it, in the transaction that
//! changes the task; who did it (the access proved, the address); and reading the log.
//! Bulk actions are in `bulk`.

use super::{Queue, QueueError};
use crate::model::{AuditEntry, TaskStatus, TaskView};
use crate::server::store::{ActionResult, AuditNote, CancelResult, RetryResult};
use serde_json::{json, Value};
use std::net::IpAddr;
use uuid::Uuid;

/// How a request proved the access it acts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The full token, as `Authorization: Bearer`.
    Token,
    /// The dashboard's session cookie, from signing in with the full token.
    Session,
    /// No token is configured and only loopback is served: the open local mode.
    Local,
    /// No token is configured and every address is served, on purpose.
    Open,
}

impl Proof {
    /// The word the audit log records.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Token => "token",
            Proof::Session => "session",
            Proof::Local => "local",
            Proof::Open => "open",
        }
    }
}

/// Who takes an action: the access it proved, and the client's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub proof: Proof,
    pub address: Option<IpAddr>,
}

impl Actor {
    /// A caller in this process with no request behind it (tests, embedding programs).
    pub fn local() -> Actor {
        Actor {
            proof: Proof::Local,
            address: None,
        }
    }
}

impl Queue {
    pub(super) fn note(&self, action: &'static str, by: &Actor) -> AuditNote {
        AuditNote {
            at: self.now_micros(),
            action,
            access: by.proof.as_str().to_string(),
            address: by.address.map(|ip| ip.to_string()),
            task_id: None,
            filter: None,
            changed: 1,
            details: None,
        }
    }

    fn task_note(&self, action: &'static str, by: &Actor, id: Uuid) -> AuditNote {
        AuditNote {
            task_id: Some(id),
            ..self.note(action, by)
        }
    }

    /// Cancels a task: PENDING or SCHEDULED at once; RUNNING by asking its handler to
    /// stop (it ends CANCELLED). A finished task answers 409.
    pub async fn cancel(&self, id: Uuid, by: &Actor) -> Result<TaskView, QueueError> {
        self.cancel_noted(id, Some(self.task_note("cancel", by, id)))
            .await?;
        self.get(id).await
    }

    pub(super) async fn cancel_noted(
        &self,
        id: Uuid,
        note: Option<AuditNote>,
    ) -> Result<(), QueueError> {
        match self.store.cancel_noted(id, self.now_micros(), note).await? {
            CancelResult::Cancelled => Ok(()),
            CancelResult::Requested => {
                self.signal_cancel(id);
                Ok(())
            }
            CancelResult::AlreadyFinal(status) => Err(QueueError::Conflict(format!(
                "the task is already {status}; only unfinished tasks can be cancelled"
            ))),
            CancelResult::NotFound => Err(QueueError::NotFound(id)),
        }
    }

    /// Runs a FAILED or CANCELLED task again, and answers it as the retry left it
    /// (PENDING). Anything else answers 409.
    pub async fn retry(&self, id: Uuid, by: &Actor) -> Result<TaskView, QueueError> {
        let note = self.task_note("retry", by, id);
        self.retry_noted(id, None, Some(note)).await
    }

    /// Retries a FAILED or CANCELLED task with new parameters, checked as a submit's are;
    /// the audit entry keeps the old and the new (secrets hidden). The parameters are
    /// edited from the task as it is shown, secrets hidden: wherever the new parameters
    /// still hold what was shown in place of a secret, the secret is kept.
    pub async fn edit_and_retry(
        &self,
        id: Uuid,
        mut parameters: Value,
        by: &Actor,
    ) -> Result<TaskView, QueueError> {
        let task = self.store.get(id).await?.ok_or(QueueError::NotFound(id))?;
        let mut shown = task.parameters.clone();
        self.registry.redact(&task.task_type, &mut shown);
        keep_hidden(&task.parameters, &shown, &mut parameters);
        let checked = self
            .registry
            .validate(&task.task_type, &parameters)
            .map_err(|err| QueueError::Invalid(err.details))?;
        let (mut old, mut new) = (task.parameters.clone(), checked.clone());
        self.registry.redact(&task.task_type, &mut old);
        self.registry.redact(&task.task_type, &mut new);
        let note = AuditNote {
            details: Some(json!({"old": old, "new": new})),
            ..self.task_note("edit_retry", by, id)
        };
        self.retry_noted(id, Some(checked), Some(note)).await
    }

    pub(super) async fn retry_noted(
        &self,
        id: Uuid,
        parameters: Option<Value>,
        note: Option<AuditNote>,
    ) -> Result<TaskView, QueueError> {
        let now = self.now_micros();
        match self.store.retry_noted(id, now, parameters, note).await? {
            RetryResult::Retried => {
                // Read before the workers are woken: a quick task could otherwise have
                // run to its end before the answer is read.
                let retried = self.get(id).await;
                self.wake_workers();
                retried
            }
            RetryResult::NotRetryable(status) => {
                let why = if status == TaskStatus::Success {
                    "it succeeded"
                } else {
                    "it has not finished"
                };
                Err(QueueError::Conflict(format!(
                    "the task is {status}: only FAILED or CANCELLED tasks can be retried, and {why}"
                )))
            }
            RetryResult::NotFound => Err(QueueError::NotFound(id)),
            RetryResult::UniqueKeyHeld => Err(QueueError::Conflict(
                "another task with this task's unique key is waiting or running, or counts \
                 as finished"
                    .into(),
            )),
        }
    }

    /// Makes a SCHEDULED task (delayed, or waiting out a retry's backoff) due now.
    pub async fn run_now(&self, id: Uuid, by: &Actor) -> Result<TaskView, QueueError> {
        let note = self.task_note("run_now", by, id);
        match self.store.run_now(id, self.now_micros(), Some(note)).await? {
            ActionResult::Done => {
                let due = self.get(id).await;
                self.wake_workers();
                due
            }
            ActionResult::NotNow(status) => Err(QueueError::Conflict(format!(
                "the task is {status}: only a SCHEDULED task (delayed, or waiting to be retried) can be run now"
            ))),
            ActionResult::NotFound => Err(QueueError::NotFound(id)),
        }
    }

    /// Deletes a finished task (SUCCESS, FAILED or CANCELLED) with its attempts and log.
    pub async fn delete_finished(&self, id: Uuid, by: &Actor) -> Result<(), QueueError> {
        self.delete_noted(id, Some(self.task_note("delete", by, id)))
            .await
    }

    pub(super) async fn delete_noted(
        &self,
        id: Uuid,
        note: Option<AuditNote>,
    ) -> Result<(), QueueError> {
        match self.store.delete_finished(id, note).await? {
            ActionResult::Done => Ok(()),
            ActionResult::NotNow(status) => Err(QueueError::Conflict(format!(
                "the task is {status}: only a finished task can be deleted (cancel it first)"
            ))),
            ActionResult::NotFound => Err(QueueError::NotFound(id)),
        }
    }

    /// Audit entries newest first, before entry `before` if given, of task `task` if
    /// given.
    pub async fn audit(
        &self,
        task: Option<Uuid>,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEntry>, QueueError> {
        if limit == 0 || before.is_some_and(|before| before < 1) {
            return Err(QueueError::BadRequest(
                "limit must be 1 or more, and before a positive entry number".into(),
            ));
        }
        Ok(self.store.audit_page(task, before, limit).await?)
    }
}

/// Wherever `new` holds what was `shown` of `stored` and the two differ (a secret hidden
/// by the kind), puts `stored` back: an edit leaves the secrets it could not see as they
/// were. A value the editor changed is taken as it is.
fn keep_hidden(stored: &Value, shown: &Value, new: &mut Value) {
    if stored == shown {
        return;
    }
    if new == shown {
        *new = stored.clone();
        return;
    }
    match (stored, shown, new) {
        (Value::Object(stored), Value::Object(shown), Value::Object(new)) => {
            for (key, value) in new.iter_mut() {
                if let (Some(stored), Some(shown)) = (stored.get(key), shown.get(key)) {
                    keep_hidden(stored, shown, value);
                }
            }
        }
        (Value::Array(stored), Value::Array(shown), Value::Array(new)) => {
            for (index, value) in new.iter_mut().enumerate() {
                if let (Some(stored), Some(shown)) = (stored.get(index), shown.get(index)) {
                    keep_hidden(stored, shown, value);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::keep_hidden;
    use serde_json::json;

    #[test]
    fn an_edit_keeps_the_secrets_it_was_shown_hidden() {
        let stored = json!({"url": "https://x.test/?key=s3cret", "headers": {"Authorization": "Bearer s3cret", "Accept": "a"}, "timeout_ms": 100});
        let shown = json!({"url": "https://x.test/?key=(hidden)", "headers": {"Authorization": "(hidden)", "Accept": "a"}, "timeout_ms": 100});
        let mut new = json!({"url": "https://x.test/?key=(hidden)", "headers": {"Authorization": "(hidden)", "Accept": "b"}, "timeout_ms": 200});
        keep_hidden(&stored, &shown, &mut new);
        assert_eq!(
            new,
            json!({"url": "https://x.test/?key=s3cret", "headers": {"Authorization": "Bearer s3cret", "Accept": "b"}, "timeout_ms": 200})
        );

        // What the editor changed, it changed; parameters without secrets are untouched.
        let mut replaced =
            json!({"url": "https://y.test/", "headers": {"Authorization": "Bearer new"}});
        keep_hidden(&stored, &shown, &mut replaced);
        assert_eq!(
            replaced,
            json!({"url": "https://y.test/", "headers": {"Authorization": "Bearer new"}})
        );
        let plain = json!({"rows": 5});
        let mut typed = json!({"rows": "(hidden)"});
        keep_hidden(&plain, &plain, &mut typed);
        assert_eq!(typed, json!({"rows": "(hidden)"}));
    }
}
