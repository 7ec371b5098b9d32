//! What an attempt's end means for its task, decided from what the attempt saw: no I/O
//! and no clock, so every rule is a unit test. The executor gathers the facts, asks
//! [`decide`], and writes what it answers.

use crate::server::store::Outcome;
use crate::server::tasks::TaskError;
use std::time::Duration;

/// The longest wait a handler may ask for before its retry: a year, like a submit's delay.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Why this process told the handler to stop (a user's cancel is tracked on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    Timeout,
    Shutdown,
    /// The task is no longer this attempt's (rescued elsewhere, or its claim rolled back).
    Lost,
}

/// How the handler's run ended, as far as the attempt could see.
#[derive(Debug)]
pub(super) enum Ended {
    Returned(Result<serde_json::Value, TaskError>),
    /// The handler panicked (its message goes to the log, not to the task).
    Panicked,
    /// Aborted, or abandoned after it ignored the abort.
    Stopped,
}

/// What the attempt knew when its handler was done.
#[derive(Debug)]
pub(super) struct Facts {
    pub ended: Ended,
    pub stop: Option<Stop>,
    /// A user asked for the task to be cancelled while it ran.
    pub user_cancelled: bool,
    pub attempt: i32,
    pub max_attempts: i32,
    pub timeout_ms: Option<i64>,
    /// The time of the decision, in microseconds since the Unix epoch.
    pub now: i64,
    /// How long a failure waits before its retry, if attempts remain (the handler may
    /// ask for another wait).
    pub backoff: Duration,
}

/// What to write.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Decision {
    /// Nothing: the task is no longer this attempt's to change.
    Nothing,
    /// Put the task back to PENDING without spending an attempt (this process stops).
    Requeue,
    Record(Outcome),
}

/// A result wins over everything: the work is done. Then a user's cancel, then why this
/// process stopped the handler, then what the handler said.
pub(super) fn decide(facts: Facts) -> Decision {
    let retry_after = |error: String, wait: Duration| {
        let wait = wait.min(MAX_RETRY_AFTER).as_micros() as i64;
        let retry_at = (facts.attempt < facts.max_attempts).then_some(facts.now + wait);
        Decision::Record(Outcome::Failed { error, retry_at })
    };
    let failure = |error: String| retry_after(error, facts.backoff);
    match (facts.ended, facts.stop) {
        (_, Some(Stop::Lost)) => Decision::Nothing,
        (Ended::Returned(Ok(result)), _) => Decision::Record(Outcome::Succeeded(result)),
        _ if facts.user_cancelled => Decision::Record(Outcome::Cancelled),
        (_, Some(Stop::Shutdown)) => Decision::Requeue,
        (_, Some(Stop::Timeout)) => failure(format!(
            "timed out after {} ms",
            facts.timeout_ms.unwrap_or(0)
        )),
        (Ended::Returned(Err(TaskError::Failed(message))), None) => failure(message),
        (Ended::Returned(Err(TaskError::Permanent(error))), None) => {
            Decision::Record(Outcome::Failed {
                error,
                retry_at: None,
            })
        }
        (Ended::Returned(Err(TaskError::RetryAfter { message, after })), None) => {
            retry_after(message, after)
        }
        (Ended::Returned(Err(TaskError::Cancelled)), None) => {
            failure("the task stopped itself as cancelled".into())
        }
        (Ended::Panicked, None) => {
            failure("the task panicked (details are in the server log)".into())
        }
        (Ended::Stopped, None) => failure("the attempt was aborted".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(ended: Ended) -> Facts {
        Facts {
            ended,
            stop: None,
            user_cancelled: false,
            attempt: 1,
            max_attempts: 3,
            timeout_ms: Some(200),
            now: 400,
            backoff: Duration::from_micros(600),
        }
    }

    fn failed(error: &str, retry_at: Option<i64>) -> Decision {
        Decision::Record(Outcome::Failed {
            error: error.into(),
            retry_at,
        })
    }

    #[test]
    fn a_result_wins_over_a_cancel_a_timeout_and_a_shutdown() {
        for (stop, user_cancelled) in [
            (None, true),
            (Some(Stop::Timeout), false),
            (Some(Stop::Shutdown), true),
        ] {
            let decision = decide(Facts {
                stop,
                user_cancelled,
                ..facts(Ended::Returned(Ok(json!(7))))
            });
            assert_eq!(decision, Decision::Record(Outcome::Succeeded(json!(7))));
        }
    }

    #[test]
    fn a_lost_task_is_never_written_even_with_a_result() {
        let decision = decide(Facts {
            stop: Some(Stop::Lost),
            ..facts(Ended::Returned(Ok(json!(1))))
        });
        assert_eq!(decision, Decision::Nothing);
    }

    #[test]
    fn a_users_cancel_ends_cancelled_and_a_shutdown_requeues() {
        let cancelled = decide(Facts {
            stop: Some(Stop::Timeout),
            user_cancelled: true,
            ..facts(Ended::Stopped)
        });
        assert_eq!(cancelled, Decision::Record(Outcome::Cancelled));
        let shutdown = decide(Facts {
            stop: Some(Stop::Shutdown),
            ..facts(Ended::Returned(Err(TaskError::Cancelled)))
        });
        assert_eq!(shutdown, Decision::Requeue);
    }

    #[test]
    fn failures_are_retried_while_attempts_remain_and_final_on_the_last() {
        let timed_out = decide(Facts {
            stop: Some(Stop::Timeout),
            ..facts(Ended::Stopped)
        });
        assert_eq!(timed_out, failed("timed out after 200 ms", Some(1_000)));
        let last = decide(Facts {
            attempt: 3,
            ..facts(Ended::Returned(Err(TaskError::Failed("no".into()))))
        });
        assert_eq!(last, failed("no", None));
    }

    #[test]
    fn a_panic_an_abort_and_a_self_cancel_are_failures_with_their_own_text() {
        assert_eq!(
            decide(facts(Ended::Panicked)),
            failed(
                "the task panicked (details are in the server log)",
                Some(1_000)
            )
        );
        assert_eq!(
            decide(facts(Ended::Stopped)),
            failed("the attempt was aborted", Some(1_000))
        );
        assert_eq!(
            decide(facts(Ended::Returned(Err(TaskError::Cancelled)))),
            failed("the task stopped itself as cancelled", Some(1_000))
        );
    }

    #[test]
    fn a_permanent_failure_is_final_whatever_attempts_remain() {
        let decision = decide(facts(Ended::Returned(Err(TaskError::permanent(
            "bad input",
        )))));
        assert_eq!(decision, failed("bad input", None));
    }

    #[test]
    fn a_handler_can_choose_when_it_is_retried_but_not_past_its_attempts() {
        let later = Duration::from_secs(30);
        let asked = decide(facts(Ended::Returned(Err(TaskError::retry_after(
            "rate limited",
            later,
        )))));
        assert_eq!(asked, failed("rate limited", Some(400 + 30_000_000)));
        let last = decide(Facts {
            attempt: 3,
            ..facts(Ended::Returned(Err(TaskError::retry_after("again", later))))
        });
        assert_eq!(last, failed("again", None));
        let far = decide(facts(Ended::Returned(Err(TaskError::retry_after(
            "see you",
            Duration::from_secs(u64::MAX),
        )))));
        let year = MAX_RETRY_AFTER.as_micros() as i64;
        assert_eq!(far, failed("see you", Some(400 + year)));
    }
}
