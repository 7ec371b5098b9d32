//! The `spool` binary: everything lives in the library; see `spool::server::main`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    spool::server::main().await
}
