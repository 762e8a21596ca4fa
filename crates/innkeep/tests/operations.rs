//! Health, readiness, metrics, OpenAPI and request ids.

use crate::common;

use common::*;

#[tokio::test]
async fn health_readiness_metrics_and_openapi_are_served() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"), "every answer carries a request id");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.body["status"], "ready");

    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    assert_eq!(app.book(&guest, &rt, "2027-02-01", "2027-02-02", None).await.status, 201);
    app.book(&guest, &rt, "2027-02-01", "2027-02-02", None).await.assert_problem(409, "sold_out");

    let text = app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("text");
    assert!(
        text.contains("innkeep_http_requests_total{route=\"/api/v1/bookings\",method=\"POST\",status=\"2xx\"}"),
        "{text}"
    );
    assert!(text.contains("innkeep_http_request_duration_seconds_bucket{route=\"/api/v1/bookings\""), "{text}");
    assert!(text.contains("innkeep_bookings_total{outcome=\"placed\"}"), "{text}");
    assert!(text.contains("innkeep_bookings_total{outcome=\"refused\"}"), "{text}");

    let doc = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/v1/bookings",
        "/api/v1/bookings/{id}/cancel",
        "/api/v1/availability",
        "/api/v1/room-types/{id}/calendar",
        "/api/v1/sessions",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} is documented");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_outbox_records_every_state_change_in_order() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let b = app.book(&guest, &rt, "2027-02-01", "2027-02-02", None).await;
    let id = b.body["id"].as_str().expect("id").to_string();
    app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), serde_json::json!({})).await;
    app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), serde_json::json!({})).await;
    let ports = &app.server.as_ref().expect("server").ports;
    let events = ports.store.events_after(0, 100).await.expect("outbox");
    use innkeep_app::event::EventKind as K;
    // The audit log's entries (sign-ins, each write) are events too; this is about the changes.
    let kinds: Vec<K> = events.iter().map(|e| e.event.kind).filter(|k| *k != K::AuditRecorded).collect();
    assert_eq!(
        kinds,
        vec![
            K::UserRegistered,
            K::UserRegistered,
            K::PropertyCreated,
            K::RoomTypeCreated,
            K::BookingHeld,
            K::BookingConfirmed,
            K::BookingCancelled
        ]
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    let cancelled = &events.iter().rfind(|e| e.event.kind == K::BookingCancelled).expect("cancelled").event;
    assert_eq!(cancelled.aggregate_id.to_string(), id);
    assert_eq!(cancelled.payload["status"], "cancelled");
    app.stop().await;
}
