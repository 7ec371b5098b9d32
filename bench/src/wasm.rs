//! The size of the dashboard's WebAssembly as a browser downloads it. The build is split by
//! route: the overview loads only the main module (`pkg/spool.wasm`; the Playwright spec
//! `split-loading.spec.ts` checks that it fetches nothing else), and each other page
//! fetches its chunks the first time it is shown.

use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::Path;

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Debug, serde::Serialize)]
pub struct WasmSize {
    /// The main module, which is all the overview page loads.
    pub raw_bytes: u64,
    /// Gzip at the highest level, as a static file server would precompress it.
    pub gz_bytes: u64,
    /// The brotli copy the release binary sends to browsers that accept it
    /// (`pkg/spool.wasm.br`, made by `cargo leptos build --precompress`); 0 when absent.
    pub br_bytes: u64,
    /// How many chunks the other pages load on demand.
    pub chunks: u64,
    /// All the chunks together, gzipped one by one.
    pub chunks_gz_bytes: u64,
}

pub fn measure(site_root: &Path) -> Result<WasmSize, Error> {
    let pkg = site_root.join("pkg");
    let main = pkg.join("spool.wasm");
    let bytes = std::fs::read(&main)
        .map_err(|err| format!("cannot read {} (run `make build`): {err}", main.display()))?;
    let mut size = WasmSize {
        raw_bytes: bytes.len() as u64,
        gz_bytes: gzipped_len(&bytes)?,
        br_bytes: std::fs::metadata(pkg.join("spool.wasm.br")).map_or(0, |file| file.len()),
        chunks: 0,
        chunks_gz_bytes: 0,
    };
    for file in wasm_files(&pkg)? {
        if file != main {
            size.chunks += 1;
            size.chunks_gz_bytes += gzipped_len(&std::fs::read(&file)?)?;
        }
    }
    Ok(size)
}

fn gzipped_len(bytes: &[u8]) -> Result<u64, Error> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len() as u64)
}

/// Every `.wasm` file under `dir`, at any depth.
fn wasm_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(wasm_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "wasm") {
            files.push(path);
        }
    }
    Ok(files)
}
