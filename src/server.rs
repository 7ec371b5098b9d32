//! The server side of Spool (compiled with the `ssr` feature only): start-up, the HTTP
//! router (dashboard pages, server functions, REST API, static files) and shutdown.
//!
//! Layers, top to bottom: `web_security` and `access` (every request) → `rest` and
//! `crate::api` (HTTP) → `queue` (the client API and worker pool) → `store` (the
//! database). `tasks` holds the kinds the workers run.

pub(crate) mod access;
pub(crate) mod config;
pub(crate) mod engine;
mod http_error;
mod http_server;
mod launch;
pub(crate) mod logging;
pub(crate) mod queue;
pub(crate) mod rate_limit;
mod rest;
pub(crate) mod schedules;
mod server_fns;
pub(crate) mod site;
pub(crate) mod store;
pub(crate) mod stream_limit;
pub(crate) mod tasks;
mod turns;
pub(crate) mod web_security;

pub use launch::Spool;

use crate::app::{shell, App};
use access::AccessPolicy;
use axum::extract::FromRef;
use axum::Router;
use clap::Parser;
use config::{Cli, Command, ServeConfig, WorkConfig};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use queue::Queue;
use rate_limit::SubmitLimit;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use tasks::Registry;
use tokio::net::TcpListener;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Where the dashboard's assets come from.
    pub site: site::SiteAssets,
    pub queue: Queue,
    /// Images made by `image_processing`, served under `/media/images/`.
    pub images_dir: std::path::PathBuf,
    pub submit_limit: Arc<SubmitLimit>,
    /// Open event streams, bounded per client and in all.
    pub streams: Arc<stream_limit::StreamLimits>,
    pub access: Arc<AccessPolicy>,
    /// Cancelled when the server starts shutting down; long-lived responses end then.
    pub stopping: tokio_util::sync::CancellationToken,
}

/// Why `spool serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The task store could not be opened or migrated.
    #[error("could not open the task store: {0}")]
    Store(#[from] store::StoreError),
    /// The address could not be bound, or the connection failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// The settings are not safe or not possible (the text says why and what to change).
    #[error("{0}")]
    Refused(String),
}

/// The `spool` binary's entry point.
pub async fn main() -> ExitCode {
    let command = match Cli::parse().command_or_serve() {
        Ok(command) => command,
        Err(err) => err.exit(),
    };
    let result = match command {
        Command::Client(command) => return crate::cli::run(command).await,
        Command::Serve(config) => {
            logging::init(config.engine.log_format);
            serve_until_signal(config).await
        }
        Command::Worker(config) => {
            logging::init(config.engine.log_format);
            work(config, shutdown_signal()).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_until_signal(config: ServeConfig) -> Result<(), ServeError> {
    if let Some(reason) = config.refusal() {
        return Err(ServeError::Refused(reason));
    }
    let listener = TcpListener::bind(config.listen_addr()).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    serve(listener, config, shutdown_signal()).await
}

/// Serves Spool's own kinds on `listener` with `config` until `shutdown` resolves (see
/// [`Spool::serve`]).
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Spool::from_config(config).serve(listener, shutdown).await
}

/// Runs Spool's own kinds until `shutdown` resolves, serving metrics and probes on
/// `--metrics-addr` when it is given (see [`Spool::work`]).
pub async fn work(
    config: WorkConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Some(reason) = config.refusal() {
        return Err(ServeError::Refused(reason));
    }
    let observed = match config.metrics_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await?;
            tracing::info!("metrics and probes on http://{}", listener.local_addr()?);
            Some((listener, config.access.policy(Vec::new())))
        }
        None => None,
    };
    let registry = Registry::builtin(&launch::kind_settings(&config.engine));
    launch::work(&config.engine, registry, observed, shutdown).await
}

/// Dashboard pages and server functions (through leptos), the REST API, static files
/// and the login page, behind the access check and the browser protections.
fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let queue = state.queue.clone();
        let submit_limit = Arc::clone(&state.submit_limit);
        move || {
            provide_context(queue.clone());
            provide_context(Arc::clone(&submit_limit));
        }
    };
    let access = Arc::clone(&state.access);
    let task_types = state.queue.kinds();
    Router::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Server functions read their whole body with no limit of their own.
        .layer(axum::middleware::from_fn(server_fns::limit_body))
        .merge(rest::routes(&task_types))
        .merge(access::routes(Arc::clone(&access)))
        .nest_service(
            "/media/images",
            tower_http::services::ServeDir::new(&state.images_dir),
        )
        .fallback(assets_or_page)
        .with_state(state)
        .layer(axum::middleware::from_fn(server_fns::status_from_code))
        .layer(axum::middleware::from_fn_with_state(access, access::check))
        .layer(axum::middleware::from_fn(web_security::refuse_cross_site))
        .layer(axum::middleware::from_fn(web_security::headers))
        .layer(axum::middleware::from_fn(logging::access_log))
}

/// What `spool worker --metrics-addr` serves: metrics and probes, behind the access
/// check, in the access log.
fn operations_router(queue: Queue, access: AccessPolicy) -> Router {
    rest::operations(queue)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(access),
            access::check,
        ))
        .layer(axum::middleware::from_fn(logging::access_log))
}

/// Any path no route took: an embedded asset when the site is embedded, else what Leptos
/// answers (a file of the site root on disk, a page, or the 404 page).
async fn assets_or_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if state.site.is_embedded() {
        let (method, path) = (request.method(), request.uri().path());
        if let Some(response) = site::respond(method, path, request.headers()) {
            return response;
        }
    }
    let leptos = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    leptos(request.uri().clone(), axum::extract::State(state), request).await
}

/// Leptos settings: those cargo-leptos baked in at build time when present, with the
/// site root and address this process actually uses.
fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = built_by_cargo_leptos
        .then(|| get_configuration(None).ok())
        .flatten()
        .map(|conf| conf.leptos_options)
        .unwrap_or_else(|| LeptosOptions::builder().output_name("spool").build());
    options.site_root = site_root.to_string_lossy().as_ref().into();
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
