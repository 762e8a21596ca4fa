//! Outgoing messages against real receivers on loopback, started here: Python's aiosmtpd
//! as the SMTP server (each e-mail read back by Python's `email` and `icalendar`), and HTTP
//! receivers for webhook subscribers. A booking mails its guest in the guest's language
//! with the stay's `.ics`; a webhook subscriber checks the signature; a receiver that fails
//! gets retries and then the message once; a reminder is scheduled in the database and
//! cancelled with its booking; webhook URLs into private networks are refused; and
//! `kill -9` between sending and recording sends a message at most once more, under the
//! same id. A subscriber that is down, hangs up or answers too late, and an SMTP server that
//! is down, get the message once when they answer.

use crate::common;

use common::receivers::{Answer, Raw, RawReceiver, Receiver, Smtp, free_port};
use common::{TestApp, wait_ready};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// A server mailing through `smtp` (and taking http webhooks to loopback).
async fn app_with(smtp: Option<&Smtp>) -> TestApp {
    app_configured(smtp.map(Smtp::url), |_| {}).await
}

/// A server mailing to `smtp_url`, its settings changed by `change`.
async fn app_configured(smtp_url: Option<String>, change: impl FnOnce(&mut innkeep::config::Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.server.public_url = "https://stay.example".into();
    if let Some(url) = smtp_url {
        config.notify.smtp_url = url;
    }
    config.notify.webhooks.allow_loopback_http = true;
    config.notify.first_backoff_secs = 1;
    config.notify.max_attempts = 4;
    change(&mut config);
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    TestApp::with_server(server, clock, dir)
}

/// Register with an `Accept-Language` header and sign in; the token.
async fn user_speaking(app: &TestApp, role: &str, email: &str, accept_language: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/users"))
        .header("Accept-Language", accept_language)
        .json(&json!({"email": email, "password": PASSWORD, "name": "Ana Silva", "role": role}))
        .send()
        .await
        .unwrap();
    let r = common::Reply::from(r).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await;
    s.body["token"].as_str().unwrap().to_string()
}

/// A host's room type in Lisbon (100.00 EUR a night plus 6% VAT): (host token, room type).
async fn room(app: &TestApp, host_email: &str) -> (String, String) {
    let host = user_speaking(app, "host", host_email, "pt-PT,pt;q=0.9").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    (host, room_type)
}

/// Book as `guest` (the contact's e-mail `email`) and confirm; the booking.
async fn book_and_confirm(app: &TestApp, guest: &str, room_type: &str, email: &str, nights: (&str, &str)) -> Value {
    let mut body = common::booking_body(room_type, nights.0, nights.1);
    body["guest"]["email"] = json!(email);
    let r = app.post("/api/v1/bookings", Some(guest), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let c = app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(guest), json!({})).await;
    assert_eq!(c.status, 200, "{}", c.body);
    r.body
}

/// The delivery log as `token` sees it, waiting (at most 20 s) until `done` holds.
async fn log_until(app: &TestApp, token: &str, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..400 {
        let r = app.get(&format!("/api/v1/notifications?{query}"), Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        last = r.body.as_array().cloned().unwrap_or_default();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery log never got there: {last:#?}");
}

#[tokio::test]
async fn a_confirmed_booking_mails_the_guest_in_german_with_an_ics_a_calendar_reads() {
    let Some(smtp) = Smtp::start().await else { return };
    let app = app_with(Some(&smtp)).await;
    let (host, room_type) = room(&app, "host-de@example.com").await;
    let guest = user_speaking(&app, "guest", "gast@example.com", "de-DE,de;q=0.9,en;q=0.5").await;
    let me = app.get("/api/v1/me", Some(&guest)).await;
    assert_eq!(me.body["locale"], "de", "{}", me.body);
    let booking = book_and_confirm(&app, &guest, &room_type, "gast@example.com", ("2027-02-10", "2027-02-12")).await;
    let id = booking["id"].as_str().unwrap();

    let mail = smtp.wait_for(|m| m["subject"].as_str().unwrap_or("").contains("bestätigt")).await;
    assert_eq!(mail["to"], "gast@example.com");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("Mittwoch, 10. Februar 2027"), "check-in in German: {text}");
    assert!(text.contains("Freitag, 12. Februar 2027"), "check-out in German: {text}");
    let total = booking["total"]["minor"].as_i64().unwrap();
    assert_eq!(total, 21_200, "two nights at 100.00 plus 6% VAT");
    assert!(text.contains("212,00\u{a0}€"), "the total in German: {text}");
    assert!(text.contains(&format!("https://stay.example/checkout/{id}")), "a link back: {text}");
    assert!(mail["html"].as_str().unwrap().contains("<html lang=\"de\""), "{}", mail["html"]);
    assert!(mail["message_id"].as_str().unwrap().starts_with('<'), "{}", mail["message_id"]);
    assert!(mail["list_unsubscribe"].is_null(), "a confirmation is transactional: {mail}");
    let calendars = mail["calendars"].as_array().unwrap();
    assert_eq!(calendars.len(), 1, "{mail}");
    let event = &calendars[0]["events"][0];
    assert_eq!(event["start"], "2027-02-10T15:00:00+00:00", "check-in at 15:00 in Lisbon (UTC in winter)");
    assert_eq!(event["end"], "2027-02-12T11:00:00+00:00", "check-out at 11:00 in Lisbon");
    assert_eq!(event["summary"], "Casa Azul");

    // The hold was mailed too, and the host heard of the booking, in Portuguese.
    smtp.wait_for(|m| m["to"] == "gast@example.com" && m["subject"] != mail["subject"]).await;
    let to_host = smtp.wait_for(|m| m["to"].as_str().unwrap_or("").starts_with("host-de@")).await;
    assert!(to_host["html"].as_str().unwrap().contains("<html lang=\"pt\""), "{to_host}");

    // The log shows them sent, to the host of the tenant only.
    let log = log_until(&app, &host, "status=sent", |l| l.len() >= 3).await;
    assert!(log.iter().all(|d| d["status"] == "sent" && d["attempts"] == 1), "{log:#?}");
    let other = user_speaking(&app, "host", "other-host@example.com", "en").await;
    let theirs = app.get("/api/v1/notifications", Some(&other)).await;
    assert_eq!(theirs.body, json!([]), "another tenant's host sees none of it");
    app.stop().await;
}

#[tokio::test]
async fn a_guest_who_gave_a_phone_number_gets_an_sms_through_the_gateway() {
    let gateway = Receiver::start().await;
    gateway.answer_by_default(201);
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.notify.sms.base_url = gateway.base.clone();
    config.notify.sms.account_sid = "AC0123456789abcdef0123456789abcdef".into();
    config.notify.sms.auth_token = "gateway-token".into();
    config.notify.sms.from = "+15005550006".into();
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    let app = TestApp::with_server(server, clock, dir);
    let (_, room_type) = room(&app, "host-sms@example.com").await;
    let guest = user_speaking(&app, "guest", "sms-guest@example.com", "en-GB").await;
    book_and_confirm(&app, &guest, &room_type, "sms-guest@example.com", ("2027-02-10", "2027-02-12")).await;
    let path = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
    let taken = gateway.wait_for(path, 2, 20).await;
    let forms: Vec<Vec<(String, String)>> =
        taken.iter().map(|t| form_urlencoded::parse(&t.body).into_owned().collect()).collect();
    let field =
        |f: &Vec<(String, String)>, k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(forms.iter().all(|f| field(f, "To") == "+351912345678" && field(f, "From") == "+15005550006"), "{forms:?}");
    assert!(forms.iter().any(|f| field(f, "Body").contains("Wednesday, 10 February 2027")), "{forms:?}");
    assert!(taken.iter().all(|t| t.header("authorization").starts_with("Basic ")), "basic auth");
    app.stop().await;
}

#[tokio::test]
async fn every_delivery_of_one_event_is_one_message_whatever_replays_the_consumer() {
    let app = app_with(None).await;
    let (host, room_type) = room(&app, "host-replay@example.com").await;
    let guest = app.user("guest").await;
    book_and_confirm(&app, &guest, &room_type, "replay@example.com", ("2027-03-01", "2027-03-03")).await;
    let log = log_until(&app, &host, "", |l| l.iter().filter(|d| d["status"] == "sent").count() >= 3).await;
    // Handing every event to the consumer again (a crash before its position was saved)
    // writes no second message.
    let server = app.server.as_ref().unwrap();
    let store = server.store.clone();
    let consumer = innkeep_notify::consumer::Notifications {
        ports: server.ports.clone(),
        settings: innkeep_notify::consumer::NotifySettings::default(),
    };
    for e in innkeep_app::store::Outbox::events_after(&store, 0, 10_000).await.unwrap() {
        innkeep_app::event::Consumer::handle(&consumer, &e).await.unwrap();
    }
    let again = app.get("/api/v1/notifications", Some(&host)).await;
    assert_eq!(again.body.as_array().unwrap().len(), log.len(), "{:#?}", again.body);
    app.stop().await;
}

fn signature_holds(header: &str, secret: &str, body: &[u8]) -> bool {
    let mut t = "";
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1.push(v),
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    !t.is_empty() && v1.contains(&expected.as_str())
}

#[tokio::test]
async fn a_webhook_subscriber_gets_signed_events_and_a_failing_one_gets_them_once_after_retries() {
    let receiver = Receiver::start().await;
    let app = app_with(None).await;
    let (host, room_type) = room(&app, "host-hooks@example.com").await;
    let body = json!({"url": format!("{}/hooks/innkeep", receiver.base), "events": ["booking.confirmed", "booking.cancelled"]});
    let r = app.post("/api/v1/webhooks", Some(&host), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let hook = r.body["id"].as_str().unwrap().to_string();
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let listed = app.get("/api/v1/webhooks", Some(&host)).await;
    assert!(listed.body[0].get("secret").is_none(), "the secret is shown once: {}", listed.body);

    // The subscriber is down twice (500), then takes the event.
    receiver.answer(&[Answer::Status(500), Answer::Status(503)]);
    let guest = app.user("guest").await;
    let booking = book_and_confirm(&app, &guest, &room_type, "hooked@example.com", ("2027-03-10", "2027-03-12")).await;
    receiver.wait_for("/hooks/innkeep", 1, 20).await;
    for _ in 0..3 {
        // The retries fall due on the test's clock.
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if receiver.taken("/hooks/innkeep").len() >= 3 {
            break;
        }
    }
    let taken = receiver.wait_for("/hooks/innkeep", 3, 20).await;
    assert_eq!(taken.len(), 3, "two failures, then one delivery: {taken:?}");
    let ids: std::collections::HashSet<_> = taken.iter().map(|t| t.header("innkeep-delivery-id").to_string()).collect();
    assert_eq!(ids.len(), 1, "every attempt is the same delivery");
    for t in &taken {
        assert!(signature_holds(t.header("innkeep-signature"), &secret, &t.body), "{:?}", t.headers);
        assert!(!signature_holds(t.header("innkeep-signature"), "whsec_wrong", &t.body));
        assert_eq!(t.json()["type"], "booking.confirmed");
        assert_eq!(t.json()["data"]["id"], booking["id"]);
    }
    let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), Some(&host)).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let d = &log.body[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_u64()), (Some("sent"), Some(3)), "{}", log.body);
    assert!(d["last_error"].is_null(), "{d}");
    // Nothing more arrives: it was sent once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.taken("/hooks/innkeep").len(), 3);
    app.stop().await;
}

/// Advance the test's clock a minute at a time (retries fall due on it) until `done`, at most
/// `rounds` times.
async fn retry_until(app: &TestApp, rounds: usize, done: impl AsyncFn() -> bool) {
    for _ in 0..rounds {
        if done().await {
            return;
        }
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    assert!(done().await, "never got there in {rounds} rounds");
}

#[tokio::test]
async fn a_subscriber_that_is_down_hangs_up_or_answers_too_late_gets_the_event_once_when_it_answers() {
    let port = free_port();
    let app = app_configured(None, |c| {
        c.notify.webhooks.timeout_secs = 1;
        c.notify.max_attempts = 6;
    })
    .await;
    let (host, room_type) = room(&app, "host-faults@example.com").await;
    let body = json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["booking.confirmed"]});
    let r = app.post("/api/v1/webhooks", Some(&host), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let guest = app.user("guest").await;
    let booking = book_and_confirm(&app, &guest, &room_type, "faults@example.com", ("2027-03-10", "2027-03-12")).await;

    // Down: nothing listens on the port, the first attempt cannot connect. (An attempt counts
    // when its lease is taken; its error is recorded once it failed: wait for both.)
    let log = log_until(&app, &host, "channel=webhook", |l| {
        l.first().is_some_and(|d| d["attempts"] == 1 && d["last_error"].is_string())
    })
    .await;
    assert_eq!(log[0]["status"], "pending", "{log:#?}");
    assert!(log[0]["last_error"].is_string(), "the failure is shown: {log:#?}");

    // Up, but the first connection is closed without an answer and the second answered 3 s
    // late (the sender waits 1 s); the third is answered.
    let raw = RawReceiver::start_on(port, &[Raw::HangUp, Raw::Slow(Duration::from_secs(3)), Raw::Ok]).await;
    retry_until(&app, 20, async || {
        let log = app.get("/api/v1/notifications?channel=webhook", Some(&host)).await.body;
        log[0]["status"] == "sent"
    })
    .await;
    let log = app.get("/api/v1/notifications?channel=webhook", Some(&host)).await.body;
    assert_eq!((log[0]["attempts"].as_u64(), log.as_array().map(Vec::len)), (Some(4), Some(1)), "{log:#}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let taken = raw.taken();
    assert_eq!(taken.len(), 3, "hung up on, too late, then taken: {taken:?}");
    let header = |head: &str, name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let ids: std::collections::HashSet<_> = taken.iter().map(|(h, _)| header(h, "innkeep-delivery-id")).collect();
    assert_eq!(ids.len(), 1, "every attempt is the same delivery: {taken:?}");
    for (head, body) in &taken {
        assert!(signature_holds(&header(head, "innkeep-signature"), &secret, body), "{head}");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!((&event["type"], &event["data"]["id"]), (&json!("booking.confirmed"), &booking["id"]));
    }
    app.stop().await;
}

#[tokio::test]
async fn mail_waits_for_an_smtp_server_that_is_down_and_is_sent_once_when_it_is_back() {
    let port = free_port();
    let app = app_configured(Some(format!("smtp://127.0.0.1:{port}")), |c| c.notify.max_attempts = 8).await;
    let (host, room_type) = room(&app, "host-smtp-down@example.com").await;
    let guest = app.user("guest").await;
    book_and_confirm(&app, &guest, &room_type, "waiting@example.com", ("2027-03-10", "2027-03-12")).await;
    // The hold and the confirmation to the guest, the new booking to the host: each tried,
    // none sent (the reminder before check-in is not due for weeks).
    let due = |l: &[Value]| l.iter().filter(|d| d["template"] != "reminder").cloned().collect::<Vec<_>>();
    let log = log_until(&app, &host, "channel=email", |l| {
        let l = due(l);
        l.len() == 3 && l.iter().all(|d| d["attempts"].as_u64() >= Some(1) && d["last_error"].is_string())
    })
    .await;
    assert!(log.iter().all(|d| d["status"] == "pending"), "{log:#?}");

    let Some(smtp) = Smtp::start_on(port).await else { return };
    retry_until(&app, 20, async || {
        let log = app.get("/api/v1/notifications?channel=email", Some(&host)).await.body;
        let log = due(log.as_array().map(Vec::as_slice).unwrap_or_default());
        log.len() == 3 && log.iter().all(|d| d["status"] == "sent")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages = smtp.messages();
    let ids: std::collections::HashSet<_> = messages.iter().map(|m| m["message_id"].to_string()).collect();
    assert_eq!((messages.len(), ids.len()), (3, 3), "each message once: {messages:#?}");
    assert_eq!(messages.iter().filter(|m| m["to"] == "waiting@example.com").count(), 2, "{messages:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_never_answers_well_is_parked_then_replayed() {
    let receiver = Receiver::start().await;
    receiver.answer_by_default(500);
    let app = app_with(None).await;
    let (host, room_type) = room(&app, "host-parked@example.com").await;
    let body = json!({"url": format!("{}/down", receiver.base), "events": ["booking.confirmed"]});
    assert_eq!(app.post("/api/v1/webhooks", Some(&host), body).await.status, 201);
    let guest = app.user("guest").await;
    book_and_confirm(&app, &guest, &room_type, "parked@example.com", ("2027-03-20", "2027-03-22")).await;
    let mut parked = Vec::new();
    for _ in 0..40 {
        app.clock.advance(jiff::SignedDuration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(300)).await;
        parked = app
            .get("/api/v1/notifications?status=parked&channel=webhook", Some(&host))
            .await
            .body
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !parked.is_empty() {
            break;
        }
    }
    assert_eq!(parked.len(), 1, "given up after max_attempts");
    assert_eq!(parked[0]["attempts"], 4);
    assert!(parked[0]["last_error"].as_str().unwrap().contains("500"), "{}", parked[0]);
    assert_eq!(receiver.taken("/down").len(), 4);

    // The receiver is back; replaying the parked message delivers it.
    receiver.answer_by_default(200);
    let server = app.server.as_ref().unwrap();
    let filter = innkeep_app::notify::DeliveryFilter::default();
    let n =
        innkeep_app::notify::Notifications::replay(&server.store, &filter, app.clock.now_for_tests()).await.unwrap();
    assert_eq!(n, 1);
    receiver.wait_for("/down", 5, 20).await;
    log_until(&app, &host, "channel=webhook", |l| l.iter().all(|d| d["status"] == "sent")).await;
    app.stop().await;
}

#[tokio::test]
async fn a_reminder_is_scheduled_before_check_in_and_cancelled_with_its_booking() {
    let app = app_with(None).await;
    let (host, room_type) = room(&app, "host-remind@example.com").await;
    let guest = app.user("guest").await;
    let kept = book_and_confirm(&app, &guest, &room_type, "kept@example.com", ("2027-01-20", "2027-01-22")).await;
    let gone = book_and_confirm(&app, &guest, &room_type, "gone@example.com", ("2027-01-25", "2027-01-27")).await;
    let reminders =
        log_until(&app, &host, "status=pending", |l| l.iter().filter(|d| d["template"] == "reminder").count() == 2)
            .await;
    let due = reminders.iter().find(|d| d["booking_id"] == kept["id"]).unwrap();
    assert_eq!(due["next_attempt_at"], "2027-01-18T09:00:00Z", "two days before, 09:00 in Lisbon");
    let c =
        app.post(&format!("/api/v1/bookings/{}/cancel", gone["id"].as_str().unwrap()), Some(&guest), json!({})).await;
    assert_eq!(c.status, 200, "{}", c.body);
    log_until(&app, &host, "status=cancelled", |l| {
        l.iter().any(|d| d["booking_id"] == gone["id"] && d["template"] == "reminder")
    })
    .await;

    // Time passes to the reminder: it is sent; the cancelled one never is.
    app.clock.advance(jiff::SignedDuration::from_hours(14 * 24));
    let sent = log_until(&app, &host, "status=sent", |l| l.iter().any(|d| d["template"] == "reminder")).await;
    let sent: Vec<_> = sent.iter().filter(|d| d["template"] == "reminder").collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["booking_id"], kept["id"]);

    // Without an SMTP server mail is written as files; the reminder carries its one-click
    // unsubscribe link, which a mail client posts to without any cookie.
    if !common::receivers::servers_required()
        && std::process::Command::new("python3")
            .args(["-c", "import icalendar"])
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
    {
        app.stop().await;
        return;
    }
    let files: Vec<_> = std::fs::read_dir(app.dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
    let mails: Vec<Value> = files.iter().map(|f| common::receivers::read_mail(f)).collect();
    let reminder = mails.iter().find(|m| !m["list_unsubscribe"].is_null()).expect("the reminder's file");
    assert_eq!(
        mails.iter().filter(|m| !m["list_unsubscribe"].is_null()).count(),
        1,
        "only the reminder may be unsubscribed from"
    );
    let link = reminder["list_unsubscribe"].as_str().unwrap().trim_matches(['<', '>']).to_string();
    let path = link.strip_prefix("https://stay.example").expect("a link to the site").to_string();
    assert!(path.starts_with("/unsubscribe/"), "{link}");
    let form = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let stop = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 200, "one click, no cookie, no CSRF token");
    assert_eq!(app.client.post(app.url("/unsubscribe/00ff")).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(app.url("/unsubscribe/not-hex")).send().await.unwrap().status(), 404);
    let later = book_and_confirm(&app, &guest, &room_type, "kept@example.com", ("2027-03-20", "2027-03-22")).await;
    log_until(&app, &host, "", |l| {
        l.iter().any(|d| d["booking_id"] == later["id"] && d["template"] == "booking.confirmed")
    })
    .await;
    let log = app.get("/api/v1/notifications?limit=200", Some(&host)).await.body;
    let reminders = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["booking_id"] == later["id"] && d["template"] == "reminder")
        .count();
    assert_eq!(reminders, 0, "no more reminders after unsubscribing");
    app.stop().await;
}

#[tokio::test]
async fn webhook_urls_into_private_networks_or_not_https_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    let app = TestApp::with_server(server, clock, dir);
    let host = app.user("host").await;
    for url in [
        "http://hooks.example.com/x",
        "http://127.0.0.1:9/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://user:pass@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "not a url",
    ] {
        let r = app.post("/api/v1/webhooks", Some(&host), json!({"url": url, "events": ["booking.confirmed"]})).await;
        r.assert_problem(400, "webhook_url_refused");
    }
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&host),
            json!({"url": "https://hooks.example.com/x", "events": ["session.ended"]}),
        )
        .await;
    r.assert_problem(400, "webhook_events");
    let r =
        app.post("/api/v1/webhooks", Some(&host), json!({"url": "https://hooks.example.com/x", "events": []})).await;
    r.assert_problem(400, "webhook_events");
    let r = app.post("/api/v1/webhooks", Some(&host), json!({"url": 7, "events": ["booking.confirmed"]})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(app.get("/api/v1/webhooks", Some(&host)).await.body, json!([]), "nothing was made");
    let ok = app
        .post(
            "/api/v1/webhooks",
            Some(&host),
            json!({"url": "https://hooks.example.com/x", "events": ["booking.confirmed"]}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    app.stop().await;
}

/// `innkeep serve` as a process, its messages going to `hook`.
fn serve(dir: &std::path::Path, port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_LOG__LEVEL", "error")
        .env("INNKEEP_NOTIFY__WEBHOOKS__ALLOW_LOOPBACK_HTTP", "true")
        .env("INNKEEP_NOTIFY__TIMEOUT_SECS", "1")
        .env("INNKEEP_NOTIFY__WEBHOOKS__TIMEOUT_SECS", "30")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("innkeep starts")
}

#[tokio::test]
async fn kill_9_between_sending_and_recording_sends_a_message_at_most_once_more_with_the_same_id() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(dir.path(), port);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let app = TestApp::at(&base);
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let body = json!({"url": format!("{}/slow", receiver.base), "events": ["booking.confirmed"]});
    assert_eq!(app.post("/api/v1/webhooks", Some(&host), body).await.status, 201);
    // The subscriber takes the event but answers only after the node is dead.
    receiver.answer(&[Answer::Slow(Duration::from_secs(5))]);
    let guest = app.user("guest").await;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let ci = today.checked_add(jiff::Span::new().days(30)).unwrap().to_string();
    let co = today.checked_add(jiff::Span::new().days(32)).unwrap().to_string();
    book_and_confirm(&app, &guest, &room_type, "killed@example.com", (&ci, &co)).await;
    receiver.wait_for("/slow", 1, 20).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = serve(dir.path(), port);
    wait_ready(&client, &base).await;
    // The lease of the dead node runs out (4 x 1 s + 5 s) and the message is sent again.
    let taken = receiver.wait_for("/slow", 2, 40).await;
    let mut log = Value::Null;
    for _ in 0..200 {
        log = app.get("/api/v1/notifications?channel=webhook", Some(&host)).await.body;
        if log[0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log[0]["status"], "sent", "recorded as sent after the restart: {log}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let taken_after = receiver.taken("/slow");
    assert_eq!(taken_after.len(), 2, "once, and at most once more: {taken:?}");
    assert_eq!(taken[0].header("innkeep-delivery-id"), taken[1].header("innkeep-delivery-id"));
    assert_eq!(taken[0].json()["id"], taken[1].json()["id"], "the same event id: the receiver drops the second");
    assert_eq!(log[0]["attempts"], 2, "{log}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_two_nodes_on_one_database_send_every_delivery_once() {
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin).await.unwrap();
    let receiver = Receiver::start().await;
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let mut apps = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
        config.server.listen = "127.0.0.1:0".into();
        config.database.url = url.clone();
        config.web.csrf_key = "postgres-test-key-0123456789abcdef-0123".into();
        config.notify.webhooks.allow_loopback_http = true;
        let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
        apps.push(TestApp::with_server(server, clock.clone(), dir));
    }
    let (host, room_type) = room(&apps[0], "host-two-nodes@example.com").await;
    let body = json!({"url": format!("{}/both", receiver.base), "events": ["booking.held", "booking.confirmed", "booking.cancelled"]});
    assert_eq!(apps[1].post("/api/v1/webhooks", Some(&host), body).await.status, 201);
    let guest = apps[0].user("guest").await;
    let mut expected = 0;
    for i in 0..12 {
        let app = &apps[i % 2];
        let day = 10 + i;
        let r =
            app.book(&guest, &room_type, &format!("2027-04-{day:02}"), &format!("2027-04-{:02}", day + 1), None).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({})).await.status, 200);
        expected += 2;
        if i % 3 == 0 {
            assert_eq!(
                apps[(i + 1) % 2].post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), json!({})).await.status,
                200
            );
            expected += 1;
        }
    }
    receiver.wait_for("/both", expected, 30).await;
    log_until(&apps[0], &host, "channel=webhook&limit=200", |l| {
        l.len() == expected && l.iter().all(|d| d["status"] == "sent")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let taken = receiver.taken("/both");
    let ids: std::collections::HashSet<_> = taken.iter().map(|t| t.header("innkeep-delivery-id").to_string()).collect();
    assert_eq!((taken.len(), ids.len()), (expected, expected), "each delivery once, by either node");
    for app in apps {
        app.stop().await;
    }
    innkeep_store::testing::drop_postgres_database(&admin, &name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_server_errors_pages_pagerduty_and_slack_then_resolves() {
    use sqlx::Connection;
    let slack = Receiver::start().await;
    let pagerduty = Receiver::start().await;
    pagerduty.answer_by_default(202);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .env("INNKEEP_LOG__LEVEL", "error")
        .env("INNKEEP_DATABASE__STATEMENT_TIMEOUT_MS", "200")
        .env("INNKEEP_NOTIFY__SLACK_WEBHOOK_URL", format!("{}/services/T0/B0/secret", slack.base))
        .env("INNKEEP_NOTIFY__PAGERDUTY__URL", format!("{}/v2/enqueue", pagerduty.base))
        .env("INNKEEP_NOTIFY__PAGERDUTY__ROUTING_KEY", "routing-key-of-the-test")
        // A drill: every window and `for` of the rules divided by 60 (5 minutes are 5 s).
        .env("INNKEEP_NOTIFY__ALERTS__SPEEDUP", "60")
        .env("INNKEEP_NOTIFY__ALERTS__INTERVAL_SECS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("innkeep starts");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let app = TestApp::at(&base);
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 50).await;
    let guest = app.user("guest").await;

    // Another process holds the database's write lock: every booking answers 503.
    let db = dir.path().join("innkeep.db");
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut locker).await.unwrap();
    let alert = "InnkeepHttp5xxRatioHigh";
    let pages = |action: &str| {
        pagerduty
            .taken("/v2/enqueue")
            .into_iter()
            .filter(|t| {
                t.json()["event_action"] == action && t.json()["dedup_key"].as_str().unwrap_or("").ends_with(alert)
            })
            .collect::<Vec<_>>()
    };
    // The burst lasts until the page (sent straight to PagerDuty while the database is
    // locked) arrives: a loaded machine answers fewer requests a second.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (base, guest, room_type, stop) = (base.clone(), guest.clone(), room_type.clone(), stop.clone());
            tokio::spawn(async move {
                let app = TestApp::at(&base);
                let mut errors = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let r = app.book(&guest, &room_type, "2027-05-01", "2027-05-03", None).await;
                    errors += usize::from(r.status.as_u16() >= 500);
                }
                errors
            })
        })
        .collect();
    let started = std::time::Instant::now();
    while pages("trigger").is_empty() && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let errors: usize = futures::future::join_all(clients).await.into_iter().map(|e| e.unwrap()).sum();
    assert!(errors >= 3, "the burst: {errors} server errors");
    sqlx::raw_sql("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while pages("resolve").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (triggers, resolves) = (pages("trigger"), pages("resolve"));
    assert_eq!((triggers.len(), resolves.len()), (1, 1), "one page, one resolution: {:?}", pagerduty.taken("/"));
    let trigger = triggers[0].json();
    assert_eq!(trigger["routing_key"], "routing-key-of-the-test");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["dedup_key"], resolves[0].json()["dedup_key"], "the resolution closes the page");
    let posts: Vec<String> = slack.taken("/services/T0/B0/secret").iter().map(|t| t.json().to_string()).collect();
    assert!(posts.iter().filter(|p| p.contains("5xx")).count() >= 2, "fired and resolved on Slack: {posts:#?}");
    child.kill().unwrap();
    child.wait().unwrap();
}
