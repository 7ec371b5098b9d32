//! The queue running in this process: the store, the worker pools of the queues this
//! process works (none for `serve --no-workers`), housekeeping, and on PostgreSQL the
//! relay that wakes idle workers when another process makes a task ready and tells event
//! streams when any process changes their task.
//! `spool serve` puts HTTP in front of it; `spool worker` runs it alone.
//!
//! [`EngineBuilder`] is the one way to start it: production ([`Engine::from_config`]),
//! the tests and the benchmark all choose the store, the kinds, the pools and the
//! housekeeping through it, so none of them wires the parts by hand.

use super::config::{Concurrency, EngineConfig};
use super::queue::{
    run_maintenance, run_producer, run_registrar, run_scheduler, Clock, MaintenanceConfig,
    ProcessInfo, Queue, WorkerConfig,
};
use super::store::{Store, StoreError, StoreOptions};
use super::tasks::Registry;
use crate::model::{ProcessQueue, ProcessRole};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running queue; [`Engine::stop`] shuts it down.
pub struct Engine {
    pub queue: Queue,
    /// This process's id in the processes table.
    process_id: String,
    /// Stops what outlives the drain, once the pools have drained: the heartbeat, so a
    /// draining process shows live, and the relay, so a stream following a task that
    /// drains still hears how it ends.
    after_drain: (CancellationToken, Vec<JoinHandle<()>>),
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// What an [`Engine`] runs, chosen before it starts.
pub struct EngineBuilder {
    store: Store,
    registry: Registry,
    pools: Vec<WorkerConfig>,
    /// Queues Spool's own workers take elsewhere (`spool worker` beside `serve --no-workers`).
    own_queues: Vec<String>,
    maintenance: MaintenanceConfig,
    clock: Clock,
    role: ProcessRole,
}

impl EngineBuilder {
    /// What this process is, as the processes page shows it (default: embedded).
    pub fn role(mut self, role: ProcessRole) -> EngineBuilder {
        self.role = role;
        self
    }

    /// Reads time from `clock` instead of the system's: tests move it by hand (see
    /// `ManualClock`).
    #[cfg(feature = "testing")]
    pub fn clock(mut self, clock: Clock) -> EngineBuilder {
        self.clock = clock;
        self
    }

    /// Works `config.queue` with a pool of `config.concurrency` workers. Without any
    /// pool the engine runs no tasks (`serve --no-workers`).
    pub fn pool(mut self, config: WorkerConfig) -> EngineBuilder {
        self.pools.push(config);
        self
    }

    /// Housekeeping's timings and retention (defaults: [`MaintenanceConfig::default`]).
    pub fn maintenance(mut self, config: MaintenanceConfig) -> EngineBuilder {
        self.maintenance = config;
        self
    }

    /// Registers this process, starts the pools, housekeeping and, when tasks run here,
    /// the relay that wakes idle pools on another process's submit (PostgreSQL). Each
    /// pool claims as `PROCESS/QUEUE`, so an attempt names the process that ran it.
    pub fn start(mut self) -> Engine {
        let mut process = ProcessInfo::here(self.role);
        for pool in &mut self.pools {
            let taken = process
                .queues
                .iter()
                .filter(|q| q.name == pool.queue)
                .count();
            pool.worker_id = match taken {
                0 => process.worker_id(&pool.queue),
                n => format!("{}#{n}", process.worker_id(&pool.queue)),
            };
            process.queues.push(ProcessQueue {
                name: pool.queue.clone(),
                concurrency: pool.most_workers() as u32,
            });
        }
        let process_id = process.id.clone();
        let stop = CancellationToken::new();
        let queue = Queue::new(self.store, self.registry)
            .with_clock(self.clock)
            .with_draining(stop.clone())
            .with_worked_queues(
                self.pools
                    .iter()
                    .map(|pool| (pool.queue.clone(), pool.most_workers() as u32)),
            )
            .with_own_queues(self.own_queues);
        let mut tasks = Vec::new();
        for pool in self.pools {
            tasks.push(tokio::spawn(run_producer(
                queue.clone(),
                pool,
                stop.clone(),
            )));
        }
        tasks.push(tokio::spawn(run_maintenance(
            queue.clone(),
            self.maintenance,
            stop.clone(),
        )));
        let drained = CancellationToken::new();
        let registrar = tokio::spawn(run_registrar(queue.clone(), process, drained.clone()));
        let relay = tokio::spawn({
            let queue = queue.clone();
            let drained = drained.clone();
            async move { queue.relay_notifications(drained).await }
        });
        Engine {
            queue,
            process_id,
            after_drain: (drained, vec![registrar, relay]),
            stop,
            tasks,
        }
    }
}

impl Engine {
    /// An engine on `store` running the kinds of `registry`; add pools, then start it.
    pub fn builder(store: Store, registry: Registry) -> EngineBuilder {
        EngineBuilder {
            store,
            registry,
            pools: Vec::new(),
            own_queues: Vec::new(),
            maintenance: MaintenanceConfig::default(),
            clock: Clock::system(),
            role: ProcessRole::Embedded,
        }
    }

    /// The engine `spool serve` and `spool worker` run: the configured database, the
    /// given kinds, a pool per worked queue (none without `with_workers`).
    pub async fn from_config(
        config: &EngineConfig,
        registry: Registry,
        role: ProcessRole,
        with_workers: bool,
    ) -> Result<Engine, StoreError> {
        let options = StoreOptions {
            synchronous: config.sqlite_synchronous,
            log_lines_per_task: config.log_lines_per_task,
        };
        let store = Store::open(&config.database_url, &options).await?;
        let mut builder =
            Engine::builder(store, registry)
                .role(role)
                .maintenance(MaintenanceConfig {
                    retention: Duration::from_secs(config.retention_hours * 3600),
                    audit_retention: Duration::from_secs(config.audit_retention_days * 24 * 3600),
                    ..MaintenanceConfig::default()
                });
        if with_workers {
            for spec in config.worked_queues() {
                let mut pool = match spec.concurrency {
                    Concurrency::Fixed(n) => WorkerConfig::new(spec.name, n),
                    Concurrency::Auto { min, max } => WorkerConfig::autoscaled(spec.name, min, max),
                };
                pool.shutdown_grace = Duration::from_secs(config.shutdown_grace_secs);
                pool.lease = Duration::from_secs(config.lease_secs);
                builder = builder.pool(pool);
            }
        } else {
            let elsewhere = config.worked_queues().into_iter().map(|spec| spec.name);
            builder.own_queues = elsewhere.collect();
        }
        Ok(builder.start())
    }

    /// Starts firing the stored schedules' due slots. Separate from the start so that a
    /// `--schedules` file is stored first: no slot fires by a definition it replaces.
    pub fn start_scheduler(&mut self) {
        let scheduler = run_scheduler(self.queue.clone(), self.stop.clone());
        self.tasks.push(tokio::spawn(scheduler));
    }

    /// Cancelled when the engine starts stopping: what serves it (event streams, say)
    /// ends then too, instead of holding the shutdown up.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops claiming, drains the workers (see [`run_producer`]), stops housekeeping and
    /// marks the process stopped. Nothing this process claimed is left RUNNING when this
    /// returns.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a worker pool or housekeeping ended abnormally");
            }
        }
        let (drained, outliving) = self.after_drain;
        drained.cancel();
        for task in outliving {
            let _ = task.await;
        }
        self.queue.process_stopped(&self.process_id).await;
    }
}
