//! One group commit: the requests gathered for it, committed in one transaction and each
//! answered (see [`super::group_commit`] for how they are gathered). A batch runs on the
//! writer's connection as a whole; the claims idle pools parked join it behind the submits
//! that make their tasks ready, and on SQLite a worker pool's claims are answered before
//! the commit (see [`commit_answering_early`]). A batch that fails is retried one
//! transaction per write, so one bad write fails alone.

use super::batch::{apply_all, apply_writes};
use super::conn::{Begin, Commit};
use super::counting::Tally;
use super::parked::{ParkedClaims, Reply};
use super::verdict::VerdictSender;
use super::writes::{Write, Written};
use sea_orm::{DatabaseBackend, DbErr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the committer has done since the store opened (see `CommitStats`).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub transactions: AtomicU64,
    pub writes: AtomicU64,
}

pub(super) struct Request {
    pub write: Write,
    pub reply: Reply,
    /// Set for a write that may be answered before its transaction commits (see
    /// [`GroupCommit::write_before_commit`]): told afterwards whether it committed.
    pub verdict: Option<VerdictSender>,
}

impl Request {
    /// Answers a write whose transaction is over (committed if `result` is a success);
    /// true when it was a claim that handed out tasks.
    pub fn answer(self, result: Result<Written, DbErr>) -> bool {
        if let Some(verdict) = self.verdict {
            verdict.send(result.is_ok());
        }
        started_tasks(&result) & self.reply.send(result).is_ok()
    }
}

fn started_tasks(result: &Result<Written, DbErr>) -> bool {
    matches!(result, Ok(Written::Claimed(tasks)) if !tasks.is_empty())
}

/// Adds to `batch` the claims parked on the queues its submits make a task ready in (see
/// [`super::parked`]): after those submits, made at the latest submit's time, and answered
/// only after the commit.
pub(super) fn with_parked_claims(parked: &ParkedClaims, mut batch: Vec<Request>) -> Vec<Request> {
    let mut ready: Vec<(String, i64)> = Vec::new();
    for request in &batch {
        if let Write::Insert(task) = &request.write {
            if task.run_at > task.created_at {
                continue;
            }
            match ready.iter_mut().find(|(queue, _)| *queue == task.queue) {
                Some((_, now)) => *now = (*now).max(task.created_at),
                None => ready.push((task.queue.clone(), task.created_at)),
            }
        }
    }
    for (queue, now) in ready {
        for claim in parked.take(&queue) {
            let (write, reply) = claim.into_write(&queue, now);
            batch.push(Request {
                write,
                reply,
                verdict: None,
            });
        }
    }
    batch
}

/// Commits `batch` on `db` and answers each write. Returns whether a claim in it handed
/// out tasks, and whether early answers are on for the next batch (see [`Committer`]).
pub(super) async fn commit_batch(
    db: &impl Begin,
    mut batch: Vec<Request>,
    mut answer_early: bool,
    counters: &Counters,
) -> (bool, bool) {
    let sqlite = db.backend() == DatabaseBackend::Sqlite;
    let mut started = false;
    let early = answer_early && batch.iter().any(|request| request.verdict.is_some());
    if batch.len() > 1 || early {
        counters.transactions.fetch_add(1, Relaxed);
        let together = if early {
            commit_answering_early(db, batch).await
        } else {
            let writes: Vec<&Write> = batch.iter().map(|r| &r.write).collect();
            match apply_all(db, &writes).await {
                Ok(results) => {
                    for (request, result) in batch.into_iter().zip(results) {
                        started |= request.answer(Ok(result));
                    }
                    Ok(false)
                }
                Err(_) => Err((batch, false)),
            }
        };
        match together {
            Ok(started_early) => return (started | started_early, sqlite),
            // Something in the batch failed and the transaction rolled back: find out
            // which, by committing each write (not yet answered) alone.
            Err((unanswered, early_answer_undone)) => {
                if early_answer_undone {
                    answer_early = false;
                }
                batch = unanswered;
            }
        }
    }
    for request in batch {
        counters.transactions.fetch_add(1, Relaxed);
        let result = apply_all(db, &[&request.write]).await;
        if result.is_ok() {
            answer_early = sqlite;
        }
        started |= request.answer(result.map(|mut results| results.remove(0)));
    }
    (started, answer_early)
}

/// SQLite only: runs `batch` in one transaction and answers the writes that may be
/// answered before the commit (a worker pool's claims) as soon as every statement has
/// run, so the claimed tasks start while the commit syncs the WAL to disk: under
/// `synchronous=FULL` that sync is most of a commit, and the tasks' outcomes gather for
/// the next commit meanwhile. Their verdicts, and the other writes' answers, follow the
/// commit. Returns whether a claim handed out tasks. If a statement fails, every write
/// is handed back unanswered; if the commit fails, the early writes learn it from their
/// verdict and the others are handed back, with `true` to say an early answer was undone.
async fn commit_answering_early(
    db: &impl Begin,
    batch: Vec<Request>,
) -> Result<bool, (Vec<Request>, bool)> {
    let Ok(txn) = db.begin().await else {
        return Err((batch, false));
    };
    // The early claims run first, before the batch's submits: a task that starts before
    // the commit must be one whose own submit is durable already.
    let (early, later): (Vec<&Request>, Vec<&Request>) =
        batch.iter().partition(|request| request.verdict.is_some());
    let mut tally = Tally::default();
    let Ok(early_results) = apply_writes(&txn, &writes_of(early), &mut tally).await else {
        return Err((batch, false));
    };
    let Ok(later_results) = apply_writes(&txn, &writes_of(later), &mut tally).await else {
        return Err((batch, false));
    };
    if tally.write(&txn).await.is_err() {
        return Err((batch, false));
    }
    let (mut early_results, mut later_results) =
        (early_results.into_iter(), later_results.into_iter());
    let results: Vec<Written> = batch
        .iter()
        .filter_map(|request| match request.verdict {
            Some(_) => early_results.next(),
            None => later_results.next(),
        })
        .collect();
    let mut started = false;
    let mut after_commit = Vec::with_capacity(batch.len());
    let mut verdicts = Vec::new();
    for (request, result) in batch.into_iter().zip(results) {
        match request.verdict {
            Some(verdict) => {
                let result = Ok(result);
                started |= started_tasks(&result) & request.reply.send(result).is_ok();
                verdicts.push(verdict);
            }
            None => after_commit.push((request, result)),
        }
    }
    match txn.commit().await {
        Ok(()) => {
            for verdict in verdicts {
                verdict.send(true);
            }
            for (request, result) in after_commit {
                started |= request.answer(Ok(result));
            }
            Ok(started)
        }
        Err(err) => {
            tracing::error!(error = %err, claims = verdicts.len(), "a commit failed after its claims were answered; their tasks are stopped and stay in the queue");
            for verdict in verdicts {
                verdict.send(false);
            }
            Err((
                after_commit
                    .into_iter()
                    .map(|(request, _)| request)
                    .collect(),
                true,
            ))
        }
    }
}

fn writes_of(requests: Vec<&Request>) -> Vec<&Write> {
    requests.into_iter().map(|request| &request.write).collect()
}
