//! Two-factor sign-in on the real server (SQLite, and PostgreSQL when
//! INNKEEP_TEST_POSTGRES_URL is set): enrol, confirm with a code, sign in with a code
//! (one step of clock drift accepted, two not, none twice), with a recovery code (once),
//! turn it off; an operator who has not enrolled gets a session that can only set it up;
//! the sign-in page asks for the code.

use crate::common;

use common::{TestApp, on_postgres, spawn_app};
use innkeep_app::two_factor::code_at;
use innkeep_core::Role;
use jiff::SignedDuration;
use reqwest::{Client, Method, StatusCode, header};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn register(app: &TestApp, email: &str) {
    let body = json!({"email": email, "password": PASSWORD, "name": "Ana", "role": "guest"});
    assert_eq!(app.post("/api/v1/users", None, body).await.status, 201);
}

/// An operator (made by the operator's command, not the API).
async fn register_admin(app: &TestApp, email: &str) {
    let ports = &app.server.as_ref().unwrap().ports;
    let cmd = innkeep_app::auth::Register {
        email: email.into(),
        password: PASSWORD.into(),
        name: "Olga".into(),
        role: Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
}

async fn sign_in(app: &TestApp, email: &str, code: Option<&str>) -> common::Reply {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    app.post("/api/v1/sessions", None, body).await
}

fn token(r: &common::Reply) -> String {
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_string()
}

/// The code an authenticator app shows `steps` steps of 30 s from the server's clock.
fn code(app: &TestApp, secret: &str, steps: i64) -> String {
    let at = app.clock.now_for_tests().checked_add(SignedDuration::from_secs(30 * steps)).unwrap();
    code_at(secret, at).unwrap()
}

async fn delete(app: &TestApp, path: &str, token: &str, body: Value) -> common::Reply {
    app.call(Method::DELETE, path, Some(token), Some(body)).await
}

/// Enrol and confirm for the session `t`; the secret and the recovery codes.
async fn enrol(app: &TestApp, t: &str) -> (String, Vec<String>) {
    let started = app.post("/api/v1/me/two-factor", Some(t), json!({})).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let secret = started.body["secret"].as_str().unwrap().to_string();
    let confirmed = app.post("/api/v1/me/two-factor/confirm", Some(t), json!({"code": code(app, &secret, 0)})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes = confirmed.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string());
    (secret, codes.collect())
}

async fn codes(app: TestApp) {
    let email = "ana@example.com";
    register(&app, email).await;
    let first = sign_in(&app, email, None).await;
    assert_eq!(first.body["two_factor_setup_required"], false, "{}", first.body);
    let t = token(&first);
    let off = app.get("/api/v1/me/two-factor", Some(&t)).await;
    assert_eq!(off.body, json!({"enabled": false, "recovery_codes_left": 0, "required": false}));

    // Enrolment: a secret shown once, replaced by starting again before it is confirmed.
    let started = app.post("/api/v1/me/two-factor", Some(&t), json!({})).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let old_secret = started.body["secret"].as_str().unwrap().to_string();
    let again = app.post("/api/v1/me/two-factor", Some(&t), json!({})).await;
    assert_eq!(again.status, 201, "{}", again.body);
    let secret = again.body["secret"].as_str().unwrap().to_string();
    assert_ne!(secret, old_secret);
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    assert_eq!(
        again.body["otpauth_uri"],
        format!(
            "otpauth://totp/Innkeep:ana%40example.com?secret={secret}&issuer=Innkeep&algorithm=SHA1&digits=6&period=30"
        )
    );
    let wrong = if code(&app, &secret, 0) == "000000" { "111111" } else { "000000" };
    app.post("/api/v1/me/two-factor/confirm", Some(&t), json!({"code": wrong})).await.assert_problem(400, "bad_code");
    let stale = code(&app, &old_secret, 0);
    if stale != code(&app, &secret, 0) {
        app.post("/api/v1/me/two-factor/confirm", Some(&t), json!({"code": stale}))
            .await
            .assert_problem(400, "bad_code");
    }
    let confirmed = app.post("/api/v1/me/two-factor/confirm", Some(&t), json!({"code": code(&app, &secret, 0)})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let recovery: Vec<String> =
        confirmed.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(recovery.len(), 10);
    assert!(recovery.iter().all(|c| c.len() == 9 && c.as_bytes()[4] == b'-'), "{recovery:?}");
    app.post("/api/v1/me/two-factor", Some(&t), json!({})).await.assert_problem(409, "conflict");
    let on = app.get("/api/v1/me/two-factor", Some(&t)).await;
    assert_eq!(on.body, json!({"enabled": true, "recovery_codes_left": 10, "required": false}));
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.status, 200, "the enrolling session goes on");

    // Sign-in now needs a code.
    sign_in(&app, email, None).await.assert_problem(401, "two_factor_required");
    sign_in(&app, email, Some(wrong)).await.assert_problem(401, "bad_code");
    // The confirming code's step is used already.
    sign_in(&app, email, Some(&code(&app, &secret, 0))).await.assert_problem(401, "bad_code");

    // A minute later: the code of one step ago works, once; two steps ago does not.
    app.clock.advance(SignedDuration::from_secs(60));
    let two_ago = code(&app, &secret, -2);
    if ![code(&app, &secret, -1), code(&app, &secret, 0), code(&app, &secret, 1)].contains(&two_ago) {
        sign_in(&app, email, Some(&two_ago)).await.assert_problem(401, "bad_code");
    }
    let one_ago = code(&app, &secret, -1);
    let with_code = sign_in(&app, email, Some(&one_ago)).await;
    assert_eq!(with_code.body["two_factor_setup_required"], false);
    let t2 = token(&with_code);
    assert_eq!(app.get("/api/v1/me", Some(&t2)).await.status, 200);
    sign_in(&app, email, Some(&one_ago)).await.assert_problem(401, "bad_code");
    // The code of one step ahead (a fast phone) works, and then the current step no longer.
    token(&sign_in(&app, email, Some(&code(&app, &secret, 1))).await);
    sign_in(&app, email, Some(&code(&app, &secret, 0))).await.assert_problem(401, "bad_code");

    app.stop().await;
}

/// Sign-ins are limited to 10 a minute per address (by the wall clock), so this part has an
/// account of its own.
async fn recovery_codes_and_turning_it_off(app: &TestApp) {
    let email = "bea@example.com";
    register(app, email).await;
    let t = token(&sign_in(app, email, None).await);
    let (_, recovery) = enrol(app, &t).await;

    // A recovery code works once, in any case and with spaces.
    let shouted = recovery[0].to_uppercase().replace('-', " - ");
    token(&sign_in(app, email, Some(&shouted)).await);
    sign_in(app, email, Some(&recovery[0])).await.assert_problem(401, "bad_code");
    let left = app.get("/api/v1/me/two-factor", Some(&t)).await;
    assert_eq!(left.body["recovery_codes_left"], 9);

    // Turning it off asks the password.
    delete(app, "/api/v1/me/two-factor", &t, json!({"password": "not the password"}))
        .await
        .assert_problem(400, "wrong_password");
    assert_eq!(delete(app, "/api/v1/me/two-factor", &t, json!({"password": PASSWORD})).await.status, 204);
    let off = app.get("/api/v1/me/two-factor", Some(&t)).await;
    assert_eq!(off.body, json!({"enabled": false, "recovery_codes_left": 0, "required": false}));
    token(&sign_in(app, email, None).await);
    token(&sign_in(app, email, Some(&recovery[1])).await);
}

async fn the_whole_flow(app: TestApp) {
    recovery_codes_and_turning_it_off(&app).await;
    codes(app).await;
}

#[tokio::test]
async fn enrol_confirm_sign_in_with_codes_and_recovery_codes_then_turn_it_off() {
    the_whole_flow(spawn_app().await).await;
}

#[tokio::test]
async fn enrol_confirm_sign_in_with_codes_and_recovery_codes_then_turn_it_off_on_postgres() {
    on_postgres(the_whole_flow).await;
}

#[tokio::test]
async fn wrong_codes_count_against_the_sign_in_limit() {
    let app = spawn_app().await;
    let email = "ana@example.com";
    register(&app, email).await;
    let t = token(&sign_in(&app, email, None).await);
    let (secret, _) = enrol(&app, &t).await;
    let wrong = if code(&app, &secret, 0) == "123456" { "654321" } else { "123456" };
    let mut limited = false;
    for _ in 0..12 {
        let r = sign_in(&app, email, Some(wrong)).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        r.assert_problem(401, "bad_code");
    }
    assert!(limited, "wrong codes ran into the sign-in limit");
    app.stop().await;
}

#[tokio::test]
async fn an_operator_without_two_factor_signs_in_to_a_session_that_must_set_it_up() {
    let app = spawn_app().await;
    let email = "olga@example.com";
    register_admin(&app, email).await;
    let first = sign_in(&app, email, None).await;
    assert_eq!(first.body["two_factor_setup_required"], true, "{}", first.body);
    let t = token(&first);
    let other = token(&sign_in(&app, email, None).await);
    let st = app.get("/api/v1/me/two-factor", Some(&t)).await;
    assert_eq!(st.body, json!({"enabled": false, "recovery_codes_left": 0, "required": true}));
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.status, 200);

    // Confirming lifts the mark from this session and ends the other unfinished one.
    let (secret, _) = enrol(&app, &t).await;
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.status, 200);
    app.get("/api/v1/me", Some(&other)).await.assert_problem(401, "unauthenticated");
    sign_in(&app, email, None).await.assert_problem(401, "two_factor_required");
    app.clock.advance(SignedDuration::from_secs(30));
    let full = sign_in(&app, email, Some(&code(&app, &secret, 0))).await;
    assert_eq!(full.body["two_factor_setup_required"], false, "{}", full.body);
    app.stop().await;
}

/// Needs the gate in `crates/http/src/extract.rs` (`Auth`): see the two-factor report.
#[tokio::test]
async fn a_session_that_must_set_up_two_factor_may_do_nothing_else() {
    let app = spawn_app().await;
    let email = "olga@example.com";
    register_admin(&app, email).await;
    let t = token(&sign_in(&app, email, None).await);
    app.get("/api/v1/bookings", Some(&t)).await.assert_problem(403, "two_factor_setup_required");
    let patch = app.call(Method::PATCH, "/api/v1/me", Some(&t), Some(json!({"name": "O"}))).await;
    patch.assert_problem(403, "two_factor_setup_required");
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.status, 200);
    assert_eq!(app.get("/api/v1/me/two-factor", Some(&t)).await.status, 200);
    enrol(&app, &t).await;
    assert_eq!(app.get("/api/v1/bookings", Some(&t)).await.status, 200, "confirmed: a full session");
    // A pending session may still sign out.
    register_admin(&app, "olga2@example.com").await;
    let u = token(&sign_in(&app, "olga2@example.com", None).await);
    assert_eq!(app.call(Method::DELETE, "/api/v1/sessions/current", Some(&u), None).await.status, 204);
    app.stop().await;
}

/// The sign-in page asks for the code of an account with two-factor sign-in on, and signs
/// in with it.
#[tokio::test]
async fn the_sign_in_page_asks_for_the_authentication_code() {
    let app = spawn_app().await;
    let email = "ana@example.com";
    register(&app, email).await;
    let t = token(&sign_in(&app, email, None).await);
    let (secret, _) = enrol(&app, &t).await;
    app.clock.advance(SignedDuration::from_secs(30));

    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(app.url("/signin")).send().await.unwrap();
    let cookie = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("innkeep_csrf="))
        .expect("a pre-session cookie");
    let body = form.text().await.unwrap();
    assert!(!body.contains("Authentication code"), "not asked before the password");
    let marker = "name=\"csrf\" value=\"";
    let at = body.find(marker).unwrap() + marker.len();
    let csrf = body[at..at + body[at..].find('"').unwrap()].to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        client.post(app.url("/signin")).header(header::COOKIE, cookie.clone()).form(&fields).send()
    };
    let base = || vec![("csrf", csrf.clone()), ("email", email.to_string()), ("password", PASSWORD.to_string())];
    let asked = post(base()).await.unwrap();
    assert_eq!(asked.status(), StatusCode::OK, "asking for the code is a step, not a failure");
    let page = asked.text().await.unwrap();
    assert!(page.contains("Authentication code") && page.contains("name=\"code\""), "{page}");
    let mut wrong = base();
    wrong.push(("code", if code(&app, &secret, 0) == "000000" { "111111" } else { "000000" }.to_string()));
    let refused = post(wrong).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.unwrap().contains("not right"));
    let mut right = base();
    right.push(("code", code(&app, &secret, 0)));
    let signed_in = post(right).await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(
        signed_in
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("innkeep_session=")),
        "a session cookie"
    );
    app.stop().await;
}

/// An operator who has not set up two-factor sign-in is sent to the page that does, on the
/// web as on the API; there the secret, a code and the recovery codes turn it on.
#[tokio::test]
async fn the_web_sends_an_operator_to_set_up_two_factor_first() {
    let app = spawn_app().await;
    let ports = &app.server.as_ref().unwrap().ports;
    let cmd = innkeep_app::auth::Register {
        email: "olga@example.com".into(),
        password: PASSWORD.into(),
        name: "Olga".into(),
        role: Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    let t = token(&sign_in(&app, "olga@example.com", None).await);
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie = format!("innkeep_session={t}");
    let get = |path: &str| client.get(app.url(path)).header(header::COOKIE, cookie.clone()).send();
    let ops = get("/ops").await.unwrap();
    assert_eq!(ops.status(), StatusCode::SEE_OTHER);
    assert_eq!(ops.headers()[header::LOCATION], "/account/two-factor");
    let page = get("/account/two-factor").await.unwrap().text().await.unwrap();
    assert!(page.contains("requires it"), "{page}");
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let csrf = page[at..at + page[at..].find('"').unwrap()].to_string();
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        client.post(app.url(path)).header(header::COOKIE, cookie.clone()).form(&fields).send()
    };
    let started = post("/account/two-factor/start", vec![("csrf", csrf.clone())]).await.unwrap();
    assert_eq!(started.status(), StatusCode::OK);
    let started = started.text().await.unwrap();
    let at = started.find("id=\"two-factor-secret\">").unwrap() + "id=\"two-factor-secret\">".len();
    let secret = started[at..at + started[at..].find('<').unwrap()].to_string();
    assert!(started.contains("otpauth://totp/"), "{started}");
    let wrong = post("/account/two-factor/confirm", vec![("csrf", csrf.clone()), ("code", "12".into())]).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let on = post("/account/two-factor/confirm", vec![("csrf", csrf.clone()), ("code", code(&app, &secret, 0))])
        .await
        .unwrap();
    assert_eq!(on.status(), StatusCode::OK);
    let on = on.text().await.unwrap();
    assert!(on.matches("<li>").count() >= 10, "ten recovery codes shown: {on}");
    assert!(on.contains("id=\"recovery-codes\""));
    assert_eq!(get("/ops").await.unwrap().status(), StatusCode::OK, "the operator's page, now");
    app.stop().await;
}
