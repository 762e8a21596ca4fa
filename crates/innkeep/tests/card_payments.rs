//! Paying by card through the provider adapter, against the fake provider process (a FAKE
//! of Stripe's published API; see tests/fake_stripe): the provider is called from the
//! payments consumer, never in a guest's request, once per payment whatever races; its
//! signed events capture the money, confirm the booking and post the ledger, each once and
//! forward only; refunds reach the card; a failing provider delays a payment and fails no
//! booking; `kill -9` while the consumer is calling the provider charges nobody twice.

use crate::common;

use common::fake_stripe::{FakeStripe, SECRET_KEY, WEBHOOK_SECRET, sign};
use common::{Reply, TestApp};
use futures::future::join_all;
use innkeep_app::payment::check_ledger;
use serde_json::{Value, json};
use std::time::Duration;

fn config_for(fake: &FakeStripe, dir: &std::path::Path) -> innkeep::config::Config {
    let mut config = innkeep::config::Config { data_dir: dir.to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.payments.stripe.base_url = fake.base.clone();
    config.payments.stripe.secret_key = SECRET_KEY.into();
    config.payments.stripe.webhook_secret = WEBHOOK_SECRET.into();
    config.payments.stripe.checkout_url =
        format!("{}/_fake/checkout/{{id}}?client_secret={{client_secret}}", fake.base);
    config
}

/// A server that takes card payments from the fake, and the fake sending it events.
async fn card_app() -> (TestApp, FakeStripe) {
    let fake = FakeStripe::start();
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config_for(&fake, dir.path()), clock.clone(), false).await.unwrap();
    let app = TestApp::with_server(server, clock, dir);
    fake.send_webhooks_to(&app.url("/api/v1/payments/webhooks/stripe")).await;
    (app, fake)
}

/// A prepay property's room type (three units) of a new host: (host, room type).
async fn prepay_room(app: &TestApp) -> (String, String) {
    let host = app.user("host").await;
    let property = app.property_paying(&host, "prepay").await["id"].as_str().unwrap().to_string();
    let room_type = app.room_type(&host, &property, 3).await;
    (host, room_type)
}

async fn pay_by_card(app: &TestApp, guest: &str, booking: &str, key: &str) -> Reply {
    let req = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{booking}/payments")))
        .bearer_auth(guest)
        .header("Idempotency-Key", key)
        .json(&json!({"method": "card"}));
    Reply::from(req.send().await.unwrap()).await
}

/// Poll a resource until `done` holds (at most 20 s).
async fn until(app: &TestApp, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let r = app.get(path, Some(token)).await;
        if done(&r.body) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never got there: {}", app.get(path, Some(token)).await.body);
}

async fn ledger_is_sound(app: &TestApp) {
    let report = check_ledger(&app.server.as_ref().unwrap().ports).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

async fn balance(app: &TestApp, account: &str) -> i64 {
    let ports = &app.server.as_ref().unwrap().ports;
    ports.store.ledger_balances(account).await.unwrap().iter().filter(|(a, _)| a == account).map(|(_, m)| m.minor).sum()
}

#[tokio::test]
async fn a_guest_pays_a_held_booking_by_card_once_and_refunds_reach_the_card() {
    let (app, fake) = card_app().await;
    let (host, room_type) = prepay_room(&app).await;
    let guest = app.user("guest").await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let total = r.body["total"]["minor"].as_i64().unwrap();

    // 32 identical payment requests at once: one payment, one provider call.
    let replies = join_all((0..32).map(|_| pay_by_card(&app, &guest, &booking, "card-1"))).await;
    let ids: std::collections::HashSet<&str> = replies.iter().map(|r| r.body["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1, "one payment: {ids:?}");
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1, "one created, the rest replayed");
    assert!(replies.iter().all(|r| r.status == 201 || r.status == 200));
    let payment = ids.into_iter().next().unwrap().to_string();
    assert_eq!(replies[0].body["status"], "requires_action");
    assert!(replies[0].body["reference"].is_null(), "a card payment quotes no transfer reference");

    // The consumer makes the provider's payment; the guest sees where to confirm it.
    let path = format!("/api/v1/payments/{payment}");
    let p = until(&app, &path, &guest, |p| p["checkout_url"].is_string()).await;
    let intent = p["provider_id"].as_str().unwrap().to_string();
    let secret = p["client_secret"].as_str().unwrap().to_string();
    let creates = fake.calls_to("POST", "/v1/payment_intents").await;
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert_eq!(creates[0]["idempotency_key"], format!("innkeep-payment-{payment}"));
    assert_eq!(creates[0]["stripe_version"], "2024-06-20");
    assert_eq!(creates[0]["params"]["amount"], total.to_string());
    assert_eq!(creates[0]["params"]["currency"], "eur");
    assert_eq!(creates[0]["params"]["metadata[payment_id]"], payment);
    // The host sees the payment, never the guest's client secret.
    let seen = app.get(&path, Some(&host)).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.get("client_secret").is_none() && seen.body.get("checkout_url").is_none(), "{}", seen.body);

    // The guest pays on the provider's page; the provider's event confirms the booking.
    assert_eq!(fake.confirm(&intent, &secret, "pm_card_visa").await, 303);
    let p = until(&app, &path, &guest, |p| p["status"] == "succeeded").await;
    assert_eq!(p["received"]["minor"], total);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");
    assert_eq!(balance(&app, "provider_clearing").await, total);
    ledger_is_sound(&app).await;

    // A partial refund by the host, then the guest cancels (flexible: the rest comes back):
    // each reaches the card once, under its own key, never more than was captured.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/payments/{payment}/refunds")))
        .bearer_auth(&host)
        .header("Idempotency-Key", "refund-1")
        .json(&json!({"amount": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app.post(&format!("/api/v1/bookings/{booking}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refunds_path = format!("/api/v1/payments/{payment}/refunds");
    let refunds = until(&app, &refunds_path, &guest, |r| {
        r.as_array().is_some_and(|a| a.len() == 2 && a.iter().all(|r| r["status"] == "succeeded"))
    })
    .await;
    let refunded: i64 = refunds.as_array().unwrap().iter().map(|r| r["amount"]["minor"].as_i64().unwrap()).sum();
    assert_eq!(refunded, total, "all of it came back");
    let at_provider = fake.read("refunds").await;
    assert_eq!(at_provider.len(), 2, "{at_provider:?}");
    let provider_total: i64 = at_provider.iter().map(|r| r["amount"].as_i64().unwrap()).sum();
    assert_eq!(provider_total, total, "the card got back what was captured, no more");
    for call in fake.calls_to("POST", "/v1/refunds").await {
        assert!(call["idempotency_key"].as_str().unwrap().starts_with("innkeep-refund-"), "{call}");
    }
    assert_eq!(balance(&app, "provider_clearing").await, 0);
    assert_eq!(balance(&app, "refunds").await, 0, "every refund owed was paid");
    ledger_is_sound(&app).await;
}

#[tokio::test]
async fn provider_events_apply_once_forward_only_and_only_when_signed() {
    let (app, fake) = card_app().await;
    let (_host, room_type) = prepay_room(&app).await;
    let guest = app.user("guest").await;
    let r = app.book(&guest, &room_type, "2027-03-01", "2027-03-02", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let payment = pay_by_card(&app, &guest, &booking, "card-2").await.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/payments/{payment}");
    let p = until(&app, &path, &guest, |p| p["client_secret"].is_string()).await;
    let (intent, secret) = (p["provider_id"].as_str().unwrap(), p["client_secret"].as_str().unwrap());

    // A declined card fails the payment; the hold stays, nothing is posted.
    assert_eq!(fake.confirm(intent, secret, "pm_card_chargeDeclined").await, 303);
    let p = until(&app, &path, &guest, |p| p["status"] == "failed").await;
    assert!(p["failure"].as_str().unwrap().contains("declined"), "{p}");
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "held");
    assert_eq!(balance(&app, "provider_clearing").await, 0);
    // The guest tries another card on the same provider payment: it succeeds, and the
    // captured money is recorded though the payment had failed.
    assert_eq!(fake.confirm(intent, secret, "pm_card_visa").await, 303);
    until(&app, &path, &guest, |p| p["status"] == "succeeded").await;
    fake.delivered().await;
    let captured = balance(&app, "provider_clearing").await;
    assert!(captured > 0);

    // Delivered twice, or the old failure arriving late: nothing changes.
    let failed = fake.events("payment_intent.payment_failed").await;
    let succeeded = fake.events("payment_intent.succeeded").await;
    fake.resend(succeeded[0]["id"].as_str().unwrap()).await;
    fake.resend(failed[0]["id"].as_str().unwrap()).await;
    fake.delivered().await;
    let p = app.get(&path, Some(&guest)).await.body;
    assert_eq!(p["status"], "succeeded");
    assert_eq!(balance(&app, "provider_clearing").await, captured, "captured once");

    // Unsigned, badly signed, stale, or signed with another secret: refused, nothing changes.
    let webhook = app.url("/api/v1/payments/webhooks/stripe");
    let body = json!({"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded", "created": 1,
        "data": {"object": {"id": intent, "object": "payment_intent", "amount": 1, "amount_received": 1,
            "currency": "eur", "status": "succeeded", "metadata": {"payment_id": payment}}}})
    .to_string();
    let now = jiff::Timestamp::now().as_second();
    let post = |sig: Option<String>, body: String| {
        let mut req = app.client.post(&webhook).header("content-type", "application/json").body(body);
        if let Some(s) = sig {
            req = req.header("Stripe-Signature", s);
        }
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    post(None, body.clone()).await.assert_problem(400, "invalid_signature");
    post(Some(sign(&body, "whsec_someone_else", now)), body.clone()).await.assert_problem(400, "invalid_signature");
    post(Some(sign(&body, WEBHOOK_SECRET, now - 3600)), body.clone()).await.assert_problem(400, "invalid_signature");
    post(Some("t=abc,v1=00".into()), body.clone()).await.assert_problem(400, "invalid_signature");
    let altered = body.replace("\"amount\":1", "\"amount\":2");
    post(Some(sign(&body, WEBHOOK_SECRET, now)), altered).await.assert_problem(400, "invalid_signature");
    assert_eq!(balance(&app, "provider_clearing").await, captured);

    // Several v1 signatures (a secret being rolled): one that holds suffices. An event about
    // a payment that is past it changes nothing; one naming no payment of ours is taken.
    let good = sign(&body, WEBHOOK_SECRET, now);
    let v1 = good.split_once(",v1=").unwrap().1;
    let rolled = format!("t={now},v1={},v1={v1}", "0".repeat(64));
    let r = post(Some(rolled), body.clone()).await;
    assert_eq!((r.status.as_u16(), &r.body["applied"]), (200, &json!(false)), "{}", r.body);
    let stranger = body.replace(intent, "pi_not_ours").replace(&payment, "00000000-0000-0000-0000-000000000000");
    let r = post(Some(sign(&stranger, WEBHOOK_SECRET, now)), stranger).await;
    assert_eq!((r.status.as_u16(), &r.body["applied"]), (200, &json!(false)), "{}", r.body);
    let garbage = "{\"not\": \"an event\"}".to_string();
    post(Some(sign(&garbage, WEBHOOK_SECRET, now)), garbage).await.assert_problem(400, "invalid_event");
    assert_eq!(balance(&app, "provider_clearing").await, captured);
    ledger_is_sound(&app).await;
}

#[tokio::test]
async fn a_failing_provider_delays_a_card_payment_and_fails_no_booking() {
    let (app, fake) = card_app().await;
    let (_host, room_type) = prepay_room(&app).await;
    let guest = app.user("guest").await;
    fake.config(json!({"fail_next": 3, "fail_status": 503})).await;
    let r = app.book(&guest, &room_type, "2027-04-01", "2027-04-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let r = pay_by_card(&app, &guest, &booking, "card-3").await;
    assert_eq!(r.status, 201, "the guest's request never waits for the provider: {}", r.body);
    let payment = r.body["id"].as_str().unwrap().to_string();
    let p = until(&app, &format!("/api/v1/payments/{payment}"), &guest, |p| p["provider_id"].is_string()).await;
    assert_eq!(p["status"], "requires_action");
    let creates = fake.calls_to("POST", "/v1/payment_intents").await;
    assert_eq!(creates.len(), 4, "three failures, then the same call again: {creates:?}");
    assert!(creates.iter().all(|c| c["idempotency_key"] == format!("innkeep-payment-{payment}")));
    assert_eq!(fake.read("intents").await.len(), 1);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "held", "the booking waits, it does not fail");
}

/// A read of `path` with `headers`: its status, ETag, Preference-Applied and body.
async fn read_with(app: &TestApp, path: &str, token: &str, headers: &[(&str, &str)]) -> (u16, String, String, Value) {
    let mut req = app.client.get(app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (status, etag, applied) = (r.status().as_u16(), header("etag"), header("preference-applied"));
    let body = if status == 200 { r.json().await.unwrap() } else { Value::Null };
    (status, etag, applied, body)
}

#[tokio::test]
async fn a_paying_guest_is_answered_when_the_payment_and_the_booking_move_on() {
    let (app, fake) = card_app().await;
    let (_host, room_type) = prepay_room(&app).await;
    let guest = app.user("guest").await;
    let stranger = app.user("guest").await;
    let r = app.book(&guest, &room_type, "2027-05-01", "2027-05-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let r = pay_by_card(&app, &guest, &booking, "card-wait").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let payment = format!("/api/v1/payments/{}", r.body["id"].as_str().unwrap());

    // The guest waits for the client secret instead of polling: every waiting read is
    // answered by a change (200), not by the end of its wait (304).
    let (status, mut etag, _, mut p) = read_with(&app, &payment, &guest, &[]).await;
    assert_eq!(status, 200);
    assert!(etag.starts_with('"') && etag.len() > 2, "a strong ETag: {etag}");
    while !p["client_secret"].is_string() {
        let (status, tag, applied, body) =
            read_with(&app, &payment, &guest, &[("If-None-Match", &etag), ("Prefer", "wait=20")]).await;
        assert_eq!((status, applied.as_str()), (200, "wait=20"), "answered when the payment changed");
        assert_ne!(tag, etag);
        (etag, p) = (tag, body);
    }
    let (intent, secret) = (p["provider_id"].as_str().unwrap(), p["client_secret"].as_str().unwrap());

    // The booking: held; a waiting read is answered `confirmed` when the provider's event is in.
    let path = format!("/api/v1/bookings/{booking}");
    let (status, held_tag, _, b) = read_with(&app, &path, &guest, &[]).await;
    assert_eq!((status, b["status"].as_str()), (200, Some("held")));
    assert_eq!(fake.confirm(intent, secret, "pm_card_visa").await, 303);
    let (status, tag, _, b) =
        read_with(&app, &path, &guest, &[("If-None-Match", &held_tag), ("Prefer", "wait=20")]).await;
    assert_eq!((status, b["status"].as_str()), (200, Some("confirmed")), "{b}");
    assert_ne!(tag, held_tag);

    // Nothing moves now: the current tag is 304 at once, and after a wait asked for.
    let (status, current, _, _) = read_with(&app, &path, &guest, &[]).await;
    assert_eq!((status, current.as_str()), (200, tag.as_str()), "the same state, the same tag");
    let (status, _, applied, _) = read_with(&app, &path, &guest, &[("If-None-Match", &tag)]).await;
    assert_eq!((status, applied.as_str()), (304, ""));
    let (status, again, applied, _) =
        read_with(&app, &path, &guest, &[("If-None-Match", &tag), ("Prefer", "wait=1")]).await;
    assert_eq!((status, again.as_str(), applied.as_str()), (304, tag.as_str(), "wait=1"));
    let (status, _, _, _) = read_with(&app, &path, &guest, &[("If-None-Match", "\"stale\", *")]).await;
    assert_eq!(status, 304, "`*` names any current state");
    let (status, _, _, _) = read_with(&app, &path, &guest, &[("If-None-Match", "\"stale\"")]).await;
    assert_eq!(status, 200);

    // Someone else's payment or booking is not found, whatever the headers.
    for path in [&payment, &path] {
        let (status, _, _, _) =
            read_with(&app, path, &stranger, &[("If-None-Match", "*"), ("Prefer", "wait=20")]).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(app.server.as_ref().unwrap().ports.changes.waited_on(), 0, "no wait is left behind");
}

/// A server process, killed when dropped.
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path, port: u16, fake: &FakeStripe) -> Node {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .env("INNKEEP_PAYMENTS__STRIPE__BASE_URL", &fake.base)
        .env("INNKEEP_PAYMENTS__STRIPE__SECRET_KEY", SECRET_KEY)
        .env("INNKEEP_PAYMENTS__STRIPE__WEBHOOK_SECRET", WEBHOOK_SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("innkeep starts");
    Node(child)
}

#[tokio::test]
async fn kill_9_while_calling_the_provider_charges_once_and_loses_no_payment() {
    let fake = FakeStripe::start();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut node = serve(dir.path(), port, &fake);
    let client = reqwest::Client::new();
    common::wait_ready(&client, &base).await;
    fake.send_webhooks_to(&format!("{base}/api/v1/payments/webhooks/stripe")).await;
    // The harness's helpers over the process's address (no in-process server).
    let app = TestApp::at(&base);
    let (_host, room_type) = prepay_room(&app).await;
    let guest = app.user("guest").await;
    let r = app.book(&guest, &room_type, "2027-05-01", "2027-05-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();

    // The provider is slow: the consumer's call is in flight when the server dies.
    fake.config(json!({"delay_ms": 3000})).await;
    let r = pay_by_card(&app, &guest, &booking, "card-kill").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let payment = r.body["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        if !fake.calls_to("POST", "/v1/payment_intents").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let in_flight = fake.calls_to("POST", "/v1/payment_intents").await;
    assert_eq!(in_flight.len(), 1, "{in_flight:?}");
    assert!(in_flight[0]["status"].is_null(), "killed while the call is in flight: {in_flight:?}");
    let _ = node.0.kill();
    let _ = node.0.wait();
    fake.config(json!({"delay_ms": 0})).await;

    // Restarted on the same data: the payment is there and the call is made again, with the
    // same key, so the provider makes one payment.
    let _node = serve(dir.path(), port, &fake);
    common::wait_ready(&client, &base).await;
    let path = format!("/api/v1/payments/{payment}");
    let p = until(&app, &path, &guest, |p| p["client_secret"].is_string()).await;
    assert_eq!(fake.read("intents").await.len(), 1, "one provider payment");
    let creates = fake.calls_to("POST", "/v1/payment_intents").await;
    assert!(creates.len() >= 2, "called again after the restart: {creates:?}");
    assert!(creates.iter().all(|c| c["idempotency_key"] == format!("innkeep-payment-{payment}")), "{creates:?}");
    assert_eq!(p["provider_id"], fake.read("intents").await[0]["id"]);

    // And it is paid once.
    let (intent, secret) = (p["provider_id"].as_str().unwrap(), p["client_secret"].as_str().unwrap());
    assert_eq!(fake.confirm(intent, secret, "pm_card_visa").await, 303);
    until(&app, &path, &guest, |p| p["status"] == "succeeded").await;
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");
    let payments = app.get(&format!("/api/v1/bookings/{booking}/payments"), Some(&guest)).await;
    assert_eq!(payments.body.as_array().unwrap().len(), 1);
    assert_eq!(fake.read("charges").await.len(), 1, "charged once");
}
