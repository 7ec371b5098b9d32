//! The REST API over real HTTP: the seed's submit / list / detail round trip, and the
//! errors bad input gets (with nothing stored).

use crate::support::TestServer;
use serde_json::{json, Value};

#[tokio::test]
async fn a_submitted_task_runs_to_success_with_progress_100_and_real_statistics() {
    let server = TestServer::start().await;
    let response = server
        .submit(json!({"task_type": "data_processing", "parameters": {"rows": 250, "pace_ms": 0}}))
        .await;
    assert_eq!(response.status(), 200);
    let submitted: Value = response.json().await.unwrap();
    assert_eq!(submitted["task_type"], "data_processing");
    assert!(
        matches!(submitted["status"].as_str(), Some("PENDING")),
        "{submitted}"
    );
    assert_eq!(submitted["parameters"], json!({"rows": 250, "pace_ms": 0}));

    let id = submitted["id"].as_str().unwrap().to_string();
    let done = server.wait_final(&id).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["attempt"], 1);
    assert!(
        done["started_at"].is_string() && done["completed_at"].is_string(),
        "{done}"
    );
    let columns = &done["result_data"]["columns"];
    for column in ["temperature", "humidity", "pressure"] {
        assert_eq!(columns[column]["count"], 250, "{done}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_list_is_newest_first_and_filters_by_status_and_type() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let task: Value = server
            .submit(json!({"task_type": "noop", "parameters": {}}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(task["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        server.wait_final(id).await;
    }

    for path in ["/api/tasks/", "/api/tasks"] {
        let (status, list) = server.get_json(path).await;
        assert_eq!(status, 200);
        let listed: Vec<_> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
        assert_eq!(listed, newest_first, "{path}");
    }
    let (_, success) = server
        .get_json("/api/tasks/?status=SUCCESS&task_type=noop")
        .await;
    assert_eq!(success.as_array().unwrap().len(), 3);
    let (_, pending) = server.get_json("/api/tasks/?status=PENDING").await;
    assert_eq!(pending, json!([]));
    let (_, other_type) = server
        .get_json("/api/tasks/?task_type=data_processing")
        .await;
    assert_eq!(other_type, json!([]));
    let (_, limited) = server.get_json("/api/tasks/?limit=2").await;
    assert_eq!(limited.as_array().unwrap().len(), 2);
    server.stop().await;
}

/// Sends a request and checks the status, the error code and that nothing was stored.
async fn assert_refused(
    server: &TestServer,
    request: reqwest::RequestBuilder,
    status: u16,
    code: &str,
) -> Value {
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let (_, list) = server.get_json("/api/tasks/").await;
    assert_eq!(list, json!([]), "a refused request stored something");
    body
}

#[tokio::test]
async fn bad_submissions_are_refused_with_clear_errors_and_store_nothing() {
    let server = TestServer::start().await;
    let submit = || server.client.post(server.url("/api/tasks/submit"));

    let body = assert_refused(
        &server,
        submit().json(&json!({"task_type": "mine_bitcoin"})),
        422,
        "validation",
    )
    .await;
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("data_processing") && message.contains("noop"),
        "{body}"
    );

    let body = assert_refused(
        &server,
        submit().json(
            &json!({"task_type": "data_processing", "parameters": {"rows": 0, "colour": "red"}}),
        ),
        422,
        "validation",
    )
    .await;
    let fields: Vec<_> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert_eq!(
        fields,
        vec![json!("parameters.colour"), json!("parameters.rows")]
    );

    assert_refused(
        &server,
        submit()
            .header("content-type", "application/json")
            .body("{\"task_type\": "),
        400,
        "bad_request",
    )
    .await;
    assert_refused(
        &server,
        submit().body("task_type=noop"),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_refused(
        &server,
        submit().json(&json!({"parameters": {}})),
        422,
        "validation",
    )
    .await;
    let body = assert_refused(
        &server,
        submit().json(&json!({"task_type": "noop", "prioriy": 2})),
        422,
        "validation",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prioriy"),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_lookups_get_400_or_404_as_json() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json("/api/tasks/not-a-uuid").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, body) = server
        .get_json(&format!("/api/tasks/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = server.get_json("/api/tasks/?status=DONE").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PENDING"),
        "{body}"
    );
    for limit in ["0", "1001", "ten"] {
        let (status, _) = server.get_json(&format!("/api/tasks/?limit={limit}")).await;
        assert_eq!(status, 400, "limit={limit}");
    }
    let (status, body) = server.get_json("/api/nothing/here").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    server.stop().await;
}
