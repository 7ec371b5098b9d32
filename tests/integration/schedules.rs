//! Schedules over REST: a timing explained in words with its next run times, and a
//! timing that cannot be one refused field by field.

use crate::support::TestServer;
use serde_json::json;

#[tokio::test]
async fn a_timing_is_explained_with_its_next_run_times() {
    let server = TestServer::start().await;
    let body = json!({"cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris", "after": "2026-03-26T12:00:00Z"});
    let (status, preview) = server.post_json("/api/schedules/preview", &body).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        preview["next"],
        json!([
            "2026-03-27T08:00:00Z",
            "2026-03-30T07:00:00Z",
            "2026-03-31T07:00:00Z",
            "2026-04-01T07:00:00Z",
            "2026-04-02T07:00:00Z"
        ]),
        "the daylight-saving change of 29 March moves the UTC time"
    );
    let description = preview["description"].as_str().unwrap();
    assert!(description.ends_with("(Europe/Paris)"), "{description}");

    let body = json!({"every_secs": 90, "after": "2026-12-06T12:00:00Z"});
    let (status, preview) = server.post_json("/api/schedules/preview", &body).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["description"], "Every 1 minute 30 seconds");
    assert_eq!(preview["next"][0], "2026-12-06T12:01:30Z");
    assert_eq!(preview["next"].as_array().map(Vec::len), Some(5));

    // Without `after`, the run times start from now.
    let (_, preview) = server
        .post_json("/api/schedules/preview", &json!({"cron": "* * * * *"}))
        .await;
    let first: chrono::DateTime<chrono::Utc> =
        preview["next"][0].as_str().unwrap().parse().unwrap();
    let wait = first - chrono::Utc::now();
    assert!(
        wait <= chrono::Duration::seconds(60) && wait > chrono::Duration::seconds(-5),
        "{preview}"
    );
}

#[tokio::test]
async fn a_timing_that_cannot_be_one_is_refused_field_by_field() {
    let server = TestServer::start().await;
    for (body, fields) in [
        (
            json!({"cron": "61 * * * *", "timezone": "Mars/Olympus"}),
            vec!["timezone", "cron"],
        ),
        (json!({"cron": "* * * * *", "every_secs": 5}), vec!["cron"]),
        (json!({}), vec!["cron"]),
        (json!({"every_secs": 0}), vec!["every_secs"]),
    ] {
        let (status, answer) = server.post_json("/api/schedules/preview", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        let named: Vec<&str> = answer["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}: {answer}");
    }
    let (status, _) = server
        .post_json(
            "/api/schedules/preview",
            &json!({"cron": "* * * * *", "colour": 1}),
        )
        .await;
    assert_eq!(status, 422, "unknown fields are refused");
}
