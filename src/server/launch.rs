//! Spool inside a program: [`Spool`] says which kinds it runs and how, then either
//! serves (REST API, dashboard and workers) or only works (workers, no HTTP). The
//! `spool` binary is one such program; an application embedding Spool is another.

use super::access::AccessPolicy;
use super::config::{Concurrency, EngineConfig, ExternalKind, QueueSpec, ServeConfig};
use super::engine::Engine;
use super::http_server::{self, ConnectionLimits};
use super::rate_limit::SubmitLimit;
use super::schedules::read_file;
use super::site::SiteAssets;
use super::stream_limit::StreamLimits;
use super::tasks::{Destinations, KindSettings, Registry, Resolve, SystemResolver, TaskKind};
use super::{leptos_options, router, AppState, ServeError};
use crate::model::{ProcessRole, ScheduleDefinition};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What a Spool process runs, chosen before it starts.
///
/// ```no_run
/// # use spool::{TaskContext, TaskError, TaskKind};
/// # struct Greet;
/// # impl TaskKind for Greet {
/// #     const NAME: &'static str = "greet";
/// #     const DESCRIPTION: &'static str = "Says hello.";
/// #     type Params = serde_json::Value;
/// #     type Output = String;
/// #     async fn run(&self, _: TaskContext, _: serde_json::Value) -> Result<String, TaskError> { Ok("hello".into()) }
/// # }
/// # async fn run() -> Result<(), spool::ServeError> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// spool::Spool::new("sqlite://tasks.db")?
///     .kind(Greet)
///     .queue("default", 4)
///     .serve(listener, async { let _ = tokio::signal::ctrl_c().await; })
///     .await
/// # }
/// ```
pub struct Spool {
    config: ServeConfig,
    kinds: Registry,
    builtin_kinds: bool,
    http_resolver: Option<Arc<dyn Resolve>>,
}

impl Spool {
    /// Spool on `database_url` (`sqlite://PATH` or `postgres://…`), every other setting
    /// as `spool serve` would take it with no flags (its defaults, or its environment
    /// variables such as `SPOOL_TOKEN`); fails when those variables do not parse.
    pub fn new(database_url: impl Into<String>) -> Result<Spool, ServeError> {
        let mut config =
            ServeConfig::from_env().map_err(|err| ServeError::Refused(err.to_string()))?;
        config.engine.database_url = database_url.into();
        Ok(Spool::from_config(config))
    }

    /// Spool with exactly these settings (the `spool serve` flags, as a struct).
    pub fn from_config(config: ServeConfig) -> Spool {
        Spool {
            config,
            kinds: Registry::default(),
            builtin_kinds: true,
            http_resolver: None,
        }
    }

    /// Runs tasks of `kind` too (a kind of the same name, built-in or not, is replaced).
    pub fn kind<K: TaskKind>(mut self, kind: K) -> Spool {
        self.kinds = self.kinds.with(kind);
        self
    }

    /// Runs only the kinds given to [`Spool::kind`], none of Spool's own demo kinds.
    pub fn without_builtin_kinds(mut self) -> Spool {
        self.builtin_kinds = false;
        self
    }

    /// Works `name` with `concurrency` tasks at once (1 to 1024; `default` is worked
    /// with 8 unless set here).
    pub fn queue(mut self, name: impl Into<String>, concurrency: usize) -> Spool {
        self.config.engine.queues.push(QueueSpec {
            name: name.into(),
            concurrency: Concurrency::Fixed(concurrency),
        });
        self
    }

    /// Works `name` with `min` to `max` tasks at once (1 ≤ min ≤ max ≤ 1024): more while
    /// tasks wait and every worker is busy, fewer when idle or when the machine is loaded.
    pub fn queue_autoscaled(mut self, name: impl Into<String>, min: usize, max: usize) -> Spool {
        self.config.engine.queues.push(QueueSpec {
            name: name.into(),
            concurrency: Concurrency::Auto { min, max },
        });
        self
    }

    /// Accepts tasks of `name`, run by external workers over REST (any language; see
    /// `POST /api/workers/claim`); they join `queue` unless a submit names another.
    pub fn external_kind(mut self, name: impl Into<String>, queue: impl Into<String>) -> Spool {
        self.config.engine.external_kinds.push(ExternalKind {
            name: name.into(),
            queue: queue.into(),
        });
        self
    }

    /// Resolves the host names of `http` tasks with `resolver` (a service registry, say)
    /// instead of the system's. Its answers are checked like the system's: a name that
    /// resolves to a private address still needs `--http-allow`.
    pub fn http_resolver(mut self, resolver: Arc<dyn Resolve>) -> Spool {
        self.http_resolver = Some(resolver);
        self
    }

    /// Serves the dashboard's built assets (`cargo leptos build` puts them in
    /// `target/site`) from `dir`, rather than those built into the binary (when it was
    /// built with the `embed-site` feature) or `target/site`; without them the REST API
    /// still works.
    pub fn site_root(mut self, dir: impl Into<PathBuf>) -> Spool {
        self.config.site_root = Some(dir.into());
        self
    }

    /// Every other setting: tokens, timings, retention, the SQLite sync mode, and more.
    pub fn config_mut(&mut self) -> &mut ServeConfig {
        &mut self.config
    }

    /// Serves on `listener` until `shutdown` resolves, then stops taking requests and
    /// claims, drains the workers and open requests, and returns. Nothing this process
    /// claimed is left RUNNING.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let config = self.config.clone();
        if let Some(reason) = self.refusal().or_else(|| config.refusal()) {
            return Err(ServeError::Refused(reason));
        }
        let settings = self.kind_settings();
        let registry = self.registry(&settings)?;
        let schedules = schedule_file(&config.engine)?;
        let role = ProcessRole::Serve;
        let engine =
            Engine::from_config(&config.engine, registry, role, !config.no_workers).await?;
        let engine = with_schedules(engine, &schedules).await?;
        let queue = engine.queue.clone();
        let stopping = engine.stopping();

        let site = SiteAssets::choose(config.site_root.as_deref());
        match &site {
            SiteAssets::Embedded(_) => {
                tracing::info!("serving the dashboard built into this binary")
            }
            SiteAssets::Disk(dir) => tracing::info!("serving the dashboard from {}", dir.display()),
        }
        let state = AppState {
            leptos_options: leptos_options(site.leptos_root(), listener.local_addr()?),
            site,
            queue,
            images_dir: settings.images_dir(),
            submit_limit: Arc::new(SubmitLimit::new(
                config.limits.submit_rate,
                config.limits.submit_burst,
            )),
            streams: StreamLimits::new(
                config.limits.max_streams_per_client,
                config.limits.max_streams,
            ),
            access: Arc::new(config.access.policy(reading_posts())),
            stopping: stopping.clone(),
        };
        let deadline = Duration::from_secs(config.limits.request_timeout_secs);
        let app = router(state).layer(axum::middleware::from_fn_with_state(
            deadline,
            http_server::request_deadline,
        ));
        let limits = ConnectionLimits {
            per_client: config.limits.max_connections_per_client as usize,
            total: config.limits.max_connections as usize,
            header_timeout: Duration::from_secs(config.limits.header_timeout_secs),
            // Running tasks get the grace, then the cancel's, before their streams end.
            drain_within: Duration::from_secs(config.engine.shutdown_grace_secs + 30),
        };
        let served = http_server::run(listener, app, limits, async move {
            shutdown.await;
            tracing::info!("shutting down");
            // Workers stop claiming now, not once the last connection has closed.
            stopping.cancel();
        })
        .await;
        engine.stop().await;
        Ok(served?)
    }

    /// Runs the workers and housekeeping without HTTP until `shutdown` resolves, then
    /// drains them. Nothing this process claimed is left RUNNING. Only on PostgreSQL,
    /// where a server elsewhere takes the submits.
    pub async fn work(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        if let Some(reason) = self.refusal() {
            return Err(ServeError::Refused(reason));
        }
        let registry = self.registry(&self.kind_settings())?;
        work(&self.config.engine, registry, None, shutdown).await
    }

    /// [`Spool::work`], serving `/metrics`, `/healthz` and `/readyz` on `listener` too,
    /// to the holders of the configured tokens (see [`ServeConfig`]'s access settings).
    pub async fn work_observed(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let refusal = match listener.local_addr() {
            Ok(addr) => self.config.access.refusal("the metrics", addr),
            Err(err) => Some(format!("the metrics listener has no address: {err}")),
        };
        if let Some(reason) = self.refusal().or(refusal) {
            return Err(ServeError::Refused(reason));
        }
        let registry = self.registry(&self.kind_settings())?;
        let observed = Some((listener, self.config.access.policy(Vec::new())));
        work(&self.config.engine, registry, observed, shutdown).await
    }

    /// Why the choices made here cannot run, if they cannot.
    fn refusal(&self) -> Option<String> {
        let engine = &self.config.engine;
        if !self.builtin_kinds
            && self.kinds.describe().is_empty()
            && engine.external_kinds.is_empty()
        {
            return Some("no task kinds: give Spool at least one kind".into());
        }
        if let Some(reason) = engine.external_kinds_refusal() {
            return Some(reason);
        }
        let mut in_process = self.kinds.describe();
        if self.builtin_kinds {
            in_process.extend(Registry::builtin(&kind_settings(engine)).describe());
        }
        let run_here = engine
            .external_kinds
            .iter()
            .find(|kind| in_process.iter().any(|info| info.name == kind.name));
        if let Some(kind) = run_here {
            return Some(format!(
                "{:?} is declared an external kind and is also a kind this process runs",
                kind.name
            ));
        }
        self.config.engine.queues.iter().find_map(|queue| {
            if !crate::server::queue::valid_queue_name(&queue.name) {
                Some(format!(
                    "{:?} is not a queue name (letters, digits, '_', '-', '.')",
                    queue.name
                ))
            } else {
                (queue.concurrency.refusal())
                    .map(|reason| format!("queue {:?}: {reason}", queue.name))
            }
        })
    }

    fn kind_settings(&self) -> KindSettings {
        let mut settings = kind_settings(&self.config.engine);
        if let Some(resolver) = &self.http_resolver {
            settings.http =
                Destinations::new(self.config.engine.http_allow.clone(), resolver.clone());
        }
        settings
    }

    fn registry(&self, settings: &KindSettings) -> Result<Registry, ServeError> {
        let base = if self.builtin_kinds {
            Registry::builtin(settings)
        } else {
            Registry::default()
        };
        let engine = &self.config.engine;
        let mut registry = base;
        for kind in &engine.external_kinds {
            let schema = engine
                .external_kind_schemas
                .iter()
                .find(|(name, _)| *name == kind.name)
                .map(|(_, path)| read_schema(path))
                .transpose()?;
            registry = registry
                .with_external(&kind.name, &kind.queue, schema)
                .map_err(ServeError::Refused)?;
        }
        Ok(registry.extend(self.kinds.clone()))
    }
}

/// An external kind's JSON Schema, from its file.
fn read_schema(path: &std::path::Path) -> Result<serde_json::Value, ServeError> {
    let refuse = |why: String| ServeError::Refused(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| refuse(format!("not JSON: {e}")))
}

/// Runs the workers of `registry`'s kinds and housekeeping until `shutdown` resolves,
/// then drains them. With `observed`, serves metrics and probes on its listener, checked
/// by its policy, until the drain is over: `/readyz` answers 503 while it lasts.
pub(super) async fn work(
    config: &EngineConfig,
    registry: Registry,
    observed: Option<(TcpListener, AccessPolicy)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Some(reason) = config
        .refusal_to_share("`spool worker`")
        .or_else(|| config.external_kinds_refusal())
    {
        return Err(ServeError::Refused(reason));
    }
    let schedules = schedule_file(config)?;
    let engine = Engine::from_config(config, registry, ProcessRole::Worker, true).await?;
    let engine = with_schedules(engine, &schedules).await?;
    let drained = CancellationToken::new();
    let http = observed.map(|(listener, access)| {
        let app = super::operations_router(engine.queue.clone(), access)
            .into_make_service_with_connect_info::<SocketAddr>();
        let drained = drained.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(drained.cancelled_owned())
                .await
        })
    });
    tracing::info!("working");
    shutdown.await;
    tracing::info!("shutting down");
    engine.stop().await;
    drained.cancel();
    if let Some(http) = http {
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "the metrics port failed"),
            Err(err) => tracing::error!(error = %err, "the metrics port ended abnormally"),
        }
    }
    Ok(())
}

/// The schedules of the `--schedules` file, read (and their timings checked) before
/// anything starts.
fn schedule_file(config: &EngineConfig) -> Result<Option<Vec<ScheduleDefinition>>, ServeError> {
    let file = config.schedules.as_deref().map(read_file).transpose();
    file.map_err(ServeError::Refused)
}

/// Stores the file's schedules once the engine knows its kinds (restarts and other
/// processes apply the same file harmlessly; an empty file disables those an earlier
/// one declared), then starts firing; a schedule that cannot be stored stops the engine
/// and refuses the start. Without a file, the stored schedules are left as they are.
async fn with_schedules(
    mut engine: Engine,
    schedules: &Option<Vec<ScheduleDefinition>>,
) -> Result<Engine, ServeError> {
    if let Some(schedules) = schedules {
        if let Err(why) = engine.queue.save_file_schedules(schedules).await {
            engine.stop().await;
            return Err(ServeError::Refused(format!("--schedules: {why}")));
        }
    }
    engine.start_scheduler();
    Ok(engine)
}

/// Where the built-in kinds put what they make, from the settings.
pub(super) fn kind_settings(config: &EngineConfig) -> KindSettings {
    KindSettings {
        data_dir: config.data_dir.clone(),
        smtp: config.smtp_relay.clone(),
        http: Destinations::new(config.http_allow.clone(), Arc::new(SystemResolver)),
    }
}

/// The POST endpoints that only read, which the read-only token may call: the reading
/// server functions and the explanation of a schedule's timing.
fn reading_posts() -> Vec<&'static str> {
    let mut reading = crate::api::reading_server_fns();
    reading.push("/api/schedules/preview");
    reading
}
