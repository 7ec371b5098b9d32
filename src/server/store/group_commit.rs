//! Group commit: the hot writes — submits, claims, heartbeats and attempt outcomes — from
//! every caller are queued to one task that runs whatever has gathered in a single
//! transaction, so a burst of them pays for one disk sync instead of one each.
//!
//! Nothing waits on a timer: a lone write is committed at once, and writes pile up while
//! the previous commit is syncing and, after a claim, while the tasks it started still
//! send their outcomes (see [`gather_ready`]). Callers are answered after the commit, so
//! "done" still means durable; the one exception is a worker pool's claim on SQLite,
//! answered before its commit so its tasks run while the commit syncs (see
//! [`super::one_commit`]). A batch that loses a lock race on PostgreSQL runs again whole
//! (see [`super::conflicts`]); one that fails otherwise is retried one transaction per
//! write, so one bad write (a duplicate idempotency key, say) fails alone.

use super::one_commit::{commit_batch, with_parked_claims, Counters, Request};
use super::parked::{ParkedClaim, ParkedClaims};
use super::sqlite_writer::SqliteConn;
use super::verdict::{verdict, CommitVerdict, VerdictSender};
use super::writer::Writer;
use super::writes::{committer_stopped, Write, Written};
use crate::server::turns::gather_over_turns;
use sea_orm::DbErr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Writes committed together, at most.
const MAX_BATCH: usize = 512;
/// Writes waiting for the committer, at most; callers beyond that wait their turn.
const BACKLOG: usize = 4096;

/// Hands writes to the committer task; cheap to clone. The committer stops when the
/// last handle is dropped.
#[derive(Clone, Debug)]
pub(super) struct GroupCommit {
    requests: mpsc::Sender<Request>,
    counters: Arc<Counters>,
    parked: Arc<ParkedClaims>,
}

/// How well writes are being grouped, since the store opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions committed (or attempted) by the committer.
    pub transactions: u64,
    /// Writes they carried.
    pub writes: u64,
}

impl GroupCommit {
    /// Starts the committer on `writer`: SQLite's writer thread (the less frequent writes —
    /// cancels, retries, housekeeping — are its jobs between batches), or the PostgreSQL
    /// pool, where the committer runs one transaction at a time all the same.
    pub fn start(writer: Writer) -> GroupCommit {
        let (requests, receiver) = mpsc::channel(BACKLOG);
        let counters = Arc::<Counters>::default();
        let parked = Arc::<ParkedClaims>::default();
        let committer = Committer {
            answer_early: matches!(writer, Writer::Sqlite(_)),
            writer,
            counters: Arc::clone(&counters),
            parked: Arc::clone(&parked),
        };
        tokio::spawn(run(committer, receiver));
        GroupCommit {
            requests,
            counters,
            parked,
        }
    }

    /// Parks a claim for the next submit of a ready task to `queue` (see
    /// [`super::parked`]); `lease` is in microseconds.
    pub fn park(&self, queue: &str, limit: u64, worker_id: &str, lease: i64) -> ParkedClaim {
        self.parked.park(queue, limit, worker_id, lease)
    }

    pub fn parked(&self, queue: &str) -> usize {
        self.parked.count(queue)
    }

    pub fn stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.counters.transactions.load(Relaxed),
            writes: self.counters.writes.load(Relaxed),
        }
    }

    /// Commits `write` (with whatever else is waiting) and tells what it did.
    pub async fn write(&self, write: Write) -> Result<Written, DbErr> {
        self.send(write, None).await
    }

    /// Like [`GroupCommit::write`], but on SQLite `write` is answered as soon as its
    /// statements have run, before its transaction commits; the verdict returned with
    /// the answer tells later whether that commit happened. On PostgreSQL, and after a
    /// commit failed until one succeeds, it is answered after its commit as usual (the
    /// verdict is then already known). For claims, whose effect nothing outside this
    /// process has been told of: if the commit fails the claim never happened.
    pub async fn write_before_commit(
        &self,
        write: Write,
    ) -> Result<(Written, CommitVerdict), DbErr> {
        let (sender, receiver) = verdict();
        Ok((self.send(write, Some(sender)).await?, receiver))
    }

    async fn send(&self, write: Write, verdict: Option<VerdictSender>) -> Result<Written, DbErr> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            write,
            reply,
            verdict,
        };
        self.requests
            .send(request)
            .await
            .map_err(|_| committer_stopped())?;
        answer.await.map_err(|_| committer_stopped())?
    }
}

async fn run(mut committer: Committer, mut receiver: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut wave_started = false;
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if wave_started {
            gather_ready(&mut receiver, &mut batch).await;
        }
        wave_started = committer.commit(std::mem::take(&mut batch)).await;
    }
}

/// After a commit that handed tasks to workers: lets the tasks that are ready to run go
/// first, and takes the writes they send (see [`gather_over_turns`]). The outcomes of
/// one claim's tasks arrive a few scheduler turns apart (the claim's answer starts them,
/// each ends and sends its outcome); committing on the first of them split every wave
/// in two commits, and under `synchronous=FULL` each commit is a disk sync.
async fn gather_ready(receiver: &mut mpsc::Receiver<Request>, batch: &mut Vec<Request>) {
    let mut state = (receiver, batch);
    gather_over_turns(
        &mut state,
        |(_, batch)| batch.len() >= MAX_BATCH,
        |(receiver, batch)| {
            let before = batch.len();
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            batch.len() > before
        },
    )
    .await;
}

/// The committer's state.
struct Committer {
    writer: Writer,
    counters: Arc<Counters>,
    parked: Arc<ParkedClaims>,
    /// Whether writes that may be answered before their commit are (only ever on
    /// SQLite). Off after such a commit fails, until a commit succeeds: a disk that keeps
    /// failing must not start the same tasks over and over.
    answer_early: bool,
}

impl Committer {
    /// Commits `batch` and answers each write; true when a claim in it handed out tasks.
    /// On SQLite the whole batch is one job of the writer thread.
    async fn commit(&mut self, batch: Vec<Request>) -> bool {
        let batch = with_parked_claims(&self.parked, batch);
        let counters = Arc::clone(&self.counters);
        counters.writes.fetch_add(batch.len() as u64, Relaxed);
        let answer_early = self.answer_early;
        let done = match &self.writer {
            Writer::Postgres(pool) => Ok(commit_batch(pool, batch, false, &counters).await),
            Writer::Sqlite(thread) => {
                thread
                    .run(async move |db: &SqliteConn| {
                        Ok(commit_batch(db, batch, answer_early, &counters).await)
                    })
                    .await
            }
        };
        // A writer thread that stopped dropped the batch: every write's caller hears that
        // the committer stopped, and every early claim that its commit failed.
        let (started, answer_early) = done.unwrap_or((false, false));
        self.answer_early = answer_early;
        started
    }
}

#[cfg(test)]
mod tests {
    use super::super::writes::Ending;
    use super::*;
    use uuid::Uuid;

    fn request() -> Request {
        let (reply, _) = oneshot::channel();
        let write = Write::Finish {
            id: Uuid::nil(),
            attempt: 1,
            now: 0,
            ending: Ending::Cancelled,
        };
        Request {
            write,
            reply,
            verdict: None,
        }
    }

    /// `count` writers; the n-th takes n scheduler turns before it sends its write.
    fn spawn_writers(sender: &mpsc::Sender<Request>, count: usize) {
        for turns in 0..count {
            let sender = sender.clone();
            tokio::spawn(async move {
                for _ in 0..turns {
                    tokio::task::yield_now().await;
                }
                let _ = sender.send(request()).await;
            });
        }
    }

    /// Writers that each need a different number of scheduler turns before they write,
    /// as the tasks of one claim do, end up in one batch.
    #[tokio::test(flavor = "current_thread")]
    async fn writes_sent_a_few_scheduler_turns_apart_are_gathered_into_one_batch() {
        let (sender, mut receiver) = mpsc::channel(BACKLOG);
        spawn_writers(&sender, 6);
        let mut batch = Vec::new();
        receiver.recv_many(&mut batch, MAX_BATCH).await;
        assert_eq!(batch.len(), 1, "the first writer is alone at first");
        gather_ready(&mut receiver, &mut batch).await;
        assert_eq!(batch.len(), 6);

        // A write that comes later, after two turns with nothing new, is left for the
        // next batch.
        let sender = sender.clone();
        let late = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = sender.send(request()).await;
        });
        let mut next = Vec::new();
        gather_ready(&mut receiver, &mut next).await;
        assert!(next.is_empty());
        late.await.unwrap();
        assert_eq!(receiver.recv_many(&mut next, MAX_BATCH).await, 1);
    }

    /// A steady trickle, one more write every turn, is cut after a few turns, so the
    /// first write of the batch is not held for long.
    #[tokio::test(flavor = "current_thread")]
    async fn a_trickle_of_writes_is_cut_after_a_few_turns() {
        let (sender, mut receiver) = mpsc::channel(BACKLOG);
        spawn_writers(&sender, 20);
        let mut batch = Vec::new();
        receiver.recv_many(&mut batch, MAX_BATCH).await;
        gather_ready(&mut receiver, &mut batch).await;
        assert_eq!(batch.len(), 1 + crate::server::turns::GATHER_TURNS);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_never_grows_past_its_limit() {
        let (sender, mut receiver) = mpsc::channel(BACKLOG);
        for _ in 0..MAX_BATCH + 10 {
            sender.send(request()).await.unwrap();
        }
        let mut batch = Vec::new();
        receiver.recv_many(&mut batch, 1).await;
        gather_ready(&mut receiver, &mut batch).await;
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(receiver.len(), 10);
    }
}
