//! The scheduler: every process with the queue fires the due slots of every enabled
//! schedule stored in the database. Nothing elects a leader: each slot's task is stored
//! in one transaction with the slot's unique `schedule_runs` row, so whichever process
//! gets there first fires it and the others find it fired.

use super::{submit, Queue, QueueError};
use crate::server::schedules::{due, Definition};
use crate::server::store::from_micros;
use chrono::{DateTime, Utc};
use rand::Rng;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the scheduler looks for due slots: a slot fires at most this late.
const SCHEDULER_TICK: Duration = Duration::from_millis(250);

/// Fires due schedule slots until `stop` is cancelled.
pub async fn run_scheduler(queue: Queue, stop: CancellationToken) {
    let mut tick = tokio::time::interval(SCHEDULER_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = queue.fire_due_schedules().await {
                    tracing::error!(error = %err, "firing schedules failed");
                }
            }
        }
    }
}

impl Queue {
    /// Checks schedules before they are stored: a valid name, timing and task (its kind
    /// one this process knows, its parameters valid).
    pub fn check_schedule(&self, definition: &Definition) -> Result<(), String> {
        if !submit::valid_queue_name(&definition.name) {
            return Err(format!(
                "{:?} is not a schedule name (1 to 64 letters, digits, '_', '-', '.')",
                definition.name
            ));
        }
        definition.when()?;
        match submit::prepare(self.registry(), definition.task.clone(), self.clock.now()) {
            Ok(_) => Ok(()),
            Err(QueueError::Invalid(problems)) => {
                let problems: Vec<String> = problems
                    .iter()
                    .map(|problem| format!("{}: {}", problem.field, problem.message))
                    .collect();
                Err(format!("its task: {}", problems.join("; ")))
            }
            Err(err) => Err(format!("its task: {err}")),
        }
    }

    /// Stores the schedules of a `--schedules` file, after checking each; the schedules an
    /// earlier file declared and this one does not are disabled.
    pub async fn save_file_schedules(&self, definitions: &[Definition]) -> Result<(), String> {
        let mut rows = Vec::with_capacity(definitions.len());
        for definition in definitions {
            self.check_schedule(definition)
                .map_err(|why| format!("schedule {:?}: {why}", definition.name))?;
            let json = serde_json::to_string(definition).map_err(|e| e.to_string())?;
            rows.push((definition.name.clone(), json, definition.enabled));
        }
        self.store()
            .save_file_schedules(rows, self.now_micros())
            .await
            .map_err(|err| format!("the schedules could not be stored: {err}"))
    }

    /// Fires every due slot of every enabled schedule; how many this call fired.
    pub async fn fire_due_schedules(&self) -> Result<usize, QueueError> {
        let schedules = self.store().schedules().await?;
        if schedules.iter().all(|schedule| schedule.enabled == 0) {
            return Ok(0);
        }
        let last: HashMap<String, i64> = self.store().last_slots().await?.into_iter().collect();
        let now = self.clock.now();
        let mut fired = 0;
        for schedule in schedules
            .into_iter()
            .filter(|schedule| schedule.enabled != 0)
        {
            let Ok(definition) = serde_json::from_str::<Definition>(&schedule.definition) else {
                tracing::error!(schedule = %schedule.name, "a stored schedule is unreadable");
                continue;
            };
            let Ok(when) = definition.when() else {
                continue;
            };
            let since = from_micros(
                last.get(&schedule.name)
                    .copied()
                    .unwrap_or(schedule.created_at),
            );
            let slots = due(
                &when,
                definition.catch_up,
                definition.catch_up_max as usize,
                since,
                now,
            );
            for slot in slots {
                fired += usize::from(self.fire_slot(&definition, slot, now).await?);
            }
        }
        if fired > 0 {
            self.wake_workers();
        }
        Ok(fired)
    }

    /// Fires one slot; false when it had already fired, or its task's kind is not one
    /// this process knows (another process fires it).
    async fn fire_slot(
        &self,
        definition: &Definition,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, QueueError> {
        let mut request = definition.task.clone();
        if definition.jitter_secs > 0 {
            let jitter = rand::rng().random_range(0..=i64::from(definition.jitter_secs) * 1000);
            request.run_at = Some(slot + chrono::Duration::milliseconds(jitter));
        }
        let task = match submit::prepare(self.registry(), request, now) {
            Ok(task) => task,
            Err(err) => {
                tracing::debug!(schedule = %definition.name, error = %err, "a schedule's task is not one this process can submit");
                return Ok(false);
            }
        };
        let fired = self
            .store()
            .fire(&definition.name, slot.timestamp_micros(), task)
            .await?;
        if fired.is_some() {
            self.metrics().submitted(1);
            tracing::info!(schedule = %definition.name, %slot, "fired a schedule's slot");
        }
        Ok(fired.is_some())
    }
}
