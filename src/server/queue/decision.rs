//! What an attempt's end means for its task, decided from what the attempt saw: no I/O
//! and no clock, so every rule is a unit test. The executor gathers the facts, asks
//! [`decide`], and writes what it answers.

use crate::server::store::Outcome;
use crate::server::tasks::TaskError;

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
    /// When a failure would be retried, if attempts remain: now plus the backoff.
    pub retry_at: i64,
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
    let failure = |error: String| {
        let retry_at = (facts.attempt < facts.max_attempts).then_some(facts.retry_at);
        Decision::Record(Outcome::Failed { error, retry_at })
    };
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
            retry_at: 1_000,
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
}
