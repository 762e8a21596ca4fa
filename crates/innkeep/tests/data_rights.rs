//! Data rights (issue 23): a person downloads everything kept about them as JSON, and
//! deletes their account: it is erased in one transaction (sessions end, the address, name
//! and password are gone, so are the guest details of their bookings, in the bookings and
//! in the outbox events), while the bookings themselves stay for accounting. Refused while
//! a stay is not over, for the last owner of a tenant in use, and without the password.

use crate::common;

use common::{TestApp, spawn_app};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn register(app: &TestApp, email: &str, role: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD, "name": "Ana Lima", "role": role});
    assert_eq!(app.post("/api/v1/users", None, body).await.status, 201);
    sign_in(app, email).await
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_string()
}

async fn erase(app: &TestApp, token: &str, password: &str) -> common::Reply {
    app.call(reqwest::Method::DELETE, "/api/v1/me", Some(token), Some(json!({"password": password}))).await
}

/// A host with one room (two units) and a guest with a booking of 2027-02-01..03, confirmed.
async fn guest_with_a_stay(app: &TestApp) -> (String, String, String) {
    let host = register(app, "casa@example.com", "host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 2).await;
    let guest = register(app, "ana@example.com", "guest").await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = r.body["id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/api/v1/bookings/{booking}/confirm"), Some(&guest), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (host, guest, booking)
}

#[tokio::test]
async fn the_export_holds_the_account_its_bookings_and_sessions_but_no_secrets() {
    let app = spawn_app().await;
    let (_host, guest, booking) = guest_with_a_stay(&app).await;
    let r = app.call(reqwest::Method::PATCH, "/api/v1/me", Some(&guest), Some(json!({"currency": "usd"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["currency"], "USD");
    let r = app.call(reqwest::Method::PATCH, "/api/v1/me", Some(&guest), Some(json!({"currency": "XYZ"}))).await;
    r.assert_problem(400, "invalid_currency");

    app.audit_settled().await;
    let reply = app.client.get(app.url("/api/v1/me/export")).bearer_auth(&guest).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let disposition = reply.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"innkeep-data-"), "{disposition}");
    let text = reply.text().await.unwrap();
    let data: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(data["account"]["email"], "ana@example.com");
    assert_eq!(data["account"]["currency"], "USD");
    assert_eq!(data["bookings"].as_array().unwrap().len(), 1);
    assert_eq!(data["bookings"][0]["id"], booking.as_str());
    assert_eq!(data["bookings"][0]["guest"]["name"], "Ana Silva");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    assert!(!data["audit"].as_array().unwrap().is_empty(), "their sign-in and booking are in the audit log");
    assert!(!text.contains(&guest), "never a session token");
    assert!(!text.contains("token_hash") && !text.contains("password"), "never a hash: {text}");

    // Someone else's export is someone else's: the host's holds none of the guest's.
    let other = register(&app, "rui@example.com", "guest").await;
    let theirs = app.get("/api/v1/me/export", Some(&other)).await;
    assert_eq!(theirs.body["bookings"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/me/export", None).await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn an_erased_account_keeps_its_bookings_without_the_person() {
    erased_but_kept(spawn_app().await).await;
}

#[tokio::test]
async fn an_erased_account_keeps_its_bookings_without_the_person_on_postgres() {
    common::on_postgres(erased_but_kept).await;
}

#[tokio::test]
async fn erasing_twice_at_once_erases_once_on_postgres() {
    common::on_postgres(erased_once).await;
}

async fn erased_but_kept(app: TestApp) {
    let (_, guest, booking) = guest_with_a_stay(&app).await;
    let me = app.get("/api/v1/me", Some(&guest)).await.body;
    let user_id = me["user_id"].as_str().unwrap().to_string();

    erase(&app, &guest, "not the password").await.assert_problem(400, "wrong_password");
    erase(&app, &guest, PASSWORD).await.assert_problem(409, "conflict");
    // The guest arrives and leaves; the host checks them in and out (signing in anew: a
    // month has passed).
    for (days, step) in [(28, "check-in"), (2, "complete")] {
        app.clock.advance(jiff::SignedDuration::from_hours(24 * days));
        let host = sign_in(&app, "casa@example.com").await;
        let r = app.post(&format!("/api/v1/bookings/{booking}/{step}"), Some(&host), json!({})).await;
        assert_eq!(r.status, 200, "{step}: {}", r.body);
    }
    let host = sign_in(&app, "casa@example.com").await;
    let guest = sign_in(&app, "ana@example.com").await;
    let before = app.get(&format!("/api/v1/bookings/{booking}"), Some(&host)).await.body;
    let other_session =
        app.post("/api/v1/sessions", None, json!({"email": "ana@example.com", "password": PASSWORD})).await;
    let other_session = other_session.body["token"].as_str().unwrap().to_string();

    // A message about the stay to her address, and a text to the phone she gave, are in
    // the delivery log (pending: to be sent).
    let store = &app.server.as_ref().unwrap().ports.store;
    let tenant = app.get("/api/v1/me", Some(&host)).await.body["tenant_id"].as_str().unwrap().parse().unwrap();
    let booking_id = innkeep_core::BookingId(booking.parse().unwrap());
    let message = |channel, recipient: &str| innkeep_app::notify::NewMessage {
        id: uuid::Uuid::now_v7(),
        dedup_key: format!("test/{recipient}"),
        event_id: None,
        tenant_id: Some(innkeep_core::TenantId(tenant)),
        booking_id: Some(booking_id),
        webhook_id: None,
        template: "booking.completed".into(),
        channel,
        recipient: recipient.into(),
        content: innkeep_app::notify::Content {
            subject: "Thank you for staying, Ana Silva".into(),
            text: "See you again".into(),
            ..Default::default()
        },
        not_before: app.clock.now_for_tests(),
        created_at: app.clock.now_for_tests(),
    };
    let queued = [
        message(innkeep_app::notify::Channel::Email, "ana@example.com"),
        message(innkeep_app::notify::Channel::Sms, "+351912345678"),
    ];
    assert_eq!(store.enqueue(&queued).await.unwrap(), 2);
    let copy = app.get("/api/v1/me/export", Some(&guest)).await.body;
    let subjects: Vec<_> = copy["messages"].as_array().unwrap().iter().map(|m| m["subject"].clone()).collect();
    let ours = subjects.iter().filter(|s| *s == "Thank you for staying, Ana Silva").count();
    assert_eq!(ours, 2, "both are hers, with the booking's own messages: {subjects:?}");
    // Her review of the stay is in her copy; erased, it stays with the property, unsigned.
    let scores = json!({"cleanliness": 9, "location": 9, "value": 9, "staff": 9, "comfort": 9});
    let r = app
        .post(&format!("/api/v1/bookings/{booking}/review"), Some(&guest), json!({"scores": scores, "text": "Lovely."}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["author"], "Ana");
    let copy = app.get("/api/v1/me/export", Some(&guest)).await.body;
    assert_eq!(copy["reviews"][0]["text"], "Lovely.");

    let r = erase(&app, &guest, PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let property = before["property_id"].as_str().unwrap();
    let reviews = app.get(&format!("/api/v1/properties/{property}/reviews"), None).await.body;
    assert_eq!(
        (reviews["reviews"][0]["author"].clone(), reviews["reviews"][0]["text"].clone()),
        (json!("Former guest"), json!("Lovely."))
    );
    assert_eq!(app.get("/api/v1/me", Some(&guest)).await.status, 401, "this session ended");
    assert_eq!(app.get("/api/v1/me", Some(&other_session)).await.status, 401, "and every other");
    let r = app.post("/api/v1/sessions", None, json!({"email": "ana@example.com", "password": PASSWORD})).await;
    r.assert_problem(401, "bad_credentials");
    // The address is free again.
    register(&app, "ana@example.com", "guest").await;

    // The host still has the booking (accounting), without who stayed.
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&host)).await;
    assert_eq!(b.status, 200);
    assert_eq!(b.body["status"], "completed");
    for kept in ["total", "quote", "check_in", "check_out", "room_type_id", "user_id"] {
        assert_eq!(b.body[kept], before[kept], "{kept}");
    }
    assert_eq!(b.body["guest"]["name"], "(erased)");
    assert!(b.body["guest"]["email"].as_str().unwrap().ends_with("@erased.invalid"));
    assert!(b.body["guest"]["phone"].is_null());

    // Nothing in the outbox names her any more; the erasure is an event of its own.
    let events = app.settled_events().await;
    let all = serde_json::to_string(&events).unwrap();
    for detail in ["Ana Silva", "+351 912 345 678"] {
        assert!(!all.contains(detail), "{detail} is still in the outbox");
    }
    let erased: Vec<_> = events.iter().filter(|e| e.event.kind.as_str() == "user.erased").collect();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].event.payload["user_id"], user_id.as_str());
    // Nor does the delivery log, and what was still to be sent is not.
    let filter = innkeep_app::notify::DeliveryFilter { booking_id: Some(booking_id), limit: 100, ..Default::default() };
    let log = store.deliveries(&filter).await.unwrap();
    assert!(log.len() > 2, "the booking's own messages and the two above: {log:?}");
    for d in &log {
        // The host's own messages about the booking keep the host's address, not the text.
        assert!(d.recipient.ends_with("@erased.invalid") || d.recipient == "casa@example.com", "{}", d.recipient);
        assert!(!d.content.subject.contains("Ana") && d.content.text.is_empty(), "{:?}", d.content);
        assert_ne!(d.status, innkeep_app::notify::DeliveryStatus::Pending, "nothing is left to send");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_last_owner_of_a_tenant_in_use_cannot_erase_their_account() {
    let app = spawn_app().await;
    let host = register(&app, "casa@example.com", "host").await;
    app.property(&host, "flexible").await;
    erase(&app, &host, PASSWORD).await.assert_problem(409, "conflict");
    assert_eq!(app.get("/api/v1/me", Some(&host)).await.status, 200, "nothing changed");

    // An owner of a tenant with nothing in it may go; so may a member who is not the last owner.
    let empty = register(&app, "vazio@example.com", "host").await;
    assert_eq!(erase(&app, &empty, PASSWORD).await.status, 204);
    app.stop().await;
}

#[tokio::test]
async fn erasing_twice_at_once_erases_once() {
    erased_once(spawn_app().await).await;
}

async fn erased_once(app: TestApp) {
    let guest = register(&app, "ana@example.com", "guest").await;
    let (a, b) = tokio::join!(erase(&app, &guest, PASSWORD), erase(&app, &guest, PASSWORD));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(statuses[0] == 204 && statuses[1] != 204 && statuses[1].as_u16() < 500, "{statuses:?}");
    let events = app.settled_events().await;
    let erased = events.iter().filter(|e| e.event.kind.as_str() == "user.erased").count();
    assert_eq!(erased, 1);
    app.stop().await;
}

#[tokio::test]
async fn api_keys_cannot_export_or_erase() {
    let app = spawn_app().await;
    let host = register(&app, "casa@example.com", "host").await;
    let key = app.post("/api/v1/api-keys", Some(&host), json!({"name": "PMS", "scopes": ["read"]})).await;
    let key = key.body["key"].as_str().unwrap().to_string();
    app.get("/api/v1/me/export", Some(&key)).await.assert_problem(403, "forbidden");
    erase(&app, &key, PASSWORD).await.assert_problem(403, "forbidden");
    app.stop().await;
}
