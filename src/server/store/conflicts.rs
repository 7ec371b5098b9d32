//! Transactions that lost a lock race. On PostgreSQL, processes sharing the queue update
//! the same rows (the tasks they claim and finish, and the counters kept beside them)
//! in whatever order their statements meet them, so two transactions can each wait for
//! the other. PostgreSQL then aborts one with a deadlock error (SQLSTATE 40P01), or a
//! serialization failure (40001). Nothing of the aborted transaction was written, so
//! running it again is safe and is what the caller would have wanted: these writes are
//! retried here instead of failing (a lost outcome would mean running the task again).
//! SQLite, with one writer, never reports either.

use sea_orm::{DbErr, RuntimeErr};
use std::future::Future;
use std::time::Duration;

/// Runs of a transaction that keeps losing, at most, before its error is returned.
const TRIES: u32 = 6;
/// The pause after the first loss; it doubles after each.
const FIRST_PAUSE: Duration = Duration::from_millis(2);

/// Runs `transaction` again while it fails by a deadlock or serialization failure.
pub(super) async fn retry_conflicts<T, F, Fut>(mut transaction: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let mut pause = FIRST_PAUSE;
    let mut tries = 1;
    loop {
        match transaction().await {
            Err(err) if tries < TRIES && is_conflict(&err) => {
                tracing::debug!(error = %err, tries, "transaction lost a lock race; running it again");
                // The two losers of a race should not meet again at once.
                let jitter = pause.mul_f64(rand::random::<f64>());
                tokio::time::sleep(pause + jitter).await;
                pause *= 2;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// True when PostgreSQL aborted the transaction for a deadlock or a serialization
/// failure.
pub(super) fn is_conflict(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err))) = err
    else {
        return false;
    };
    let Some(err) = err.as_database_error() else {
        return false;
    };
    matches!(err.code().as_deref(), Some("40P01" | "40001"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn only_database_errors_with_a_conflict_code_count() {
        assert!(!is_conflict(&DbErr::Custom("40P01".into())));
        assert!(!is_conflict(&DbErr::Exec(RuntimeErr::Internal(
            "deadlock detected".into()
        ))));
    }

    #[tokio::test]
    async fn other_errors_are_returned_at_once() {
        let runs = AtomicU32::new(0);
        let result: Result<(), DbErr> = retry_conflicts(|| async {
            runs.fetch_add(1, Ordering::Relaxed);
            Err(DbErr::Custom("unique constraint".into()))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }
}
