//! Event streams under load: a followed task is read only when it changes, once however
//! many streams follow it; streams bounded per client and in all (429 with `Retry-After`, while another
//! client still gets its streams), and a reconnect with `Last-Event-ID` that resumes
//! after the last log line received.

use crate::store::open_store;
use crate::support::TestServer;
use serde_json::{json, Value};
use spool::model::SubmitRequest;
use spool::testing::engine::Engine;
use spool::testing::queue::Actor;
use spool::testing::store::Synchronous;
use spool::testing::tasks::{KindSettings, Registry};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// Waits until `holds` does; the deadline only guards against a hang.
async fn until(what: &str, holds: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !holds() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn streams_read_nothing_while_their_tasks_wait_and_once_per_change_however_many() {
    let (store, _dir) = open_store(Synchronous::Normal).await;
    let registry = Registry::builtin(&KindSettings::in_dir("unused"));
    // No workers: the tasks stay PENDING, followed for as long as the test wants.
    let engine = Engine::builder(store, registry).start();
    let queue = engine.queue.clone();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let request: SubmitRequest = serde_json::from_value(json!({"task_type": "noop"})).unwrap();
        ids.push(queue.submit(request).await.unwrap().id);
    }
    let mut followers = Vec::new();
    for id in &ids {
        for _ in 0..200 {
            followers.push(queue.follow(*id).await.unwrap());
        }
    }
    assert_eq!(queue.followed().tasks(), 3);
    assert!(
        followers
            .iter()
            .all(|feed| feed.borrow().status.as_str() == "PENDING"),
        "every follower sees the task"
    );
    // Each task is read when first followed and once more when the hub takes it on
    // (it may have changed in between); the 199 other streams of each read nothing.
    until("the hub has read each task again", || {
        queue.followed().reads() == 6
    })
    .await;
    // Nothing changes, so nothing is read, however long the streams stay open.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(queue.followed().reads(), 6, "no reads on a timer");

    // One change: one read, and all 200 followers of the task see it.
    let cancelled = ids[0];
    queue.cancel(cancelled, &Actor::local()).await.unwrap();
    let mut theirs: Vec<_> = followers
        .iter_mut()
        .filter(|feed| feed.borrow().id == cancelled)
        .collect();
    for feed in &mut theirs {
        tokio::time::timeout(
            Duration::from_secs(60),
            feed.wait_for(|task| task.status.as_str() == "CANCELLED"),
        )
        .await
        .expect("the change reached every follower")
        .unwrap();
    }
    assert_eq!(queue.followed().reads(), 7);
    assert_eq!(
        queue.followed().tasks(),
        2,
        "a final task is followed no more"
    );

    drop(followers);
    until("the hub forgets tasks no one follows", || {
        queue.followed().tasks() == 0
    })
    .await;
    engine.stop().await;
}

#[tokio::test]
async fn streams_over_a_clients_share_get_429_while_another_client_gets_its_own() {
    let server = TestServer::start_with(|config| {
        config.limits.max_streams_per_client = 3;
    })
    .await;
    let slow =
        json!({"task_type": "data_processing", "parameters": {"rows": 100, "pace_ms": 2000}});
    let id = server.submit_id(slow).await;
    let path = format!("/api/tasks/{id}/events");
    let mut open = Vec::new();
    for _ in 0..3 {
        let response = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        open.push(response);
    }
    let refused = server.client.get(server.url(&path)).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");

    // Another address on the loopback network is another client.
    let other = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let theirs = other.get(server.url(&path)).send().await.unwrap();
    assert_eq!(theirs.status(), 200);
    let (status, _) = server.get_json("/api/stats").await;
    assert_eq!(
        status, 200,
        "the flooding client is still answered elsewhere"
    );

    // Streams end with their task, and give their places back.
    let cancelled = server.delete(&format!("/api/tasks/{id}")).await;
    assert_eq!(cancelled.status(), 200);
    for response in open {
        let body = response.text().await.unwrap();
        assert!(body.contains("CANCELLED"), "{body}");
    }
    let again = server.client.get(server.url(&path)).send().await.unwrap();
    assert_eq!(again.status(), 200);
    drop(theirs);
    server.stop().await;
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_resumes_after_the_last_line_received() {
    let server = TestServer::start().await;
    let task = json!({"task_type": "data_processing", "parameters": {"rows": 10}});
    let id = server.submit_id(task).await;
    server.wait_final(&id).await;
    let path = format!("/api/tasks/{id}/events");
    let (status, whole) = server.get_text(&path, &[]).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = whole
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .collect();
    assert_eq!(ids, ["1", "2", "2"], "two lines, then the task: {whole}");

    let (status, resumed) = server.get_text(&path, &[("Last-Event-ID", "1")]).await;
    assert_eq!(status, 200);
    let events: Vec<&str> = resumed
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        events,
        ["log", "task"],
        "only the second line, then the task: {resumed}"
    );
    assert!(resumed.contains("\"seq\":2"), "{resumed}");

    let (bad, _) = server
        .get_text(&path, &[("Last-Event-ID", "yesterday")])
        .await;
    assert_eq!(bad, 400);
    server.stop().await;
}
