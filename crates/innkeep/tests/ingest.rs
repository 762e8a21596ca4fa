//! Client event ingestion: good items kept, bad ones refused with reasons, NDJSON and gzip,
//! size and rate limits.

use crate::common;

use common::*;
use serde_json::json;
use std::io::Write;

fn event(kind: &str) -> serde_json::Value {
    json!({"type": kind, "client_id": "web-abc", "occurred_at": "2027-01-04T09:59:00Z", "data": {"q": "lisbon"}})
}

async fn send(app: &TestApp, body: Vec<u8>, content_type: &str, gzip: bool) -> Reply {
    let mut req = app.client.post(app.url("/api/v1/events")).header("content-type", content_type);
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    Reply::from(req.body(body).send().await.unwrap()).await
}

fn logged(app: &TestApp) -> Vec<serde_json::Value> {
    let dir = app.dir.path().join("client-events");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        lines.extend(text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()));
    }
    lines
}

#[tokio::test]
async fn good_events_are_kept_and_bad_ones_refused_with_reasons() {
    let app = spawn_app().await;
    let batch = json!([
        event("search"),
        {"type": "teleport", "client_id": "web-abc", "occurred_at": "2027-01-04T09:59:00Z"},
        event("view"),
        {"type": "click", "occurred_at": "2027-01-04T09:59:00Z"},
        {"type": "click", "client_id": "web-abc", "occurred_at": "2030-01-01T00:00:00Z"},
        "not an object",
    ]);
    let r = send(&app, batch.to_string().into_bytes(), "application/json", false).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["accepted"], 2);
    let reasons: Vec<(u64, String)> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["index"].as_u64().unwrap(), x["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(reasons.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 3, 4, 5]);
    assert!(reasons[0].1.contains("type must be one of"), "{reasons:?}");
    assert!(reasons[1].1.contains("client_id is required"));
    assert!(reasons[2].1.contains("future"));
    let kinds: Vec<String> = logged(&app).iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, vec!["search", "view"]);
    app.stop().await;
}

#[tokio::test]
async fn ndjson_and_gzip_batches_are_accepted() {
    let app = spawn_app().await;
    let ndjson = format!("{}\n{{broken\n{}\n", event("click"), event("funnel"));
    let r = send(&app, ndjson.clone().into_bytes(), "application/x-ndjson", false).await;
    assert_eq!((r.status.as_u16(), r.body["accepted"].as_u64()), (202, Some(2)), "{}", r.body);
    assert_eq!(r.body["rejected"][0]["index"], 1);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(ndjson.as_bytes()).unwrap();
    let r = send(&app, gz.finish().unwrap(), "application/x-ndjson", true).await;
    assert_eq!((r.status.as_u16(), r.body["accepted"].as_u64()), (202, Some(2)), "{}", r.body);
    assert_eq!(logged(&app).len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn oversized_malformed_and_too_frequent_batches_are_refused() {
    let app = spawn_app().await;
    send(&app, b"{not json".to_vec(), "application/json", false).await.assert_problem(400, "malformed_json");
    send(&app, b"[]".to_vec(), "application/json", false).await.assert_problem(400, "invalid_batch");
    let many = serde_json::Value::Array((0..1001).map(|_| event("view")).collect());
    send(&app, many.to_string().into_bytes(), "application/json", false).await.assert_problem(400, "invalid_batch");
    let huge = vec![b' '; 5 * 1024 * 1024];
    send(&app, huge.clone(), "application/json", false).await.assert_problem(413, "body_too_large");
    // A small gzip body that inflates past the limit is refused the same way.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&huge).unwrap();
    send(&app, gz.finish().unwrap(), "application/json", true).await.assert_problem(413, "body_too_large");
    assert!(logged(&app).is_empty(), "nothing was kept");

    let one = json!([{"type": "view", "client_id": "busy-client", "occurred_at": "2027-01-04T09:59:00Z"}]).to_string();
    let mut statuses = Vec::new();
    for _ in 0..80 {
        let r = app.client.post(app.url("/api/v1/events")).header("content-type", "application/json");
        let r = r.body(one.clone()).send().await.unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1", "a 429 says when to send again");
        }
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "a client sending faster than 50 batches/s is slowed down: {statuses:?}");
    app.stop().await;
}
