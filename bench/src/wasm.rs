//! The size of the dashboard's WebAssembly as a browser downloads it.

use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug, serde::Serialize)]
pub struct WasmSize {
    pub raw_bytes: u64,
    /// Gzip at the highest level, as a static file server would precompress it.
    pub gz_bytes: u64,
}

pub fn measure(site_root: &Path) -> Result<WasmSize, Box<dyn std::error::Error>> {
    let file = site_root.join("pkg/spool.wasm");
    let bytes = std::fs::read(&file)
        .map_err(|err| format!("cannot read {} (run `make build`): {err}", file.display()))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&bytes)?;
    Ok(WasmSize {
        raw_bytes: bytes.len() as u64,
        gz_bytes: gz.finish()?.len() as u64,
    })
}
