//! The server side of Spool (compiled with the `ssr` feature only): start-up, the HTTP
//! router (dashboard pages, server functions, REST API, static files) and shutdown.
//!
//! Layers, top to bottom: `rest` and `crate::api` (HTTP) → `queue` (the client API and
//! worker pool) → `store` (the database). `tasks` holds the kinds the workers run.

pub mod config;
pub mod queue;
mod rest;
pub mod store;
pub mod tasks;

use crate::app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use clap::Parser;
use config::{Cli, Command, ServeConfig};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use queue::{run_maintenance, run_workers, MaintenanceConfig, Queue, WorkerConfig};
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;
use store::{Store, StoreOptions};
use tasks::{KindSettings, Registry};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub queue: Queue,
    /// Images made by `image_processing`, served under `/media/images/`.
    pub images_dir: std::path::PathBuf,
}

/// Why `spool serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not open the task store: {0}")]
    Store(#[from] store::StoreError),
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// The `spool` binary's entry point.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.command {
        Command::Serve(config) => config,
        Command::Client(command) => return crate::cli::run(cli.client, command).await,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let result = serve_until_signal(config).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_until_signal(config: ServeConfig) -> Result<(), ServeError> {
    let listener = TcpListener::bind(config.addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    serve(listener, config, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` resolves, then stops taking requests, drains the
/// workers and returns. Nothing this process claimed is left RUNNING.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store_options = StoreOptions {
        synchronous: config.sqlite_synchronous,
    };
    let store = Store::open(&config.database_url, &store_options).await?;
    let kinds = KindSettings {
        data_dir: config.data_dir.clone(),
        smtp: config.smtp_relay.clone(),
    };
    let queue = Queue::new(store, Registry::builtin(&kinds)).with_worked_queues(
        config
            .worked_queues()
            .into_iter()
            .map(|spec| (spec.name, spec.concurrency as u32)),
    );

    let stop = CancellationToken::new();
    let mut workers = Vec::new();
    for spec in config.worked_queues() {
        let mut worker_config = WorkerConfig::new(spec.name, spec.concurrency);
        worker_config.shutdown_grace = Duration::from_secs(config.shutdown_grace_secs);
        workers.push(tokio::spawn(run_workers(
            queue.clone(),
            worker_config,
            stop.clone(),
        )));
    }
    let maintenance_config = MaintenanceConfig {
        retention: Duration::from_secs(config.retention_hours * 3600),
        ..MaintenanceConfig::default()
    };
    let maintenance = tokio::spawn(run_maintenance(
        queue.clone(),
        maintenance_config,
        stop.clone(),
    ));

    let state = AppState {
        leptos_options: leptos_options(&config, listener.local_addr()?),
        queue,
        images_dir: kinds.images_dir(),
    };
    let http_stop = stop.clone();
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down");
            http_stop.cancel();
        })
        .await;
    stop.cancel();
    for task in workers.into_iter().chain([maintenance]) {
        if let Err(err) = task.await {
            tracing::error!(error = %err, "a worker pool or housekeeping ended abnormally");
        }
    }
    Ok(served?)
}

/// Dashboard pages and server functions (through leptos), the REST API, static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let queue = state.queue.clone();
    Router::new()
        .leptos_routes_with_context(&state, routes, move || provide_context(queue.clone()), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .merge(rest::routes())
        .nest_service(
            "/media/images",
            tower_http::services::ServeDir::new(&state.images_dir),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

/// Leptos settings: those cargo-leptos baked in at build time when present, with the
/// site root and address this process actually uses.
fn leptos_options(config: &ServeConfig, addr: std::net::SocketAddr) -> LeptosOptions {
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = built_by_cargo_leptos
        .then(|| get_configuration(None).ok())
        .flatten()
        .map(|conf| conf.leptos_options)
        .unwrap_or_else(|| LeptosOptions::builder().output_name("spool").build());
    options.site_root = config.site_root.to_string_lossy().as_ref().into();
    options.site_addr = addr;
    options
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
