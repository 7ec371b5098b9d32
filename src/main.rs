//! The `spool` binary: everything lives in the library; see `spool::main`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    spool::main().await
}
