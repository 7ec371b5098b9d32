//! A full disk: `spool serve` runs with its database on a 4 MiB tmpfs of its own (a
//! private mount namespace, so nothing outside the test sees it). Filling that disk
//! makes submits fail with a clean 503 and stores nothing half-way; freeing it lets
//! submits succeed again, and the database passes `PRAGMA integrity_check`.

use crate::process::{free_port, serve_args, SpoolProcess, BINARY};
use serde_json::{json, Value};
use spool::testing::store::{Store, StoreOptions};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Whether this machine lets the test mount a private tmpfs (it needs root). CI sets
/// `SPOOL_REQUIRE_FAULT_TESTS=1`, which makes a machine that cannot a failure.
fn private_mounts_work() -> bool {
    let works = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var_os("SPOOL_REQUIRE_FAULT_TESTS").is_none(),
            "the full-disk test needs `unshare -m` and `mount` (root)"
        );
        println!("skipped: this machine cannot mount a private tmpfs (needs root)");
    }
    works
}

/// Fills the file system holding `path` until a write fails; returns how much it wrote.
fn fill(path: &Path) -> u64 {
    let mut ballast = std::fs::File::create(path).expect("the ballast file is created");
    let block = vec![0x5a; 64 * 1024];
    let mut written = 0;
    loop {
        match ballast.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = ballast.sync_all();
    written
}

#[tokio::test]
async fn a_full_disk_answers_503_stores_nothing_and_recovers_intact() {
    if !private_mounts_work() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let url = format!("sqlite://{}", disk.join("spool.db").display());
    let port = free_port();
    let mut command = Command::new("unshare");
    command
        .args([
            "-m",
            "sh",
            "-c",
            r#"mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@""#,
        ])
        .arg(&disk)
        .arg(BINARY)
        .args(serve_args(port, &url, &dir.path().join("data")))
        // Queue paused below, so nothing but submits writes while the disk is full.
        .args(["--concurrency", "1"]);
    let server = SpoolProcess::spawn(command, port).await;
    let client = &server.client;
    let pause = client
        .post(server.url("/api/queues/default/pause"))
        .send()
        .await
        .unwrap();
    assert!(pause.status().is_success(), "{}", pause.status());

    // The tmpfs as the server sees it, through its own root.
    let seen = Path::new(&format!("/proc/{}/root", server.child.id()))
        .join(disk.strip_prefix("/").unwrap());
    let body = json!({"task_type": "noop", "parameters": {}});
    let before = server.submit(&body).await;

    let ballast = seen.join("ballast");
    let filled = fill(&ballast);
    assert!(filled > 0, "the ballast took the free space");
    // Submits go on until a few are refused: the WAL file's own space, reused after a
    // checkpoint (whenever one ran before the disk filled), takes submits until it wraps.
    let mut refused = 0;
    let mut accepted = 0;
    for _ in 0..900 {
        if refused == 5 {
            break;
        }
        let response = client
            .post(server.url("/api/tasks/submit"))
            .json(&body)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            503 => {
                let error: Value = response.json().await.unwrap();
                assert_eq!(error["error"]["code"], "unavailable", "{error}");
                let message = error["error"]["message"].as_str().unwrap();
                assert!(!message.contains("disk"), "no internal text: {message}");
                refused += 1;
            }
            200 => accepted += 1,
            other => panic!("a submit on a full disk answered {other}"),
        }
    }
    assert!(refused > 0, "no submit was refused on a full disk");
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert!(ready.status() == 200 || ready.status() == 503);

    std::fs::remove_file(&ballast).unwrap();
    let after = server.submit(&body).await;
    let listed = server.get("/api/tasks/?limit=1000").await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(
        ids.contains(&before.as_str()) && ids.contains(&after.as_str()),
        "acknowledged tasks missing: before {before} listed {}, after {after} listed {}; \
         {accepted} accepted and {refused} refused on the full disk; listed: {ids:?}",
        ids.contains(&before.as_str()),
        ids.contains(&after.as_str()),
    );
    assert_eq!(
        ids.len(),
        2 + accepted,
        "only acknowledged submits were stored"
    );

    let store = Store::open(
        &format!("sqlite://{}", seen.join("spool.db").display()),
        &StoreOptions::default(),
    )
    .await
    .expect("the database opens beside the server");
    let (writer, reader) = store.pragma("integrity_check").await.unwrap();
    assert_eq!((writer.as_str(), reader.as_str()), ("ok", "ok"));
}
