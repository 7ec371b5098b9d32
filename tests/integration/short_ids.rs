//! Short ids: a task is looked up by the last 4 or more hex digits of its id, through
//! REST, the list's search and every CLI command that takes an id; digits that fit more
//! than one task are refused with the matches listed.

use crate::cli::{spool, stderr, stdout};
use crate::support::TestServer;
use serde_json::{json, Value};
use spool::testing::store::{NewTask, Store, StoreOptions};
use uuid::Uuid;

const ENDS_ABCD: &str = "0193a000-0000-7000-8000-00000000abcd";
const ENDS_1FABCD: &str = "0193a000-0000-7000-8000-0000001fabcd";
const ENDS_777777: &str = "0193a000-0000-7000-8000-000000777777";

/// A server on a database already holding three delayed tasks with chosen ids.
async fn server_with_chosen_ids(dir: &tempfile::TempDir) -> TestServer {
    let url = format!("sqlite://{}", dir.path().join("ids.db").display());
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    let now = chrono::Utc::now().timestamp_micros();
    for id in [ENDS_ABCD, ENDS_1FABCD, ENDS_777777] {
        let task = NewTask {
            id: Uuid::parse_str(id).unwrap(),
            task_type: "noop".into(),
            queue: "held".into(),
            priority: 0,
            max_attempts: 3,
            parameters: json!({}),
            created_at: now,
            run_at: now + 600_000_000,
            timeout_ms: None,
            idempotency_key: None,
            unique: None,
        };
        store.insert(task).await.unwrap();
    }
    drop(store);
    TestServer::start_with(move |config| config.engine.database_url = url).await
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_id_finds_its_task_and_an_ambiguous_one_lists_the_matches() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_chosen_ids(&dir).await;
    for (digits, expected) in [
        ("777777", vec![ENDS_777777]),
        ("1FABCD", vec![ENDS_1FABCD]),
        ("abcd", vec![ENDS_ABCD, ENDS_1FABCD]),
        ("0000-00777777", vec![ENDS_777777]),
        ("eeee", vec![]),
    ] {
        let (status, found) = server
            .get_json(&format!("/api/tasks/lookup/{digits}"))
            .await;
        assert_eq!(status, 200, "{digits}: {found}");
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(ids(&found), expected, "{digits}");
    }
    for bad in ["abc", "zzzz", &"a".repeat(33)] {
        let (status, _) = server.get_json(&format!("/api/tasks/lookup/{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    // The list's search takes a short id too.
    let (_, listed) = server.get_json("/api/tasks/?q=00777777").await;
    assert_eq!(ids(&listed), [ENDS_777777]);

    let output = spool(&server, &["get", "777777", "--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let task: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(task["id"], ENDS_777777);

    let output = spool(&server, &["cancel", "abcd"]).await;
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("ambiguous") && said.contains(ENDS_ABCD) && said.contains(ENDS_1FABCD),
        "{said}"
    );
    let (_, task) = server.get_json(&format!("/api/tasks/{ENDS_ABCD}")).await;
    assert_eq!(task["status"], "SCHEDULED", "nothing was done");

    let output = spool(&server, &["cancel", "1fabcd"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, task) = server.get_json(&format!("/api/tasks/{ENDS_1FABCD}")).await;
    assert_eq!(task["status"], "CANCELLED");

    for (args, says) in [
        (["get", "eeee"], "no task id ends with eeee"),
        (["get", "xyz"], "is not a task id"),
    ] {
        let output = spool(&server, &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
    }
    server.stop().await;
}
