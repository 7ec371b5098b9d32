//! Integration tests: a real server on a loopback port, a real SQLite file per test.

mod access;
mod cli;
mod clock;
mod crash;
mod databases;
mod disk_full;
mod engine;
mod external_schemas;
mod external_workers;
mod hostile_input;
mod http_api;
mod http_kind;
mod http_more;
mod lifecycle_store;
mod lock_races;
mod openapi;
mod pickup;
mod process;
mod scale_out;
mod security_headers;
mod shutdown;
mod store;
mod support;
mod upgrade;
mod wasm_bundle;
mod worker_programs;
