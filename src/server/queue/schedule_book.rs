//! Managing schedules: storing those of the `--schedules` file, and showing, making,
//! replacing, pausing, resuming, deleting and running by hand those of the API. The file
//! owns what it declares: the API may pause, resume and run such a schedule, not change
//! or delete it. Firing is the scheduler's (see `scheduler`).

use super::{submit, Queue, QueueError};
use crate::error::FieldError;
use crate::model::{ScheduleDefinition, ScheduleRun, ScheduleSource, ScheduleView, TaskView};
use crate::server::schedules::timing;
use crate::server::store::{from_micros, Saved, ScheduleRow, Unique};

/// How many run times a schedule's view lists.
const NEXT_RUNS: usize = 5;
/// How many of its latest runs a schedule's view lists, in a list and alone.
const RUNS_LISTED: u64 = 5;
const RUNS_SHOWN: u64 = 20;
/// The one name a schedule cannot have: its path is the timing preview's.
const RESERVED_NAME: &str = "preview";

impl Queue {
    /// Checks a schedule before it is stored: a valid name, timing and task (its kind
    /// one this process knows, its parameters valid). Each problem names its field.
    pub fn check_schedule(&self, definition: &ScheduleDefinition) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        if !submit::valid_queue_name(&definition.name) {
            problems.push(FieldError::new(
                "name",
                "not a schedule name: 1 to 64 letters, digits, '_', '-' or '.'",
            ));
        } else if definition.name == RESERVED_NAME {
            problems.push(FieldError::new(
                "name",
                "\"preview\" is taken by POST /api/schedules/preview; choose another name",
            ));
        }
        if let Err(why) = timing(definition) {
            problems.push(FieldError::new("timing", why));
        }
        match submit::prepare(self.registry(), definition.task.clone(), self.clock.now()) {
            Ok(task) => {
                if let Err(QueueError::Invalid(mut theirs)) =
                    self.refuse_external_here(&task, "task.")
                {
                    problems.append(&mut theirs);
                }
            }
            Err(QueueError::Invalid(theirs)) => {
                problems.extend(theirs.into_iter().map(|problem| {
                    FieldError::new(format!("task.{}", problem.field), problem.message)
                }))
            }
            Err(err) => problems.push(FieldError::new("task", err.to_string())),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Stores the schedules of a `--schedules` file, after checking each. A definition
    /// equal to the stored one keeps its stored text, however an older version wrote it,
    /// so the store (which compares the texts) sees no change.
    pub async fn save_file_schedules(
        &self,
        definitions: &[ScheduleDefinition],
    ) -> Result<(), String> {
        let stored: std::collections::HashMap<String, String> = self
            .store()
            .schedules()
            .await
            .map_err(|err| format!("the schedules could not be read: {err}"))?
            .into_iter()
            .map(|row| (row.name, row.definition))
            .collect();
        let mut rows = Vec::with_capacity(definitions.len());
        for definition in definitions {
            self.check_schedule(definition).map_err(|problems| {
                let problems: Vec<String> = problems
                    .iter()
                    .map(|problem| format!("{}: {}", problem.field, problem.message))
                    .collect();
                format!("schedule {:?}: {}", definition.name, problems.join("; "))
            })?;
            let unchanged = stored.get(&definition.name).filter(|text| {
                serde_json::from_str::<ScheduleDefinition>(text)
                    .ok()
                    .as_ref()
                    == Some(definition)
            });
            let json = match unchanged {
                Some(text) => text.clone(),
                None => serde_json::to_string(definition).map_err(|e| e.to_string())?,
            };
            rows.push((definition.name.clone(), json, definition.enabled));
        }
        self.store()
            .save_file_schedules(rows, self.now_micros())
            .await
            .map_err(|err| format!("the schedules could not be stored: {err}"))
    }

    /// Every stored schedule, by name, with its next run times and latest runs. One
    /// whose stored definition this version cannot read is left out (and logged).
    pub async fn schedule_views(&self) -> Result<Vec<ScheduleView>, QueueError> {
        let mut views = Vec::new();
        for row in self.store().schedules().await? {
            let name = row.name.clone();
            match self.schedule_view_of(row, RUNS_LISTED).await? {
                Ok(view) => views.push(view),
                Err(why) => {
                    tracing::warn!(schedule = %name, error = %why, "a stored schedule is unreadable");
                }
            }
        }
        Ok(views)
    }

    /// One schedule with its next run times and latest runs.
    pub async fn schedule_view(&self, name: &str) -> Result<ScheduleView, QueueError> {
        let row = self.stored_schedule(name).await?;
        self.schedule_view_of(row, RUNS_SHOWN)
            .await?
            .map_err(QueueError::Conflict)
    }

    /// Makes or replaces a schedule through the API; its view, and whether it is new.
    pub async fn save_schedule(
        &self,
        definition: ScheduleDefinition,
    ) -> Result<(ScheduleView, bool), QueueError> {
        self.check_schedule(&definition)
            .map_err(QueueError::Invalid)?;
        let json = serde_json::to_string(&definition)
            .map_err(|err| QueueError::BadRequest(err.to_string()))?;
        let saved = self
            .store()
            .save_schedule(
                &definition.name,
                json,
                definition.enabled,
                self.now_micros(),
            )
            .await?;
        if saved == Saved::FileOwned {
            return Err(file_owned(&definition.name, "change"));
        }
        let view = self.schedule_view(&definition.name).await?;
        Ok((view, saved == Saved::Created))
    }

    /// Pauses (`enabled` false) or resumes a schedule. Slots that pass while it is
    /// paused never fire: on resume its slots count from then.
    pub async fn set_schedule_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<ScheduleView, QueueError> {
        if !self
            .store()
            .set_schedule_enabled(name, enabled, self.now_micros())
            .await?
        {
            return Err(QueueError::NoSuchSchedule(name.to_string()));
        }
        self.schedule_view(name).await
    }

    /// Deletes a schedule made through the API, with its record of runs (its tasks stay).
    pub async fn delete_schedule(&self, name: &str) -> Result<(), QueueError> {
        match self.store().delete_schedule(name).await? {
            Saved::FileOwned => Err(file_owned(name, "delete")),
            Saved::Missing => Err(QueueError::NoSuchSchedule(name.to_string())),
            _ => Ok(()),
        }
    }

    /// Submits a schedule's task now, outside its timing (paused or not); the run is
    /// kept in its history, marked as asked for by hand, and moves no slot.
    pub async fn run_schedule_now(&self, name: &str) -> Result<TaskView, QueueError> {
        let row = self.stored_schedule(name).await?;
        let definition: ScheduleDefinition =
            serde_json::from_str(&row.definition).map_err(|err| {
                QueueError::Conflict(format!("its stored definition is unreadable: {err}"))
            })?;
        let now = self.clock.now();
        // Slots fall on whole seconds; a run by hand never takes one's key.
        let mut at = now;
        if at.timestamp_subsec_micros() == 0 {
            at += chrono::Duration::microseconds(1);
        }
        match self.fire_slot(&definition, at, now, true).await? {
            Some(Unique::Stored(task)) => {
                self.wake_workers();
                Ok(self.view(task))
            }
            Some(Unique::Held(holder)) => Ok(self.view(holder)),
            None => Err(QueueError::Conflict("run it again in a moment".into())),
        }
    }

    async fn stored_schedule(&self, name: &str) -> Result<ScheduleRow, QueueError> {
        self.store()
            .schedule(name)
            .await?
            .ok_or_else(|| QueueError::NoSuchSchedule(name.to_string()))
    }

    /// The view of a stored schedule, or why its definition is unreadable.
    async fn schedule_view_of(
        &self,
        row: ScheduleRow,
        runs: u64,
    ) -> Result<Result<ScheduleView, String>, QueueError> {
        let mut definition: ScheduleDefinition = match serde_json::from_str(&row.definition) {
            Ok(definition) => definition,
            Err(err) => return Ok(Err(format!("its stored definition is unreadable: {err}"))),
        };
        definition.enabled = row.enabled != 0;
        let (description, next) = match timing(&definition) {
            Ok(when) if definition.enabled => {
                (when.describe(), when.upcoming(self.clock.now(), NEXT_RUNS))
            }
            Ok(when) => (when.describe(), Vec::new()),
            Err(why) => (format!("cannot fire: {why}"), Vec::new()),
        };
        let last_runs = self.last_runs(&row.name, runs).await?;
        Ok(Ok(ScheduleView {
            definition,
            source: if row.source == "file" {
                ScheduleSource::File
            } else {
                ScheduleSource::Api
            },
            description,
            next,
            last_runs,
            created_at: from_micros(row.created_at),
            changed_at: from_micros(row.changed_at),
        }))
    }

    async fn last_runs(&self, name: &str, limit: u64) -> Result<Vec<ScheduleRun>, QueueError> {
        let runs = self.store().runs(name, limit).await?;
        let ids: Vec<uuid::Uuid> = runs
            .iter()
            .filter_map(|run| run.task_id.parse().ok())
            .collect();
        let statuses = self.store().statuses(ids).await?;
        Ok(runs
            .into_iter()
            .filter_map(|run| {
                let task_id: uuid::Uuid = run.task_id.parse().ok()?;
                Some(ScheduleRun {
                    slot: from_micros(run.slot),
                    task_id,
                    status: statuses
                        .get(&task_id)
                        .and_then(|status| status.parse().ok()),
                    manual: run.manual != 0,
                })
            })
            .collect())
    }
}

fn file_owned(name: &str, what: &str) -> QueueError {
    QueueError::Conflict(format!(
        "schedule {name:?} is declared in the --schedules file: {what} it there"
    ))
}
