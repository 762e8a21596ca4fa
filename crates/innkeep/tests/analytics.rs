//! Analytics (issue 18): the lake holds every outbox event once (after a repeated sync, a
//! crash mid-batch and a compaction cut short), the reports match figures worked out by
//! hand, the SQL endpoint takes only read-only queries from operators, a host sees only
//! its own tenant, and the lake works the same in an S3 bucket.

use crate::common;

use common::TestApp;
use innkeep::config::Config;
use innkeep::startup::Server;
use innkeep_analytics::{ClientSource, Lake, LakeSql};
use innkeep_app::analytics::{Analytics, Grouping, Limits, Report, Table};
use innkeep_app::clock::ManualClock;
use innkeep_app::ingest::ClientEvent;
use innkeep_core::TenantId;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const LIMITS: Limits = Limits { rows: 1000, time: Duration::from_secs(60) };

async fn start(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.analytics.linger_secs = 0;
    config.analytics.model_refresh_secs = 1;
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(common::START.parse().unwrap()));
    let server = Server::start(&config, clock.clone(), false).await.unwrap();
    TestApp::with_server(server, clock, dir)
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_string()
}

/// An operator (made by the operator's command, not the API), with two-factor sign-in on.
async fn admin(app: &TestApp) -> String {
    let ports = &app.server.as_ref().unwrap().ports;
    let cmd = innkeep_app::auth::Register {
        email: "olga@example.com".into(),
        password: PASSWORD.into(),
        name: "Olga Operator".into(),
        role: innkeep_core::Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    let token = sign_in(app, "olga@example.com").await;
    common::enrol_two_factor(app, &token).await;
    token
}

/// A booking of `guest` for the nights from `check_in` to `check_out`, then `actions`;
/// returns its total in minor units.
async fn stay(
    app: &TestApp,
    guest: &str,
    host: &str,
    rt: &str,
    check_in: &str,
    check_out: &str,
    actions: &[&str],
) -> i64 {
    let r = app.book(guest, rt, check_in, check_out, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    for action in actions {
        let who = if *action == "confirm" { guest } else { host };
        let r = app.post(&format!("/api/v1/bookings/{id}/{action}"), Some(who), json!({})).await;
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    }
    r.body["total"]["minor"].as_i64().unwrap()
}

/// As `stay`, of two rooms, confirmed.
async fn stay_in_two_rooms(app: &TestApp, guest: &str, rt: &str, check_in: &str, check_out: &str) -> i64 {
    let mut body = common::booking_body(rt, check_in, check_out);
    body["rooms"] = json!(2);
    let r = app.post("/api/v1/bookings", Some(guest), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    let c = app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(guest), json!({})).await;
    assert_eq!(c.status, 200, "{}", c.body);
    r.body["total"]["minor"].as_i64().unwrap()
}

fn rows(t: &Table) -> Vec<serde_json::Map<String, Value>> {
    t.rows.iter().map(|r| t.columns.iter().cloned().zip(r.iter().cloned()).collect()).collect()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Client events a test hands to the lake as closed segments of the log.
struct Segments(Vec<Vec<ClientEvent>>);

#[async_trait::async_trait]
impl ClientSource for Segments {
    fn key(&self) -> &'static str {
        innkeep_app::ingest::LOG_SOURCE
    }
    async fn next(&self, position: i64) -> std::io::Result<Option<innkeep_app::ingest::ClientChunk>> {
        // Numbered from 0, as the embedded log numbers them.
        let n = position + 1;
        Ok(self.0.get(n as usize).map(|events| {
            innkeep_app::ingest::ClientChunk::of_events(n, format!("{n:010}"), events).expect("events encode")
        }))
    }
}

fn client_event(kind: &str, at: &str) -> ClientEvent {
    ClientEvent {
        id: uuid::Uuid::new_v4(),
        kind: kind.into(),
        client_id: "c1".into(),
        user_id: None,
        occurred_at: at.parse().unwrap(),
        received_at: at.parse().unwrap(),
        property_id: None,
        data: json!({"destination": "Lisbon", "email": "someone@example.com"}),
    }
}

#[tokio::test]
async fn reports_match_a_hand_checked_case() {
    let app = start(|c| c.analytics.writer = false).await;
    let host = app.user("host").await;
    let property = app.property_paying(&host, "at_property").await;
    let tenant = TenantId(property["tenant_id"].as_str().unwrap().parse().unwrap());
    let rt = app.room_type(&host, property["id"].as_str().unwrap(), 2).await;
    let guest = app.user("guest").await;
    // Jan 30, Jan 31 and Feb 1; Feb 10 and 11 in both rooms; a hold only; a stay cancelled
    // after confirming.
    let b1 = stay(&app, &guest, &host, &rt, "2027-01-30", "2027-02-02", &["confirm"]).await;
    let b2 = stay_in_two_rooms(&app, &guest, &rt, "2027-02-10", "2027-02-12").await;
    stay(&app, &guest, &host, &rt, "2027-02-15", "2027-02-16", &[]).await;
    stay(&app, &guest, &host, &rt, "2027-02-20", "2027-02-21", &["confirm", "cancel"]).await;
    // Another tenant's stay, which the first host's reports must not count.
    let other = app.user("host").await;
    let p2 = app.property(&other, "flexible").await;
    let rt2 = app.room_type(&other, &p2, 1).await;
    let b5 = stay(&app, &guest, &other, &rt2, "2027-02-05", "2027-02-06", &["confirm"]).await;

    let store = app.server.as_ref().unwrap().ports.store.clone();
    let lake = Lake::in_directory(&app.dir.path().join("test-lake")).unwrap();
    let segments = Segments(vec![
        vec![
            client_event("search", "2027-01-04T10:00:00Z"),
            client_event("search", "2027-01-04T10:01:00Z"),
            client_event("view", "2027-01-04T10:02:00Z"),
        ],
        vec![client_event("search", "2027-02-01T09:00:00Z")],
    ]);
    let synced = lake.sync(store.as_ref(), Some(&segments)).await.unwrap();
    assert_eq!(synced.client_events, 4);
    let sql = LakeSql::new(lake.clone());

    // Occupancy, ADR and RevPAR of the first tenant's property, by hand: 2 units.
    // January: 2 nights of b1 sold of 31 * 2 = 62; revenue 2/3 of b1.
    // February: 1 night of b1 and 2 of b2 in two rooms (4 unit nights) sold of 28 * 2 = 56;
    // revenue b1/3 + b2.
    let t = sql.report(Report::Occupancy(Grouping::Property), Some(tenant), LIMITS).await.unwrap();
    let r = rows(&t);
    assert_eq!(r.len(), 2, "{t:?}");
    let (jan, feb) = (&r[0], &r[1]);
    assert_eq!(jan["month"], "2027-01-01");
    assert_eq!((jan["sold_nights"].as_i64(), jan["available_nights"].as_i64()), (Some(2), Some(62)));
    assert_eq!(jan["occupancy"].as_f64(), Some(round4(2.0 / 62.0)));
    let jan_revenue = b1 as f64 * 2.0 / 3.0;
    assert_eq!(jan["room_revenue_minor"].as_f64(), Some(jan_revenue.round()));
    assert_eq!(jan["adr_minor"].as_f64(), Some((jan_revenue / 2.0).round()));
    assert_eq!(jan["revpar_minor"].as_f64(), Some((jan_revenue / 62.0).round()));
    assert_eq!(feb["month"], "2027-02-01");
    assert_eq!((feb["sold_nights"].as_i64(), feb["available_nights"].as_i64()), (Some(5), Some(56)));
    let feb_revenue = b1 as f64 / 3.0 + b2 as f64;
    assert_eq!(feb["occupancy"].as_f64(), Some(round4(5.0 / 56.0)));
    assert_eq!(feb["adr_minor"].as_f64(), Some((feb_revenue / 5.0).round()));
    assert_eq!(feb["revpar_minor"].as_f64(), Some((feb_revenue / 56.0).round()));
    assert_eq!(feb["currency"], "EUR");
    // DataFusion runs occupancy in two steps (its sold nights kept, then the rest); the one
    // statement the other engines run answers the same, in every grouping and scope.
    for g in [Grouping::Property, Grouping::City, Grouping::Month] {
        for scope in [Some(tenant), None] {
            let report = Report::Occupancy(g);
            let in_steps = sql.report(report, scope, LIMITS).await.unwrap();
            let whole = sql.query(&innkeep_analytics::reports::sql(report, scope), LIMITS).await.unwrap();
            assert!(!whole.rows.is_empty());
            assert_eq!(in_steps.columns, whole.columns, "{report:?} {scope:?}");
            // The same rows, their order aside: DataFusion has answered the two
            // forms in different orders when two properties' ids share their first 15
            // characters (UUIDv7s of the same millisecond), not yet explained.
            let sorted = |t: &innkeep_app::analytics::Table| {
                let mut rows: Vec<String> = t.rows.iter().map(|r| format!("{r:?}")).collect();
                rows.sort();
                rows
            };
            assert_eq!(sorted(&in_steps), sorted(&whole), "{report:?} {scope:?}");
        }
    }

    // Length of stay and lead time (all booked on 2027-01-04): b1 3 nights, 26 days ahead;
    // b2 2 nights, 37 days ahead.
    let t = sql.report(Report::LengthOfStay, Some(tenant), LIMITS).await.unwrap();
    let bands: Vec<(String, i64)> =
        rows(&t).iter().map(|r| (r["band"].as_str().unwrap().to_string(), r["bookings"].as_i64().unwrap())).collect();
    assert_eq!(bands, [("2 nights".to_string(), 1), ("3 nights".to_string(), 1)]);
    let t = sql.report(Report::LeadTime, Some(tenant), LIMITS).await.unwrap();
    let bands: Vec<String> = rows(&t).iter().map(|r| r["band"].as_str().unwrap().to_string()).collect();
    assert_eq!(bands, ["8-30 days", "31-90 days"]);

    // Cancellations: three confirmed in January, one of them cancelled.
    let t = sql.report(Report::Cancellations, Some(tenant), LIMITS).await.unwrap();
    let r = rows(&t);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0]["confirmed"].as_i64(), r[0]["cancelled"].as_i64()), (Some(3), Some(1)));
    assert_eq!(r[0]["cancellation_rate"].as_f64(), Some(0.3333));

    // Top destinations of the tenant: Lisbon, 2 earning bookings, 5 nights.
    let t = sql.report(Report::TopDestinations, Some(tenant), LIMITS).await.unwrap();
    let r = rows(&t);
    assert_eq!(
        (r[0]["city"].as_str(), r[0]["bookings"].as_i64(), r[0]["nights"].as_i64()),
        (Some("Lisbon"), Some(2), Some(5))
    );

    // Revenue per tenant, every tenant: b1 + b2 for the first, b5 for the other.
    let t = sql.report(Report::RevenuePerTenant, None, LIMITS).await.unwrap();
    let mut revenue: Vec<i64> = rows(&t).iter().map(|r| r["revenue_minor"].as_i64().unwrap()).collect();
    revenue.sort();
    let mut expected = vec![b1 + b2, b5];
    expected.sort();
    assert_eq!(revenue, expected);

    // The funnel: searches and views from the client events, holds and confirmations from
    // the outbox (5 holds, 4 confirmed, all in January).
    let t = sql.report(Report::Funnel, None, LIMITS).await.unwrap();
    let r = rows(&t);
    assert_eq!(r[0]["month"], "2027-01-01");
    let steps = |i: usize| ["searches", "views", "holds", "confirmed"].map(|k| r[i][k].as_i64().unwrap());
    assert_eq!(steps(0), [2, 1, 5, 4]);
    assert_eq!(steps(1), [1, 0, 0, 0]);

    spark_agrees(&sql, &app.dir.path().join("test-lake")).await;

    // Personal data stays out: no guest e-mail anywhere in the lake's payloads or data.
    let t =
        sql.query("SELECT COUNT(*) AS n FROM lake WHERE payload LIKE '%@%' OR data LIKE '%@%'", LIMITS).await.unwrap();
    assert_eq!(t.rows[0][0], 0);
    app.stop().await;
}

/// Spark (pyspark, local mode) over the same files gets the same figures as DataFusion for
/// every report of deploy/spark/reports.sql.
async fn spark_agrees(sql: &LakeSql, lake: &std::path::Path) {
    let has_spark =
        std::process::Command::new("python3").args(["-c", "import pyspark"]).status().is_ok_and(|s| s.success());
    if !has_spark {
        assert!(
            std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "pyspark is required when INNKEEP_TEST_REQUIRE_SERVERS=1 (.ci/services.sh installs it)"
        );
        eprintln!("skipping the Spark comparison: no pyspark");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/spark/run_reports.py");
    let out = tokio::process::Command::new("python3").arg(script).arg(lake).output().await.unwrap();
    assert!(out.status.success(), "spark: {}", String::from_utf8_lossy(&out.stderr));
    let spark: Value = serde_json::from_slice(&out.stdout).unwrap();
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    };
    let reports = spark.as_object().unwrap();
    assert_eq!(reports.len(), 5, "{spark}");
    for (name, theirs) in reports {
        let ours = sql.report(Report::named(name).unwrap(), None, LIMITS).await.unwrap();
        assert_eq!(json!(ours.columns), theirs["columns"], "{name}");
        let rows = theirs["rows"].as_array().unwrap();
        assert_eq!(ours.rows.len(), rows.len(), "{name}: {ours:?} against {theirs}");
        assert!(!rows.is_empty(), "{name}");
        for (a, b) in ours.rows.iter().zip(rows) {
            let b = b.as_array().unwrap();
            assert!(a.iter().zip(b).all(|(x, y)| same(x, y)), "{name}: {a:?} against {b:?}");
        }
    }
}

async fn count(sql: &LakeSql, q: &str) -> i64 {
    sql.query(q, LIMITS).await.unwrap().rows[0][0].as_i64().unwrap()
}

#[tokio::test]
async fn every_event_lands_once() {
    let app = start(|c| c.analytics.writer = false).await;
    let host = app.user("host").await;
    let p = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &p, 5).await;
    let guest = app.user("guest").await;
    let store = app.server.as_ref().unwrap().ports.store.clone();
    let root = app.dir.path().join("test-lake");
    let lake = Lake::in_directory(&root).unwrap();
    let sql = LakeSql::new(lake.clone());
    // Three syncs with bookings in between: each writes its own files.
    for day in 10..13 {
        stay(&app, &guest, &host, &rt, &format!("2027-03-{day}"), &format!("2027-03-{}", day + 1), &["confirm"]).await;
        lake.sync(store.as_ref(), None).await.unwrap();
    }
    // The requests' audit entries (and their events) are written after the answers.
    app.audit_settled().await;
    lake.sync(store.as_ref(), None).await.unwrap();
    let outbox = store.last_event_seq().await.unwrap();
    let all = "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM events";
    let both = |t: Table| (t.rows[0][0].as_i64().unwrap(), t.rows[0][1].as_i64().unwrap());
    let counted = both(sql.query(all, LIMITS).await.unwrap());
    assert_eq!(counted.0, counted.1, "no event twice");
    assert!(counted.0 > 0);
    let in_db = store.events_after(0, 10_000).await.unwrap();
    assert_eq!(counted.0, in_db.len() as i64);
    assert_eq!(lake.outbox_position().await.unwrap(), outbox);
    // Syncing again changes nothing.
    lake.sync(store.as_ref(), None).await.unwrap();
    assert_eq!(both(sql.query(all, LIMITS).await.unwrap()), counted);

    // A crash after some files of a batch: a file named after a position past the recorded
    // one is removed on the next sync, and its events written again once.
    let files = lake.files().await.unwrap();
    let a_part = files.iter().find(|f| f.location.as_ref().contains("booking.confirmed")).unwrap();
    let from = root.join(a_part.location.as_ref());
    let dir = from.parent().unwrap().to_path_buf();
    std::fs::copy(&from, dir.join(format!("part-{:020}.parquet", outbox + 1))).unwrap();
    lake.sync(store.as_ref(), None).await.unwrap();
    assert_eq!(both(sql.query(all, LIMITS).await.unwrap()), counted);

    // Compaction merges the parts of each kind and day; a compaction cut short (the merged
    // file written, its parts not yet deleted) is finished by the next sync.
    let before = lake.files().await.unwrap().len();
    let merged = lake.compact(2).await.unwrap();
    assert!(merged > 0);
    let after = lake.files().await.unwrap();
    assert!(after.len() < before, "{before} files before, {} after", after.len());
    let mut partitions: Vec<String> =
        after.iter().map(|f| f.location.as_ref().rsplit_once('/').unwrap().0.to_string()).collect();
    let n = partitions.len();
    partitions.dedup();
    assert_eq!(partitions.len(), n, "one file per kind and day");
    assert_eq!(both(sql.query(all, LIMITS).await.unwrap()), counted);
    let compacted = lake
        .files()
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.location.as_ref().contains("booking.confirmed") && f.location.as_ref().matches('-').count() > 3)
        .unwrap();
    let name = compacted.location.filename().unwrap().to_string();
    let first: i64 = name.trim_start_matches("part-").split('-').next().unwrap().parse().unwrap();
    let cdir = root.join(compacted.location.as_ref()).parent().unwrap().to_path_buf();
    std::fs::copy(root.join(compacted.location.as_ref()), cdir.join(format!("part-{first:020}.parquet"))).unwrap();
    lake.sync(store.as_ref(), None).await.unwrap();
    assert_eq!(both(sql.query(all, LIMITS).await.unwrap()), counted);
    // The same for a merged file merged again: the smaller one left behind goes.
    let inner = format!("part-{first:020}-{first:020}.parquet");
    std::fs::copy(root.join(compacted.location.as_ref()), cdir.join(&inner)).unwrap();
    lake.sync(store.as_ref(), None).await.unwrap();
    assert!(!cdir.join(&inner).exists());
    assert_eq!(both(sql.query(all, LIMITS).await.unwrap()), counted);
    // The booking facts read back typed: three confirmed one-night stays in March.
    let n = count(
        &sql,
        "SELECT COUNT(*) FROM bookings WHERE status = 'confirmed' AND nights = 1 AND check_in >= DATE '2027-03-01'",
    )
    .await;
    assert_eq!(n, 3);
    app.stop().await;
}

#[tokio::test]
async fn operators_query_hosts_see_their_own() {
    let app = start(|_| {}).await;
    let admin = admin(&app).await;
    let host = app.user("host").await;
    let p = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &p, 2).await;
    let guest = app.user("guest").await;
    stay(&app, &guest, &host, &rt, "2027-02-10", "2027-02-12", &["confirm"]).await;
    let other = app.user("host").await;
    let p2 = app.property(&other, "flexible").await;
    let rt2 = app.room_type(&other, &p2, 2).await;
    stay(&app, &guest, &other, &rt2, "2027-02-10", "2027-02-11", &["confirm"]).await;

    // The node's own writer follows the outbox into data_dir/lake.
    let q = json!({"query": "SELECT COUNT(*) AS n FROM bookings WHERE status = 'confirmed'"});
    let mut seen = 0;
    for _ in 0..200 {
        let r = app.post("/api/v1/analytics/sql", Some(&admin), q.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["columns"], json!(["n"]));
        seen = r.body["rows"][0][0].as_i64().unwrap();
        if seen == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 2, "the writer put both bookings in the lake");
    // Suggestions: the other Lisbon stay is like this one; a new guest gets the stays booked
    // most; a guest who booked both is suggested neither; holds trend in Lisbon.
    let mut similar = Value::Null;
    for _ in 0..100 {
        let r = app.get(&format!("/api/v1/properties/{p}/similar"), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        similar = r.body;
        if similar.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: Vec<&str> = similar.as_array().unwrap().iter().map(|s| s["property_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [p2.as_str()], "{similar}");
    let newcomer = app.user("guest").await;
    let r = app.get("/api/v1/recommendations", Some(&newcomer)).await;
    let mut ids: Vec<&str> = r.body.as_array().unwrap().iter().map(|s| s["property_id"].as_str().unwrap()).collect();
    ids.sort();
    let mut both = vec![p.as_str(), p2.as_str()];
    both.sort();
    assert_eq!(ids, both, "{}", r.body);
    let r = app.get("/api/v1/recommendations?k=5", Some(&guest)).await;
    assert_eq!(r.body, json!([]), "never a stay the guest booked");
    app.get("/api/v1/recommendations?k=0", None).await.assert_problem(400, "invalid_k");
    app.get(&format!("/api/v1/properties/{}/similar", uuid::Uuid::nil()), None).await.assert_problem(404, "not_found");
    let r = app.get("/api/v1/trending?window=day", None).await;
    assert_eq!(r.body["cities"][0], json!({"key": "Lisbon", "count": 10}), "{}", r.body);
    app.get("/api/v1/trending?window=week", None).await.assert_problem(400, "invalid_window");

    let csv = app
        .client
        .post(app.url("/api/v1/analytics/sql"))
        .bearer_auth(&admin)
        .json(&json!({"query": "SELECT 1 AS a, 'x,y' AS b", "format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.text().await.unwrap(), "a,b\n1,\"x,y\"\n");

    // Only read-only queries; nothing written anywhere.
    let target = app.dir.path().join("copied.csv");
    for (query, code) in [
        ("DROP VIEW bookings", "read_only"),
        ("CREATE TABLE t AS SELECT 1", "read_only"),
        ("INSERT INTO lake (event_id) VALUES ('x')", "read_only"),
        (&format!("COPY (SELECT 1) TO '{}'", target.display()), "read_only"),
        ("SET datafusion.execution.batch_size = 1", "read_only"),
        ("SELEC 1", "invalid_query"),
        ("SELECT * FROM no_such_table", "invalid_query"),
        ("   ", "required"),
    ] {
        let r = app.post("/api/v1/analytics/sql", Some(&admin), json!({ "query": query })).await;
        assert!(r.status == 422 || r.status == 400, "{query}: {} {}", r.status, r.body);
        assert_eq!(r.body["code"], code, "{query}: {}", r.body);
    }
    assert!(!target.exists(), "COPY wrote nothing");
    let r = app.post("/api/v1/analytics/sql", Some(&admin), json!({"query": "SELECT 1", "limit": 3})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // A row limit: 10,000 rows at most, marked truncated.
    let r = app
        .post("/api/v1/analytics/sql", Some(&admin), json!({"query": "SELECT * FROM generate_series(1, 20000)"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["rows"].as_array().unwrap().len(), r.body["truncated"].as_bool()), (10_000, Some(true)));

    // SQL is for operators only; reports for hosts over their own tenant.
    for who in [&host, &guest] {
        let r = app.post("/api/v1/analytics/sql", Some(who), json!({"query": "SELECT 1"})).await;
        r.assert_problem(403, "forbidden");
    }
    let r = app.get("/api/v1/analytics/reports/occupancy", Some(&host)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names: Vec<&str> = r.body["rows"].as_array().unwrap().iter().map(|row| row[2].as_str().unwrap()).collect();
    assert_eq!(names, ["Casa Azul"], "one property of this host, one month");
    let sold = r.body["rows"][0]
        [r.body["columns"].as_array().unwrap().iter().position(|c| c == "sold_nights").unwrap()]
    .clone();
    assert_eq!(sold, 2);
    let other_tenant = app.get("/api/v1/me", Some(&other)).await.body["tenant_id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/api/v1/analytics/reports/occupancy?tenant_id={other_tenant}"), Some(&host)).await;
    r.assert_problem(403, "forbidden");
    for name in ["funnel", "revenue-per-tenant"] {
        app.get(&format!("/api/v1/analytics/reports/{name}"), Some(&host)).await.assert_problem(403, "forbidden");
        let r = app.get(&format!("/api/v1/analytics/reports/{name}"), Some(&admin)).await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
    app.get("/api/v1/analytics/reports/occupancy", Some(&guest)).await.assert_problem(403, "forbidden");
    app.get("/api/v1/analytics/reports/no-such", Some(&admin)).await.assert_problem(404, "not_found");
    let r = app.get("/api/v1/analytics/reports/occupancy?format=xml", Some(&admin)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.get("/api/v1/analytics/reports/occupancy?tenant_id=nope", Some(&admin)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.get("/api/v1/analytics/reports/occupancy-by-city?format=csv", Some(&admin)).await;
    assert_eq!(r.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn the_lake_in_an_s3_bucket() {
    let Some(s3) = innkeep_store::testing::server_url("INNKEEP_TEST_S3_URL") else { return };
    let (creds, host) = s3.trim_start_matches("http://").split_once('@').unwrap();
    let (ak, sk) = creds.split_once(':').unwrap();
    let endpoint = format!("http://{host}");
    let bucket = format!("innkeep-lake-{}", uuid::Uuid::new_v4().simple());
    let made = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(made.status().is_success(), "creating bucket {bucket}: {}", made.status());
    let app = start(|c| {
        c.storage.url = format!("s3://{bucket}");
        c.storage.endpoint = endpoint.clone();
        c.storage.access_key_id = ak.into();
        c.storage.secret_access_key = sk.into();
        c.analytics.writer = false;
    })
    .await;
    let host_token = app.user("host").await;
    let p = app.property(&host_token, "flexible").await;
    let rt = app.room_type(&host_token, &p, 2).await;
    let guest = app.user("guest").await;
    stay(&app, &guest, &host_token, &rt, "2027-02-10", "2027-02-12", &["confirm"]).await;
    let config = Config {
        storage: innkeep::config::StorageConfig {
            url: format!("s3://{bucket}"),
            endpoint,
            access_key_id: ak.into(),
            secret_access_key: sk.into(),
            ..Default::default()
        },
        ..Config::default()
    };
    let lake = innkeep::parts::open_lake(&config).unwrap();
    let store = app.server.as_ref().unwrap().ports.store.clone();
    let synced = lake.sync(store.as_ref(), None).await.unwrap();
    assert!(synced.files > 0);
    let sql = LakeSql::new(lake.clone());
    assert_eq!(count(&sql, "SELECT COUNT(*) FROM bookings WHERE status = 'confirmed'").await, 1);
    assert_eq!(count(&sql, "SELECT COUNT(*) FROM properties").await, 1);
    let keys: Vec<String> = lake.files().await.unwrap().iter().map(|f| f.location.to_string()).collect();
    assert!(keys.iter().any(|k| k.starts_with("kind=booking.confirmed/date=2027-01-04/part-")), "{keys:?}");
    app.stop().await;
}

/// A booking of `guest` in the name of `name` <`email`>; returns its id.
async fn book_as(app: &TestApp, guest: &str, rt: &str, dates: (&str, &str), name: &str, email: &str) -> String {
    let mut body = common::booking_body(rt, dates.0, dates.1);
    body["guest"] = json!({"name": name, "email": email});
    let r = app.post("/api/v1/bookings", Some(guest), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Bookings found (their ids, sorted) and the answer, once the index shows `want` in all.
async fn history(app: &TestApp, token: &str, query: &str, want: u64) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        let r = app.get(&format!("/api/v1/history/bookings?{query}"), Some(token)).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        body = r.body;
        if body["total"] == json!(want) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{query}: wanted {want} bookings, found {body}");
}

fn ids(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        answer["bookings"].as_array().unwrap().iter().map(|b| b["booking_id"].as_str().unwrap().into()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn client_events_on_jetstream_reach_the_lake_once() {
    let Some(nats) = innkeep_store::testing::server_url("INNKEEP_TEST_NATS_URL") else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let app = start(|c| {
        c.bus.url = nats.clone();
        c.bus.stream = format!("LAKE_EVENTS_{tag}");
        c.bus.subject_prefix = format!("lake-events.{tag}");
        c.ingest.sink = "nats".into();
        c.ingest.stream = format!("LAKE_CLIENT_{tag}");
        c.ingest.subject_prefix = format!("lake-client.{tag}");
        c.ingest.retention_days = 1;
    })
    .await;
    let event = |i: u32, kind: &str| {
        json!({"id": uuid::Uuid::from_u128(u128::from(i) + 1), "type": kind, "client_id": "web-abc",
               "occurred_at": "2027-01-04T09:59:00Z", "data": {"q": "lisbon", "email": "ann@example.com"}})
    };
    let batch = json!([event(1, "search"), event(2, "search"), event(3, "search"), event(4, "view"), event(5, "view")]);
    let counted = |want: [i64; 2]| {
        let lake = Lake::in_directory(&app.dir.path().join("lake")).unwrap();
        async move {
            let sql = LakeSql::new(lake);
            let q = "SELECT kind, count(*) AS n FROM client_events GROUP BY kind ORDER BY kind";
            let mut seen = Vec::new();
            for _ in 0..200 {
                if let Ok(t) = sql.query(q, LIMITS).await {
                    seen = rows(&t).iter().map(|r| r["n"].as_i64().unwrap()).collect();
                    if seen == want {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("wanted {want:?} searches and views in the lake, found {seen:?}");
        }
    };
    let r = app.post("/api/v1/events", None, batch.clone()).await;
    assert_eq!(r.status, 202, "{}", r.body);
    // The lake writer runs after outbox commits: make one.
    app.user("guest").await;
    counted([3, 2]).await;

    // The same events sent again, and more rounds of the writer: each is in the lake once.
    let r = app.post("/api/v1/events", None, batch).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = app.post("/api/v1/events", None, json!([event(6, "view")])).await;
    assert_eq!(r.status, 202, "{}", r.body);
    app.user("guest").await;
    counted([3, 3]).await;
    app.user("guest").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    counted([3, 3]).await;

    // A chunk's file past the lake's position (a writer that died before recording it) is
    // removed before the chunk is written again.
    let lake = Lake::in_directory(&app.dir.path().join("lake")).unwrap();
    let files = lake.files().await.unwrap();
    let first = files.iter().find(|f| f.location.as_ref().contains("/client-js-")).expect("a stream chunk's file");
    let dir = app.dir.path().join("lake");
    let text = std::fs::read(dir.join(first.location.as_ref())).unwrap();
    let stale = first.location.as_ref().rsplit_once('/').unwrap().0.to_string() + "/client-js-000000999999.parquet";
    std::fs::write(dir.join(&stale), &text).unwrap();
    assert_eq!(lake.recover().await.unwrap(), 1);
    assert!(!dir.join(&stale).exists());
    app.stop().await;
}

/// A node on `db` (a directory holding its SQLite database) keeping its files in `data`.
async fn node_on(data: &std::path::Path, db: &std::path::Path) -> TestApp {
    start(|c| {
        c.data_dir = data.to_path_buf();
        c.database.url = innkeep_store::sqlite_url(db);
    })
    .await
}

fn built(app: &TestApp) -> innkeep_search::history::Built {
    app.server.as_ref().unwrap().history
}

#[tokio::test]
async fn the_history_index_is_kept_on_disk_and_taken_only_over_its_own_database() {
    use innkeep_search::history::Built;
    let (data, db1, db2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = node_on(data.path(), db1.path()).await;
    assert_eq!(built(&app), Built::Rebuilt, "nothing on disk yet");
    let host = app.user("host").await;
    let p = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &p, 3).await;
    let guest = app.user("guest").await;
    let erin = book_as(&app, &guest, &rt, ("2027-03-01", "2027-03-03"), "Erin Walsh", "erin@example.com").await;
    history(&app, &host, "q=walsh", 1).await;
    app.stop().await;

    // A restart takes the index from disk and follows the outbox from where it was.
    let app = node_on(data.path(), db1.path()).await;
    assert!(matches!(built(&app), Built::Resumed { from } if from > 0), "{:?}", built(&app));
    assert_eq!(ids(&history(&app, &host, "q=walsh", 1).await), [erin.as_str()]);
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let maria = book_as(&app, &guest, &rt, ("2027-04-01", "2027-04-03"), "Maria Santos", "maria@example.com").await;
    assert_eq!(ids(&history(&app, &host, "q=maria", 1).await), [maria.as_str()]);
    app.stop().await;

    // Over another database the index on disk is not ours: it is built from that one's bookings.
    let other = node_on(data.path(), db2.path()).await;
    assert_eq!(built(&other), Built::Rebuilt);
    let admin = admin(&other).await;
    history(&other, &admin, "", 0).await;
    other.stop().await;

    // And back: built again from the first database, with both bookings.
    let app = node_on(data.path(), db1.path()).await;
    assert_eq!(built(&app), Built::Rebuilt);
    assert_eq!(history(&app, &host, "", 2).await["bookings"][0]["booking_id"], json!(maria));
    app.stop().await;
}

#[tokio::test]
async fn historical_search_finds_bookings_and_guests() {
    let app = start(|_| {}).await;
    let admin = admin(&app).await;
    let host = app.user("host").await;
    let p = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &p, 3).await;
    let other = app.user("host").await;
    let mut body = common::property_body("flexible");
    body["name"] = json!("Quinta do Mar");
    let r = app.post("/api/v1/properties", Some(&other), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p2 = r.body["id"].as_str().unwrap().to_string();
    let tenant_b = r.body["tenant_id"].as_str().unwrap().to_string();
    let rt2 = app.room_type(&other, &p2, 2).await;
    let jose = app.user("guest").await;
    let maria = app.user("guest").await;
    let j1 = book_as(&app, &jose, &rt, ("2027-03-01", "2027-03-03"), "José Müller", "Jose.Muller@example.com").await;
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let j2 = book_as(&app, &jose, &rt2, ("2027-05-10", "2027-05-12"), "José Müller", "jose.muller@example.com").await;
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let m1 = book_as(&app, &maria, &rt, ("2027-03-02", "2027-03-04"), "Maria Santos", "maria@example.com").await;
    let r = app.post(&format!("/api/v1/bookings/{j1}/confirm"), Some(&jose), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Names fold accents and case, and tolerate a typo; the guest is listed once.
    let mut both = vec![j1.clone(), j2.clone()];
    both.sort();
    for q in ["q=muller", "q=M%C3%BCller", "q=mueller", "q=jose%20muller", "email=JOSE.MULLER%40example.com"] {
        let found = history(&app, &admin, q, 2).await;
        assert_eq!(ids(&found), both, "{q}: {found}");
        assert_eq!(found["guests"].as_array().unwrap().len(), 1, "{q}: {found}");
        assert_eq!(found["guests"][0]["bookings"], 2, "{q}: {found}");
        assert_eq!(found["guests"][0]["name"], "José Müller", "{q}: {found}");
    }
    // The property's name, the dates of the stay, the status, a booking id.
    assert_eq!(ids(&history(&app, &admin, "q=quinta", 1).await), [j2.as_str()]);
    assert_eq!(ids(&history(&app, &admin, "from=2027-05-01&to=2027-06-01", 1).await), [j2.as_str()]);
    assert_eq!(
        ids(&history(&app, &admin, "from=2027-03-03&to=2027-03-04", 1).await),
        [m1.as_str()],
        "a night in range"
    );
    assert_eq!(ids(&history(&app, &admin, "status=confirmed", 1).await), [j1.as_str()]);
    let found = history(&app, &admin, &format!("reference={m1}"), 1).await;
    assert_eq!(found["bookings"][0]["guest_name"], "Maria Santos", "{found}");
    assert_eq!(found["bookings"][0]["property_name"], "Casa Azul", "{found}");
    history(&app, &admin, "q=nobody", 0).await;
    // Without words: newest first, over every tenant or one.
    let all = history(&app, &admin, "", 3).await;
    assert_eq!(all["bookings"][0]["booking_id"], json!(m1), "{all}");
    assert_eq!(ids(&history(&app, &admin, &format!("tenant_id={tenant_b}"), 1).await), [j2.as_str()]);

    // A host's staff see their own tenant's bookings only; guests see none.
    assert_eq!(ids(&history(&app, &host, "q=muller", 1).await), [j1.as_str()]);
    app.get(&format!("/api/v1/history/bookings?tenant_id={tenant_b}"), Some(&host))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/history/bookings?q=muller", Some(&jose)).await.assert_problem(403, "forbidden");
    app.get("/api/v1/history/bookings", None).await.assert_problem(401, "unauthenticated");
    for (q, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("from=2027-03-04&to=2027-03-01", "invalid_range"),
        ("reference=nonsense", "invalid_reference"),
        ("status=lost", "invalid_query"),
        ("from=2027-02-30", "invalid_query"),
        ("colour=blue", "invalid_query"),
    ] {
        let r = app.get(&format!("/api/v1/history/bookings?{q}"), Some(&admin)).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(r.body["code"], code, "{q}: {}", r.body);
    }

    // A bank transfer's reference, as the guest might write it, finds its booking.
    let prepay = app.property_paying(&other, "prepay").await;
    let rt3 = app.room_type(&other, prepay["id"].as_str().unwrap(), 1).await;
    let held = book_as(&app, &maria, &rt3, ("2027-06-01", "2027-06-02"), "Maria Santos", "maria@example.com").await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{held}/payments")))
        .bearer_auth(&maria)
        .header("Idempotency-Key", "history-transfer")
        .json(&json!({"method": "bank_transfer"}))
        .send()
        .await
        .unwrap();
    let payment = common::Reply::from(r).await;
    assert_eq!(payment.status, 201, "{}", payment.body);
    let reference = payment.body["reference"].as_str().unwrap().to_lowercase();
    let spaced: Vec<String> = reference.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let q = format!("reference={}", spaced.join("%20"));
    assert_eq!(ids(&history(&app, &admin, &q, 1).await), [held.as_str()], "{q}");
    history(&app, &admin, "reference=RF18539007547034", 0).await;

    // An erased account's bookings stay, without the person (whose stays must be over or
    // cancelled first).
    let erin = app.user("guest").await;
    let e1 = book_as(&app, &erin, &rt, ("2027-04-01", "2027-04-02"), "Erin Walsh", "erin@example.com").await;
    let r = app.post(&format!("/api/v1/bookings/{e1}/cancel"), Some(&erin), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    history(&app, &admin, "q=erin%20walsh", 1).await;
    let r = app.call(reqwest::Method::DELETE, "/api/v1/me", Some(&erin), Some(json!({"password": PASSWORD}))).await;
    assert_eq!(r.status, 204, "{}", r.body);
    history(&app, &admin, "q=walsh", 0).await;
    history(&app, &admin, "email=erin%40example.com", 0).await;
    let found = history(&app, &admin, &format!("reference={e1}"), 1).await;
    assert_eq!(found["bookings"][0]["guest_name"], "(erased)", "{found}");
    assert_eq!(found["bookings"][0]["status"], "cancelled", "{found}");
}
