//! Spool: a durable background task queue with a live web dashboard.
//!
//! One crate, compiled twice:
//! - with `ssr`, the `spool` binary: an axum server that renders the dashboard, answers
//!   its server functions and the REST API, and runs the workers (`server`); the
//!   same binary is also a command-line client of that API (`cli`);
//! - with `hydrate`, the WebAssembly that makes the server-rendered dashboard live.
//!
//! Modules: `app` (the dashboard's components) → `api` (server functions) →
//! `server::{queue → store}`. [`model`] and [`error`] sit under everything and are
//! shared by both builds; they import no server code.
//!
//! # Embedding Spool
//!
//! With the `ssr` feature Spool is a library too: [`Spool`] runs your own kinds of task
//! (each a [`TaskKind`]) in your tokio program, serving the REST API, the dashboard and
//! the workers ([`Spool::serve`]) or the workers alone ([`Spool::work`]). A handler gets
//! a [`TaskContext`] (its attempt, progress, log and cancellation) and fails with a
//! [`TaskError`] that says whether and when to retry.

// The public API is documented in full; `testing` exposes internals, which are not.
#![cfg_attr(not(feature = "testing"), deny(missing_docs))]
// The dashboard's nested views make deep types.
#![recursion_limit = "256"]

pub(crate) mod api;
pub(crate) mod app;
#[cfg(feature = "ssr")]
pub(crate) mod cli;
pub mod error;
pub mod model;
#[cfg(feature = "ssr")]
pub(crate) mod server;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "ssr")]
pub use server::{
    config::{
        AccessConfig, Concurrency, EngineConfig, ExternalKind, QueueSpec, ServeConfig, WorkConfig,
    },
    main, serve,
    store::Synchronous,
    tasks::{HttpAllow, ProgressSnapshot, Resolve, Resolving, TaskContext, TaskError, TaskKind},
    work, ServeError, Spool,
};

/// Entry point of the WebAssembly bundle: hydrates the server-rendered page, fetching the
/// code of the page's route first when it is a lazy one (`app/lazy_pages.rs`), then sets
/// `data-hydrated="true"` on `<body>`, so tests and scripts can wait for interactivity.
///
/// This is `leptos::mount::hydrate_lazy` with the mark added: only once the async
/// hydration has finished are the route's event handlers attached.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
