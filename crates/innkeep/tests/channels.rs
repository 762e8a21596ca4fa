//! Calendar sync with other channels (issue 22), end to end on a running node: a room
//! type's export feed imported into a second property blocks the same nights, and back
//! (two-way, without echo); a feed overlapping a booking is a conflict that changes no
//! booking; removed events and removed feeds reopen their nights; Airbnb's and
//! Booking.com's real exports (tests/corpus) import with the nights they hold, conditional
//! GETs answered 304 change nothing; bad URLs, failing and oversized feeds are refused or
//! reported, never applied. On SQLite and on PostgreSQL.

use crate::common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A node that fetches feeds over http from loopback.
async fn app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.channels.allow_loopback_http = true;
    config.channels.max_feed_bytes = 64 * 1024;
    let clock = Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    TestApp::with_server(server, clock, dir)
}

/// A host with a one-unit room type: (host token, room type id).
async fn one_room(app: &TestApp) -> (String, String) {
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 1).await;
    (host, room_type)
}

/// The room type's export URL, made by its host.
async fn export_url(app: &TestApp, host: &str, room_type: &str) -> String {
    let r = app.post(&format!("/api/v1/room-types/{room_type}/ical-export"), Some(host), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.body["url"].as_str().unwrap();
    // The node's public address is not this test's: fetch it where the node listens.
    app.url(&url[url.find("/ical/").unwrap()..])
}

/// Import `url` into the room type; the feed's id.
async fn import(app: &TestApp, host: &str, room_type: &str, name: &str, url: &str) -> String {
    let r = app
        .post(&format!("/api/v1/room-types/{room_type}/ical-feeds"), Some(host), json!({"name": name, "url": url}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Ask for a fetch now and wait (at most 20 s) until one after `after` is recorded; the feed.
async fn synced(app: &TestApp, host: &str, feed: &str, after: Option<&str>) -> Value {
    if after.is_some() {
        // The test's clock stands still; a second passes, so the new fetch has a time of its own.
        app.clock.advance(jiff::SignedDuration::from_secs(1));
        let r = app.post(&format!("/api/v1/ical-feeds/{feed}/sync"), Some(host), json!({})).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    for _ in 0..200 {
        let r = app.get(&format!("/api/v1/ical-feeds/{feed}"), Some(host)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let at = r.body["last_sync_at"].as_str();
        if at.is_some() && at != after {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("feed {feed} was not fetched");
}

/// The nights a feed holds and those in conflict.
fn nights(feed: &Value, state: &str) -> Vec<String> {
    feed["nights"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["state"] == state)
        .map(|n| n["night"].as_str().unwrap().to_string())
        .collect()
}

/// Sold units per night over [from, to).
async fn sold(app: &TestApp, host: &str, room_type: &str, from: &str, to: &str) -> Vec<u64> {
    let r = app.get(&format!("/api/v1/room-types/{room_type}/calendar?from={from}&to={to}"), Some(host)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["nights"].as_array().unwrap().iter().map(|n| n["sold"].as_u64().unwrap()).collect()
}

async fn confirmed(app: &TestApp, guest: &str, room_type: &str, from: &str, to: &str) -> String {
    let r = app.book(guest, room_type, from, to, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let c = app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(guest), json!({})).await;
    assert_eq!(c.status, 200, "{}", c.body);
    id
}

async fn two_way_sync(app: TestApp) {
    let (host_a, room_a) = one_room(&app).await;
    let (host_b, room_b) = one_room(&app).await;
    let guest = app.user("guest").await;
    let booking_a = confirmed(&app, &guest, &room_a, "2027-03-10", "2027-03-12").await;
    let closed = json!({"from": "2027-03-20", "to": "2027-03-22", "closed": true});
    let r = app.call(Method::PUT, &format!("/api/v1/room-types/{room_a}/calendar"), Some(&host_a), Some(closed)).await;
    assert_eq!(r.status, 204, "{}", r.body);

    // A's feed: its booked and closed nights, all-day events with CRLF lines.
    let feed_a = export_url(&app, &host_a, &room_a).await;
    let text = app.client.get(&feed_a).send().await.unwrap();
    assert_eq!(text.headers()["content-type"], "text/calendar; charset=utf-8");
    let etag = text.headers()["etag"].to_str().unwrap().to_string();
    let text = text.text().await.unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"), "{text}");
    let events: Vec<&str> = text.split("BEGIN:VEVENT\r\n").skip(1).collect();
    let has = |start: &str, end: &str| {
        events.iter().any(|e| {
            e.contains(&format!("\r\nDTSTART;VALUE=DATE:{start}\r\n"))
                && e.contains(&format!("DTEND;VALUE=DATE:{end}\r\n"))
        })
    };
    assert_eq!(events.len(), 2, "{text}");
    assert!(has("20270310", "20270312") && has("20270320", "20270322"), "the booked and the closed nights: {text}");
    assert!(!text.contains("Ana Silva") && !text.contains("ana@example.com"), "no guest details: {text}");
    let again = app.client.get(&feed_a).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304, "unchanged nights, the same tag");

    // B imports A: the same nights are blocked on B, and B cannot sell them.
    let b_imports_a = import(&app, &host_b, &room_b, "Property A", &feed_a).await;
    let feed = synced(&app, &host_b, &b_imports_a, None).await;
    assert_eq!(feed["last_status"], "ok", "{feed}");
    assert_eq!(nights(&feed, "held"), ["2027-03-10", "2027-03-11", "2027-03-20", "2027-03-21"]);
    assert_eq!(sold(&app, &host_b, &room_b, "2027-03-09", "2027-03-13").await, [0, 1, 1, 0]);
    let r = app.book(&guest, &room_b, "2027-03-11", "2027-03-13", None).await;
    r.assert_problem(409, "sold_out");
    confirmed(&app, &guest, &room_b, "2027-03-12", "2027-03-14").await;

    // A imports B: only B's own booking comes back (B's feed does not echo what it
    // imported from A, which would collide with A's booking).
    let feed_b = export_url(&app, &host_b, &room_b).await;
    let a_imports_b = import(&app, &host_a, &room_a, "Property B", &feed_b).await;
    let feed = synced(&app, &host_a, &a_imports_b, None).await;
    assert_eq!(
        (nights(&feed, "held"), nights(&feed, "conflict")),
        (vec!["2027-03-12".into(), "2027-03-13".into()], vec![])
    );
    app.book(&guest, &room_a, "2027-03-13", "2027-03-14", None).await.assert_problem(409, "sold_out");

    // A's guest cancels: the next fetch of A's feed on B reopens those nights.
    let before = last_sync(&app, &host_b, &b_imports_a).await;
    let r = app.post(&format!("/api/v1/bookings/{booking_a}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let feed = synced(&app, &host_b, &b_imports_a, before.as_deref()).await;
    assert_eq!(nights(&feed, "held"), ["2027-03-20", "2027-03-21"]);
    assert_eq!(sold(&app, &host_b, &room_b, "2027-03-09", "2027-03-13").await, [0, 0, 0, 1]);

    // Nothing changed since: the conditional GET is answered 304 and nothing moves.
    let before = last_sync(&app, &host_b, &b_imports_a).await;
    let feed = synced(&app, &host_b, &b_imports_a, before.as_deref()).await;
    assert_eq!(feed["last_status"], "not_modified", "{feed}");
    assert_eq!(nights(&feed, "held"), ["2027-03-20", "2027-03-21"]);

    // B stops importing A: its nights reopen.
    let r = app.call(Method::DELETE, &format!("/api/v1/ical-feeds/{b_imports_a}"), Some(&host_b), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(sold(&app, &host_b, &room_b, "2027-03-19", "2027-03-23").await, [0, 0, 0, 0]);
    assert_eq!(app.get(&format!("/api/v1/ical-feeds/{b_imports_a}"), Some(&host_b)).await.status, 404);

    // A new export URL replaces the old one at once; a revoked export answers 404.
    let old = feed_a.clone();
    let new = export_url(&app, &host_a, &room_a).await;
    assert_ne!(old, new);
    assert_eq!(app.client.get(&old).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(&new).send().await.unwrap().status(), 200);
    let r = app.call(Method::DELETE, &format!("/api/v1/room-types/{room_a}/ical-export"), Some(&host_a), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.client.get(&new).send().await.unwrap().status(), 404);
    app.stop().await;
}

async fn last_sync(app: &TestApp, host: &str, feed: &str) -> Option<String> {
    app.get(&format!("/api/v1/ical-feeds/{feed}"), Some(host)).await.body["last_sync_at"].as_str().map(str::to_string)
}

#[tokio::test]
async fn two_properties_sync_both_ways_through_their_feeds() {
    two_way_sync(app().await).await;
}

#[tokio::test]
async fn two_properties_sync_both_ways_through_their_feeds_on_postgres() {
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = url;
    config.web.csrf_key = "postgres-test-key-0123456789abcdef-0123".into();
    config.channels.allow_loopback_http = true;
    let clock = Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    two_way_sync(TestApp::with_server(server, clock, dir)).await;
    innkeep_store::testing::drop_postgres_database(&admin, &name).await.unwrap();
}

#[tokio::test]
async fn a_feed_overlapping_a_booking_is_a_conflict_that_changes_no_booking() {
    let app = app().await;
    let (host_a, room_a) = one_room(&app).await;
    let (host_b, room_b) = one_room(&app).await;
    let guest = app.user("guest").await;
    confirmed(&app, &guest, &room_a, "2027-04-01", "2027-04-04").await;
    let booking_b = confirmed(&app, &guest, &room_b, "2027-04-02", "2027-04-03").await;
    let feed_a = export_url(&app, &host_a, &room_a).await;
    let feed = import(&app, &host_b, &room_b, "Property A", &feed_a).await;
    let feed = synced(&app, &host_b, &feed, None).await;
    assert_eq!(nights(&feed, "held"), ["2027-04-01", "2027-04-03"]);
    assert_eq!(nights(&feed, "conflict"), ["2027-04-02"], "B's own booking has that night");
    let b = app.get(&format!("/api/v1/bookings/{booking_b}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "confirmed", "the booking is untouched: {}", b.body);
    assert_eq!(sold(&app, &host_b, &room_b, "2027-04-01", "2027-04-04").await, [1, 1, 1], "never more than the units");

    // B's hosts are mailed, once: a later fetch finding the same conflict says nothing new.
    let conflict_mail = async || -> Vec<Value> {
        let log = app.get("/api/v1/notifications?channel=email", Some(&host_b)).await.body;
        log.as_array().unwrap().iter().filter(|d| d["template"] == "host.calendar_conflict").cloned().collect()
    };
    let mut mail = Vec::new();
    for _ in 0..100 {
        mail = conflict_mail().await;
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0]["subject"], "Calendar conflict at Casa Azul (Double Room)");
    let before = feed["last_sync_at"].as_str().map(str::to_string);
    let feed = synced(&app, &host_b, feed["id"].as_str().unwrap(), before.as_deref()).await;
    assert_eq!(nights(&feed, "conflict"), ["2027-04-02"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(conflict_mail().await.len(), 1, "the same conflict is mailed once");
    app.stop().await;
}

/// A feed server: answers the current text with a strong ETag (304 when it matches), or
/// the status it is told to.
#[derive(Clone, Default)]
struct FeedServer {
    state: Arc<Mutex<(u16, Vec<u8>, usize)>>,
}

impl FeedServer {
    async fn start() -> (FeedServer, String) {
        let server = FeedServer::default();
        server.state.lock().unwrap().0 = 200;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(serve_feed).with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (server, base)
    }

    fn set(&self, status: u16, body: &[u8]) {
        let mut s = self.state.lock().unwrap();
        s.0 = status;
        s.1 = body.to_vec();
    }

    fn requests(&self) -> usize {
        self.state.lock().unwrap().2
    }
}

async fn serve_feed(State(server): State<FeedServer>, headers: HeaderMap) -> axum::response::Response {
    let (status, body) = {
        let mut s = server.state.lock().unwrap();
        s.2 += 1;
        (s.0, s.1.clone())
    };
    let etag = format!("\"{}\"", body.len() * 31 + body.iter().map(|b| *b as usize).sum::<usize>());
    if status != 200 {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::CONTENT_TYPE, "text/calendar".to_string()), (header::ETAG, etag)], body).into_response()
}

fn corpus(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../channels/tests/corpus/ical").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every night of [from, to), as text.
fn range(from: &str, to: &str) -> Vec<String> {
    let (mut d, to): (jiff::civil::Date, jiff::civil::Date) = (from.parse().unwrap(), to.parse().unwrap());
    let mut out = Vec::new();
    while d < to {
        out.push(d.to_string());
        d = d.tomorrow().unwrap();
    }
    out
}

#[tokio::test]
async fn airbnb_and_booking_com_exports_import_with_their_nights() {
    let app = app().await;
    let (host, room) = one_room(&app).await;
    let (server, base) = FeedServer::start().await;
    // Airbnb's export (read by hand): after the test's today (2027-01-04) it has a stay
    // ("Reserved") of 2027-07-18 to 07-22 and "Airbnb (Not available)" from 08-09 to 08-23;
    // its 2026 events and the block ending 2027-01-02 are past, and not imported.
    server.set(200, &corpus("airbnb-export-reservation-sync.ics"));
    let airbnb = import(&app, &host, &room, "Airbnb", &format!("{base}/airbnb.ics")).await;
    let feed = synced(&app, &host, &airbnb, None).await;
    assert_eq!(feed["last_status"], "ok", "{feed}");
    assert_eq!(nights(&feed, "held"), [range("2027-07-18", "2027-07-22"), range("2027-08-09", "2027-08-23")].concat());

    // The same server now answers Booking.com's export: "CLOSED - Not available" from
    // 2027-07-31 to 08-07 (and a 2026 one, past). Airbnb's nights leave with its events.
    server.set(200, &corpus("bookingcom-export-reservation-sync.ics"));
    let before = feed["last_sync_at"].as_str().map(str::to_string);
    let feed = synced(&app, &host, &airbnb, before.as_deref()).await;
    assert_eq!(nights(&feed, "held"), range("2027-07-31", "2027-08-07"));
    assert_eq!(sold(&app, &host, &room, "2027-07-17", "2027-07-19").await, [0, 0], "Airbnb's nights reopened");

    // Unchanged: a conditional GET, 304, nothing moves.
    let before = feed["last_sync_at"].as_str().map(str::to_string);
    let mut feed = synced(&app, &host, &airbnb, before.as_deref()).await;
    assert_eq!((feed["last_status"].as_str(), nights(&feed, "held").len()), (Some("not_modified"), 7), "{feed}");

    // The feed fails (500), is not a calendar, or is too large: the error is shown and the
    // nights stay as they were.
    for (status, body, says) in [
        (500, b"".to_vec(), "500"),
        (200, b"<html>not a calendar</html>".to_vec(), "not a calendar"),
        (200, [b"BEGIN:VCALENDAR\r\n".to_vec(), vec![b'X'; 70 * 1024]].concat(), "larger than"),
    ] {
        server.set(status, &body);
        let before = feed["last_sync_at"].as_str().map(str::to_string);
        feed = synced(&app, &host, &airbnb, before.as_deref()).await;
        assert_eq!(feed["last_status"], "error", "{feed}");
        assert!(feed["last_error"].as_str().unwrap().contains(says), "{feed}");
        assert_eq!(nights(&feed, "held"), range("2027-07-31", "2027-08-07"));
    }
    assert!(server.requests() >= 6);
    app.stop().await;
}

#[tokio::test]
async fn feed_urls_and_ids_of_others_are_refused_and_change_nothing() {
    let app = app().await;
    let (host, room) = one_room(&app).await;
    let (other, _) = one_room(&app).await;
    for url in [
        "ftp://calendar.example.com/a.ics",
        "http://calendar.example.com/a.ics",
        "https://10.0.0.7/a.ics",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@calendar.example.com/a.ics",
        "not a url",
    ] {
        let r = app
            .post(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&host), json!({"name": "X", "url": url}))
            .await;
        r.assert_problem(400, "feed_url_refused");
    }
    let body = json!({"name": "", "url": "https://calendar.example.com/a.ics"});
    app.post(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&host), body)
        .await
        .assert_problem(400, "invalid_name");
    let body = json!({"name": "X", "url": "https://calendar.example.com/a.ics", "extra": 1});
    assert_eq!(app.post(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&host), body).await.status, 400);
    // Another tenant's room type: not found, for its feeds and its export alike.
    let body = json!({"name": "X", "url": "https://calendar.example.com/a.ics"});
    app.post(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&other), body.clone())
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("/api/v1/room-types/{room}/ical-export"), Some(&other), json!({}))
        .await
        .assert_problem(404, "not_found");
    let feed = import(&app, &host, &room, "Elsewhere", "https://calendar.example.com/a.ics").await;
    app.get(&format!("/api/v1/ical-feeds/{feed}"), Some(&other)).await.assert_problem(404, "not_found");
    let r = app.call(Method::DELETE, &format!("/api/v1/ical-feeds/{feed}"), Some(&other), None).await;
    r.assert_problem(404, "not_found");
    app.post(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&host), body).await.assert_problem(409, "conflict");
    // Export tokens that are not ones: 404, never a 5xx.
    for path in
        ["/ical/abc.ics", "/ical/..%2F..%2Fetc%2Fpasswd.ics", &format!("/ical/{}.ics", "0".repeat(64)), "/ical/x"]
    {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 404, "{path}");
    }
    assert_eq!(
        app.get(&format!("/api/v1/room-types/{room}/ical-feeds"), Some(&host)).await.body.as_array().unwrap().len(),
        1
    );
    app.stop().await;
}
