//! Turns a submit request into a task to store: the kind's parameters checked by the
//! registry, and the scheduling options checked here, every problem reported per field.

use super::QueueError;
use super::{DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE};
use crate::error::FieldError;
use crate::model::{SubmitRequest, TaskStatus, UniqueRequest, FINISHED_BITS, UNIQUE_KEY_MAX};
use crate::server::store::{NewTask, Task, UniqueKey};
use crate::server::tasks::Registry;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Bounds of the submit options.
pub const PRIORITY: std::ops::RangeInclusive<i32> = 0..=9;
pub const MAX_ATTEMPTS: std::ops::RangeInclusive<i32> = 1..=100;
/// Up to a year ahead.
pub const MAX_DELAY_MS: i64 = 365 * 24 * 3600 * 1000;
pub const TIMEOUT_MS: std::ops::RangeInclusive<i64> = 1..=(7 * 24 * 3600 * 1000);
pub const QUEUE_NAME_MAX: usize = 64;

/// Validates everything in `request`; nothing is stored here.
pub fn prepare(
    registry: &Registry,
    request: SubmitRequest,
    now: DateTime<Utc>,
) -> Result<NewTask, QueueError> {
    let parameters = registry.validate(&request.task_type, &request.parameters);
    let mut errors = match &parameters {
        Err(err) => err.details.clone(),
        Ok(_) => Vec::new(),
    };
    let queue = request.queue.unwrap_or_else(|| {
        let default = registry.default_queue(&request.task_type);
        default.unwrap_or(DEFAULT_QUEUE).to_string()
    });
    if !valid_queue_name(&queue) {
        errors.push(FieldError::new(
            "queue",
            format!("must be 1 to {QUEUE_NAME_MAX} letters, digits, '_', '-' or '.'"),
        ));
    }
    let priority = request.priority.unwrap_or(0);
    if !PRIORITY.contains(&priority) {
        errors.push(FieldError::new(
            "priority",
            "must be from 0 (most urgent) to 9",
        ));
    }
    let max_attempts = request.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !MAX_ATTEMPTS.contains(&max_attempts) {
        errors.push(FieldError::new("max_attempts", "must be from 1 to 100"));
    }
    if let Some(timeout) = request.timeout_ms {
        if !TIMEOUT_MS.contains(&timeout) {
            errors.push(FieldError::new(
                "timeout_ms",
                "must be from 1 to 604800000 (a week)",
            ));
        }
    }
    let run_at = match (request.run_at, request.delay_ms) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "delay_ms",
                "give run_at or delay_ms, not both",
            ));
            now
        }
        (Some(at), None) if at > now + chrono::Duration::milliseconds(MAX_DELAY_MS) => {
            errors.push(FieldError::new("run_at", "must be within a year from now"));
            now
        }
        (Some(at), None) => at.max(now),
        (None, Some(delay)) if !(0..=MAX_DELAY_MS).contains(&delay) => {
            errors.push(FieldError::new(
                "delay_ms",
                "must be from 0 to a year in milliseconds",
            ));
            now
        }
        (None, Some(delay)) => now + chrono::Duration::milliseconds(delay),
        (None, None) => now,
    };
    let unique = request
        .unique
        .as_ref()
        .and_then(|unique| unique_key(&request.task_type, unique, now, &mut errors));
    match parameters {
        Ok(parameters) if errors.is_empty() => Ok(NewTask {
            // Time-ordered (UUIDv7): new ids land at the end of the primary-key index
            // instead of on a random page of it, so a commit's inserts dirty a page or
            // two of it rather than one page each, however large the table grows.
            id: Uuid::now_v7(),
            task_type: request.task_type,
            queue,
            priority,
            max_attempts,
            parameters,
            created_at: now.timestamp_micros(),
            run_at: run_at.timestamp_micros(),
            timeout_ms: request.timeout_ms,
            idempotency_key: None,
            unique,
        }),
        _ => Err(QueueError::Invalid(errors)),
    }
}

/// The stored form of a unique request: the kind, the key and the period's start folded
/// into one text (a separator no key may hold keeps them apart), and the finished states
/// that count. Problems go to `errors`.
fn unique_key(
    task_type: &str,
    unique: &UniqueRequest,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Option<UniqueKey> {
    let before = errors.len();
    if unique.key.is_empty()
        || unique.key.chars().count() > UNIQUE_KEY_MAX
        || unique.key.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "unique.key",
            format!("must be 1 to {UNIQUE_KEY_MAX} characters, none of them a control character"),
        ));
    }
    let period = match unique.period_secs {
        Some(secs) if !(1..=MAX_UNIQUE_PERIOD_SECS).contains(&secs) => {
            errors.push(FieldError::new(
                "unique.period_secs",
                "must be from 1 to 31622400 (a year)",
            ));
            None
        }
        other => other,
    };
    let mut finished_states = 0;
    if let Some(states) = &unique.states {
        let always = [
            TaskStatus::Pending,
            TaskStatus::Scheduled,
            TaskStatus::Running,
        ];
        if !always.iter().all(|status| states.contains(status)) {
            errors.push(FieldError::new(
                "unique.states",
                "waiting and running tasks always count: list PENDING, SCHEDULED and RUNNING, \
                 and any of SUCCESS, FAILED and CANCELLED",
            ));
        }
        for (status, bit) in FINISHED_BITS {
            if states.contains(&status) {
                finished_states |= bit;
            }
        }
    }
    if errors.len() > before {
        return None;
    }
    let window = match period {
        // Seconds fit an i64 for any date chrono can hold; the period is at most a year.
        Some(secs) => now.timestamp().div_euclid(secs as i64) * secs as i64,
        None => 0,
    };
    Some(UniqueKey {
        key: format!("{task_type}\u{1f}{window}\u{1f}{}", unique.key),
        finished_states,
    })
}

/// The longest unique period: a year.
const MAX_UNIQUE_PERIOD_SECS: u64 = 366 * 24 * 3600;

/// True when a stored task is what `task` asks for (its time aside, which a delay makes
/// relative to each request): a repeated submit with the same idempotency key.
pub fn same_request(stored: &Task, task: &NewTask) -> bool {
    stored.task_type == task.task_type
        && stored.parameters == task.parameters
        && stored.queue == task.queue
        && stored.priority == task.priority
        && stored.max_attempts == task.max_attempts
        && stored.timeout_ms == task.timeout_ms
}

/// Validates every request of a batch; errors name the request by its index.
pub fn prepare_all(
    registry: &Registry,
    requests: Vec<SubmitRequest>,
    now: DateTime<Utc>,
) -> Result<Vec<NewTask>, QueueError> {
    let mut tasks = Vec::with_capacity(requests.len());
    let mut errors = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        match prepare(registry, request, now) {
            Ok(task) => tasks.push(task),
            Err(QueueError::Invalid(details)) => errors.extend(details.into_iter().map(|detail| {
                FieldError::new(format!("[{index}].{}", detail.field), detail.message)
            })),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() {
        Ok(tasks)
    } else {
        Err(QueueError::Invalid(errors))
    }
}

/// Queue names appear in URLs and metrics: keep them plain.
pub fn valid_queue_name(name: &str) -> bool {
    (1..=QUEUE_NAME_MAX).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::tasks::KindSettings;
    use serde_json::json;

    fn builtin() -> Registry {
        Registry::builtin(&KindSettings::in_dir("unused"))
    }

    fn request(extra: serde_json::Value) -> SubmitRequest {
        let mut body = json!({"task_type": "noop"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_seed_body_gets_the_defaults() {
        let now = Utc::now();
        let task = prepare(&builtin(), request(json!({})), now).unwrap();
        assert_eq!(
            (task.queue.as_str(), task.priority, task.max_attempts),
            ("default", 0, 3)
        );
        assert_eq!(task.run_at, task.created_at);
        assert_eq!(task.timeout_ms, None);
    }

    #[test]
    fn delay_and_run_at_schedule_the_task_later() {
        let now = Utc::now();
        let delayed = prepare(&builtin(), request(json!({"delay_ms": 1500})), now).unwrap();
        assert_eq!(delayed.run_at - delayed.created_at, 1_500_000);
        let at = now + chrono::Duration::seconds(60);
        let scheduled = prepare(&builtin(), request(json!({"run_at": at})), now).unwrap();
        assert_eq!(scheduled.run_at, at.timestamp_micros());
        // A time in the past means "now".
        let past = prepare(
            &builtin(),
            request(json!({"run_at": now - chrono::Duration::hours(1)})),
            now,
        )
        .unwrap();
        assert_eq!(past.run_at, now.timestamp_micros());
    }

    #[test]
    fn a_unique_key_folds_in_the_kind_and_the_period_and_counts_the_states_asked() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let hourly = json!({"unique": {"key": "c-42", "period_secs": 3600}});
        let key = |extra: serde_json::Value, now| {
            prepare(&builtin(), request(extra), now)
                .unwrap()
                .unique
                .unwrap()
        };
        let early = key(hourly.clone(), at("2026-12-06T10:00:00Z"));
        let late = key(hourly.clone(), at("2026-12-06T10:59:59.999Z"));
        let next = key(hourly, at("2026-12-06T11:00:00Z"));
        assert_eq!(early, late, "one clock hour, one key");
        assert_ne!(early.key, next.key, "the next hour");
        assert_eq!(
            early.finished_states, 0,
            "waiting and running count by default"
        );
        let mut email = request(json!({"unique": {"key": "c-42", "period_secs": 3600}}));
        email.task_type = "email_simulation".into();
        email.parameters = json!({});
        let email = prepare(&builtin(), email, at("2026-12-06T10:00:00Z")).unwrap();
        assert_ne!(email.unique.unwrap().key, early.key, "keys are per kind");
        let all = json!({"unique": {"key": "k", "states":
            ["PENDING", "SCHEDULED", "RUNNING", "SUCCESS", "FAILED", "CANCELLED"]}});
        assert_eq!(key(all, Utc::now()).finished_states, 7);
        let some = json!({"unique": {"key": "k", "states": ["RUNNING", "SCHEDULED", "PENDING", "FAILED"]}});
        assert_eq!(key(some, Utc::now()).finished_states, 2);
    }

    fn invalid_fields(err: &QueueError) -> Vec<&str> {
        match err {
            QueueError::Invalid(details) => details.iter().map(|d| d.field.as_str()).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn every_bad_option_is_reported_at_once() {
        let err = prepare(
            &builtin(),
            request(
                json!({"queue": "no spaces", "priority": 10, "max_attempts": 0, "timeout_ms": 0,
                           "delay_ms": 5, "run_at": "2030-01-01T00:00:00Z"}),
            ),
            Utc::now(),
        )
        .unwrap_err();
        let fields = invalid_fields(&err);
        assert_eq!(
            fields,
            vec![
                "queue",
                "priority",
                "max_attempts",
                "timeout_ms",
                "delay_ms"
            ]
        );
    }

    #[test]
    fn parameter_and_option_errors_come_together() {
        let mut bad = request(json!({"priority": -1}));
        bad.task_type = "data_processing".into();
        bad.parameters = json!({"rows": 0});
        let err = prepare(&builtin(), bad, Utc::now()).unwrap_err();
        let fields = invalid_fields(&err);
        assert_eq!(fields, vec!["parameters.rows", "priority"]);
    }
}
