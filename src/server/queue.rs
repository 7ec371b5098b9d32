//! The queue's client API — submit, look up, list, act on tasks, pause, stats — and the
//! worker pool and housekeeping that run what is submitted. REST handlers and server
//! functions call this; only the store below it touches the database.

mod actions;
mod attempts;
mod autoscaler;
mod backoff;
mod bulk;
mod charts;
mod clock;
mod decision;
mod error;
mod executor;
mod exposition;
mod external;
mod follow;
mod intake;
mod logs;
mod maintenance;
mod metrics;
mod overview;
pub mod paging;
mod processes;
mod producer;
mod schedule_book;
mod scheduler;
mod slot;
mod submit;
mod worker_config;

use crate::model::{TaskKindInfo, TaskView};
use crate::server::store::{CommitStats, CountRow, ListFilter, Store};
use crate::server::tasks::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use actions::{Actor, Proof};
#[cfg(feature = "testing")]
pub use autoscaler::Autoscale;
pub use bulk::MAX_BULK;
pub use clock::Clock;
#[cfg(feature = "testing")]
pub use clock::ManualClock;
pub use error::QueueError;
pub use exposition::METRICS_CONTENT_TYPE;
pub use maintenance::{run_maintenance, MaintenanceConfig};
pub use processes::{run_registrar, ProcessInfo};
pub use producer::run_producer;
pub use scheduler::run_scheduler;
pub use submit::valid_queue_name;
pub use worker_config::WorkerConfig;

/// Minutes of throughput `/api/stats` reports.
pub const THROUGHPUT_MINUTES: i64 = 60;
const MICROS_PER_MINUTE: i64 = 60_000_000;

/// The queue a task joins when none is named.
pub const DEFAULT_QUEUE: &str = "default";
/// Attempts a task gets when the submitter names none.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;

/// The queue every task goes through. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    store: Store,
    registry: Arc<Registry>,
    /// Wakes idle worker pools in this process as soon as work may be ready.
    wake: Arc<Notify>,
    /// Wakes external workers' waiting claims; apart from `wake`, whose stored permit is
    /// for the pools.
    wake_claims: Arc<Notify>,
    /// Cancel signals of the attempts running in this process, by task id and a number
    /// of their own (two runs of one task can overlap, see `Store::claim_before_commit`).
    running: Arc<Mutex<HashMap<(Uuid, u64), CancellationToken>>>,
    metrics: Arc<metrics::Metrics>,
    /// The tasks that event streams follow.
    followed: Arc<follow::Followed>,
    /// Cancelled when the engine starts shutting down: the pools stop claiming and the
    /// process is no longer ready.
    draining: CancellationToken,
    /// The queues this process works, with their concurrency.
    worked: Arc<std::collections::BTreeMap<String, u32>>,
    /// The queues Spool's own workers take, in this process or in `spool worker`
    /// processes on the same settings (with `serve --no-workers`, `worked` is empty).
    own_queues: Arc<std::collections::BTreeSet<String>>,
    clock: Clock,
}

/// Most tasks a short-id lookup answers: enough to show an ambiguity.
pub const LOOKUP_MAX: u64 = 10;

impl Queue {
    pub fn new(store: Store, registry: Registry) -> Queue {
        let metrics = metrics::Metrics::new(
            registry.describe().into_iter().map(|kind| kind.name),
            [DEFAULT_QUEUE.to_string()],
        );
        Queue {
            store,
            registry: Arc::new(registry),
            wake: Arc::new(Notify::new()),
            wake_claims: Arc::new(Notify::new()),
            running: Arc::default(),
            metrics: Arc::new(metrics),
            followed: Arc::default(),
            draining: CancellationToken::new(),
            worked: Arc::default(),
            own_queues: Arc::default(),
            clock: Clock::system(),
        }
    }

    /// Records which queues this process works and how many of their tasks at once (shown
    /// on the queues page).
    pub fn with_worked_queues(mut self, queues: impl IntoIterator<Item = (String, u32)>) -> Queue {
        self.worked = Arc::new(queues.into_iter().collect());
        for queue in self.worked.keys() {
            self.metrics.queue_label(queue);
        }
        self
    }

    /// Records the queues Spool's own workers take, wherever they run.
    pub fn with_own_queues(mut self, queues: impl IntoIterator<Item = String>) -> Queue {
        self.own_queues = Arc::new(queues.into_iter().collect());
        for queue in self.own_queues.iter() {
            self.metrics.queue_label(queue);
        }
        self
    }

    /// Takes `draining` as the sign that the engine is shutting down.
    pub(crate) fn with_draining(mut self, draining: CancellationToken) -> Queue {
        self.draining = draining;
        self
    }

    /// True once the engine has begun to shut down: it claims nothing more, and a load
    /// balancer or orchestrator should send it nothing more.
    pub fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    /// True when Spool's own workers take tasks from `queue`: this process's pools, or
    /// the `spool worker` processes its settings describe.
    pub fn own_workers_take(&self, queue: &str) -> bool {
        self.worked.contains_key(queue) || self.own_queues.contains(queue)
    }

    /// Reads time from `clock` instead of the system's (see [`Clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Queue {
        self.clock = clock;
        self
    }

    /// Now, on the queue's clock, in microseconds since the Unix epoch.
    pub(crate) fn now_micros(&self) -> i64 {
        self.clock.now_micros()
    }

    /// The store, for this module's runtime units (the pools, housekeeping); nothing
    /// outside the queue reaches the database around it.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Task counts by queue, kind and status, from the store's counters.
    pub async fn counts(&self) -> Result<Vec<CountRow>, QueueError> {
        Ok(self.store.counts().await?)
    }

    /// Whether the database answers now (readiness).
    pub async fn ping(&self) -> Result<(), QueueError> {
        Ok(self.store.ping().await?)
    }

    /// How many transactions the store's group committer made, and the writes in them.
    pub fn commit_stats(&self) -> CommitStats {
        self.store.commit_stats()
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.wake
    }

    /// This process's own metrics (see [`Queue::metrics_text`] for all of them).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// The task as the API and the dashboard show it, secrets in its parameters hidden.
    pub(crate) fn view(&self, task: crate::server::store::Task) -> TaskView {
        let mut view = task.into_view();
        self.registry.redact(&view.task_type, &mut view.parameters);
        view
    }

    /// The tasks (at most [`LOOKUP_MAX`], newest first) whose id ends with the 4 to 32
    /// hex digits of `digits`: how a short id is looked up.
    pub async fn lookup(&self, digits: &str) -> Result<Vec<TaskView>, QueueError> {
        let suffix = crate::model::id_suffix(digits).ok_or_else(|| {
            QueueError::BadRequest(format!(
                "{digits:?} is not a task id's last digits: give 4 to 32 hex digits"
            ))
        })?;
        let rows = self.store.find_by_id_suffix(&suffix, LOOKUP_MAX).await?;
        Ok(rows.into_iter().map(|row| self.view(row)).collect())
    }

    /// One task with its attempt history, or 404.
    pub async fn get(&self, id: Uuid) -> Result<TaskView, QueueError> {
        let row = self.store.get(id).await?;
        let mut task = row
            .map(|row| self.view(row))
            .ok_or(QueueError::NotFound(id))?;
        let attempts = self.store.attempts(id).await?;
        task.attempts = Some(attempts);
        Ok(task)
    }

    /// A page of tasks, newest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<TaskView>, QueueError> {
        let rows = self.rows(filter).await?;
        Ok(rows.into_iter().map(|row| self.view(row)).collect())
    }

    /// The stored tasks `filter` matches; its search never looks at hidden secrets.
    pub(crate) async fn rows(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<crate::server::store::Task>, QueueError> {
        let mut filter = filter.clone();
        filter.secret_parameters_of = self.registry.kinds_with_secrets();
        Ok(self.store.list(&filter).await?)
    }

    /// Every task kind this process runs.
    pub fn kinds(&self) -> Vec<TaskKindInfo> {
        self.registry.describe()
    }

    /// Wakes the idle worker pools of this process: every pool waiting now, and (through
    /// the stored permit) the next one to wait, so a wake-up between a pool's empty claim
    /// and its wait is not lost.
    pub(crate) fn wake_workers(&self) {
        self.wake.notify_waiters();
        self.wake.notify_one();
        self.wake_claims.notify_waiters();
    }

    pub(crate) fn wake_claims(&self) -> &Notify {
        &self.wake_claims
    }

    /// Relays what other processes sharing the database do (PostgreSQL only), until
    /// `stop` is cancelled: wakes this process's idle workers whenever a task becomes
    /// ready, and tells the followers of a task when it changes.
    pub async fn relay_notifications(&self, stop: CancellationToken) {
        self.store
            .relay_notifications(|| self.wake_workers(), stop)
            .await;
    }

    /// Cancels the local attempt of `id`, if this process runs it. Another process
    /// learns of the request at its next heartbeat.
    fn signal_cancel(&self, id: Uuid) {
        if let Ok(running) = self.running.lock() {
            for ((task, _), token) in running.iter() {
                if *task == id {
                    token.cancel();
                }
            }
        }
    }

    /// True while an attempt of task `id` runs in this process.
    pub fn runs_here(&self, id: Uuid) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.keys().any(|(task, _)| *task == id)
    }

    /// Registers a local attempt's cancel signal for the lifetime of the guard.
    pub(crate) fn track(&self, id: Uuid, token: CancellationToken) -> RunningGuard {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let key = (id, RUNS.fetch_add(1, Relaxed));
        if let Ok(mut running) = self.running.lock() {
            running.insert(key, token);
        }
        RunningGuard {
            running: Arc::clone(&self.running),
            key,
        }
    }
}

/// Removes a task from the running map when its attempt ends.
pub(crate) struct RunningGuard {
    running: Arc<Mutex<HashMap<(Uuid, u64), CancellationToken>>>,
    key: (Uuid, u64),
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.key);
        }
    }
}

/// The system's time as the store keeps it (what [`Clock::system`] reads), for callers
/// outside an engine.
#[cfg(feature = "testing")]
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
