//! This process in the processes table, and every process as the processes page shows
//! it. The registrar writes the row at start and renews it every [`HEARTBEAT`]; the
//! engine marks it stopped once its pools have drained. A row silent for [`LOST_AFTER`]
//! is a process that was killed or cut off; rows gone for [`FORGET_AFTER`] are deleted.

use super::{Queue, QueueError};
use crate::model::{process_of_worker, ProcessQueue, ProcessRole, ProcessState, ProcessView};
use crate::server::store::{from_micros, ProcessRow};
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a process renews its row.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A process silent this long is shown lost.
pub const LOST_AFTER: Duration = Duration::from_secs(30);
/// Gone processes stay listed this long, then their rows are deleted.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Most processes listed: the most recently heard from (a crash-looping worker can
/// leave many rows in a day).
pub const LISTED_MAX: u64 = 500;

/// What this process is, as registered.
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    /// Also the prefix of its pools' worker ids (`ID/QUEUE`).
    pub id: String,
    pub role: ProcessRole,
    pub host: String,
    pub pid: u32,
    /// The queues it works, with their concurrency.
    pub queues: Vec<ProcessQueue>,
}

impl ProcessInfo {
    /// This process: its host name, its pid and a random suffix, so a pid reused after
    /// a restart is a new process.
    pub fn here(role: ProcessRole) -> ProcessInfo {
        let pid = std::process::id();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        ProcessInfo {
            id: format!("spool-{pid}-{}", &suffix[..8]),
            role,
            host: hostname::get()
                .ok()
                .and_then(|name| name.into_string().ok())
                .unwrap_or_else(|| "unknown".into()),
            pid,
            queues: Vec::new(),
        }
    }

    /// The worker id of its pool for `queue`.
    pub fn worker_id(&self, queue: &str) -> String {
        format!("{}/{queue}", self.id)
    }
}

fn micros(duration: Duration) -> i64 {
    duration.as_micros() as i64
}

/// Keeps this process's row fresh until `stop`; a failed write is retried at the next
/// beat (the row shows lost meanwhile, which is what the database sees).
pub async fn run_registrar(queue: Queue, info: ProcessInfo, stop: CancellationToken) {
    let started_at = queue.now_micros();
    loop {
        let now = queue.now_micros();
        let row = ProcessRow {
            id: info.id.clone(),
            role: info.role.as_str().into(),
            host: info.host.clone(),
            pid: info.pid.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at,
            heartbeat_at: now,
            stopped_at: None,
            queues: serde_json::to_string(&info.queues).unwrap_or_else(|_| "[]".into()),
        };
        if let Err(err) = queue
            .store()
            .save_process(row, now - micros(FORGET_AFTER))
            .await
        {
            tracing::warn!(error = %err, "could not renew this process's heartbeat");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(HEARTBEAT) => {}
        }
    }
}

impl Queue {
    /// Marks process `id` stopped: its pools have drained.
    pub(crate) async fn process_stopped(&self, id: &str) {
        if let Err(err) = self.store.stop_process(id, self.now_micros()).await {
            tracing::warn!(error = %err, "could not mark this process stopped");
        }
    }

    /// Every live process, and those gone within [`FORGET_AFTER`] (at most
    /// [`LISTED_MAX`]), the most recently heard from first.
    pub async fn processes(&self) -> Result<Vec<ProcessView>, QueueError> {
        let now = self.now_micros();
        let rows = self.heard_from(now).await?;
        let mut running: HashMap<String, u64> = HashMap::new();
        for (worker, n) in self.store.running_by_worker().await? {
            *running
                .entry(process_of_worker(&worker).to_string())
                .or_default() += n.max(0) as u64;
        }
        Ok(rows
            .into_iter()
            .map(|row| ProcessView {
                running: running.get(&row.id).copied().unwrap_or(0),
                role: ProcessRole::from_stored(&row.role),
                state: state_at(&row, now),
                queues: queues_of(&row),
                host: row.host,
                pid: row.pid,
                version: row.version,
                started_at: from_micros(row.started_at),
                heartbeat_at: from_micros(row.heartbeat_at),
                stopped_at: row.stopped_at.map(from_micros),
                id: row.id,
            })
            .collect())
    }

    /// Each queue's concurrency summed over the live processes that work it.
    pub(crate) async fn total_concurrency(&self) -> Result<HashMap<String, u32>, QueueError> {
        let now = self.now_micros();
        let mut totals: HashMap<String, u32> = HashMap::new();
        for row in self.heard_from(now).await? {
            if state_at(&row, now) != ProcessState::Live {
                continue;
            }
            for queue in queues_of(&row) {
                *totals.entry(queue.name).or_default() += queue.concurrency;
            }
        }
        Ok(totals)
    }

    async fn heard_from(&self, now: i64) -> Result<Vec<ProcessRow>, QueueError> {
        let since = now - micros(FORGET_AFTER);
        Ok(self.store.processes(since, LISTED_MAX).await?)
    }
}

/// Live, stopped or lost at `now`. Heartbeats are written with each process's clock and
/// read with this one's: hosts must keep their clocks within [`LOST_AFTER`] of each
/// other (as NTP does) for a live process to show live.
fn state_at(row: &ProcessRow, now: i64) -> ProcessState {
    match row.stopped_at {
        Some(_) => ProcessState::Stopped,
        None if now - row.heartbeat_at > micros(LOST_AFTER) => ProcessState::Lost,
        None => ProcessState::Live,
    }
}

/// Only Spool writes the column; unreadable text shows as no queues.
fn queues_of(row: &ProcessRow) -> Vec<ProcessQueue> {
    serde_json::from_str(&row.queues).unwrap_or_default()
}
