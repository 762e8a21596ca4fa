//! Paying by bank transfer: a guest starts a payment and gets a reference; imported
//! statement lines quoting it pay it (in full, in parts, too much), confirm the held
//! booking, and every movement is a balanced ledger entry; lines that match nothing are
//! reported and held, never dropped; importing again changes nothing; racing requests
//! with one Idempotency-Key make one payment.

use crate::common;

use common::{Reply, TestApp, spawn_app};
use futures::future::join_all;
use innkeep_app::Actor;
use innkeep_app::payment::{LineOutcome, StatementLine, check_ledger, import_statement};
use innkeep_core::{Currency, Money, Role, UserId};
use serde_json::{Value, json};

async fn pay(app: &TestApp, token: &str, booking: &str, key: Option<&str>, method: &str) -> Reply {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{booking}/payments")))
        .bearer_auth(token)
        .json(&json!({"method": method}));
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    Reply::from(req.send().await.expect("sent")).await
}

fn admin() -> Actor {
    Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None)
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

fn credit(minor: i64, reference: &str) -> StatementLine {
    StatementLine {
        booking_date: None,
        amount: eur(minor),
        credit: true,
        references: vec![reference.into()],
        problem: None,
    }
}

/// A held booking of guest `guest` and its open bank-transfer payment.
async fn held_and_paying(
    app: &TestApp,
    guest: &str,
    room_type: &str,
    from: &str,
    to: &str,
    key: &str,
) -> (String, Value) {
    let r = app.book(guest, room_type, from, to, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = r.body["id"].as_str().unwrap().to_string();
    let r = pay(app, guest, &booking, Some(key), "bank_transfer").await;
    assert_eq!(r.status, 201, "{}", r.body);
    (booking, r.body)
}

async fn ledger_is_sound(app: &TestApp) -> innkeep_app::payment::LedgerReport {
    let report = check_ledger(&app.server.as_ref().unwrap().ports).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report
}

#[tokio::test]
async fn a_bank_transfer_quoting_the_reference_pays_and_confirms_the_booking() {
    transfer_pays_and_confirms(spawn_app().await).await;
}

#[tokio::test]
async fn on_postgres_a_bank_transfer_pays_and_confirms_the_booking() {
    common::on_postgres(transfer_pays_and_confirms).await;
}

async fn transfer_pays_and_confirms(app: TestApp) {
    let ports = &app.server.as_ref().unwrap().ports;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let other = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (booking, p) = held_and_paying(&app, &guest, &room_type, "2027-02-01", "2027-02-03", "pay-1").await;
    assert_eq!(p["status"], "requires_action");
    let booked = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(p["amount"], booked.body["total"], "a payment asks the booking's total");
    let total = p["amount"]["minor"].as_i64().unwrap();
    assert_eq!(p["received"]["minor"], 0);
    let reference = p["reference"].as_str().unwrap().to_string();
    assert!(innkeep_core::payment::parse_rf(&reference).is_some(), "{reference} is an ISO 11649 reference");
    assert_eq!(p["instructions"]["reference"], reference);
    assert_eq!(p["instructions"]["amount"]["minor"], total);

    // The same key answers the same payment; a second payment while one is open is refused;
    // a payment without a key, by card (no provider here), or of someone else's booking too.
    let again = pay(&app, &guest, &booking, Some("pay-1"), "bank_transfer").await;
    assert_eq!((again.status.as_u16(), &again.body["id"]), (200, &p["id"]));
    pay(&app, &guest, &booking, Some("pay-2"), "bank_transfer").await.assert_problem(409, "conflict");
    pay(&app, &guest, &booking, None, "bank_transfer").await.assert_problem(400, "idempotency_key_required");
    pay(&app, &guest, &booking, Some("pay-3"), "card").await.assert_problem(400, "method_unavailable");
    pay(&app, &other, &booking, Some("pay-4"), "bank_transfer").await.assert_problem(404, "not_found");
    let r = app.call(reqwest::Method::POST, &format!("/api/v1/bookings/{booking}/payments"), Some(&guest), None).await;
    assert!(r.status == 400 || r.status == 415, "{}", r.status);

    // The statement: the transfer (the reference spaced, inside other text), a credit
    // nobody can match, and a debit.
    let spaced: String = reference
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    let lines = vec![
        credit(total, &format!("Booking {spaced} Lisbon")),
        credit(5000, "birthday money"),
        StatementLine { credit: false, ..credit(1200, "bank fees") },
    ];
    let now = app.clock.now_for_tests();
    let report = import_statement(ports, &admin(), "stmt-1", &lines, now).await.unwrap();
    let outcomes: Vec<LineOutcome> = report.lines.iter().map(|l| l.outcome).collect();
    assert_eq!(outcomes, [LineOutcome::Paid, LineOutcome::Unmatched, LineOutcome::Debit]);
    assert_eq!((report.paid, report.to_review, report.duplicates), (1, 1, 0));

    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed", "{}", b.body);
    let paid = app.get(&format!("/api/v1/payments/{}", p["id"].as_str().unwrap()), Some(&guest)).await;
    assert_eq!(paid.body["status"], "succeeded");
    assert_eq!(paid.body["received"]["minor"], total);
    assert!(paid.body["instructions"].is_null());
    let listed = app.get(&format!("/api/v1/bookings/{booking}/payments"), Some(&host)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    // The same statement again changes nothing.
    let report = import_statement(ports, &admin(), "stmt-1", &lines, now).await.unwrap();
    assert_eq!(report.duplicates, 3);
    // Only admins import.
    let host_actor = Actor { role: Role::Host, ..admin() };
    assert!(import_statement(ports, &host_actor, "stmt-x", &lines, now).await.is_err());

    // The books: the bank holds both credits; the host is owed the stay; the stranger's
    // money is held for them.
    let report = ledger_is_sound(&app).await;
    assert_eq!(report.entries, 2);
    let balances: Vec<(String, Money)> = ports.store.ledger_balances("").await.unwrap();
    let of = |name: &str| balances.iter().find(|(a, _)| a.starts_with(name)).map(|(_, m)| m.minor);
    assert_eq!(of("bank"), Some(total + 5000));
    assert_eq!(of("host_payable:"), Some(-total));
    assert_eq!(of("guest_receivable"), Some(-5000));
    let unmatched = ports.store.statement_lines(Some(LineOutcome::Unmatched), 10).await.unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].amount, eur(5000));
}

#[tokio::test]
async fn part_payments_add_up_and_money_after_expiry_is_owed_back() {
    let app = spawn_app().await;
    let ports = &app.server.as_ref().unwrap().ports;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let now = app.clock.now_for_tests();

    // Half, then the rest and a little more.
    let (booking, p) = held_and_paying(&app, &guest, &room_type, "2027-02-01", "2027-02-03", "k1").await;
    let reference = p["reference"].as_str().unwrap();
    let total = p["amount"]["minor"].as_i64().unwrap();
    let r = import_statement(ports, &admin(), "a", &[credit(10000, reference)], now).await.unwrap();
    assert_eq!(r.lines[0].outcome, LineOutcome::Underpaid);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "held", "not confirmed until paid in full");
    let open = app.get(&format!("/api/v1/payments/{}", p["id"].as_str().unwrap()), Some(&guest)).await;
    assert_eq!(open.body["instructions"]["amount"]["minor"], total - 10000, "the instructions ask for the rest");
    let r = import_statement(ports, &admin(), "b", &[credit(total - 10000 + 500, reference)], now).await.unwrap();
    assert_eq!(r.lines[0].outcome, LineOutcome::Overpaid);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");
    // A transfer quoting a paid payment is held for the guest.
    let r = import_statement(ports, &admin(), "c", &[credit(20000, reference)], now).await.unwrap();
    assert_eq!(r.lines[0].outcome, LineOutcome::NotOpen);

    // A hold that expires before its transfer arrives: the payment is received, the guest
    // is owed it back, the nights stay free.
    let (late, p2) = held_and_paying(&app, &guest, &room_type, "2027-03-01", "2027-03-02", "k2").await;
    app.clock.advance(jiff::SignedDuration::from_hours(1));
    let expired = innkeep_app::booking::expire_holds(ports, app.clock.now_for_tests()).await.unwrap();
    assert!(expired >= 1);
    let r2 = p2["reference"].as_str().unwrap();
    let late_total = p2["amount"]["minor"].as_i64().unwrap();
    let r = import_statement(ports, &admin(), "d", &[credit(late_total, r2)], app.clock.now_for_tests()).await.unwrap();
    assert_eq!(r.lines[0].outcome, LineOutcome::Paid);
    let b = app.get(&format!("/api/v1/bookings/{late}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "expired");
    let paid = app.get(&format!("/api/v1/payments/{}", p2["id"].as_str().unwrap()), Some(&guest)).await;
    assert_eq!(
        (paid.body["status"].as_str(), paid.body["refunded"]["minor"].as_i64()),
        (Some("succeeded"), Some(late_total))
    );

    ledger_is_sound(&app).await;
    let balances = ports.store.ledger_balances("").await.unwrap();
    let of = |name: &str| balances.iter().find(|(a, _)| a.starts_with(name)).map(|(_, m)| m.minor);
    // In: the first stay and 5.00 more, 200.00 quoting a paid payment, the late stay; the
    // host is owed the confirmed stay only, the late stay is owed back to its guest.
    assert_eq!(of("bank"), Some(total + 500 + 20000 + late_total));
    assert_eq!(of("host_payable:"), Some(-total));
    assert_eq!(of("refunds"), Some(-late_total));
    assert_eq!(of("guest_receivable"), Some(-20500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_racing_requests_with_one_key_make_one_payment() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let replies = join_all((0..32).map(|_| pay(&app, &guest, &booking, Some("race"), "bank_transfer"))).await;
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert!(r.status == 201 || r.status == 200, "{} {}", r.status, r.body);
            r.body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one payment for one key");
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1, "one creation, the rest replays");
    // With 32 different keys, still one open payment.
    let replies = join_all((0..32).map(|i| {
        let key = format!("k{i}");
        let (app, guest, booking) = (&app, &guest, &booking);
        async move { pay(app, guest, booking, Some(&key), "bank_transfer").await }
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 409 || r.status == 200), "the open payment refuses others");
    let listed = app.get(&format!("/api/v1/bookings/{booking}/payments"), Some(&guest)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
}

/// An admin's token (admins are made by the operator, not the API).
async fn admin_token(app: &TestApp) -> String {
    let ports = &app.server.as_ref().unwrap().ports;
    let email = "olga@example.com";
    let cmd = innkeep_app::auth::Register {
        email: email.into(),
        password: "correct horse battery".into(),
        name: "Olga".into(),
        role: Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": "correct horse battery"})).await;
    let token = r.body["token"].as_str().unwrap().to_string();
    common::enrol_two_factor(app, &token).await;
    token
}

async fn import(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>, key: &str) -> Reply {
    let r = app
        .client
        .post(app.url("/api/v1/payments/statements"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("Idempotency-Key", key)
        .body(body)
        .send()
        .await
        .expect("sent");
    Reply::from(r).await
}

#[tokio::test]
async fn every_camt053_statement_of_the_corpus_imports_and_a_csv_statement_pays_a_booking() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../payments/tests/corpus/camt053");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "the corpus has its statements");
    let mut lines = 0;
    for f in &files {
        let r = import(&app, &admin, "application/xml", std::fs::read(f).unwrap(), &f.display().to_string()).await;
        assert_eq!(r.status, 200, "{}: {}", f.display(), r.body);
        for s in r.body["statements"].as_array().unwrap() {
            lines += s["lines"].as_array().unwrap().len() + s["unreadable"].as_array().unwrap().len();
        }
        // Again: every line a duplicate.
        let again = import(&app, &admin, "application/xml", std::fs::read(f).unwrap(), "again").await;
        assert_eq!(again.body["paid"], 0);
        assert_eq!(
            again.body["duplicates"].as_u64().unwrap() as usize,
            again.body["statements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["lines"].as_array().unwrap().len())
                .sum::<usize>()
        );
    }
    assert!(lines > 40, "{lines} lines read");
    ledger_is_sound(&app).await;

    // A CSV statement from the bank pays a guest's transfer.
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (booking, p) = held_and_paying(&app, &guest, &room_type, "2027-02-01", "2027-02-03", "csv").await;
    let total = p["amount"]["minor"].as_i64().unwrap();
    let csv = format!(
        "date,amount,currency,reference\n2027-01-04,{}.{:02},EUR,\"Stay {}\"\n2027-01-04,-12.00,EUR,fees\n",
        total / 100,
        total % 100,
        p["reference"].as_str().unwrap()
    );
    let r = import(&app, &admin, "text/csv", csv.clone().into_bytes(), "csv-1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["paid"].as_u64(), r.body["to_review"].as_u64()), (Some(1), Some(0)), "{}", r.body);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");
    // Bad statements change nothing and say why; only admins import.
    let r =
        import(&app, &admin, "text/csv", b"date,amount,currency,reference\n2027-13-01,x,EUR,r\n".to_vec(), "bad").await;
    r.assert_problem(400, "invalid_statement");
    let r = import(&app, &admin, "application/xml", b"<Document><nope/></Document>".to_vec(), "bad2").await;
    r.assert_problem(400, "invalid_statement");
    let r = import(&app, &host, "text/csv", csv.into_bytes(), "host").await;
    r.assert_problem(403, "forbidden");
    ledger_is_sound(&app).await;
}

/// Run the `innkeep` command on the server's data. It waits on a thread of its own: the
/// test's runtime (one thread) also runs the server, whose commit may be what the command
/// waits for.
async fn innkeep(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"));
    command.args(args).arg("--data").arg(dir).env("INNKEEP_LOG__LEVEL", "error");
    tokio::task::spawn_blocking(move || command.output().expect("innkeep runs")).await.unwrap()
}

#[tokio::test]
async fn the_operator_imports_from_the_console_and_the_ledger_check_names_what_is_wrong() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (booking, p) = held_and_paying(&app, &guest, &room_type, "2027-02-01", "2027-02-03", "cli").await;
    let total = p["amount"]["minor"].as_i64().unwrap();
    let file = app.dir.path().join("statement.csv");
    let csv = format!(
        "date,amount,currency,reference\n2027-01-04,{}.{:02},EUR,{}\n",
        total / 100,
        total % 100,
        p["reference"].as_str().unwrap()
    );
    std::fs::write(&file, csv).unwrap();

    let out = innkeep(&["payments", "import", file.to_str().unwrap()], app.dir.path()).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("1 paid, 0 to review, 0 seen before"), "{text}");
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");

    let out = innkeep(&["ledger", "check"], app.dir.path()).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("1 entries, 2 lines, 2 accounts"), "{text}");

    // The ledger refuses changes; a kept balance that drifts from its lines is named.
    let db = format!("sqlite://{}", app.dir.path().join("innkeep.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db).await.unwrap();
    let refused = sqlx::query("UPDATE ledger_lines SET amount_minor = amount_minor + 1").execute(&mut conn).await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    assert!(sqlx::query("DELETE FROM ledger_entries").execute(&mut conn).await.is_err());
    sqlx::query("UPDATE ledger_balances SET balance_minor = balance_minor + 1 WHERE account = 'bank'")
        .execute(&mut conn)
        .await
        .unwrap();
    let out = innkeep(&["ledger", "check"], app.dir.path()).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a wrong balance fails the check: {text}");
    assert!(
        text.contains(&format!("account bank (EUR): kept balance {} but its lines sum to {total}", total + 1)),
        "{text}"
    );
}

async fn refund(app: &TestApp, token: &str, payment: &str, amount: Option<i64>, key: &str) -> Reply {
    let body = match amount {
        Some(a) => json!({"amount": a}),
        None => json!({}),
    };
    let r = app
        .client
        .post(app.url(&format!("/api/v1/payments/{payment}/refunds")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("sent");
    Reply::from(r).await
}

/// A confirmed booking paid in full by transfer: (booking, payment id, total).
async fn paid(app: &TestApp, guest: &str, room_type: &str, from: &str, to: &str) -> (String, String, i64) {
    let (booking, p) = held_and_paying(app, guest, room_type, from, to, &format!("paid-{from}")).await;
    let total = p["amount"]["minor"].as_i64().unwrap();
    let ports = &app.server.as_ref().unwrap().ports;
    let r = import_statement(
        ports,
        &admin(),
        from,
        &[credit(total, p["reference"].as_str().unwrap())],
        app.clock.now_for_tests(),
    )
    .await
    .unwrap();
    assert_eq!(r.paid, 1);
    (booking, p["id"].as_str().unwrap().to_string(), total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_never_exceed_what_was_received_under_any_race() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let other_host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (_, payment, total) = paid(&app, &guest, &room_type, "2027-02-01", "2027-02-03").await;

    refund(&app, &guest, &payment, Some(100), "g").await.assert_problem(403, "forbidden");
    refund(&app, &other_host, &payment, Some(100), "o").await.assert_problem(404, "not_found");
    refund(&app, &host, &payment, Some(total + 1), "big").await.assert_problem(400, "refund_exceeds_payment");
    refund(&app, &host, &payment, Some(0), "zero").await.assert_problem(400, "invalid_amount");
    let r = refund(&app, &host, &payment, Some(5000), "first").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["amount"]["minor"].as_i64(), r.body["status"].as_str()), (Some(5000), Some("pending")));
    let again = refund(&app, &host, &payment, Some(5000), "first").await;
    assert_eq!((again.status.as_u16(), &again.body["id"]), (200, &r.body["id"]), "a replay");
    refund(&app, &host, &payment, Some(4000), "first").await.assert_problem(422, "idempotency_key_reused");

    // 32 refunds of 10.00 race for what is left: as many succeed as fit, no more.
    let left = total - 5000;
    let replies = join_all((0..32).map(|i| {
        let (app, host, payment) = (&app, &host, &payment);
        async move { refund(app, host, payment, Some(1000), &format!("race-{i}")).await }
    }))
    .await;
    let made = replies.iter().filter(|r| r.status == 201).count() as i64;
    for r in &replies {
        assert!(r.status == 201 || r.status == 400, "{} {}", r.status, r.body);
    }
    assert_eq!(made, (left / 1000).min(32), "refunds made");
    let p = app.get(&format!("/api/v1/payments/{payment}"), Some(&guest)).await;
    assert_eq!(p.body["refunded"]["minor"].as_i64(), Some(5000 + made * 1000));
    assert!(p.body["refunded"]["minor"].as_i64() <= p.body["received"]["minor"].as_i64());
    let listed = app.get(&format!("/api/v1/payments/{payment}/refunds"), Some(&guest)).await;
    assert_eq!(listed.body.as_array().unwrap().len() as i64, 1 + made);
    let report = ledger_is_sound(&app).await;
    assert_eq!(report.entries, 2 + made);
}

#[tokio::test]
async fn cancelling_a_paid_booking_refunds_what_the_policy_gives_back_once() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (booking, payment, total) = paid(&app, &guest, &room_type, "2027-02-01", "2027-02-03").await;
    let r = app.post(&format!("/api/v1/bookings/{booking}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    let owed = b.body["refund"]["minor"].as_i64().unwrap();
    assert_eq!(owed, total, "a flexible stay cancelled weeks ahead is refunded in full");
    // The refund consumer follows the outbox.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let p = app.get(&format!("/api/v1/payments/{payment}"), Some(&guest)).await;
        if p.body["refunded"]["minor"].as_i64() == Some(owed) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refund after the cancellation: {}", p.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refunds = app.get(&format!("/api/v1/payments/{payment}/refunds"), Some(&guest)).await;
    let list = refunds.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["reason"], "cancellation");
    // Handled again (a crash before its mark), it refunds nothing more.
    let ports = &app.server.as_ref().unwrap().ports;
    let events = ports.store.events_after(0, 1000).await.unwrap();
    let cancelled = events.iter().find(|e| e.event.kind == innkeep_app::event::EventKind::BookingCancelled).unwrap();
    let consumer = innkeep_app::payment::CancellationRefunds { ports: ports.clone() };
    innkeep_app::event::Consumer::handle(&consumer, cancelled).await.unwrap();
    let refunds = app.get(&format!("/api/v1/payments/{payment}/refunds"), Some(&guest)).await;
    assert_eq!(refunds.body.as_array().unwrap().len(), 1);
    ledger_is_sound(&app).await;
}

#[tokio::test]
async fn a_prepay_property_confirms_a_hold_only_when_it_is_paid() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let mut body = common::property_body("flexible");
    body["payment_timing"] = json!("prepay");
    let r = app.post("/api/v1/properties", Some(&host), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["payment_timing"], "prepay");
    let property = r.body["id"].as_str().unwrap().to_string();
    let room_type = app.room_type(&host, &property, 2).await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    for who in [&guest, &host] {
        let r = app.post(&format!("/api/v1/bookings/{booking}/confirm"), Some(who), json!({})).await;
        r.assert_problem(409, "payment_required");
    }
    let p = pay(&app, &guest, &booking, Some("prepay"), "bank_transfer").await;
    let total = p.body["amount"]["minor"].as_i64().unwrap();
    let ports = &app.server.as_ref().unwrap().ports;
    let line = credit(total, p.body["reference"].as_str().unwrap());
    import_statement(ports, &admin(), "prepay", &[line], app.clock.now_for_tests()).await.unwrap();
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed", "paying confirmed it");
    // An at-property stay (the default) confirms as before.
    let other = app.property(&host, "flexible").await;
    let r = app.get(&format!("/api/v1/properties/{other}"), None).await;
    assert_eq!(r.body["payment_timing"], "at_property");
    ledger_is_sound(&app).await;
}

#[tokio::test]
async fn an_operator_matches_a_line_with_a_mistyped_reference_once() {
    operator_matches_a_line(spawn_app().await).await;
}

#[tokio::test]
async fn on_postgres_an_operator_matches_a_line_with_a_mistyped_reference_once() {
    common::on_postgres(operator_matches_a_line).await;
}

async fn operator_matches_a_line(app: TestApp) {
    let admin = admin_token(&app).await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let (booking, p) = held_and_paying(&app, &guest, &room_type, "2027-03-01", "2027-03-03", "typo").await;
    let (other_booking, other) = held_and_paying(&app, &guest, &room_type, "2027-03-10", "2027-03-11", "other").await;
    let total = p["amount"]["minor"].as_i64().unwrap();
    // The guest typed the reference wrong: the money matches nothing and is held.
    let csv =
        format!("date,amount,currency,reference\n2027-02-01,{}.{:02},EUR,\"RF00 TYPO\"\n", total / 100, total % 100);
    let r = import(&app, &admin, "text/csv", csv.into_bytes(), "typo-1").await;
    assert_eq!(r.body["to_review"], 1, "{}", r.body);
    let lines = app.get("/api/v1/payments/statement-lines?outcome=unmatched", Some(&admin)).await;
    assert_eq!(lines.status, 200, "{}", lines.body);
    assert_eq!(lines.body.as_array().unwrap().len(), 1, "{}", lines.body);
    let line = lines.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(lines.body[0]["amount"], total);
    assert_eq!(app.get("/api/v1/payments/statement-lines", Some(&guest)).await.status, 403);
    app.get("/api/v1/payments/statement-lines?outcome=lost", Some(&admin)).await.assert_problem(400, "invalid_outcome");

    let matching = |token: String, payment: String, key: Option<&'static str>| {
        let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/payments/statement-lines/{line}/match")));
        async move {
            let mut req = client.post(url).bearer_auth(token).json(&json!({"payment_id": payment}));
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            Reply::from(req.send().await.expect("sent")).await
        }
    };
    let pid = p["id"].as_str().unwrap().to_string();
    matching(admin.clone(), pid.clone(), None).await.assert_problem(400, "idempotency_key_required");
    matching(host.clone(), pid.clone(), Some("m")).await.assert_problem(403, "forbidden");
    // Eight operators match it at once: it pays once.
    let racing: Vec<_> = (0..8).map(|_| tokio::spawn(matching(admin.clone(), pid.clone(), Some("m")))).collect();
    for r in racing {
        let r = r.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!((r.body["outcome"].as_str(), r.body["payment_id"].as_str()), (Some("paid"), Some(pid.as_str())));
    }
    let paid = app.get(&format!("/api/v1/payments/{pid}"), Some(&guest)).await;
    assert_eq!(
        (paid.body["status"].as_str(), paid.body["received"]["minor"].as_i64()),
        (Some("succeeded"), Some(total))
    );
    let b = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed");
    // Matched once: not again to another payment, and the other stays open.
    let oid = other["id"].as_str().unwrap().to_string();
    matching(admin.clone(), oid.clone(), Some("m2")).await.assert_problem(409, "conflict");
    let still = app.get(&format!("/api/v1/payments/{oid}"), Some(&guest)).await;
    assert_eq!(still.body["status"], "requires_action", "{other_booking}");
    let missing = app
        .client
        .post(app.url(&format!("/api/v1/payments/statement-lines/{}/match", uuid::Uuid::now_v7())))
        .bearer_auth(&admin)
        .header("Idempotency-Key", "m3")
        .json(&json!({"payment_id": oid}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let report = ledger_is_sound(&app).await;
    assert!(report.entries >= 2, "{report:?}");
    app.stop().await;
}
