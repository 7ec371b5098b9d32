//! Taking submits in: one task, one with an idempotency key, a unique one, or a batch.
//! Each is validated whole before anything is stored; once a submit returns, its task is
//! durable.

use super::{submit, Queue, QueueError};
use crate::error::FieldError;
use crate::model::{SubmitRequest, TaskView};
use crate::server::store::{InsertError, NewTask, Unique};

impl Queue {
    /// Validates and stores a task. Nothing is stored when validation fails. A unique
    /// task whose key is held is answered with the task holding it.
    pub async fn submit(&self, request: SubmitRequest) -> Result<TaskView, QueueError> {
        self.submit_with_key(request, None).await
    }

    /// Like [`Queue::submit`], with an optional idempotency key: the first request stores
    /// the task, a repeat with the same body answers that task again (nothing new is
    /// stored), and a repeat with another body is refused (422).
    pub async fn submit_with_key(
        &self,
        request: SubmitRequest,
        key: Option<String>,
    ) -> Result<TaskView, QueueError> {
        let mut task = submit::prepare(self.registry(), request, self.clock.now())?;
        self.refuse_external_here(&task, "")?;
        task.idempotency_key = key.clone();
        // With both keys, the idempotency key speaks first: a repeat answers its task (or
        // is refused) before the unique key is looked at.
        if let (Some(_), Some(key)) = (&task.unique, &key) {
            if self.store().find_by_key(key).await?.is_some() {
                return self.repeated(key.clone(), &task).await;
            }
        }
        let inserted = match (&task.unique, &key) {
            (Some(_), _) => match self.store().insert_unique(task.clone()).await {
                Ok(Unique::Stored(stored)) => Ok(stored),
                Ok(Unique::Held(holder)) => return Ok(self.view(holder)),
                Err(err) => Err(err),
            },
            (None, Some(_)) => self.store().insert_keyed(task.clone()).await,
            (None, None) => self
                .store()
                .insert(task.clone())
                .await
                .map_err(InsertError::from),
        };
        match inserted {
            Ok(stored) => {
                self.metrics().submitted(&stored.queue, &stored.task_type);
                self.wake_workers();
                Ok(self.view(stored))
            }
            Err(InsertError::DuplicateKey) => self.repeated(key.unwrap_or_default(), &task).await,
            Err(InsertError::UniqueKeyMoved) => Err(QueueError::Conflict(
                "the task holding this unique key just finished; try again".into(),
            )),
            Err(InsertError::Store(err)) => Err(err.into()),
        }
    }

    /// The answer to a submit whose idempotency key a stored task already holds.
    async fn repeated(&self, key: String, task: &NewTask) -> Result<TaskView, QueueError> {
        match self.store().find_by_key(&key).await? {
            Some(stored) if submit::same_request(&stored, task) => Ok(self.view(stored)),
            Some(_) => Err(QueueError::Invalid(vec![FieldError::new(
                "Idempotency-Key",
                "this key was already used for a different request",
            )])),
            // The holder was pruned between the two statements: the key is free again.
            None => Err(QueueError::Conflict(
                "the idempotency key is being reused; try again".into(),
            )),
        }
    }

    /// Validates every request, then stores all of them or none. Unique tasks are
    /// submitted one at a time, where each answer can say which task holds the key.
    pub async fn submit_batch(
        &self,
        requests: Vec<SubmitRequest>,
    ) -> Result<Vec<TaskView>, QueueError> {
        let unique: Vec<FieldError> = requests
            .iter()
            .enumerate()
            .filter(|(_, request)| request.unique.is_some())
            .map(|(index, _)| {
                FieldError::new(
                    format!("[{index}].unique"),
                    "a batch takes no unique tasks: submit those one at a time",
                )
            })
            .collect();
        if !unique.is_empty() {
            return Err(QueueError::Invalid(unique));
        }
        let tasks = submit::prepare_all(self.registry(), requests, self.clock.now())?;
        for (index, task) in tasks.iter().enumerate() {
            self.refuse_external_here(task, &format!("[{index}]."))?;
        }
        let stored = self.store().insert_all(tasks).await?;
        for task in &stored {
            self.metrics().submitted(&task.queue, &task.task_type);
        }
        self.wake_workers();
        Ok(stored.into_iter().map(|row| self.view(row)).collect())
    }
}
