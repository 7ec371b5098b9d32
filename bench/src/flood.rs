//! Event streams held open while the dashboard's reads are timed: 4,000 streams on one
//! task from 127.0.0.1 (the stream and connection caps raised by their flags, so that
//! one client may hold them all), `GET /api/stats` p99 meanwhile, the server's resident
//! memory with them open, and what each stream costs in memory.

use crate::retained::time_requests;
use crate::sample::Latency;
use crate::server::{PeakRss, Server};
use crate::{Paths, Plan};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Error = Box<dyn std::error::Error>;

/// Streams held open (the figure).
pub const STREAMS: usize = 4000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Flood {
    pub streams: usize,
    /// `GET /api/stats`, with the streams open.
    pub stats: Latency,
    pub rss_mb_before: f64,
    pub rss_mb_with_streams: f64,
    pub kb_per_stream: f64,
}

pub async fn measure(plan: &Plan, paths: &Paths, rss: &mut PeakRss) -> Result<Flood, Error> {
    let database = paths.work.join("flood.db");
    let raised = (STREAMS * 2).to_string();
    let mut args = vec![
        "--database-url".to_string(),
        format!("sqlite://{}", database.display()),
    ];
    for flag in [
        "--max-streams-per-client",
        "--max-streams",
        "--max-connections-per-client",
        "--max-connections",
    ] {
        args.extend([flag.to_string(), raised.clone()]);
    }
    let server = Server::start_with(paths, &args).await?;
    // A task that stays PENDING (its queue is paused), so its streams stay open.
    server
        .post("/api/queues/held/pause", &serde_json::json!({}))
        .await
        .ok();
    let task = server
        .post(
            "/api/tasks/submit",
            &serde_json::json!({"task_type": "noop", "queue": "held"}),
        )
        .await?;
    let id = task["id"]
        .as_str()
        .ok_or("the submit answered no id")?
        .to_string();
    let _ = time_requests(&server, "/api/stats", 20).await?;
    let before = server.rss_kb();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        streams.push(open_stream(&addr, &id).await?);
    }
    let with_streams = server.rss_kb();
    let stats = time_requests(&server, "/api/stats", plan.queries).await?;
    drop(streams);
    server.stop(rss).await?;
    let _ = std::fs::remove_file(&database);
    Ok(Flood {
        streams: STREAMS,
        stats,
        rss_mb_before: megabytes(before),
        rss_mb_with_streams: megabytes(with_streams),
        kb_per_stream: with_streams.saturating_sub(before) as f64 / STREAMS as f64,
    })
}

/// Opens one event stream and reads its response's head and first event.
async fn open_stream(addr: &str, id: &str) -> Result<TcpStream, Error> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET /api/tasks/{id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await?;
    if &head[9..12] != b"200" {
        return Err(format!("a stream was answered {}", String::from_utf8_lossy(&head)).into());
    }
    Ok(stream)
}

fn megabytes(kb: u64) -> f64 {
    (kb as f64 / 1024.0 * 10.0).round() / 10.0
}
