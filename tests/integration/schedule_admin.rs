//! Schedules managed at run time over REST: made, shown, replaced, paused, resumed, run
//! by hand and deleted; refused field by field; and the `--schedules` file's own
//! schedules, which the API may pause and run but not change or delete.

use crate::support::TestServer;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) async fn put(server: &TestServer, name: &str, body: &Value) -> (u16, Value) {
    let response = server
        .client
        .put(server.url(&format!("/api/schedules/{name}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until schedule `name` shows at least `count` runs and returns them, newest
/// first (the deadline only guards against a hang).
pub(crate) async fn wait_for_runs(server: &TestServer, name: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, shown) = server.get_json(&format!("/api/schedules/{name}")).await;
        let runs = shown["last_runs"].as_array().cloned().unwrap_or_default();
        if runs.len() >= count {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never fired {count} slots"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The fields of a 422's details.
fn fields(answer: &Value) -> Vec<String> {
    answer["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details in {answer}"))
        .iter()
        .map(|detail| detail["field"].as_str().unwrap_or("").to_string())
        .collect()
}

/// How many tasks of `kind` exist.
async fn tasks_of(server: &TestServer, kind: &str) -> usize {
    let (_, tasks) = server
        .get_json(&format!("/api/tasks/?task_type={kind}&limit=1000"))
        .await;
    tasks.as_array().map_or(0, Vec::len)
}

/// Waits until `kind` has at least `count` tasks (the deadline only guards a hang).
async fn wait_for_tasks(server: &TestServer, kind: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while tasks_of(server, kind).await < count {
        assert!(
            Instant::now() < deadline,
            "{kind} never reached {count} tasks"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_schedule_is_made_shown_replaced_and_deleted() {
    let server = TestServer::start().await;
    let nightly = json!({
        "cron": "0 2 * * *", "timezone": "Europe/Paris", "catch_up": "once",
        "task": {"task_type": "noop", "queue": "reports"}
    });
    let (status, made) = put(&server, "nightly", &nightly).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["definition"]["name"], "nightly");
    assert_eq!(made["source"], "api");
    assert_eq!(made["definition"]["enabled"], true);
    let description = made["description"].as_str().unwrap();
    assert!(description.contains("Europe/Paris"), "{description}");
    let next = made["next"].as_array().unwrap();
    assert_eq!(next.len(), 5);
    for time in next {
        // 02:00 in Paris is 01:00 UTC in December.
        assert!(time.as_str().unwrap().ends_with("T01:00:00Z"), "{time}");
    }

    let (status, list) = server.get_json("/api/schedules").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["definition"]["task"]["queue"], "reports");

    // The same name again replaces it; the body may name it, if it names it alike.
    let hourly = json!({"name": "nightly", "cron": "0 * * * *", "task": {"task_type": "noop"}});
    let (status, replaced) = put(&server, "nightly", &hourly).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["definition"]["cron"], "0 * * * *");
    assert!(replaced["definition"]["timezone"].is_null());
    assert!(replaced["changed_at"].as_str() >= made["changed_at"].as_str());
    let (_, shown) = server.get_json("/api/schedules/nightly").await;
    assert_eq!(shown["definition"]["cron"], "0 * * * *");

    assert_eq!(server.delete("/api/schedules/nightly").await.status(), 204);
    let (status, gone) = server.get_json("/api/schedules/nightly").await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(server.delete("/api/schedules/nightly").await.status(), 404);
    let (_, list) = server.get_json("/api/schedules").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_schedule_that_cannot_be_is_refused_field_by_field_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"cron": "61 * * * *", "task": {"task_type": "noop"}}),
            "timing",
        ),
        (
            json!({"every_secs": 5, "timezone": "Mars/Olympus", "task": {"task_type": "noop"}}),
            "timing",
        ),
        (
            json!({"every_secs": 5, "task": {"task_type": "nope"}}),
            "task.task_type",
        ),
        (
            json!({"every_secs": 5, "task": {"task_type": "noop", "priority": 12}}),
            "task.priority",
        ),
        (
            json!({"every_secs": 5, "catch_up_max": 0, "task": {"task_type": "noop"}}),
            "timing",
        ),
        (
            json!({"every_secs": 5, "task": {"task_type": "noop", "delay_ms": 10}}),
            "timing",
        ),
        (
            json!({"name": "other", "every_secs": 5, "task": {"task_type": "noop"}}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = put(&server, "bad", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            fields(&answer).contains(&field.to_string()),
            "{body}: {answer}"
        );
    }
    let noop = json!({"name": "preview", "every_secs": 5, "task": {"task_type": "noop"}});
    let (status, answer) = put(&server, "preview", &noop).await;
    assert_eq!(status, 405, "the preview's path takes no PUT: {answer}");
    let (status, answer) = server
        .post_json("/api/save_schedule", &json!({"definition": noop}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("is taken by"), "{answer}");
    let (status, answer) = put(&server, "bad", &json!({"every_secs": 5, "colour": 1})).await;
    assert_eq!(status, 422, "unknown and missing fields: {answer}");
    let (status, _) = put(
        &server,
        "a%20b",
        &json!({"every_secs": 5, "task": {"task_type": "noop"}}),
    )
    .await;
    assert_eq!(status, 400, "a name with a space");
    let (status, _) = server.get_json("/api/schedules/a%20b").await;
    assert_eq!(status, 400);
    for path in [
        "/api/schedules/none/pause",
        "/api/schedules/none/resume",
        "/api/schedules/none/run",
    ] {
        let (status, answer) = server.post_answer(path).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
    let (_, list) = server.get_json("/api/schedules").await;
    assert_eq!(list, json!([]));
    assert_eq!(server.stored_tasks().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_schedule_fires_nothing_but_runs_by_hand() {
    let server = TestServer::start().await;
    let every_second = json!({"every_secs": 1, "catch_up": "each", "task": {"task_type": "noop"}});
    let (status, _) = put(&server, "tick", &every_second).await;
    assert_eq!(status, 201);
    wait_for_tasks(&server, "noop", 2).await;

    let (status, paused) = server.post_answer("/api/schedules/tick/pause").await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["definition"]["enabled"], false);
    assert_eq!(
        paused["next"],
        json!([]),
        "a paused schedule has no next run"
    );
    // A slot being fired as the pause lands may still finish; after that, nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = tasks_of(&server, "noop").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        tasks_of(&server, "noop").await,
        before,
        "paused, yet it fired"
    );

    let (status, task) = server.post_answer("/api/schedules/tick/run").await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["task_type"], "noop");
    let finished = server.wait_final(task["id"].as_str().unwrap()).await;
    assert_eq!(finished["status"], "SUCCESS");
    let (_, shown) = server.get_json("/api/schedules/tick").await;
    let latest = &shown["last_runs"][0];
    assert_eq!(latest["task_id"], task["id"]);
    assert_eq!(
        (latest["manual"].clone(), latest["status"].clone()),
        (json!(true), json!("SUCCESS"))
    );
    assert_eq!(shown["last_runs"][1]["manual"], false);
    assert_eq!(tasks_of(&server, "noop").await, before + 1);

    // Resumed, it fires its next slots, not those of the pause ("each" or not).
    let (status, resumed) = server.post_answer("/api/schedules/tick/resume").await;
    assert_eq!(status, 200);
    assert_eq!(resumed["next"].as_array().map(Vec::len), Some(5));
    wait_for_tasks(&server, "noop", before + 3).await;
    let fired_after = tasks_of(&server, "noop").await - before - 1;
    assert!(
        fired_after < 6,
        "the pause's slots were caught up: {fired_after}"
    );
}

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("schedules.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const FILE: &str = r#"
[[schedule]]
name = "from-file"
cron = "0 3 * * *"
task = { task_type = "noop" }
"#;

#[tokio::test]
async fn the_file_owns_its_schedules_and_a_pause_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), FILE);
    let database = format!("sqlite://{}", dir.path().join("spool.db").display());
    let start = |file: std::path::PathBuf| {
        let database = database.clone();
        let data = dir.path().join("data");
        TestServer::start_with(move |config| {
            config.engine.database_url = database;
            config.engine.data_dir = data;
            config.engine.schedules = Some(file);
        })
    };
    let server = start(file.clone()).await;
    let (_, shown) = server.get_json("/api/schedules/from-file").await;
    assert_eq!(shown["source"], "file");
    let body = json!({"every_secs": 5, "task": {"task_type": "noop"}});
    let (status, answer) = put(&server, "from-file", &body).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--schedules"));
    assert_eq!(
        server.delete("/api/schedules/from-file").await.status(),
        409
    );
    let (status, _) = server.post_answer("/api/schedules/from-file/pause").await;
    assert_eq!(status, 200);
    server.stop().await;

    // The same file again: the pause holds.
    let server = start(file.clone()).await;
    let (_, shown) = server.get_json("/api/schedules/from-file").await;
    assert_eq!(shown["definition"]["enabled"], false, "{shown}");
    assert_eq!(shown["definition"]["cron"], "0 3 * * *");
    server.stop().await;

    // A changed entry wins: its `enabled` (true by default) applies again.
    let file = write(dir.path(), &FILE.replace("0 3", "0 4"));
    let server = start(file.clone()).await;
    let (_, shown) = server.get_json("/api/schedules/from-file").await;
    assert_eq!(shown["definition"]["enabled"], true, "{shown}");
    assert_eq!(shown["definition"]["cron"], "0 4 * * *");
    server.stop().await;

    // Left out of the file, it is paused and becomes the API's, to delete.
    let file = write(dir.path(), "");
    let server = start(file).await;
    let (_, shown) = server.get_json("/api/schedules/from-file").await;
    assert_eq!(
        (
            shown["source"].clone(),
            shown["definition"]["enabled"].clone()
        ),
        (json!("api"), json!(false))
    );
    assert_eq!(
        server.delete("/api/schedules/from-file").await.status(),
        204
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_manages_schedules() {
    use crate::cli::{spool, stderr, stdout};
    let server = TestServer::start().await;
    let set = [
        "schedule",
        "set",
        "prices",
        "data_processing",
        "rows=7",
        "--cron",
        "*/15 * * * *",
        "--timezone",
        "Europe/Paris",
        "--catch-up",
        "once",
        "--paused",
    ];
    let output = spool(&server, &set).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("prices") && text.contains("paused"), "{text}");
    let (_, shown) = server.get_json("/api/schedules/prices").await;
    assert_eq!(
        shown["definition"]["task"]["parameters"],
        json!({"rows": 7})
    );
    assert_eq!(shown["definition"]["catch_up"], "once");

    let output = spool(&server, &["schedule", "resume", "prices"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = spool(&server, &["schedule", "list"]).await;
    let text = stdout(&output);
    assert!(text.contains("prices") && text.contains("next "), "{text}");

    let output = spool(&server, &["schedule", "run", "prices", "--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(task["parameters"]["rows"], 7);

    let output = spool(&server, &["schedule", "show", "prices"]).await;
    assert!(
        stdout(&output).contains("run by hand"),
        "{}",
        stdout(&output)
    );

    // Refusals are messages and exit 2.
    let bad = ["schedule", "set", "prices", "noop", "--cron", "61 * * * *"];
    let output = spool(&server, &bad).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("timing"), "{}", stderr(&output));
    let output = spool(&server, &["schedule", "delete", "prices"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = spool(&server, &["schedule", "show", "prices"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no schedule named"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_starts_each_slots_task_within_its_bound_after_the_slot() {
    let server = TestServer::start().await;
    let body = json!({"every_secs": 1, "catch_up": "each", "jitter_secs": 30, "task": {"task_type": "noop"}});
    let (status, _) = put(&server, "spread", &body).await;
    assert_eq!(status, 201);
    let runs = wait_for_runs(&server, "spread", 3).await;
    let time = |value: &Value| {
        value
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    for run in &runs {
        let (_, task) = server
            .get_json(&format!("/api/tasks/{}", run["task_id"].as_str().unwrap()))
            .await;
        let (slot, run_at) = (time(&run["slot"]), time(&task["run_at"]));
        assert!(run_at >= slot, "{run_at} is before its slot {slot}");
        assert!(
            run_at <= slot + chrono::Duration::seconds(30),
            "{run_at} is past its slot {slot} and the jitter"
        );
    }
    // A run by hand starts at once, jitter or not.
    let (status, task) = server.post_answer("/api/schedules/spread/run").await;
    assert_eq!(status, 200, "{task}");
    let (created, run_at) = (time(&task["created_at"]), time(&task["run_at"]));
    assert!(run_at - created < chrono::Duration::seconds(1), "{task}");
}

/// What an earlier version stored for the FILE schedule: its absent fields as nulls.
const STORED_BEFORE: &str = r#"{"name":"from-file","cron":"0 3 * * *","timezone":null,"every_secs":null,"catch_up":"skip","catch_up_max":10,"jitter_secs":0,"enabled":true,"task":{"task_type":"noop","parameters":null}}"#;

#[tokio::test]
async fn a_definition_stored_by_an_earlier_version_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), FILE);
    let database = format!("sqlite://{}", dir.path().join("spool.db").display());
    let store = spool::testing::store::Store::open(&database, &Default::default())
        .await
        .unwrap();
    let stored = vec![("from-file".to_string(), STORED_BEFORE.to_string(), true)];
    store.save_file_schedules(stored, 1_000).await.unwrap();
    drop(store);
    let data = dir.path().join("data");
    let server = TestServer::start_with(move |config| {
        config.engine.database_url = database;
        config.engine.data_dir = data;
        config.engine.schedules = Some(file);
    })
    .await;
    let (_, shown) = server.get_json("/api/schedules/from-file").await;
    assert_eq!(shown["changed_at"], "1970-01-01T00:00:00.001Z", "{shown}");
    server.stop().await;
}
