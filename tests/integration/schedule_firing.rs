//! Schedules from a `--schedules` file fire exactly one task per slot: on SQLite, and on
//! PostgreSQL with three `spool serve` processes, one of them killed and restarted. The
//! proof reads the database afterwards: the fired slots follow one another without a gap
//! or a repeat, and each has its own task, whatever the timing of the machine.

use crate::databases::postgres_schema;
use crate::process::{free_port, open_store, serve_args, SpoolProcess, BINARY};
use spool::testing::store::{ListFilter, RunRow, Store, StoreOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EVERY_SECOND: &str = r#"
[[schedule]]
name = "tick"
every_secs = 1
catch_up = "each"
catch_up_max = 1000

[schedule.task]
task_type = "noop"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Waits until `schedule` has fired at least `slots` slots (the deadline only guards
/// against a hang).
async fn wait_for_runs(store: &Store, schedule: &str, slots: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.runs(schedule, 10_000).await.unwrap().len() < slots {
        assert!(
            Instant::now() < deadline,
            "{schedule} never fired {slots} slots"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every slot between the first and the last fired once, each with a task of its own,
/// and no task of the schedule's kind exists without its slot.
async fn assert_each_slot_fired_once(store: &Store, schedule: &str, kind: &str) -> Vec<RunRow> {
    let mut runs = store.runs(schedule, 10_000).await.unwrap();
    runs.reverse();
    for pair in runs.windows(2) {
        assert_eq!(
            pair[1].slot - pair[0].slot,
            1_000_000,
            "a gap or a repeat: {pair:?}"
        );
    }
    let filter = ListFilter {
        task_type: Some(kind.into()),
        limit: 10_000,
        ..Default::default()
    };
    let tasks: BTreeSet<String> = store
        .list(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|task| task.id.to_string())
        .collect();
    let fired: BTreeSet<String> = runs.iter().map(|run| run.task_id.clone()).collect();
    assert_eq!(fired.len(), runs.len(), "one task per slot");
    assert_eq!(
        tasks, fired,
        "every task of the schedule belongs to one slot"
    );
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_from_a_file_fires_each_slot_once_and_a_removed_one_stops() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "schedules.toml", EVERY_SECOND);
    let file = file.display().to_string();
    let server = SpoolProcess::start(dir.path(), &["--schedules", &file]).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while server
        .get("/api/tasks/?task_type=noop&limit=1000")
        .await
        .as_array()
        .map_or(0, Vec::len)
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "the schedule never fired three slots"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill();
    let store = open_store(dir.path()).await;
    let runs = assert_each_slot_fired_once(&store, "tick", "noop").await;
    assert!(runs.len() >= 3, "{runs:?}");
    let stored = store.schedules().await.unwrap();
    drop(store);

    // The same file again: the schedule is not stored twice, and the slots missed while
    // nothing ran are caught up ("each"), still one task per slot.
    let server = SpoolProcess::start(dir.path(), &["--schedules", &file]).await;
    let store = open_store(dir.path()).await;
    wait_for_runs(&store, "tick", runs.len() + 2).await;
    server.kill();
    let again = store.schedules().await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].changed_at, stored[0].changed_at,
        "the same definition is no change"
    );
    let runs = assert_each_slot_fired_once(&store, "tick", "noop").await;
    drop(store);

    // A file without it: the schedule is kept, disabled, and fires nothing more.
    let empty = write(dir.path(), "empty.toml", "").display().to_string();
    let server = SpoolProcess::start(dir.path(), &["--schedules", &empty]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.kill();
    let store = open_store(dir.path()).await;
    let schedules = store.schedules().await.unwrap();
    assert_eq!(
        (schedules.len(), schedules[0].enabled),
        (1, 0),
        "{schedules:?}"
    );
    assert!(
        schedules[0].changed_at > stored[0].changed_at,
        "disabling is a change"
    );
    assert_eq!(store.runs("tick", 10_000).await.unwrap().len(), runs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_postgres_fire_each_slot_once_through_a_kill_and_restart() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "schedules.toml", EVERY_SECOND)
        .display()
        .to_string();
    let start = |n: usize| {
        let port = free_port();
        let mut command = Command::new(BINARY);
        command
            .args(serve_args(
                port,
                &schema.url,
                &dir.path().join(format!("data-{n}")),
            ))
            .args(["--schedules", &file]);
        SpoolProcess::spawn(command, port)
    };
    let mut processes = vec![start(0).await, start(1).await, start(2).await];
    let store = Store::open(&schema.url, &StoreOptions::default())
        .await
        .unwrap();
    wait_for_runs(&store, "tick", 5).await;
    processes.remove(0).kill();
    let fired = store.runs("tick", 10_000).await.unwrap().len();
    wait_for_runs(&store, "tick", fired + 5).await;
    processes.push(start(3).await);
    let fired = store.runs("tick", 10_000).await.unwrap().len();
    wait_for_runs(&store, "tick", (fired + 5).max(20)).await;
    for process in processes {
        process.kill();
    }
    let runs = assert_each_slot_fired_once(&store, "tick", "noop").await;
    assert!(runs.len() >= 20, "{}", runs.len());
}

/// `spool worker` applies a `--schedules` file and fires it as `spool serve` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_fires_the_schedules_of_its_file() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "schedules.toml", EVERY_SECOND);
    let mut worker = Command::new(BINARY)
        .args(["worker", "--database-url", &schema.url, "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--schedules")
        .arg(&file)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spool worker starts");
    let store = Store::open(&schema.url, &StoreOptions::default())
        .await
        .unwrap();
    wait_for_runs(&store, "tick", 3).await;
    let _ = worker.kill();
    let _ = worker.wait();
    let runs = assert_each_slot_fired_once(&store, "tick", "noop").await;
    assert!(runs.len() >= 3, "{runs:?}");
    let stored = store.schedules().await.unwrap();
    assert_eq!((stored.len(), stored[0].source.as_str()), (1, "file"));
}

#[tokio::test]
async fn a_file_with_a_schedule_that_cannot_run_refuses_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("syntax.toml", "[[schedule]\nname = ", "TOML parse error"),
        ("cron.toml", "[[schedule]]\nname = \"a\"\ncron = \"61 * * * *\"\n[schedule.task]\ntask_type = \"noop\"\n", "cron: not a cron expression"),
        ("kind.toml", "[[schedule]]\nname = \"a\"\nevery_secs = 5\n[schedule.task]\ntask_type = \"nope\"\n", "unknown task type"),
        ("twice.toml", "[[schedule]]\nname = \"a\"\nevery_secs = 5\n[schedule.task]\ntask_type = \"noop\"\n[[schedule]]\nname = \"a\"\nevery_secs = 9\n[schedule.task]\ntask_type = \"noop\"\n", "declared twice"),
        ("name.toml", "[[schedule]]\nname = \"a b\"\nevery_secs = 5\n[schedule.task]\ntask_type = \"noop\"\n", "not a schedule name"),
        ("delay.toml", "[[schedule]]\nname = \"a\"\nevery_secs = 5\n[schedule.task]\ntask_type = \"noop\"\ndelay_ms = 5\n", "its slot is its time"),
    ];
    for (file, text, reason) in cases {
        let path = write(dir.path(), file, text);
        let mut config = spool::testing::config::ServeConfig::with_database(
            crate::process::database_url(dir.path()),
        );
        config.engine.data_dir = dir.path().join("data");
        config.engine.schedules = Some(path);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let refused = spool::serve(listener, config, async {}).await;
        let Err(spool::ServeError::Refused(text)) = refused else {
            panic!("{file} was not refused: {refused:?}");
        };
        assert!(text.contains(reason), "{file}: {text}");
    }
}
