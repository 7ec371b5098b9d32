//! Task logs: lines a handler or an external worker writes are stored fenced on the
//! running attempt, numbered, bounded per task (the oldest dropped, the gap showing in
//! the numbers), served a page at a time over REST and on the task's event stream, and
//! deleted with their task.

use crate::databases::{each_database, query_i64};
use crate::external_workers::with_kinds;
use crate::store::task;
use crate::support::TestServer;
use serde_json::{json, Value};
use spool::model::{LogLevel, NewLogLine, TaskView, LOG_MESSAGE_MAX};
use spool::testing::queue::{Actor, WorkerConfig};
use spool::testing::store::{Outcome, Store, StoreOptions, Synchronous};
use spool::testing::tasks::{Registry, TaskContext, TaskError, TaskKind};
use std::time::{Duration, Instant};

const NOW: i64 = 1_000_000_000;

fn lines(messages: &[&str]) -> Vec<NewLogLine> {
    messages
        .iter()
        .map(|message| NewLogLine {
            level: LogLevel::Info,
            message: message.to_string(),
            at: None,
        })
        .collect()
}

fn numbers(page: &spool::model::LogPage) -> Vec<i64> {
    page.lines.iter().map(|line| line.seq).collect()
}

#[tokio::test]
async fn the_store_numbers_bounds_fences_and_prunes_lines() {
    each_database(|url| async move {
        let options = StoreOptions {
            log_lines_per_task: 5,
            ..StoreOptions::default()
        };
        let store = Store::open(&url, &options).await.unwrap();
        let id = store.insert(task(0, NOW)).await.unwrap().id;
        // Not running yet: nothing to append to.
        assert!(!store
            .append_log(id, 1, 0, lines(&["early"]), NOW)
            .await
            .unwrap());
        assert_eq!(
            store
                .claim("default", 1, "w", NOW, NOW + 10)
                .await
                .unwrap()
                .len(),
            1
        );

        assert!(store
            .append_log(id, 1, 0, lines(&["a", "b", "c"]), NOW)
            .await
            .unwrap());
        // Two lines lost before these four: they take numbers 4 and 5.
        assert!(store
            .append_log(id, 1, 2, lines(&["d", "e", "f", "g"]), NOW + 1)
            .await
            .unwrap());
        let page = store.log_page(id, 0, 100).await.unwrap().unwrap();
        assert_eq!(page.total, 9);
        // The newest five numbers are kept: 5 was never stored, so 6 to 9 are.
        assert_eq!(numbers(&page), [6, 7, 8, 9]);
        assert_eq!(page.lines[0].message, "d");
        assert_eq!(page.lines[0].at.timestamp_micros(), NOW + 1);
        assert_eq!((page.next_after, page.more), (9, false));

        let first = store.log_page(id, 0, 3).await.unwrap().unwrap();
        assert_eq!(
            (numbers(&first), first.next_after, first.more),
            (vec![6, 7, 8], 8, true)
        );
        let rest = store.log_page(id, 8, 3).await.unwrap().unwrap();
        assert_eq!((numbers(&rest), rest.more), (vec![9], false));
        let none = store.log_page(id, 9, 3).await.unwrap().unwrap();
        assert_eq!(
            (numbers(&none), none.next_after, none.total),
            (vec![], 9, 9)
        );

        // Another attempt's lines, and lines after the end, change nothing.
        assert!(!store
            .append_log(id, 2, 0, lines(&["stale"]), NOW)
            .await
            .unwrap());
        assert!(store
            .finish(id, 1, NOW + 2, Outcome::Succeeded(json!(null)))
            .await
            .unwrap());
        assert!(!store
            .append_log(id, 1, 0, lines(&["late"]), NOW)
            .await
            .unwrap());
        assert_eq!(store.get(id).await.unwrap().unwrap().log_lines, 9);
        assert!(store
            .log_page(uuid::Uuid::new_v4(), 0, 10)
            .await
            .unwrap()
            .is_none());

        // Pruning the task takes its lines.
        assert_eq!(store.prune(NOW + 3).await.unwrap(), 1);
        assert!(store.log_page(id, 0, 10).await.unwrap().is_none());
        let db = sea_orm::Database::connect(&url).await.unwrap();
        assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM task_logs").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_store_keeping_no_lines_still_counts_them() {
    each_database(|url| async move {
        let options = StoreOptions {
            log_lines_per_task: 0,
            ..StoreOptions::default()
        };
        let store = Store::open(&url, &options).await.unwrap();
        let id = store.insert(task(0, NOW)).await.unwrap().id;
        store.claim("default", 1, "w", NOW, NOW + 10).await.unwrap();
        assert!(store
            .append_log(id, 1, 0, lines(&["a", "b"]), NOW)
            .await
            .unwrap());
        let page = store.log_page(id, 0, 10).await.unwrap().unwrap();
        assert_eq!((page.total, page.lines.len()), (2, 0));
    })
    .await;
}

/// Logs a line, then as many more as `burst` says at once, then waits to be cancelled.
struct Chatty;

#[derive(serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
struct ChattyParams {
    burst: usize,
}

impl TaskKind for Chatty {
    const NAME: &'static str = "chatty";
    const DESCRIPTION: &'static str = "logs, then waits";
    type Params = ChattyParams;
    type Output = Value;

    async fn run(&self, ctx: TaskContext, params: ChattyParams) -> Result<Value, TaskError> {
        ctx.warn("started");
        for n in 1..=params.burst {
            ctx.info(format_args!("line {n}"));
        }
        if params.burst == 0 {
            ctx.pace(Duration::from_secs(3600)).await?;
        }
        Ok(Value::Null)
    }
}

async fn wait_for(
    queue: &spool::testing::queue::Queue,
    id: uuid::Uuid,
    done: impl Fn(&TaskView) -> bool,
) -> TaskView {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = queue.get(id).await.unwrap();
        if done(&task) {
            return task;
        }
        assert!(Instant::now() < deadline, "condition never held: {task:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_handlers_lines_are_stored_while_it_runs_and_a_flood_keeps_the_newest() {
    // The store would keep more than the handler's buffer: what is dropped, the buffer drops.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let options = StoreOptions {
        synchronous: Synchronous::Normal,
        log_lines_per_task: 5000,
    };
    let store = Store::open(&url, &options).await.unwrap();
    let mut pool = WorkerConfig::new("default", 2);
    pool.poll_interval = Duration::from_millis(50);
    let engine = spool::testing::engine::Engine::builder(store, Registry::default().with(Chatty))
        .pool(pool)
        .start();
    let queue = engine.queue.clone();
    let submit = |burst: usize| {
        let request =
            serde_json::from_value(json!({"task_type": "chatty", "parameters": {"burst": burst}}))
                .unwrap();
        let queue = queue.clone();
        async move { queue.submit(request).await.unwrap().id }
    };

    // While it runs, its line is there to follow.
    let waiting = submit(0).await;
    let running = wait_for(&queue, waiting, |task| task.log_lines == 1).await;
    assert_eq!(running.status.as_str(), "RUNNING");
    let page = queue.task_log(waiting, 0, 10).await.unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(
        (
            page.lines[0].level,
            page.lines[0].message.as_str(),
            page.lines[0].attempt
        ),
        (LogLevel::Warn, "started", 1)
    );
    queue.cancel(waiting, &Actor::local()).await.unwrap();

    // 1,501 lines at once: the newest 1,000 wait to be stored, numbered as written.
    let flood = submit(1500).await;
    let done = wait_for(&queue, flood, |task| task.status.is_final()).await;
    assert_eq!((done.status.as_str(), done.log_lines), ("SUCCESS", 1501));
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = queue.task_log(flood, after, 1000).await.unwrap();
        seen.extend(
            page.lines
                .iter()
                .map(|line| (line.seq, line.message.clone())),
        );
        after = page.next_after;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen[0], (502, "line 501".to_string()));
    assert_eq!(seen[999], (1501, "line 1500".to_string()));
    engine.stop().await;
}

#[tokio::test]
async fn an_external_worker_appends_lines_fenced_on_its_attempt() {
    let server = TestServer::start_with(|config| {
        with_kinds(config);
        config.engine.log_lines_per_task = 3;
    })
    .await;
    let response = server
        .submit(json!({"task_type": "resize", "parameters": {}}))
        .await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let logs = format!("/api/workers/tasks/{id}/logs");
    // Before the claim the task is not running: refused.
    let (status, _) = server
        .post_json(&logs, &json!({"attempt": 1, "lines": [{"message": "x"}]}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = server
        .post_json(
            "/api/workers/claim",
            &json!({"worker": "w", "queues": ["resize"]}),
        )
        .await;
    assert_eq!(status, 200);

    let body = json!({"attempt": 1, "lines": [
        {"message": "one"},
        {"level": "error", "message": "two", "at": "2026-01-02T03:04:05Z"},
        {"level": "debug", "message": "é".repeat(LOG_MESSAGE_MAX)},
        {"message": "four"}
    ]});
    let (status, answer) = server.post_json(&logs, &body).await;
    assert_eq!(status, 204, "{answer}");
    let (status, page) = server.get_json(&format!("/api/tasks/{id}/logs")).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 4);
    let kept: Vec<i64> = page["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(kept, [2, 3, 4], "the newest three are kept: {page}");
    assert_eq!(page["lines"][0]["level"], "error");
    assert_eq!(page["lines"][0]["at"], "2026-01-02T03:04:05Z");
    let cut = page["lines"][1]["message"].as_str().unwrap();
    assert!(
        cut.len() <= LOG_MESSAGE_MAX && cut.ends_with('…'),
        "{}",
        cut.len()
    );
    let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
    assert_eq!(task["log_lines"], 4);

    let (_, paged) = server
        .get_json(&format!("/api/tasks/{id}/logs?after=2&limit=1"))
        .await;
    assert_eq!(
        (
            &paged["lines"][0]["seq"],
            &paged["more"],
            &paged["next_after"]
        ),
        (&json!(3), &json!(true), &json!(3))
    );

    // Refusals, each changing nothing.
    let too_many: Vec<Value> = (0..1001)
        .map(|n| json!({"message": n.to_string()}))
        .collect();
    for (body, expected) in [
        (json!({"attempt": 2, "lines": [{"message": "stale"}]}), 409),
        (json!({"attempt": 1, "lines": []}), 422),
        (json!({"attempt": 1, "lines": too_many}), 422),
        (
            json!({"attempt": 1, "lines": [{"level": "loud", "message": "x"}]}),
            422,
        ),
        (
            json!({"attempt": 1, "lines": [{"message": "x", "colour": "red"}]}),
            422,
        ),
        (json!({"lines": [{"message": "x"}]}), 422),
    ] {
        let (status, answer) = server.post_json(&logs, &body).await;
        assert_eq!(status, expected, "{body} → {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    let missing = uuid::Uuid::new_v4();
    let (status, _) = server
        .post_json(
            &format!("/api/workers/tasks/{missing}/logs"),
            &json!({"attempt": 1, "lines": [{"message": "x"}]}),
        )
        .await;
    assert_eq!(status, 404);
    for (query, expected) in [
        (format!("/api/tasks/{missing}/logs"), 404),
        (format!("/api/tasks/{id}/logs?after=-1"), 400),
        (format!("/api/tasks/{id}/logs?after=x"), 400),
        (format!("/api/tasks/{id}/logs?limit=0"), 400),
        (format!("/api/tasks/{id}/logs?limit=1001"), 400),
        ("/api/tasks/not-a-uuid/logs".to_string(), 400),
    ] {
        let (status, _) = server.get_json(&query).await;
        assert_eq!(status, expected, "{query}");
    }
    let (_, task) = server.get_json(&format!("/api/tasks/{id}")).await;
    assert_eq!(task["log_lines"], 4, "refused lines are not counted");

    // Finished: no more lines.
    let (status, _) = server
        .post_json(
            &format!("/api/workers/tasks/{id}/complete"),
            &json!({"attempt": 1, "result": {}}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .post_json(
            &logs,
            &json!({"attempt": 1, "lines": [{"message": "late"}]}),
        )
        .await;
    assert_eq!(status, 409);
    server.stop().await;
}
