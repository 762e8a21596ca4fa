//! Bad input gets a clear 4xx problem document and changes nothing.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// (method, path, token, body, status, code)
type Case<'a> = (Method, String, Option<&'a str>, Value, u16, &'a str);

/// The events that record a change (a refused request's audit entry records only the try).
async fn outbox_len(app: &TestApp) -> usize {
    let ports = &app.server.as_ref().expect("server").ports;
    let events = ports.store.events_after(0, 100_000).await.expect("outbox");
    events.iter().filter(|e| e.event.kind != innkeep_app::event::EventKind::AuditRecorded).count()
}

async fn raw(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: &str, content_type: &str) -> Reply {
    let mut req = app.client.request(method, app.url(path)).header("content-type", content_type).body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::from(req.send().await.expect("sent")).await
}

#[tokio::test]
async fn every_endpoint_answers_bad_input_with_a_4xx_problem_and_changes_nothing() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let held = app.book(&guest, &rt, "2027-02-01", "2027-02-02", None).await;
    let booking = held.body["id"].as_str().expect("id").to_string();
    let before = outbox_len(&app).await;
    let unknown = "00000000-0000-7000-8000-000000000000";
    let big = "x".repeat(70 * 1024);

    let with = |mut v: Value, k: &str, x: Value| {
        v[k] = x;
        v
    };
    let booking_ok = booking_body(&rt, "2027-03-01", "2027-03-02");
    // (method, path, token, body, status, code)
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/api/v1/users".into(),
            None,
            json!({"email": "not-an-email", "password": "correct horse battery", "name": "X", "role": "guest"}),
            400,
            "invalid_email",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            None,
            json!({"email": "a@b.com", "password": "short", "name": "X", "role": "guest"}),
            400,
            "weak_password",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            None,
            json!({"email": "a@b.com", "password": "correct horse battery", "name": "X", "role": "admin"}),
            400,
            "invalid_role",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            None,
            json!({"email": "a@b.com", "password": 12, "name": "X", "role": "guest"}),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            None,
            json!({"email": "a@b.com", "password": "correct horse battery", "name": "X", "role": "guest", "admin": true}),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/sessions".into(),
            None,
            json!({"email": "nobody@example.com", "password": "correct horse battery"}),
            401,
            "bad_credentials",
        ),
        (Method::POST, "/api/v1/properties".into(), Some(&guest), property_body("flexible"), 403, "forbidden"),
        (Method::POST, "/api/v1/properties".into(), None, property_body("flexible"), 401, "unauthenticated"),
        (
            Method::POST,
            "/api/v1/properties".into(),
            Some(&host),
            with(property_body("flexible"), "latitude", json!(200.0)),
            400,
            "invalid_property",
        ),
        (
            Method::POST,
            "/api/v1/properties".into(),
            Some(&host),
            with(property_body("flexible"), "time_zone", json!("Mars/Olympus")),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/properties".into(),
            Some(&host),
            with(property_body("flexible"), "currency", json!("XYZ")),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/properties".into(),
            Some(&host),
            with(property_body("flexible"), "amenities", json!(["moat"])),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/properties".into(),
            Some(&host),
            with(property_body("flexible"), "name", json!("")),
            400,
            "invalid_property",
        ),
        (
            Method::PATCH,
            format!("/api/v1/properties/{property}"),
            Some(&host),
            json!({"cancellation_policy": "whenever"}),
            400,
            "invalid_body",
        ),
        (Method::PATCH, format!("/api/v1/properties/{property}"), Some(&host), json!([1, 2]), 400, "invalid_body"),
        (Method::PATCH, format!("/api/v1/properties/{unknown}"), Some(&host), json!({"name": "x"}), 404, "not_found"),
        (Method::GET, format!("/api/v1/properties/{unknown}"), None, Value::Null, 404, "not_found"),
        (Method::GET, "/api/v1/properties/12".into(), None, Value::Null, 400, "invalid_id"),
        (Method::GET, "/api/v1/properties?limit=0".into(), None, Value::Null, 400, "invalid_query"),
        (Method::GET, "/api/v1/properties?limit=-1".into(), None, Value::Null, 400, "invalid_query"),
        (
            Method::POST,
            format!("/api/v1/properties/{property}/room-types"),
            Some(&host),
            with(room_type_body(1), "units", json!(0)),
            400,
            "invalid_room_type",
        ),
        (
            Method::POST,
            format!("/api/v1/properties/{property}/room-types"),
            Some(&host),
            with(room_type_body(1), "units", json!(-3)),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            format!("/api/v1/properties/{property}/room-types"),
            Some(&host),
            with(room_type_body(1), "base_rate_minor", json!("ten")),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            format!("/api/v1/properties/{unknown}/room-types"),
            Some(&host),
            room_type_body(1),
            404,
            "not_found",
        ),
        (
            Method::PATCH,
            format!("/api/v1/room-types/{rt}"),
            Some(&host),
            json!({"min_stay": 10, "max_stay": 2}),
            400,
            "invalid_room_type",
        ),
        (Method::GET, format!("/api/v1/room-types/{unknown}"), None, Value::Null, 404, "not_found"),
        (
            Method::PUT,
            format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            json!({"from": "2027-02-10", "to": "2027-02-01", "price": 100}),
            400,
            "range_empty",
        ),
        (
            Method::PUT,
            format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            json!({"from": "2027-02-30", "to": "2027-03-01", "price": 100}),
            400,
            "invalid_body",
        ),
        (
            Method::PUT,
            format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            json!({"from": "2027-02-01", "to": "2027-02-02"}),
            400,
            "invalid_room_type",
        ),
        (
            Method::PUT,
            format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            json!({"from": "2027-02-01", "to": "2030-02-02", "price": 100}),
            400,
            "range_too_long",
        ),
        (
            Method::PUT,
            format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            json!({"from": "2027-02-01", "to": "2027-02-02", "price": -5}),
            400,
            "invalid_room_type",
        ),
        (
            Method::GET,
            format!("/api/v1/room-types/{rt}/calendar?from=2027-02-01"),
            Some(&host),
            Value::Null,
            400,
            "invalid_query",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={property}&check_in=2027-02-05&check_out=2027-02-01"),
            None,
            Value::Null,
            400,
            "stay_empty",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={property}&check_in=2026-12-01&check_out=2026-12-03"),
            None,
            Value::Null,
            400,
            "stay_in_past",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={property}&check_in=2029-06-01&check_out=2029-06-03"),
            None,
            Value::Null,
            400,
            "stay_beyond_window",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={property}&check_in=2027-02-01&check_out=2027-02-03&adults=0"),
            None,
            Value::Null,
            400,
            "no_adult",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={property}&check_in=2027-13-01&check_out=2027-02-03"),
            None,
            Value::Null,
            400,
            "invalid_query",
        ),
        (
            Method::GET,
            format!("/api/v1/availability?property_id={unknown}&check_in=2027-02-01&check_out=2027-02-03"),
            None,
            Value::Null,
            404,
            "not_found",
        ),
        (Method::POST, "/api/v1/bookings".into(), None, booking_ok.clone(), 401, "unauthenticated"),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            booking_body(&rt, "2027-03-05", "2027-03-01"),
            400,
            "stay_empty",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            booking_body(&rt, "2027-01-01", "2027-01-02"),
            400,
            "stay_in_past",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            booking_body(&rt, "2027-03-01", "2027-03-20"),
            400,
            "stay_too_long",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            booking_body(unknown, "2027-03-01", "2027-03-02"),
            404,
            "not_found",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "adults", json!(5)),
            400,
            "party_too_large",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "adults", json!(0)),
            400,
            "no_adult",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "adults", json!("two")),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "guest", json!({"name": "A", "email": "nope"})),
            400,
            "invalid_email",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "guest", json!({"name": " ", "email": "a@b.com"})),
            400,
            "invalid_name",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            with(booking_ok.clone(), "guest", json!({"name": "A", "email": "a@b.com", "phone": "call me"})),
            400,
            "invalid_phone",
        ),
        (
            Method::POST,
            "/api/v1/bookings".into(),
            Some(&guest),
            booking_body(&rt, "2027-02-01", "2027-02-02"),
            409,
            "sold_out",
        ),
        (Method::POST, "/api/v1/bookings".into(), Some("not-a-token"), booking_ok.clone(), 401, "unauthenticated"),
        (Method::GET, format!("/api/v1/bookings/{unknown}"), Some(&guest), Value::Null, 404, "not_found"),
        (Method::GET, "/api/v1/bookings?status=lost".into(), Some(&guest), Value::Null, 400, "invalid_query"),
        (
            Method::GET,
            "/api/v1/bookings?from=2027-02-05&to=2027-02-01".into(),
            Some(&guest),
            Value::Null,
            400,
            "range_empty",
        ),
        (Method::GET, "/api/v1/bookings?limit=1000".into(), Some(&guest), Value::Null, 400, "invalid_query"),
        (Method::POST, format!("/api/v1/bookings/{unknown}/confirm"), Some(&guest), json!({}), 404, "not_found"),
        (Method::POST, format!("/api/v1/bookings/{booking}/no-show"), Some(&guest), json!({}), 403, "forbidden"),
        (
            Method::POST,
            format!("/api/v1/bookings/{booking}/complete"),
            Some(&host),
            json!({}),
            409,
            "invalid_transition",
        ),
        (Method::GET, "/api/v1/nothing-here".into(), None, Value::Null, 404, "not_found"),
        (Method::DELETE, "/api/v1/bookings".into(), Some(&guest), Value::Null, 405, "method_not_allowed"),
    ];
    for (method, path, token, body, status, code) in cases {
        let body = if body.is_null() { None } else { Some(body) };
        let r = app.call(method.clone(), &path, token, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.body["code"].as_str()),
            (status, Some(code)),
            "{method} {path} {body:?} -> {}",
            r.body
        );
        r.assert_problem(status, code);
    }

    // Malformed JSON, a wrong content type, an oversized body, a bad idempotency key.
    raw(&app, Method::POST, "/api/v1/bookings", Some(&guest), "{\"room_type_id\": ", "application/json")
        .await
        .assert_problem(400, "malformed_json");
    raw(&app, Method::POST, "/api/v1/bookings", Some(&guest), &booking_ok.to_string(), "text/plain")
        .await
        .assert_problem(415, "unsupported_media_type");
    let huge =
        json!({"name": big, "email": "x@y.com", "password": "correct horse battery", "role": "guest"}).to_string();
    raw(&app, Method::POST, "/api/v1/users", None, &huge, "application/json")
        .await
        .assert_problem(413, "body_too_large");
    let long_key = "k".repeat(300);
    let r = app
        .client
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(&guest)
        .header("Idempotency-Key", long_key)
        .json(&booking_ok)
        .send()
        .await
        .expect("sent");
    Reply::from(r).await.assert_problem(400, "invalid_idempotency_key");

    assert_eq!(outbox_len(&app).await, before, "no bad request wrote an event");
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "held");
    assert_eq!(app.get("/api/v1/bookings", Some(&guest)).await.body.as_array().map(Vec::len), Some(1));
    app.stop().await;
}
