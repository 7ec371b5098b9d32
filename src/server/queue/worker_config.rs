//! How a worker pool behaves: what the pool (`workers`) and each attempt it runs
//! (`executor`) both read.

use super::autoscaler::Autoscale;
use std::time::Duration;

/// How a worker pool behaves.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub queue: String,
    /// Handlers run at once, at most.
    pub concurrency: usize,
    /// Grow and shrink the pool within bounds (`concurrency` is then ignored).
    pub autoscale: Option<Autoscale>,
    /// How long a claim is valid without a heartbeat.
    pub lease: Duration,
    /// How often a running task's progress is written and its lease renewed.
    pub heartbeat: Duration,
    /// How often an idle pool looks for work it was not woken for.
    pub poll_interval: Duration,
    /// On shutdown, how long running tasks may take to finish before they are cancelled.
    pub shutdown_grace: Duration,
    /// After a cancel (by a user, a timeout or shutdown), how long a handler has to stop
    /// on its own before its attempt is aborted.
    pub cancel_grace: Duration,
    /// Identifies this process's claims.
    pub worker_id: String,
}

impl WorkerConfig {
    /// The most workers the pool can have.
    pub fn most_workers(&self) -> usize {
        self.autoscale
            .as_ref()
            .map_or(self.concurrency, |auto| auto.max)
    }

    /// A pool of `min` to `max` workers, sized by [`Autoscale::new`].
    pub fn autoscaled(queue: impl Into<String>, min: usize, max: usize) -> WorkerConfig {
        let mut config = WorkerConfig::new(queue, max);
        let min = min.clamp(1, config.concurrency);
        config.autoscale = Some(Autoscale::new(min, config.concurrency));
        config
    }

    pub fn new(queue: impl Into<String>, concurrency: usize) -> WorkerConfig {
        WorkerConfig {
            queue: queue.into(),
            concurrency: concurrency.max(1),
            autoscale: None,
            lease: Duration::from_secs(10),
            heartbeat: Duration::from_millis(500),
            poll_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(10),
            cancel_grace: Duration::from_secs(5),
            worker_id: format!(
                "spool-{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
        }
    }
}
