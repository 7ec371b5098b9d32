//! The OpenAPI document covers the API: every documented operation is served (none falls
//! through to the catch-all 404 or a 405), and the seed's endpoints are all documented.

use crate::support::TestServer;
use serde_json::Value;

#[tokio::test]
async fn every_documented_operation_is_served_and_the_seed_endpoints_are_documented() {
    let server = TestServer::start().await;
    let (status, doc) = server.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();

    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((method.to_string(), path.clone()));
            }
        }
    }
    for (method, path) in [
        ("post", "/api/tasks/submit"),
        ("get", "/api/tasks/"),
        ("get", "/api/tasks"),
        ("get", "/api/tasks/{id}"),
        ("delete", "/api/tasks/{id}"),
        ("post", "/api/tasks/{id}/retry"),
    ] {
        assert!(
            operations.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is not documented"
        );
    }
    assert!(operations.len() >= 18, "{operations:?}");

    let some_id = uuid::Uuid::new_v4().to_string();
    for (method, path) in &operations {
        let url = server.url(&path.replace("{id}", &some_id).replace("{name}", "default"));
        let request = match method.as_str() {
            "get" => server.client.get(&url),
            "delete" => server.client.delete(&url),
            "put" => server.client.put(&url),
            _ => server.client.post(&url),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_ne!(status, 405, "{method} {path} is documented but not routed");
        if status == 404 {
            let body: Value = response.json().await.unwrap();
            assert_ne!(
                body["error"]["message"], "no such endpoint",
                "{method} {path} is documented but not routed"
            );
        }
        // Every documented operation lists its answers, errors included.
        let responses = paths[path][method.as_str()]["responses"]
            .as_object()
            .unwrap();
        assert!(
            !responses.is_empty(),
            "{method} {path} documents no response"
        );
    }
    // The error body has a schema a client can generate code from.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert!(error.is_object(), "{}", doc["components"]);
    server.stop().await;
}

#[tokio::test]
async fn the_document_states_the_limits_the_server_enforces() {
    let server = TestServer::start().await;
    let (_, doc) = server.get_json("/api/openapi.json").await;
    let submit = &doc["components"]["schemas"]["SubmitRequest"]["properties"];
    let kinds: Vec<&str> = submit["task_type"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("task_type lists no kinds: {submit}"))
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    for kind in [
        "data_processing",
        "email_simulation",
        "image_processing",
        "noop",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert_eq!(submit["max_attempts"]["minimum"], 1);
    assert_eq!(submit["max_attempts"]["maximum"], 100);
    assert_eq!(submit["priority"]["maximum"], 9);
    let detail = &doc["paths"]["/api/tasks/{id}"]["get"]["parameters"][0];
    assert_eq!(detail["schema"]["format"], "uuid", "{detail}");
    let list = doc["paths"]["/api/tasks/"]["get"]["parameters"].to_string();
    assert!(list.contains("\"maximum\":1000"), "{list}");
    let bulk = doc["paths"]["/api/tasks/cancel"]["post"]["parameters"].to_string();
    assert!(
        bulk.contains("cursor") && bulk.contains("\"maximum\":10000"),
        "a bulk action's chunk goes higher than a page: {bulk}"
    );
    let count = doc["paths"]["/api/tasks/count"]["get"]["parameters"].to_string();
    assert!(count.contains("\"action\""), "{count}");
    // Each kind's parameters, as the schema its submits are checked against.
    let schemas = &doc["components"]["schemas"];
    let rows = &schemas["DataProcessingParameters"]["properties"]["rows"];
    assert_eq!(
        (rows["minimum"].clone(), rows["maximum"].clone()),
        (1.into(), 1_000_000.into())
    );
    assert_eq!(rows["default"], 1000);
    let http = &schemas["HttpParameters"];
    assert_eq!(http["additionalProperties"], false, "{http}");
    assert_eq!(http["properties"]["method"]["enum"][0], "GET");
    assert!(
        http.get("$schema").is_none() && http.get("title").is_none(),
        "{http}"
    );
    server.stop().await;
}
