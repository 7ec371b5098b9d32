//! The queue running in this process: the store, the worker pools of the queues this
//! process works (none for `serve --no-workers`), housekeeping, and on PostgreSQL (with
//! workers) the relay that wakes idle workers when another process makes a task ready.
//! `spool serve` puts HTTP in front of it; `spool worker` runs it alone.

use super::config::EngineConfig;
use super::queue::{run_maintenance, run_workers, MaintenanceConfig, Queue, WorkerConfig};
use super::store::{Store, StoreError, StoreOptions};
use super::tasks::{KindSettings, Registry};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running queue; [`Engine::stop`] shuts it down.
pub struct Engine {
    pub queue: Queue,
    pub kinds: KindSettings,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Opens the store and starts housekeeping, and the workers unless `with_workers` is
    /// false.
    pub async fn start(config: &EngineConfig, with_workers: bool) -> Result<Engine, StoreError> {
        let options = StoreOptions {
            synchronous: config.sqlite_synchronous,
        };
        let store = Store::open(&config.database_url, &options).await?;
        let kinds = KindSettings {
            data_dir: config.data_dir.clone(),
            smtp: config.smtp_relay.clone(),
        };
        let worked = if with_workers {
            config.worked_queues()
        } else {
            Vec::new()
        };
        let queue = Queue::new(store, Registry::builtin(&kinds)).with_worked_queues(
            worked
                .iter()
                .map(|spec| (spec.name.clone(), spec.concurrency as u32)),
        );

        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        for spec in worked {
            let mut worker_config = WorkerConfig::new(spec.name, spec.concurrency);
            worker_config.shutdown_grace = Duration::from_secs(config.shutdown_grace_secs);
            worker_config.lease = Duration::from_secs(config.lease_secs);
            tasks.push(tokio::spawn(run_workers(
                queue.clone(),
                worker_config,
                stop.clone(),
            )));
        }
        let maintenance = MaintenanceConfig {
            retention: Duration::from_secs(config.retention_hours * 3600),
            ..MaintenanceConfig::default()
        };
        tasks.push(tokio::spawn(run_maintenance(
            queue.clone(),
            maintenance,
            stop.clone(),
        )));
        if with_workers {
            tasks.push(tokio::spawn({
                let queue = queue.clone();
                let stop = stop.clone();
                async move { queue.relay_ready_tasks(stop).await }
            }));
        }
        Ok(Engine {
            queue,
            kinds,
            stop,
            tasks,
        })
    }

    /// Cancelled when the engine starts stopping: what serves it (event streams, say)
    /// ends then too, instead of holding the shutdown up.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops claiming, drains the workers (see [`run_workers`]) and stops housekeeping.
    /// Nothing this process claimed is left RUNNING when this returns.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a worker pool or housekeeping ended abnormally");
            }
        }
    }
}
