//! A booking answered 201 survives `kill -9` of the server and a restart; SIGTERM drains.

use crate::common;

use common::{Reply, post_json as post, wait_ready};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("innkeep starts")
}

#[tokio::test]
async fn a_booking_answered_201_survives_kill_9_and_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::new();
    let mut child = start(dir.path(), port);
    wait_ready(&client, &base).await;

    let mut tokens = Vec::new();
    for role in ["host", "guest"] {
        let email = format!("{role}@example.com");
        post(
            &client,
            format!("{api}/users"),
            None,
            json!({"email": email, "password": "correct horse battery", "name": "T", "role": role}),
        )
        .await;
        let s = post(
            &client,
            format!("{api}/sessions"),
            None,
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
        tokens.push(s.body["token"].as_str().expect("token").to_string());
    }
    let (host, guest) = (&tokens[0], &tokens[1]);
    let p = post(&client, format!("{api}/properties"), Some(host), common::property_body("flexible")).await;
    let pid = p.body["id"].as_str().expect("id");
    let rt = post(&client, format!("{api}/properties/{pid}/room-types"), Some(host), common::room_type_body(10)).await;
    let rt = rt.body["id"].as_str().expect("id").to_string();
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let mut ids = Vec::new();
    for i in 0..5 {
        let ci = today.checked_add(jiff::Span::new().days(30 + i)).expect("date");
        let co = ci.checked_add(jiff::Span::new().days(2)).expect("date");
        let b = post(
            &client,
            format!("{api}/bookings"),
            Some(guest),
            common::booking_body(&rt, &ci.to_string(), &co.to_string()),
        )
        .await;
        assert_eq!(b.status, 201, "{}", b.body);
        ids.push(b.body["id"].as_str().expect("id").to_string());
    }

    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let mut child = start(dir.path(), port);
    wait_ready(&client, &base).await;
    for id in &ids {
        let r = Reply::from(client.get(format!("{api}/bookings/{id}")).bearer_auth(guest).send().await.expect("sent"))
            .await;
        assert_eq!(r.status, 200, "booking {id} survived: {}", r.body);
        assert_eq!(r.body["status"], "held");
    }
    let cal = Reply::from(
        client
            .get(format!(
                "{api}/room-types/{rt}/calendar?from={}&to={}",
                today.checked_add(jiff::Span::new().days(30)).expect("d"),
                today.checked_add(jiff::Span::new().days(31)).expect("d")
            ))
            .bearer_auth(host)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(cal.body["nights"][0]["sold"], 1, "{}", cal.body);

    // SIGTERM: the server drains and exits cleanly.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "clean exit after SIGTERM: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_with_the_demo_is_ready_only_once_the_demo_can_be_found() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--demo", "--demo-properties", "300", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("innkeep starts");
    let client = reqwest::Client::new();
    // Poll readiness as a load balancer would; the first 200 must mean the demo is there.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut not_ready = 0;
    loop {
        match client.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => break,
            Ok(r) => {
                assert_eq!(r.status(), 503, "not ready is a 503");
                not_ready += 1;
            }
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let properties =
        Reply::from(client.get(format!("{base}/api/v1/properties?limit=1")).send().await.expect("sent")).await;
    assert_eq!(properties.body.as_array().map(Vec::len), Some(1), "ready, but no property: {}", properties.body);
    let ci = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date() + jiff::Span::new().days(40);
    let co = ci + jiff::Span::new().days(2);
    let search = Reply::from(
        client
            .get(format!("{base}/api/v1/search?destination=Lisbon&check_in={ci}&check_out={co}&adults=1"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(search.status, 200, "{}", search.body);
    let hits = search.body["hits"].as_array().map(Vec::len).unwrap_or(0);
    assert!(hits > 0, "ready, but search finds no demo stay: {}", search.body);
    eprintln!("answered not ready {not_ready} times while the demo loaded");
    child.kill().expect("kill");
    child.wait().expect("reaped");
}

/// SIGTERM: /readyz answers 503 `draining` at once while requests are still served for
/// `server.drain_secs`, then the node stops accepting and exits cleanly.
#[tokio::test]
async fn sigterm_turns_readyz_503_first_and_keeps_serving_while_draining() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .env("INNKEEP_LOG__LEVEL", "warn")
        .env("INNKEEP_SERVER__DRAIN_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("innkeep starts");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let sent = Instant::now();
    // The balancer's view turns first...
    let mut draining = false;
    while sent.elapsed() < Duration::from_secs(2) {
        let r = Reply::from(client.get(format!("{base}/readyz")).send().await.expect("still accepting")).await;
        if r.status == 503 {
            assert_eq!(r.body["code"], "draining", "{}", r.body);
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(draining, "/readyz did not turn 503 after SIGTERM");
    // ...while requests are still answered.
    let r = client.get(format!("{base}/api/v1/places?q=Lisb")).send().await.expect("still serving");
    assert_eq!(r.status(), 200);
    assert!(sent.elapsed() < Duration::from_secs(3), "checked within the drain window");
    // Then the node stops and exits cleanly.
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the node did not stop after draining");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit {exit:?}");
    assert!(sent.elapsed() >= Duration::from_secs(3), "it served for the whole drain window");
}
