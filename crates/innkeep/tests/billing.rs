//! Billing hosts: commission metered once per stay at check-out (15% unless an admin sets
//! another rate, VAT on top), monthly invoices numbered without gaps per tenant and year,
//! and payouts of what a host is owed for stays that are over: never more than the
//! balance, never twice (also under racing runs), as a pain.001 file the bank's schema
//! accepts and a CSV; `innkeep ledger check` passes after each.

use crate::common;

use common::{TestApp, spawn_app};
use futures::future::join_all;
use innkeep_app::Actor;
use innkeep_app::payment::{StatementLine, check_ledger, import_statement};
use innkeep_core::{Currency, Money, Role, TenantId, UserId};
use serde_json::{Value, json};
use std::time::Duration;

fn admin() -> Actor {
    Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None)
}

async fn ledger_is_sound(app: &TestApp) {
    let report = check_ledger(&app.server.as_ref().unwrap().ports).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A property of a new host (prepay or at the property) with a room type: (host, tenant, room type).
async fn host_with_room(app: &TestApp, timing: &str) -> (String, TenantId, String) {
    let host = app.user("host").await;
    let p = app.property_paying(&host, timing).await;
    let tenant: TenantId = p["tenant_id"].as_str().unwrap().parse().unwrap();
    let property = p["id"].as_str().unwrap().to_string();
    let room_type = app.room_type(&host, &property, 5).await;
    (host, tenant, room_type)
}

/// A booking paid by bank transfer (its statement imported): (booking, total).
async fn paid_booking(app: &TestApp, guest: &str, room_type: &str, from: &str, to: &str) -> (String, i64) {
    let r = app.book(guest, room_type, from, to, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = r.body["id"].as_str().unwrap().to_string();
    let key = format!("pay-{booking}");
    let p = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{booking}/payments")))
        .bearer_auth(guest)
        .header("Idempotency-Key", key)
        .json(&json!({"method": "bank_transfer"}))
        .send()
        .await
        .unwrap();
    let p: Value = p.json().await.unwrap();
    let total = p["amount"]["minor"].as_i64().unwrap();
    let line = StatementLine {
        booking_date: None,
        amount: Money::new(total, Currency::parse("EUR").unwrap()),
        credit: true,
        references: vec![p["reference"].as_str().unwrap().to_string()],
        problem: None,
    };
    let ports = &app.server.as_ref().unwrap().ports;
    let r = import_statement(ports, &admin(), &format!("s-{booking}"), &[line], app.clock.now_for_tests()).await;
    assert_eq!(r.unwrap().paid, 1);
    (booking, total)
}

async fn act(app: &TestApp, host: &str, booking: &str, action: &str) {
    let r = app.post(&format!("/api/v1/bookings/{booking}/{action}"), Some(host), json!({})).await;
    assert_eq!(r.status, 200, "{action}: {}", r.body);
}

async fn host_balance(app: &TestApp, tenant: TenantId) -> i64 {
    let ports = &app.server.as_ref().unwrap().ports;
    let account = format!("host_payable:{tenant}");
    ports.store.ledger_balances(&account).await.unwrap().iter().map(|(_, m)| m.minor).sum()
}

/// Wait until the commission consumer has metered `n` stays of a tenant.
async fn metered(app: &TestApp, tenant: TenantId, n: usize) -> Vec<innkeep_app::billing::Commission> {
    let ports = &app.server.as_ref().unwrap().ports;
    for _ in 0..400 {
        let c = ports.store.commissions_of(tenant, None).await.unwrap();
        if c.len() >= n {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("commission not metered");
}

#[tokio::test]
async fn commission_is_metered_at_check_out_invoiced_monthly_and_paid_out_once() {
    billing_flow(spawn_app().await).await;
}

#[tokio::test]
async fn on_postgres_commission_invoices_and_payouts_hold_under_racing_runs() {
    common::on_postgres(billing_flow).await;
}

async fn billing_flow(app: TestApp) {
    let ports = app.server.as_ref().unwrap().ports.clone();
    let (host, tenant, room_type) = host_with_room(&app, "prepay").await;
    let (other_host, other_tenant, other_room) = host_with_room(&app, "at_property").await;
    let guest = app.user("guest").await;

    // Two paid stays in January; one ends, the other is still to come.
    let (done, total) = paid_booking(&app, &guest, &room_type, "2027-01-05", "2027-01-07").await;
    let (future, future_total) = paid_booking(&app, &guest, &room_type, "2027-03-01", "2027-03-03").await;
    act(&app, &host, &done, "check-in").await;
    act(&app, &host, &done, "complete").await;
    let c = metered(&app, tenant, 1).await;
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].rate_bp, c[0].base.minor), (1500, total), "15% of the stay unless set");
    let net = (total * 1500 + 5000) / 10_000;
    assert_eq!(c[0].net.minor, net);
    assert_eq!(c[0].tax.minor, (net * 2000 + 5000) / 10_000, "VAT 20% on the commission");
    assert_eq!(c[0].month, "2027-01");
    // The balance: both payments received, less the commission of the completed stay.
    assert_eq!(host_balance(&app, tenant).await, -(total + future_total - c[0].net.minor - c[0].tax.minor));

    // An admin sets the other tenant's rate; a host cannot, and sees its own only.
    let path = format!("/api/v1/tenants/{other_tenant}/commission");
    let r = app.call(reqwest::Method::PUT, &path, Some(&other_host), Some(json!({"rate_bp": 100}))).await;
    r.assert_problem(403, "forbidden");
    innkeep_app::billing::set_rate(&ports, &admin(), other_tenant, 1000).await.unwrap();
    let r = innkeep_app::billing::set_rate(&ports, &admin(), other_tenant, 10_001).await;
    assert!(r.is_err());
    let r = app.get(&path, Some(&other_host)).await;
    assert_eq!(r.body["rate_bp"], 1000);
    assert_eq!(app.get(&path, Some(&host)).await.status, 404);
    // An at-property stay: the guest paid the property; the host owes the commission.
    let r = app.book(&guest, &other_room, "2027-01-10", "2027-01-12", None).await;
    let at_property = r.body["id"].as_str().unwrap().to_string();
    let at_total = r.body["total"]["minor"].as_i64().unwrap();
    act(&app, &guest, &at_property, "confirm").await;
    act(&app, &other_host, &at_property, "check-in").await;
    act(&app, &other_host, &at_property, "complete").await;
    let oc = metered(&app, other_tenant, 1).await;
    assert_eq!(oc[0].net.minor, (at_total * 1000 + 5000) / 10_000, "10% as set");
    assert!(host_balance(&app, other_tenant).await > 0, "the host owes the platform");
    // Metering the same stay again changes nothing.
    let b = ports.store.booking(at_property.parse().unwrap()).await.unwrap().unwrap();
    assert!(innkeep_app::billing::meter(&ports, &b, app.clock.now_for_tests()).await.unwrap().is_none());
    ledger_is_sound(&app).await;

    // In February January's invoices are issued: one per tenant, numbered from 1.
    assert!(innkeep_app::billing::issue_invoices(&ports, app.clock.now_for_tests()).await.unwrap().is_empty());
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 28));
    let issued = innkeep_app::billing::issue_invoices(&ports, app.clock.now_for_tests()).await.unwrap();
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().all(|i| i.number == "2027-000001" && i.month == "2027-01"), "{issued:?}");
    assert!(innkeep_app::billing::issue_invoices(&ports, app.clock.now_for_tests()).await.unwrap().is_empty());
    let mine = app.get("/api/v1/invoices", Some(&host)).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1, "{}", mine.body);
    let id = mine.body[0]["id"].as_str().unwrap();
    let inv = app.get(&format!("/api/v1/invoices/{id}"), Some(&host)).await;
    assert_eq!(inv.body["lines"].as_array().unwrap().len(), 1);
    assert_eq!(inv.body["total"]["minor"], c[0].net.minor + c[0].tax.minor);
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&other_host)).await.status, 404);
    assert_eq!(app.get("/api/v1/invoices", Some(&guest)).await.status, 403);

    // Payouts: only to a host with a valid account, only for stays that are over.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/payouts/account",
            Some(&host),
            Some(json!({"name": "Casa Azul Lda", "iban": "DE89 3704 0044 0532 0130 01"})),
        )
        .await;
    r.assert_problem(400, "invalid_iban");
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/payouts/account",
            Some(&host),
            Some(json!({"name": "Casa Azul Lda", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let before = host_balance(&app, tenant).await;
    // Eight runs at once: the host is paid once, what it earned.
    let runs = join_all((0..8).map(|_| innkeep_app::billing::run_payouts(&ports, app.clock.now_for_tests()))).await;
    let paid: Vec<_> = runs.into_iter().flat_map(|r| r.unwrap().payouts).collect();
    assert_eq!(paid.len(), 1, "{paid:?}");
    let earned = total - c[0].net.minor - c[0].tax.minor;
    assert_eq!(paid[0].amount.minor, earned, "the completed stay less its commission; not the stay to come");
    assert_eq!(host_balance(&app, tenant).await, before + earned);
    assert_eq!(host_balance(&app, tenant).await, -future_total, "what is held for the stay to come");
    let again = innkeep_app::billing::run_payouts(&ports, app.clock.now_for_tests()).await.unwrap();
    assert!(again.payouts.is_empty(), "never twice");
    ledger_is_sound(&app).await;

    // The host sees its payout; the bank file passes the pain.001 schema.
    let seen = app.get("/api/v1/payouts", Some(&host)).await;
    assert_eq!(seen.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/payouts", Some(&other_host)).await.body.as_array().unwrap().len(), 0);
    let batch = paid[0].batch_id;
    let r = app.get(&format!("/api/v1/payouts/batches/{batch}?format=pain001"), Some(&host)).await;
    assert_eq!(r.status, 403);
    let payouts = ports.store.payouts(None, Some(batch)).await.unwrap();
    let body =
        innkeep_http::api::billing::batch_file(&ports.settings.payments.bank, batch, &payouts, "pain001").unwrap();
    check_pain001(&body);
    let csv = innkeep_http::api::billing::batch_file(&ports.settings.payments.bank, batch, &payouts, "csv").unwrap();
    assert!(csv.contains("DE89370400440532013000"), "{csv}");
    assert_eq!(app.get(&format!("/api/v1/bookings/{future}"), Some(&guest)).await.body["status"], "confirmed");
}

fn check_pain001(xml: &str) {
    assert!(xml.contains("DE89370400440532013000"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/../payments/tests/xsd/pain.001.001.03.xsd");
    match std::process::Command::new("xmllint").args(["--noout", "--schema", xsd]).arg(&file).output() {
        Ok(out) => assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => assert!(std::env::var_os("INNKEEP_TEST_REQUIRE_SERVERS").is_none(), "xmllint: {e}"),
    }
}
