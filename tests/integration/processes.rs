//! The processes table as an operator sees it: each server registers itself with its
//! host, pid, version and queues, shows the tasks it runs and the attempts that name it,
//! and is marked stopped once drained; a silent process shows lost, long-gone ones are
//! forgotten, and a queue's total concurrency sums the live processes working it.

use crate::databases::each_store;
use crate::support::TestServer;
use serde_json::{json, Value};
use spool::model::ProcessState;
use spool::testing::queue::Queue;
use spool::testing::store::{ProcessRow, Synchronous};
use spool::testing::tasks::{KindSettings, Registry};
use std::time::{Duration, Instant};

/// The processes listed once `n` are live (a process registers just after it starts).
async fn processes(server: &TestServer, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, list) = server.get_json("/api/processes").await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().unwrap().clone();
        if list.iter().filter(|p| p["state"] == "live").count() == n {
            return list;
        }
        assert!(Instant::now() < deadline, "{list:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_running(server: &TestServer, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
        if task["status"] == "RUNNING" {
            return;
        }
        assert!(Instant::now() < deadline, "never started: {task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_server_registers_shows_its_running_tasks_and_is_marked_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let on_file = |url: String| {
        move |config: &mut spool::testing::config::ServeConfig| {
            config.engine.database_url = url;
        }
    };
    let first = TestServer::start_with(on_file(url.clone())).await;
    let listed = processes(&first, 1).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let me = &listed[0];
    assert_eq!(
        (&me["role"], &me["state"], &me["pid"], &me["version"]),
        (
            &json!("serve"),
            &json!("live"),
            &json!(std::process::id()),
            &json!(env!("CARGO_PKG_VERSION"))
        ),
        "{me}"
    );
    assert!(!me["host"].as_str().unwrap().is_empty(), "{me}");
    let default = me["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "default")
        .cloned()
        .expect("the default queue is worked");
    let process_id = me["id"].as_str().unwrap().to_string();

    let body =
        json!({"task_type": "data_processing", "parameters": {"rows": 100, "pace_ms": 10_000}});
    let task = first.submit_id(body).await;
    wait_running(&first, &task).await;
    let listed = processes(&first, 1).await;
    assert_eq!(listed[0]["running"], 1, "{listed:?}");
    let (_, queues) = first.get_json("/api/queues").await;
    let queue = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "default")
        .cloned()
        .unwrap();
    assert_eq!(
        queue["total_concurrency"], default["concurrency"],
        "{queue}"
    );
    let (_, detail) = first.get_json(&format!("/api/tasks/{task}")).await;
    assert_eq!(
        detail["attempts"][0]["worker_id"],
        format!("{process_id}/default"),
        "the attempt names its process: {detail}"
    );
    assert_eq!(
        first.delete(&format!("/api/tasks/{task}")).await.status(),
        200
    );
    first.stop().await;

    let second = TestServer::start_with(on_file(url)).await;
    let listed = processes(&second, 1).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let gone = listed
        .iter()
        .find(|p| p["id"] == process_id.as_str())
        .unwrap();
    assert_eq!(gone["state"], "stopped", "{gone}");
    assert!(gone["stopped_at"].is_string(), "{gone}");
    assert_eq!(gone["running"], 0);
    let live: Vec<&Value> = listed.iter().filter(|p| p["state"] == "live").collect();
    assert_eq!(live.len(), 1, "{listed:?}");
    assert_ne!(live[0]["id"], process_id.as_str());
    second.stop().await;
}

fn row(id: &str, heartbeat_at: i64, queues: Value) -> ProcessRow {
    ProcessRow {
        id: id.into(),
        role: "worker".into(),
        host: "elsewhere".into(),
        pid: 7,
        version: "0.0.0".into(),
        started_at: heartbeat_at - 1_000_000,
        heartbeat_at,
        stopped_at: None,
        queues: queues.to_string(),
    }
}

#[tokio::test]
async fn silent_processes_show_lost_long_gone_ones_are_forgotten_and_live_ones_add_up() {
    each_store(Synchronous::Normal, |store| async move {
        let queue = Queue::new(
            store.clone(),
            Registry::builtin(&KindSettings::in_dir("unused")),
        )
        .with_worked_queues([("default".to_string(), 2)]);
        let now = chrono::Utc::now().timestamp_micros();
        let second = 1_000_000;
        let day = 24 * 3600 * second;
        let workers =
            json!([{"name": "default", "concurrency": 3}, {"name": "mail", "concurrency": 4}]);
        store
            .save_process(row("old", now - 2 * day, json!([])), 0)
            .await
            .unwrap();
        store
            .save_process(row("live", now, workers.clone()), 0)
            .await
            .unwrap();
        store
            .save_process(row("silent", now - 60 * second, workers), 0)
            .await
            .unwrap();
        let listed = queue.processes().await.unwrap();
        let state = |id: &str| listed.iter().find(|p| p.id == id).map(|p| p.state);
        assert_eq!(state("live"), Some(ProcessState::Live));
        assert_eq!(state("silent"), Some(ProcessState::Lost));
        assert_eq!(state("old"), None, "gone over a day: not listed");

        // Only the live process counts; this queue's own pool is not registered here.
        let views = queue.queue_views().await.unwrap();
        let total = |name: &str| {
            views
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.total_concurrency)
        };
        assert_eq!((total("default"), total("mail")), (Some(3), Some(4)));

        // A heartbeat forgets what was gone before its cutoff, and revives a stopped row.
        store.stop_process("live", now).await.unwrap();
        assert_eq!(
            queue
                .processes()
                .await
                .unwrap()
                .iter()
                .find(|p| p.id == "live")
                .map(|p| p.state),
            Some(ProcessState::Stopped)
        );
        store
            .save_process(row("live", now + second, json!([])), now - day)
            .await
            .unwrap();
        let listed = queue.processes().await.unwrap();
        assert!(listed.iter().all(|p| p.id != "old"));
        let live = listed.iter().find(|p| p.id == "live").unwrap();
        assert_eq!((live.state, live.stopped_at), (ProcessState::Live, None));
        assert!(live.queues.is_empty(), "the queues are rewritten");
    })
    .await;
}
