//! `spool-bench`: runs Spool's benchmark (`make bench`) and the peer queues' benchmarks on
//! the same machine and workload, prints one table and writes `target/bench/results.json`.
//! What each number means is in BENCHMARKS.md.

mod baseline;
mod burn_down;
mod flood;
mod fsync_floor;
mod interleaved;
mod machine;
mod peers;
mod pickup;
mod postgres;
mod prefill;
mod report;
mod rest_submit;
mod retained;
mod sample;
mod server;
mod table;
mod wasm;

use std::path::PathBuf;

/// How big each measurement is; `--quick` shrinks everything to finish in a couple of minutes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Plan {
    pub quick: bool,
    /// Tasks per burn-down run, and how many runs (the median is reported).
    pub burn_tasks: u64,
    pub runs: usize,
    /// Workers per process in every burn-down and pickup measurement (peers too).
    pub concurrency: u16,
    /// How long a peer's burn-down run may take before it is reported over what finished.
    pub peer_cap_secs: u64,
    /// Sequential tasks per pickup-latency measurement.
    pub pickups: usize,
    /// Concurrent keep-alive clients and seconds per REST submit run.
    pub submit_clients: usize,
    pub submit_secs: u64,
    /// Finished tasks kept in the database while stats and lists are timed.
    pub retained: u64,
    /// Requests per timed endpoint.
    pub queries: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                burn_tasks: 10_000,
                runs: 1,
                concurrency: 64,
                peer_cap_secs: 10,
                pickups: 200,
                submit_clients: 32,
                submit_secs: 2,
                retained: 100_000,
                queries: 100,
            }
        } else {
            Plan {
                quick,
                burn_tasks: 100_000,
                runs: 3,
                concurrency: 64,
                peer_cap_secs: 120,
                pickups: 1000,
                submit_clients: 32,
                submit_secs: 5,
                retained: 1_000_000,
                queries: 200,
            }
        }
    }
}

/// Where the harness finds what it measures.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The release `spool` binary.
    pub binary: PathBuf,
    /// The built site (holds `pkg/spool.wasm`).
    pub site_root: PathBuf,
    /// Where the peer benchmark binaries were built.
    pub peers: PathBuf,
    /// Scratch space for databases and server logs.
    pub work: PathBuf,
    pub out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    if flag("--help") {
        println!("usage: spool-bench [--quick] [--burn-down-only] [--pickup-only] [--postgres-only] [--retained-only] [--flood-only] [--baseline EARLIER_SPOOL_BINARY] [--concurrency N] [--binary target/release/spool] [--site-root target/site] [--peers target/peers/release] [--out target/bench]");
        return Ok(());
    }
    let mut plan = Plan::new(flag("--quick"));
    if let Ok(concurrency) = value("--concurrency", "").parse() {
        plan.concurrency = concurrency;
    }
    let out = PathBuf::from(value("--out", "target/bench"));
    std::fs::create_dir_all(&out)?;
    let work = tempfile::Builder::new()
        .prefix("spool-bench-")
        .tempdir_in(&out)?;
    let paths = Paths {
        binary: PathBuf::from(value("--binary", "target/release/spool")),
        site_root: PathBuf::from(value("--site-root", "target/site")),
        peers: PathBuf::from(value("--peers", "target/peers/release")),
        work: work.path().to_path_buf(),
        out,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    if flag("--burn-down-only") {
        // For profiling the engine: just the burn-down, both settings, printed.
        return runtime.block_on(async {
            let mut rss = server::PeakRss::default();
            for synchronous in ["full", "normal"] {
                let burn = burn_down::measure(&plan, &paths, synchronous, &mut rss).await?;
                println!("{}", serde_json::to_string(&burn)?);
            }
            Ok(())
        });
    }
    if flag("--postgres-only") {
        return runtime.block_on(async {
            let mut rss = server::PeakRss::default();
            let results = postgres::measure(&plan, &paths, &mut rss).await?;
            println!("{}", serde_json::to_string(&results)?);
            Ok(())
        });
    }
    let baseline = value("--baseline", "");
    if !baseline.is_empty() {
        // This build's burn-down beside an earlier build's, and nothing else.
        return runtime.block_on(async {
            let mut rss = server::PeakRss::default();
            let comparison =
                baseline::measure(&plan, &paths, std::path::Path::new(&baseline), &mut rss).await?;
            println!("{}", serde_json::to_string(&comparison)?);
            Ok(())
        });
    }
    if flag("--retained-only") {
        // The reads of a long history alone: stats, list, overview, charts, processes.
        return runtime.block_on(async {
            let mut rss = server::PeakRss::default();
            let retained = retained::measure(&plan, &paths, &mut rss).await?;
            println!("{}", serde_json::to_string(&retained)?);
            Ok(())
        });
    }
    if flag("--flood-only") {
        return runtime.block_on(async {
            let mut rss = server::PeakRss::default();
            let flood = flood::measure(&plan, &paths, &mut rss).await?;
            println!("{}", serde_json::to_string(&flood)?);
            Ok(())
        });
    }
    if flag("--pickup-only") {
        return runtime.block_on(async {
            for synchronous in ["full", "normal"] {
                let pickup = pickup::in_process(&plan, &paths, synchronous).await?;
                println!("{}", serde_json::to_string(&pickup)?);
            }
            Ok(())
        });
    }
    let results = runtime.block_on(run(&plan, &paths))?;
    let text = serde_json::to_string_pretty(&results)?;
    let file = paths.out.join("results.json");
    std::fs::write(&file, text + "\n")?;
    println!("{}", table::table(&results));
    println!("written: {}", file.display());
    Ok(())
}

async fn run(plan: &Plan, paths: &Paths) -> Result<report::Results, Box<dyn std::error::Error>> {
    let mut rss = server::PeakRss::default();
    eprintln!(
        "» burn-down, FULL and NORMAL, each round beside {}",
        peers::REFERENCE
    );
    let burn = interleaved::measure(plan, paths, &mut rss).await?;
    eprintln!("» the disk's fdatasync, beside the databases");
    let fsync = fsync_floor::measure(&paths.work)?;
    eprintln!("» pickup latency in-process");
    let pickup_full = pickup::in_process(plan, paths, "full").await?;
    let pickup_normal = pickup::in_process(plan, paths, "normal").await?;
    eprintln!("» pickup latency through REST");
    let pickup_rest = pickup::through_rest(plan, paths, &mut rss).await?;
    eprintln!("» REST submits");
    let submit = rest_submit::measure(plan, paths, &mut rss).await?;
    eprintln!("» stats and list with {} finished tasks", plan.retained);
    let retained = retained::measure(plan, paths, &mut rss).await?;
    eprintln!("» stats with {} event streams open", flood::STREAMS);
    let flood = flood::measure(plan, paths, &mut rss).await?;
    let wasm = wasm::measure(&paths.site_root)?;
    eprintln!("» PostgreSQL: burn-down with 1, 2 and 4 worker processes, pickup across processes");
    let postgres = postgres::measure(plan, paths, &mut rss)
        .await
        .map_err(|err| err.to_string());
    if let Err(err) = &postgres {
        eprintln!("  skipped: {err}");
    }
    eprintln!("» peers");
    let peers = peers::measure(plan, paths);
    Ok(report::Results::new(
        plan,
        report::Measured {
            burn,
            fsync,
            pickup_full,
            pickup_normal,
            pickup_rest,
            submit,
            retained,
            flood,
            wasm,
            rss_peak_mb: rss.megabytes(),
            postgres,
            peers,
        },
    ))
}
