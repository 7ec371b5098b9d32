//! The scheduler: every process with the queue fires the due slots of every enabled
//! schedule stored in the database. Nothing elects a leader: each slot's task is stored
//! in one transaction with the slot's unique `schedule_runs` row, so whichever process
//! gets there first fires it and the others find it fired.

use super::{submit, Queue, QueueError};
use crate::model::ScheduleDefinition;
use crate::server::schedules::{due, timing};
use crate::server::store::{from_micros, ScheduleRow, Task, Unique};
use chrono::{DateTime, Utc};
use rand::Rng;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the scheduler looks for due slots: a slot fires at most this late.
const SCHEDULER_TICK: Duration = Duration::from_millis(250);

/// Fires due schedule slots until `stop` is cancelled.
pub async fn run_scheduler(queue: Queue, stop: CancellationToken) {
    let mut tick = tokio::time::interval(SCHEDULER_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported = Reported::default();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = queue.fire_due_schedules(&mut reported).await {
                    tracing::error!(error = %err, "reading the schedules failed");
                }
            }
        }
    }
}

/// The problems of stored schedules already logged, each once per process rather than
/// once a tick: (schedule, definition, what is wrong).
#[derive(Default)]
pub struct Reported(HashSet<(String, String, String)>);

impl Reported {
    fn warn(&mut self, schedule: &ScheduleRow, problem: String) {
        let key = (schedule.name.clone(), schedule.definition.clone(), problem);
        if !self.0.contains(&key) {
            tracing::warn!(schedule = %key.0, problem = %key.2, "a schedule fires nothing in this process");
            self.0.insert(key);
        }
    }
}

impl Queue {
    /// Fires every due slot of every enabled schedule whose task this process can
    /// submit; how many this call fired. A schedule that cannot fire here, or a slot
    /// that fails, does not hold up the others.
    pub async fn fire_due_schedules(&self, reported: &mut Reported) -> Result<usize, QueueError> {
        let schedules = self.store().schedules().await?;
        let now = self.clock.now();
        let mut fired = 0;
        for schedule in schedules.iter().filter(|schedule| schedule.enabled != 0) {
            let definition = match serde_json::from_str::<ScheduleDefinition>(&schedule.definition)
            {
                Ok(definition) => definition,
                Err(err) => {
                    reported.warn(
                        schedule,
                        format!("its stored definition is unreadable: {err}"),
                    );
                    continue;
                }
            };
            if !self.registry().knows(&definition.task.task_type) {
                reported.warn(
                    schedule,
                    format!("no task kind {:?} here", definition.task.task_type),
                );
                continue;
            }
            let when = match timing(&definition) {
                Ok(when) => when,
                Err(why) => {
                    reported.warn(schedule, why);
                    continue;
                }
            };
            let since = from_micros(schedule.last_slot.unwrap_or(0).max(schedule.changed_at));
            for slot in due(
                &when,
                definition.catch_up,
                definition.catch_up_max as usize,
                since,
                now,
            ) {
                match self.fire_slot(&definition, slot, now, false).await {
                    Ok(Some(_)) => fired += 1,
                    Ok(None) => {}
                    Err(err) => {
                        reported.warn(schedule, format!("its task cannot be submitted: {err}"));
                        break;
                    }
                }
            }
        }
        if fired > 0 {
            self.wake_workers();
        }
        Ok(fired)
    }

    /// Fires one slot (a `manual` one: a run asked for by hand); its task, or none when
    /// the slot had already fired.
    pub(super) async fn fire_slot(
        &self,
        definition: &ScheduleDefinition,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
        manual: bool,
    ) -> Result<Option<Unique<Task>>, QueueError> {
        let mut request = definition.task.clone();
        // A run asked for by hand starts at once.
        if definition.jitter_secs > 0 && !manual {
            let jitter = rand::rng().random_range(0..=i64::from(definition.jitter_secs) * 1000);
            request.run_at = Some(slot + chrono::Duration::milliseconds(jitter));
        }
        let task = submit::prepare(self.registry(), request, now)?;
        let fired = self
            .store()
            .fire(&definition.name, slot.timestamp_micros(), task, manual)
            .await?;
        if let Some(Unique::Stored(task)) = &fired {
            self.metrics().submitted(&task.queue, &task.task_type);
            tracing::info!(schedule = %definition.name, %slot, manual, "fired a schedule's slot");
        }
        Ok(fired)
    }
}
