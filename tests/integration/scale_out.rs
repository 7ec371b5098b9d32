//! Scale-out on PostgreSQL. With the real binary: one `spool serve --no-workers` and three
//! `spool worker` processes share one database; 20,000 `noop` tasks each succeed exactly
//! once, and one worker SIGKILLed mid-run has its claimed tasks rescued and finished by
//! the others. With several stores standing for processes: racing claims never share a
//! task, a submit or resume wakes idle workers elsewhere, a cancel reaches the process
//! running the task, and racing rescues and prunes act on each task once with the
//! counters exact. Runs when `SPOOL_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

use crate::databases::{postgres_schema, query_i64, stores_on};
use crate::process::{free_port, serve_args, SpoolProcess, BINARY};
use sea_orm::Database;
use serde_json::{json, Value};
use spool::testing::store::{Store, StoreOptions};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TASKS: usize = 20_000;
const BATCH: usize = 5_000;
const WORKERS: usize = 3;
const CONCURRENCY: usize = 16;
/// The killed worker goes once this many tasks have succeeded.
const KILL_AFTER: i64 = 4_000;

/// A `spool worker` child process, killed if the test ends first.
struct Worker(Child);

impl Worker {
    fn start(database_url: &str, data_dir: &std::path::Path) -> Worker {
        let concurrency = CONCURRENCY.to_string();
        let child = Command::new(BINARY)
            .args(["worker", "--database-url", database_url, "--data-dir"])
            .arg(data_dir)
            .args(["--concurrency", &concurrency])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spool worker starts");
        Worker(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn succeeded(server: &SpoolProcess) -> i64 {
    let stats = server.get("/api/stats").await;
    stats["by_status"]["SUCCESS"].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_run_every_task_once_and_finish_a_killed_workers_tasks() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut command = Command::new(BINARY);
    command
        .args(serve_args(port, &schema.url, &data))
        // 20,000 submits from one address would meet the per-client limit.
        .args(["--no-workers", "--submit-rate", "0"]);
    let server = SpoolProcess::spawn(command, port).await;

    // Everything is stored before any worker starts, so all three start on a backlog.
    let paused = server
        .client
        .post(server.url("/api/queues/default/pause"))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 204);
    let batch: Vec<Value> = (0..BATCH).map(|_| json!({"task_type": "noop"})).collect();
    for _ in 0..TASKS / BATCH {
        let stored = server
            .client
            .post(server.url("/api/tasks/batch"))
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(stored.status(), 200);
    }
    let mut workers: Vec<Option<Worker>> = (0..WORKERS)
        .map(|_| Some(Worker::start(&schema.url, &data)))
        .collect();
    // The queue is paused and the server runs no workers, so nothing has run yet; the
    // resume below is a change the workers, in other processes, must see.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(succeeded(&server).await, 0);
    let resumed = server
        .client
        .post(server.url("/api/queues/default/resume"))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 204);

    // Each worker registers itself; the queue's concurrency adds theirs up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = server.get("/api/processes").await;
        let live_workers = listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["role"] == "worker" && p["state"] == "live")
            .count();
        if live_workers == WORKERS {
            let serving = listed
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["role"] == "serve");
            assert_eq!(serving.map(|p| &p["queues"]), Some(&json!([])), "{listed}");
            break;
        }
        assert!(Instant::now() < deadline, "{listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let queues = server.get("/api/queues").await;
    let default = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "default")
        .cloned();
    assert_eq!(
        default.map(|q| q["total_concurrency"].clone()),
        Some(json!(WORKERS * CONCURRENCY))
    );

    let db = Database::connect(&schema.url).await.unwrap();
    let victim_pid = workers[0].as_ref().map(|w| w.0.id()).unwrap();
    let victim_id = format!("spool-{victim_pid}-%");
    let victim_succeeded = format!(
        "SELECT COUNT(*) FROM task_attempts WHERE outcome = 'SUCCESS' AND worker_id LIKE '{victim_id}'"
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    while succeeded(&server).await < KILL_AFTER || query_i64(&db, &victim_succeeded).await == 0 {
        assert!(Instant::now() < deadline, "the workers made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(workers[0].take()); // SIGKILL

    while succeeded(&server).await < TASKS as i64 {
        assert!(
            Instant::now() < deadline,
            "only {} of {TASKS} tasks succeeded",
            succeeded(&server).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(
        query_i64(&db, "SELECT COUNT(*) FROM tasks WHERE status = 'SUCCESS'").await,
        TASKS as i64
    );
    // Exactly one successful attempt per task.
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(*) FROM (SELECT task_id FROM task_attempts WHERE outcome = 'SUCCESS' \
             GROUP BY task_id HAVING COUNT(*) <> 1) AS doubled"
        )
        .await,
        0
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(DISTINCT task_id) FROM task_attempts WHERE outcome = 'SUCCESS'"
        )
        .await,
        TASKS as i64
    );
    // Only the killed worker's attempts were lost (rescued after its lease), at most the
    // tasks it could hold at once; no attempt is left open.
    let lost = query_i64(
        &db,
        "SELECT COUNT(*) FROM task_attempts WHERE outcome = 'LOST'",
    )
    .await;
    let lost_by_victim = query_i64(
        &db,
        &format!(
            "SELECT COUNT(*) FROM task_attempts WHERE outcome = 'LOST' AND worker_id LIKE '{victim_id}'"
        ),
    )
    .await;
    assert_eq!(lost, lost_by_victim, "a live worker's attempt was rescued");
    assert!(
        lost <= (CONCURRENCY * 2) as i64,
        "{lost} attempts lost by one worker of {CONCURRENCY}"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(*) FROM task_attempts WHERE finished_at IS NULL"
        )
        .await,
        0
    );
    // Every worker took a share (the killed one was seen to before it went).
    let workers_used = query_i64(
        &db,
        "SELECT COUNT(DISTINCT worker_id) FROM task_attempts WHERE outcome = 'SUCCESS'",
    )
    .await;
    assert_eq!(workers_used, WORKERS as i64);
    // The counters agree with the rows.
    assert_eq!(
        query_i64(
            &db,
            "SELECT COALESCE(SUM(n), 0)::BIGINT FROM task_counts WHERE status = 'SUCCESS'"
        )
        .await,
        TASKS as i64
    );
    eprintln!("{lost} attempts lost to the SIGKILL, all rescued");
    drop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_racing_from_four_processes_never_take_the_same_task() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    // A store of its own each: its own pool and committer, as in another process.
    let stores = stores_on(&schema, 4).await;
    let tasks: Vec<_> = (0..2_000).map(|i| crate::store::task(0, i)).collect();
    stores[0].insert_all(tasks).await.unwrap();
    let mut claimers = tokio::task::JoinSet::new();
    for (n, store) in stores.into_iter().enumerate() {
        claimers.spawn(async move {
            let mut ids = Vec::new();
            loop {
                let claimed = store
                    .claim("default", 7, &format!("w{n}"), 10_000, 20_000)
                    .await
                    .unwrap();
                assert!(claimed.len() <= 7, "a claim of 7 took {}", claimed.len());
                if claimed.is_empty() {
                    return ids;
                }
                ids.extend(claimed.into_iter().map(|task| task.id));
            }
        });
    }
    let mut seen = HashSet::new();
    let mut shares = Vec::new();
    while let Some(ids) = claimers.join_next().await {
        let ids = ids.unwrap();
        shares.push(ids.len());
        for id in ids {
            assert!(seen.insert(id), "task {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), 2_000, "shares: {shares:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_or_resume_in_one_process_wakes_idle_workers_in_another_at_once() {
    use spool::model::SubmitRequest;
    use spool::testing::engine::Engine;
    use spool::testing::queue::WorkerConfig;
    use spool::testing::tasks::{KindSettings, Registry};

    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = || Registry::builtin(&KindSettings::in_dir(dir.path()));
    let options = StoreOptions::default();
    let open = || Store::open(&schema.url, &options);
    // The working "process": its workers would not look again for an hour on their own.
    let mut config = WorkerConfig::new("default", 2);
    config.poll_interval = Duration::from_secs(3600);
    let working = Engine::builder(open().await.unwrap(), registry())
        .pool(config)
        .start();
    // Let the workers find nothing and go idle.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The submitting "process": no workers, a store of its own.
    let submitting_process = Engine::builder(open().await.unwrap(), registry()).start();
    let submitting = submitting_process.queue.clone();
    let request = SubmitRequest {
        task_type: "noop".into(),
        ..SubmitRequest::default()
    };
    let until_success = |id| {
        let submitting = submitting.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let task = submitting.get(id).await.unwrap();
                if task.status.as_str() == "SUCCESS" {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "the idle workers were not woken (status {})",
                    task.status.as_str()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let id = submitting.submit(request.clone()).await.unwrap().id;
    until_success(id).await;

    // Resuming a queue wakes them too, though no task changed.
    submitting.set_paused("default", true).await.unwrap();
    let waiting = submitting.submit(request).await.unwrap().id;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        submitting.get(waiting).await.unwrap().status.as_str(),
        "PENDING"
    );
    submitting.set_paused("default", false).await.unwrap();
    until_success(waiting).await;
    working.stop().await;
    submitting_process.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_in_one_process_stops_the_task_running_in_another() {
    use spool::model::SubmitRequest;
    use spool::testing::engine::Engine;
    use spool::testing::queue::WorkerConfig;
    use spool::testing::tasks::{KindSettings, Registry};

    let Some(schema) = postgres_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = || Registry::builtin(&KindSettings::in_dir(dir.path()));
    let options = StoreOptions::default();
    let open = || Store::open(&schema.url, &options);
    let working = Engine::builder(open().await.unwrap(), registry())
        .pool(WorkerConfig::new("default", 1))
        .start();
    let other_process = Engine::builder(open().await.unwrap(), registry()).start();
    let other = other_process.queue.clone();
    // Twenty steps of three seconds: a minute, unless the cancel stops it.
    let request = SubmitRequest {
        task_type: "data_processing".into(),
        parameters: json!({"rows": 100, "pace_ms": 3000}),
        ..SubmitRequest::default()
    };
    let id = other.submit(request).await.unwrap().id;
    let deadline = Instant::now() + Duration::from_secs(50);
    while other.get(id).await.unwrap().status.as_str() != "RUNNING" {
        assert!(Instant::now() < deadline, "the task never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    other
        .cancel(id, &spool::testing::queue::Actor::local())
        .await
        .unwrap();
    loop {
        let task = other.get(id).await.unwrap();
        match task.status.as_str() {
            "CANCELLED" => break,
            "RUNNING" => assert!(Instant::now() < deadline, "the cancel never arrived"),
            status => panic!("the cancelled task ended {status}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    working.stop().await;
    other_process.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescues_racing_from_three_processes_rescue_each_task_once() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let stores = stores_on(&schema, 3).await;
    let tasks: Vec<_> = (0..300).map(|i| crate::store::task(0, i)).collect();
    stores[0].insert_all(tasks).await.unwrap();
    // A worker that died holding 300 tasks under a lease that ended at 2,000.
    let claimed = stores[0]
        .claim("default", 300, "dead", 1_000, 2_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 300);
    let mut rescuers = tokio::task::JoinSet::new();
    for store in stores.clone() {
        rescuers.spawn(async move { store.rescue_expired(5_000).await.unwrap() });
    }
    let mut retried = 0;
    while let Some(rescued) = rescuers.join_next().await {
        let rescued = rescued.unwrap();
        assert_eq!((rescued.failed, rescued.cancelled), (0, 0));
        retried += rescued.retried;
    }
    assert_eq!(retried, 300, "each task rescued by exactly one process");
    for task in &claimed {
        let attempts = stores[1].attempts(task.id).await.unwrap();
        let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome.clone()).collect();
        assert_eq!(outcomes, vec![Some("LOST".to_string())], "task {}", task.id);
    }
    let counts = stores[2].counts().await.unwrap();
    let pending: i64 = counts
        .iter()
        .filter(|row| row.status == "PENDING")
        .map(|row| row.n)
        .sum();
    let running: i64 = counts
        .iter()
        .filter(|row| row.status == "RUNNING")
        .map(|row| row.n)
        .sum();
    assert_eq!((pending, running), (300, 0), "the counters stayed exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prunes_racing_from_three_processes_delete_each_task_once_and_zero_the_counters() {
    use spool::testing::store::{NewTask, Outcome};
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let stores = stores_on(&schema, 3).await;
    // Finished tasks of three kinds, each SUCCESS or FAILED: six counter rows, which
    // the racing deletes decrement in whatever order they meet them.
    const TASKS: usize = 2_400;
    let kinds = ["noop", "data_processing", "email_simulation"];
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| NewTask {
            task_type: kinds[i % 3].to_string(),
            ..crate::store::task(0, i as i64)
        })
        .collect();
    stores[0].insert_all(tasks).await.unwrap();
    let claimed = stores[0]
        .claim("default", TASKS as u64, "w", 10_000, 20_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), TASKS);
    let mut finishing = tokio::task::JoinSet::new();
    for (i, task) in claimed.into_iter().enumerate() {
        // Every store finishes tasks of every kind, so their commits meet on the counters.
        let store = stores[(i / 3) % 3].clone();
        finishing.spawn(async move {
            let outcome = if i % 2 == 0 {
                Outcome::Succeeded(json!({"ok": true}))
            } else {
                Outcome::Failed {
                    error: "no".into(),
                    retry_at: None,
                }
            };
            assert!(store.finish(task.id, 1, 11_000, outcome).await.unwrap());
        });
    }
    while let Some(finished) = finishing.join_next().await {
        finished.unwrap();
    }

    let mut pruners = tokio::task::JoinSet::new();
    for store in stores.clone() {
        pruners.spawn(async move { store.prune(50_000).await.unwrap() });
    }
    let mut deleted = 0;
    while let Some(pruned) = pruners.join_next().await {
        deleted += pruned.unwrap();
    }
    assert_eq!(
        deleted, TASKS as u64,
        "each task deleted by exactly one process"
    );
    let db = Database::connect(&schema.url).await.unwrap();
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(
        query_i64(&db, "SELECT COUNT(*) FROM task_attempts").await,
        0
    );
    let counted: Vec<_> = stores[1]
        .counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.n != 0)
        .collect();
    assert!(counted.is_empty(), "the counters stayed exact: {counted:?}");
}
