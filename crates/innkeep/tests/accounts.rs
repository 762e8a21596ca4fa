//! Accounts and web sessions on the real server: one account per e-mail address however
//! it is spelled, web forms that work on every node configured with the same key, cookies
//! that are `Secure` behind https, and a PostgreSQL node that will not start without a key.

use crate::common;

use common::{START, spawn_app};
use innkeep::config::Config;
use innkeep::startup::{Server, web_config};
use innkeep_app::clock::ManualClock;
use reqwest::{Client, StatusCode, header};
use serde_json::json;
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";
const KEY: &str = "accounts-test-key-0123456789abcdef";

#[tokio::test]
async fn look_alike_spellings_of_an_email_address_are_one_account() {
    let app = spawn_app().await;
    let precomposed = "ren\u{e9}e@x.org";
    let combining = "rene\u{301}e@x.org";
    let body = |email: &str| json!({"email": email, "password": PASSWORD, "name": "Renée", "role": "guest"});
    let first = app.post("/api/v1/users", None, body(precomposed)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    app.post("/api/v1/users", None, body(combining)).await.assert_problem(409, "email_taken");
    app.post("/api/v1/users", None, body("RENE\u{301}E@X.ORG")).await.assert_problem(409, "email_taken");
    for email in [precomposed, combining, "Rene\u{301}e@X.org"] {
        let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(r.status, 201, "{email:?}: {}", r.body);
        assert_eq!(r.body["user"]["id"], first.body["id"], "{email:?}");
    }
    app.stop().await;
}

/// A node on a shared SQLite database, configured by `adjust`.
async fn node(db: &std::path::Path, adjust: impl FnOnce(&mut Config)) -> (Server, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = innkeep_store::sqlite_url(db);
    config.log.level = "warn".into();
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let server = Server::start(&config, clock, false).await.expect("node starts");
    let base = format!("http://{}", server.addr);
    (server, base, dir)
}

/// The sign-in form from one node: its pre-session cookie and CSRF token.
async fn sign_in_form(client: &Client, base: &str) -> (String, String) {
    let r = client.get(format!("{base}/signin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("innkeep_csrf="))
        .expect("a pre-session cookie");
    let body = r.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = body.find(marker).unwrap() + marker.len();
    let csrf = body[at..at + body[at..].find('"').unwrap()].to_string();
    (cookie, csrf)
}

async fn sign_in(client: &Client, base: &str, cookie: &str, csrf: &str) -> reqwest::Response {
    client
        .post(format!("{base}/signin"))
        .header(header::COOKIE, cookie)
        .form(&[("csrf", csrf), ("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_form_rendered_by_one_node_is_accepted_by_another_with_the_same_key() {
    let shared = tempfile::tempdir().unwrap();
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (a, base_a, _da) = node(shared.path(), |c| c.web.csrf_key = KEY.into()).await;
    let (b, base_b, _db) = node(shared.path(), |c| c.web.csrf_key = KEY.into()).await;
    let user = json!({"email": "ana@example.com", "password": PASSWORD, "name": "Ana", "role": "guest"});
    let r = client.post(format!("{base_a}/api/v1/users")).json(&user).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let (cookie, csrf) = sign_in_form(&client, &base_a).await;
    let r = sign_in(&client, &base_b, &cookie, &csrf).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "node B accepts node A's form");

    // A node with a key of its own (as every node without one has) refuses it.
    let (c, base_c, _dc) = node(shared.path(), |_| {}).await;
    let (cookie, csrf) = sign_in_form(&client, &base_a).await;
    assert_eq!(sign_in(&client, &base_c, &cookie, &csrf).await.status(), StatusCode::FORBIDDEN);
    for s in [a, b, c] {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https_or_the_setting_says_so() {
    let shared = tempfile::tempdir().unwrap();
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (https, base_https, _d1) = node(shared.path(), |c| c.server.public_url = "https://stays.example".into()).await;
    let (forced, base_forced, _d2) = node(shared.path(), |c| c.web.secure_cookies = Some(true)).await;
    let (plain, base_plain, _d3) = node(shared.path(), |_| {}).await;
    let csrf_cookie = |r: &reqwest::Response| {
        r.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).next().unwrap()
    };
    for base in [&base_https, &base_forced] {
        let r = client.get(format!("{base}/signin")).send().await.unwrap();
        assert!(csrf_cookie(&r).ends_with("; Secure"), "{}", csrf_cookie(&r));
    }
    let r = client.get(format!("{base_plain}/signin")).send().await.unwrap();
    assert!(!csrf_cookie(&r).contains("Secure"), "{}", csrf_cookie(&r));
    for s in [https, forced, plain] {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_postgres_node_refuses_to_start_without_a_csrf_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    // Nothing listens there: the key is checked before the database is opened.
    config.database.url = "postgres://innkeep@127.0.0.1:1/innkeep".into();
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let Err(e) = Server::start(&config, clock, false).await else { panic!("a PostgreSQL node started without a key") };
    let message = format!("{e:#}");
    assert!(message.contains("web.csrf_key") && message.contains("PostgreSQL"), "{message}");

    config.web.csrf_key = "too short".into();
    assert!(format!("{:#}", web_config(&config).unwrap_err()).contains("at least 32 characters"));
    config.web.csrf_key = KEY.into();
    assert_eq!(web_config(&config).unwrap().csrf_key.as_deref(), Some(KEY.as_bytes()));
    // SQLite (one node) keeps a random key of its own.
    config.database.url = String::new();
    config.web.csrf_key = String::new();
    assert!(web_config(&config).unwrap().csrf_key.is_none());
}
