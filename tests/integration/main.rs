//! Integration tests: a real server on a loopback port, a real SQLite file per test.

mod cli;
mod crash;
mod engine;
mod http_api;
mod http_more;
mod lifecycle_store;
mod openapi;
mod store;
mod support;
mod wasm_bundle;
