//! The audit log and unauthorized-access alerting, over HTTP: a host's calendar change is
//! an entry (who, what, from where) and an outbox event; a failed sign-in is an entry with
//! the e-mail tried; a guest cannot read the log and a host reads only its tenant's; a
//! brute-force burst of failed sign-ins is listed for operators, raises
//! `innkeep_access_bursts{scope="account"}` and fires `InnkeepAccessBurst` on Slack through
//! the node's own evaluator, while normal traffic leaves the gauge at 0.

use crate::common;

use common::receivers::{Receiver, free_port};
use common::{TestApp, spawn_app, wait_ready};
use innkeep_app::audit::{AuditFilter, AuditLog};
use innkeep_app::event::{Change, EventKind};
use innkeep_app::store::Outbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// The entries `token` may read with `query`, once `done` holds for them (within 10 s:
/// entries are written after the answer).
async fn log_until(app: &TestApp, token: &str, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get(&format!("/api/v1/audit{query}"), Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let entries = r.body.as_array().cloned().unwrap_or_default();
        if done(&entries) {
            return entries;
        }
        assert!(std::time::Instant::now() < deadline, "not in the log in time: {entries:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn me(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// An operator, acting through the use cases: an admin's session needs two-factor sign-in
/// set up before it may do anything else (`two_factor.rs`).
async fn admin(app: &TestApp, email: &str) -> innkeep_app::Actor {
    let ports = &app.server.as_ref().expect("server").ports;
    let cmd = innkeep_app::auth::Register {
        email: email.into(),
        password: PASSWORD.into(),
        name: "Olga Operator".into(),
        role: innkeep_core::Role::Admin,
        locale: Default::default(),
    };
    let user = innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    innkeep_app::Actor::new(user.id, innkeep_core::Role::Admin, None)
}

async fn change_calendar(app: &TestApp, host: &str) -> String {
    let property = app.property(host, "flexible").await;
    let room_type = app.room_type(host, &property, 3).await;
    let calendar = json!({"from": "2027-02-20", "to": "2027-02-23", "price": 15000});
    let path = format!("/api/v1/room-types/{room_type}/calendar");
    let r = app.call(Method::PUT, &path, Some(host), Some(calendar)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    room_type
}

/// Writes answered at once are written together (one transaction a batch): every one of
/// them is an entry, once, with its own event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_each_an_entry_once_with_its_event() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let store = &app.server.as_ref().expect("server").ports.store;
    let before = store.last_event_seq().await.unwrap();
    let path = format!("/api/v1/room-types/{room_type}/calendar");
    let changes = (0..24).map(|i| {
        let calendar = json!({"from": "2027-03-01", "to": "2027-03-03", "price": 10000 + i});
        app.call(Method::PUT, &path, Some(&host), Some(calendar))
    });
    for r in futures::future::join_all(changes).await {
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let entries = log_until(&app, &host, "?action=calendar_changed", |es| es.len() >= 24).await;
    let ids: std::collections::HashSet<&str> = entries.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!((entries.len(), ids.len()), (24, 24), "each write once");
    let recorded = store
        .events_after(before, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.event.change(), Ok(Change::AuditRecorded(a)) if a.action == "calendar_changed"))
        .count();
    assert_eq!(recorded, 24, "one audit.recorded event per entry");
}

#[tokio::test]
async fn a_hosts_calendar_change_is_an_entry_with_who_and_from_where_and_an_outbox_event() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let me = me(&app, &host).await;
    let room_type = change_calendar(&app, &host).await;

    let entries = log_until(&app, &host, "?action=calendar_changed", |es| !es.is_empty()).await;
    let e = &entries[0];
    assert_eq!(e["actor_user_id"], me["user_id"]);
    assert_eq!(e["tenant_id"], me["tenant_id"]);
    assert_eq!((e["method"].as_str(), e["status"].as_u64()), (Some("PUT"), Some(204)));
    assert_eq!(e["target"], format!("/api/v1/room-types/{room_type}/calendar"));
    assert!(e["user_agent"].is_string() || e["user_agent"].is_null());
    // The property and the room type made before are in the log too, oldest last.
    let all = log_until(&app, &host, "", |es| es.len() >= 3).await;
    let actions: Vec<&str> = all.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions[..3], ["calendar_changed", "room_type_created", "property_created"], "{all:#?}");

    // The entry is an outbox event too (so the lake gets it).
    let store = &app.server.as_ref().unwrap().store;
    let events = store.events_after(0, 10_000).await.unwrap();
    let recorded: Vec<_> = events
        .iter()
        .filter(|s| s.event.kind == EventKind::AuditRecorded)
        .filter_map(|s| match s.event.change() {
            Ok(Change::AuditRecorded(entry)) => Some(entry),
            _ => None,
        })
        .collect();
    assert!(recorded.iter().any(|r| r.id.to_string() == e["id"].as_str().unwrap()), "{recorded:#?}");

    // From where: the peer's address (no proxy is trusted).
    assert_eq!(e["address"], "127.0.0.1", "{e:#}");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_sign_in_is_an_entry_with_the_email_tried_and_a_good_one_names_the_user() {
    let app = spawn_app().await;
    let guest = app.user("guest").await;
    let email = me(&app, &guest).await["email"].as_str().unwrap().to_string();
    let r = app.post("/api/v1/sessions", None, json!({"email": email.to_uppercase(), "password": "wrong"})).await;
    r.assert_problem(401, "bad_credentials");

    let store = &app.server.as_ref().unwrap().store;
    let filter = |action: &str| AuditFilter { action: Some(action.into()), limit: 10, ..Default::default() };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let failed = loop {
        let found = store.list_audit(&filter("sign_in_failed")).await.unwrap();
        if !found.is_empty() || std::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!((failed[0].target.as_str(), failed[0].status, failed[0].actor_user_id), (email.as_str(), 401, None));
    assert_eq!(failed[0].method, "POST");

    // The sign-in of `app.user` succeeded: its entry names the user it signed in.
    let signed_in = store.list_audit(&filter("sign_in")).await.unwrap();
    assert_eq!(signed_in.len(), 1, "{signed_in:#?}");
    assert_eq!(
        signed_in[0].actor_user_id.map(|u| u.to_string()),
        me(&app, &guest).await["user_id"].as_str().map(String::from)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_guest_cannot_read_the_log_and_a_host_reads_only_its_own_tenants() {
    let app = spawn_app().await;
    let (host_a, host_b, guest) = (app.user("host").await, app.user("host").await, app.user("guest").await);
    change_calendar(&app, &host_a).await;
    change_calendar(&app, &host_b).await;
    let (tenant_a, tenant_b) =
        (me(&app, &host_a).await["tenant_id"].clone(), me(&app, &host_b).await["tenant_id"].clone());

    app.get("/api/v1/audit", Some(&guest)).await.assert_problem(403, "forbidden");
    app.get("/api/v1/audit", None).await.assert_problem(401, "unauthenticated");
    let of_a = log_until(&app, &host_a, "", |es| es.len() >= 3).await;
    assert!(of_a.iter().all(|e| e["tenant_id"] == tenant_a), "{of_a:#?}");
    let other = format!("?tenant_id={}", tenant_b.as_str().unwrap());
    app.get(&format!("/api/v1/audit{other}"), Some(&host_a)).await.assert_problem(403, "forbidden");

    // An operator reads every tenant's, and the refusals above are entries of none (reads
    // are not audited, so only their effect on the detector remains).
    let operator = admin(&app, "olga@example.com").await;
    let ports = &app.server.as_ref().unwrap().ports;
    let tenant_b = innkeep_core::TenantId(tenant_b.as_str().unwrap().parse().unwrap());
    let filter = AuditFilter { tenant_id: Some(tenant_b), limit: 50, ..Default::default() };
    let b = innkeep_app::audit::list(ports, &operator, filter).await.unwrap();
    assert!(b.len() >= 3 && b.iter().all(|e| e.tenant_id == Some(tenant_b)), "{b:#?}");
    let everyone = innkeep_app::audit::list(ports, &operator, AuditFilter { limit: 500, ..Default::default() });
    assert!(everyone.await.unwrap().len() >= 6, "an admin reads every tenant's");
    app.get("/api/v1/audit?limit=500", Some(&host_a)).await.assert_problem(400, "invalid_limit");
    app.stop().await;
}

#[tokio::test]
async fn a_brute_force_burst_on_one_account_shows_in_the_metrics_and_its_list_is_for_operators_only() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let victim = "victim@example.com";
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let r = app.post("/api/v1/sessions", None, json!({"email": victim, "password": "guess"})).await;
        statuses.push(r.status.as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(statuses.contains(&429), "the sign-in limiter took part: {statuses:?}");

    // (What an operator's list holds is `intrusion.rs`'s unit tests': an admin's session
    // here would need two-factor sign-in set up first.)
    app.get("/api/v1/ops/access-bursts", Some(&host)).await.assert_problem(403, "forbidden");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(gauge(&metrics, "account") >= 1.0, "{metrics}");
    app.stop().await;
}

/// The value of `innkeep_access_bursts{scope}` in a metrics text.
fn gauge(metrics: &str, scope: &str) -> f64 {
    let prefix = format!("innkeep_access_bursts{{scope=\"{scope}\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(-1.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_access_alert_fires_on_a_brute_force_burst_and_not_on_normal_traffic() {
    let slack = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .env("INNKEEP_LOG__LEVEL", "error")
        .env("INNKEEP_NOTIFY__SLACK_WEBHOOK_URL", format!("{}/services/T0/B0/secret", slack.base))
        // A drill: every `for` of the rules divided by 60 (1 minute is 1 s).
        .env("INNKEEP_NOTIFY__ALERTS__SPEEDUP", "60")
        .env("INNKEEP_NOTIFY__ALERTS__INTERVAL_SECS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("innkeep starts");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let app = TestApp::at(&base);
    let scrape = || async { client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap() };
    let alerts = || {
        slack
            .taken("/services/T0/B0/secret")
            .iter()
            .map(|t| t.json().to_string())
            .filter(|p| p.contains("Unauthorized-access burst"))
            .count()
    };

    // Normal traffic: five people mistype their password once each, a thousand requests
    // succeed, a client with an expired token is refused a few times.
    let token = app.user("guest").await;
    for i in 0..5 {
        let email = format!("someone{i}@example.com");
        let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": "not it"})).await;
        assert_eq!(r.status, 401);
    }
    for _ in 0..1000 {
        assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    }
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", Some("expired")).await.status, 401);
    }
    let metrics = scrape().await;
    for scope in ["address", "account", "tenant"] {
        assert_eq!(gauge(&metrics, scope), 0.0, "{scope}: {metrics}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(alerts(), 0, "no alert on normal traffic: {:?}", slack.taken("/"));

    // A brute force on one account: the limiter answers 429 after 10; all count.
    for _ in 0..25 {
        let r = app.post("/api/v1/sessions", None, json!({"email": "victim@example.com", "password": "guess"})).await;
        assert!(matches!(r.status.as_u16(), 401 | 429), "{}", r.body);
    }
    assert!(gauge(&scrape().await, "account") >= 1.0);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while alerts() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(alerts() >= 1, "the alert reached Slack: {:?}", slack.taken("/"));
    child.kill().unwrap();
    child.wait().unwrap();
}
