//! One booking walked through the JSON API and through the pages: the use cases decide, so
//! both front ends agree on replays and reused keys, on error codes, on the refund and on
//! the booking count. (Its own test binary: the metrics recorder is per process.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use innkeep_core::Role;
use support::*;

async fn api(t: &TestWeb, path: &str, token: Option<&str>, key: Option<&str>, body: serde_json::Value) -> Reply {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    send(t, req.body(Body::from(body.to_string())).unwrap()).await
}

fn json(r: &Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

fn bookings_total(outcome: &str) -> f64 {
    let text = innkeep_http::telemetry::metrics_handle().render();
    let prefix = format!("innkeep_bookings_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.parse().unwrap()).unwrap_or(0.0)
}

#[tokio::test]
async fn the_api_and_the_pages_decide_a_booking_alike() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    // Two units, so one booking from each front end sells the stay out.
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    user(&t, "ana@example.com", Role::Guest).await;
    let (placed, refused) = (bookings_total("placed"), bookings_total("refused"));
    let (ci, co) = ("2027-02-01", "2027-02-04");

    // The API: a booking, its replay, and the key reused for another request.
    let session =
        api(&t, "/api/v1/sessions", None, None, serde_json::json!({"email": "ana@example.com", "password": PASSWORD}))
            .await;
    let token = json(&session)["token"].as_str().unwrap().to_string();
    let body = |name: &str| {
        serde_json::json!({"room_type_id": rt, "check_in": ci, "check_out": co, "adults": 2,
            "guest": {"name": name, "email": "ana@example.com"}})
    };
    let first = api(&t, "/api/v1/bookings", Some(&token), Some("trip-1"), body("Ana Silva")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let api_id = json(&first)["id"].as_str().unwrap().to_string();
    // The same request in another spelling of the same guest is the same request.
    let replay = api(&t, "/api/v1/bookings", Some(&token), Some("trip-1"), body("  Ana Silva ")).await;
    assert_eq!((replay.status, json(&replay)["id"].as_str().unwrap()), (StatusCode::OK, api_id.as_str()));
    let reused = api(&t, "/api/v1/bookings", Some(&token), Some("trip-1"), body("Rui Silva")).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&reused)["code"], "idempotency_key_reused");

    // The pages: the same three.
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    let checkout =
        b.get(&t, &format!("/checkout?room_type={rt}&check_in={ci}&check_out={co}&adults=2&children=0")).await;
    let (csrf, key) = (checkout.input("csrf"), checkout.input("idempotency_key"));
    let form = |key: &str, name: &str| {
        [
            ("csrf", csrf.clone()),
            ("idempotency_key", key.to_string()),
            ("room_type", rt.clone()),
            ("check_in", ci.to_string()),
            ("check_out", co.to_string()),
            ("adults", "2".to_string()),
            ("children", "0".to_string()),
            ("guest_name", name.to_string()),
            ("guest_email", "ana@example.com".to_string()),
        ]
    };
    let post = async |b: &mut Browser, fields: [(&str, String); 9]| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post(&t, "/checkout", &fields).await
    };
    let held = post(&mut b, form(&key, "Ana Silva")).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let web_path = held.location();
    let again = post(&mut b, form(&key, "  Ana Silva ")).await;
    assert_eq!((again.status, again.location()), (StatusCode::SEE_OTHER, web_path.clone()));
    let reused = post(&mut b, form(&key, "Rui Silva")).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reused.body);
    assert!(reused.body.contains("This form was already sent with other details"), "{}", reused.body);

    // Both units are held now: each front end refuses the next booking with the same status.
    let sold_out = api(&t, "/api/v1/bookings", Some(&token), None, body("Ana Silva")).await;
    assert_eq!((sold_out.status, json(&sold_out)["code"].as_str()), (StatusCode::CONFLICT, Some("sold_out")));
    let sold_out = post(&mut b, form("another-key", "Ana Silva")).await;
    assert_eq!(sold_out.status, StatusCode::CONFLICT, "{}", sold_out.body);

    // Confirm both, then cancel: the page's preview, the page's cancellation and the API's
    // cancellation give the same refund.
    let confirmed =
        api(&t, &format!("/api/v1/bookings/{api_id}/confirm"), Some(&token), None, serde_json::json!({})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let hold = b.get(&t, &web_path).await;
    let r = b.post(&t, &format!("{web_path}/confirm"), &[("csrf", &hold.input("csrf"))]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let web_id = web_path.trim_start_matches("/checkout/");
    let preview = b.get(&t, &format!("/trips/{web_id}/cancel")).await;
    assert!(preview.body.contains("refunds <strong class=\"refund\">EUR 318.00</strong>"), "{}", preview.body);
    let r = b.post(&t, &format!("/trips/{web_id}/cancel"), &[("csrf", &preview.input("csrf"))]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cancelled =
        api(&t, &format!("/api/v1/bookings/{api_id}/cancel"), Some(&token), None, serde_json::json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let api_refund = json(&cancelled)["refund"].clone();
    let web_booking = t.ports.store.booking(web_id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(serde_json::to_value(web_booking.refund).unwrap(), api_refund);
    assert_eq!(api_refund["minor"], 31_800, "{api_refund}");

    // One placed booking each (replays are not counted), one refusal each.
    assert_eq!(bookings_total("placed") - placed, 2.0);
    assert_eq!(bookings_total("refused") - refused, 2.0);
}
