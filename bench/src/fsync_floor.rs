//! The disk's own floor for a durable commit: 1,000 small appends to a file in the
//! database's directory, each followed by `fdatasync`, timed one by one. Under
//! `synchronous=FULL` a commit cannot be faster than one of these, so the pickup target
//! under FULL is stated against this run's p99, not a fixed number of milliseconds.

use crate::sample::Latency;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Appends timed.
const APPENDS: usize = 1_000;
/// Bytes per append: about one small WAL frame's header and payload.
const APPEND_BYTES: usize = 128;

pub fn measure(dir: &Path) -> std::io::Result<Latency> {
    let path = dir.join("fsync-floor.bin");
    let mut file = std::fs::File::create(&path)?;
    let record = [0x5a_u8; APPEND_BYTES];
    let mut samples = Vec::with_capacity(APPENDS);
    for _ in 0..APPENDS {
        let started = Instant::now();
        file.write_all(&record)?;
        file.sync_data()?;
        samples.push(started.elapsed());
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(Latency::of(&samples))
}
