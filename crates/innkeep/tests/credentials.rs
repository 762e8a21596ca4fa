//! Credentials through real e-mail (Python's aiosmtpd as the SMTP server): a forgotten
//! password is reset by its link, once and within 30 minutes, ending every session; an
//! address is verified by its link; a password change ends the other sessions; the reset
//! request answers alike for every address and is limited per address.

use crate::common;

use common::TestApp;
use common::receivers::Smtp;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a much better passphrase";

async fn app_mailing_to(smtp: &Smtp) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = innkeep::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.server.public_url = "https://stay.example".into();
    config.notify.smtp_url = smtp.url();
    let clock = std::sync::Arc::new(innkeep_app::clock::ManualClock::new(common::START.parse().unwrap()));
    let server = innkeep::startup::Server::start(&config, clock.clone(), false).await.unwrap();
    TestApp::with_server(server, clock, dir)
}

async fn register(app: &TestApp, email: &str) {
    let body = json!({"email": email, "password": PASSWORD, "name": "Ana", "role": "guest"});
    assert_eq!(app.post("/api/v1/users", None, body).await.status, 201);
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> common::Reply {
    app.post("/api/v1/sessions", None, json!({"email": email, "password": password})).await
}

async fn token_of(app: &TestApp, email: &str) -> String {
    let r = sign_in(app, email, PASSWORD).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_string()
}

/// The token of the link in a mail whose subject contains `subject`, to `to`.
async fn link_token(smtp: &Smtp, to: &str, subject: &str, nth: usize) -> String {
    let mail = loop {
        let all: Vec<Value> = smtp
            .messages()
            .into_iter()
            .filter(|m| m["to"] == to && m["subject"].as_str().unwrap_or("").contains(subject))
            .collect();
        if all.len() > nth {
            break all[nth].clone();
        }
        smtp.wait_for(|m| m["to"] == to).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let text = mail["text"].as_str().unwrap();
    let at = text.find("token=").expect("a link with its token") + "token=".len();
    text[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_its_emailed_link_once_ending_every_session() {
    let Some(smtp) = Smtp::start().await else { return };
    let app = app_mailing_to(&smtp).await;
    register(&app, "forgot@example.com").await;
    let (first, second) = (token_of(&app, "forgot@example.com").await, token_of(&app, "forgot@example.com").await);

    let r = app.post("/api/v1/password-resets", None, json!({"email": "Forgot@Example.com"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let token = link_token(&smtp, "forgot@example.com", "new password", 0).await;
    assert_eq!(token.len(), 64);

    let weak = app.post("/api/v1/password-resets/confirm", None, json!({"token": token, "password": "short"})).await;
    weak.assert_problem(400, "weak_password");
    let r = app.post("/api/v1/password-resets/confirm", None, json!({"token": token, "password": NEW_PASSWORD})).await;
    assert_eq!(r.status, 204, "a weak password does not spend the token: {}", r.body);
    for t in [&first, &second] {
        assert_eq!(app.get("/api/v1/me", Some(t)).await.status, 401, "every session ends");
    }
    assert_eq!(sign_in(&app, "forgot@example.com", PASSWORD).await.status, 401);
    assert_eq!(sign_in(&app, "forgot@example.com", NEW_PASSWORD).await.status, 201);
    let again = app.post("/api/v1/password-resets/confirm", None, json!({"token": token, "password": PASSWORD})).await;
    again.assert_problem(400, "invalid_token");

    // The link is not kept in the delivery log once the mail is sent.
    let store = &app.server.as_ref().unwrap().store;
    let filter = innkeep_app::notify::DeliveryFilter { limit: 100, ..Default::default() };
    let log = innkeep_app::notify::Notifications::deliveries(store, &filter).await.unwrap();
    let reset = log.iter().find(|d| d.template == "account.password_reset").expect("in the log");
    assert_eq!(reset.status, innkeep_app::notify::DeliveryStatus::Sent);
    assert!(!reset.content.text.contains(&token) && reset.content.html.is_none(), "{:?}", reset.content);
    app.stop().await;
}

#[tokio::test]
async fn a_reset_link_expires_after_thirty_minutes() {
    let Some(smtp) = Smtp::start().await else { return };
    let app = app_mailing_to(&smtp).await;
    register(&app, "late@example.com").await;
    assert_eq!(app.post("/api/v1/password-resets", None, json!({"email": "late@example.com"})).await.status, 202);
    let token = link_token(&smtp, "late@example.com", "new password", 0).await;
    app.clock.advance(jiff::SignedDuration::from_mins(31));
    let r = app.post("/api/v1/password-resets/confirm", None, json!({"token": token, "password": NEW_PASSWORD})).await;
    r.assert_problem(400, "invalid_token");
    assert_eq!(sign_in(&app, "late@example.com", PASSWORD).await.status, 201, "the password is unchanged");
    app.stop().await;
}

#[tokio::test]
async fn a_reset_request_answers_alike_for_every_address_and_is_limited_per_address() {
    let Some(smtp) = Smtp::start().await else { return };
    let app = app_mailing_to(&smtp).await;
    register(&app, "known@example.com").await;
    let known = app.post("/api/v1/password-resets", None, json!({"email": "known@example.com"})).await;
    let unknown = app.post("/api/v1/password-resets", None, json!({"email": "nobody@example.com"})).await;
    assert_eq!((known.status.as_u16(), unknown.status.as_u16()), (202, 202));
    assert_eq!(known.body, unknown.body);
    link_token(&smtp, "known@example.com", "new password", 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        smtp.messages().iter().all(|m| m["to"] != "nobody@example.com"),
        "no mail to an address without an account"
    );
    for email in ["known@example.com", "nobody@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(app.post("/api/v1/password-resets", None, json!({"email": email})).await.status.as_u16());
        }
        assert_eq!(statuses, [202, 202, 202, 202, 429, 429], "{email}: five an address per 15 minutes, account or not");
    }
    let bad = app.post("/api/v1/password-resets", None, json!({"email": "not an address"})).await;
    bad.assert_problem(400, "invalid_email");
    app.stop().await;
}

#[tokio::test]
async fn changing_the_password_asks_the_current_one_and_ends_the_other_sessions() {
    let app = common::spawn_app().await;
    register(&app, "change@example.com").await;
    let (this, other) = (token_of(&app, "change@example.com").await, token_of(&app, "change@example.com").await);
    let sessions = app.get("/api/v1/me/sessions", Some(&this)).await;
    assert_eq!(sessions.body.as_array().unwrap().len(), 2, "{}", sessions.body);
    let wrong = json!({"current_password": "not the password", "new_password": NEW_PASSWORD});
    app.post("/api/v1/me/password", Some(&this), wrong).await.assert_problem(400, "wrong_password");
    let weak = json!({"current_password": PASSWORD, "new_password": "short"});
    app.post("/api/v1/me/password", Some(&this), weak).await.assert_problem(400, "weak_password");
    let right = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(app.post("/api/v1/me/password", Some(&this), right).await.status, 204);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 401, "the other session ends");
    assert_eq!(app.get("/api/v1/me", Some(&this)).await.status, 200, "this one goes on");
    let left = app.get("/api/v1/me/sessions", Some(&this)).await.body;
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["current"], true);
    assert_eq!(sign_in(&app, "change@example.com", NEW_PASSWORD).await.status, 201);

    let third = token_of_with(&app, "change@example.com", NEW_PASSWORD).await;
    assert_eq!(app.call(reqwest::Method::DELETE, "/api/v1/me/sessions", Some(&third), None).await.status, 204);
    for t in [&this, &third] {
        assert_eq!(app.get("/api/v1/me", Some(t)).await.status, 401, "signed out everywhere");
    }
    app.stop().await;
}

async fn token_of_with(app: &TestApp, email: &str, password: &str) -> String {
    sign_in(app, email, password).await.body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_address_is_verified_by_its_emailed_link() {
    let Some(smtp) = Smtp::start().await else { return };
    let app = app_mailing_to(&smtp).await;
    register(&app, "verify@example.com").await;
    let me = token_of(&app, "verify@example.com").await;
    assert_eq!(app.get("/api/v1/me", Some(&me)).await.body["email_verified"], false);
    assert_eq!(app.call(reqwest::Method::POST, "/api/v1/me/email-verification", Some(&me), None).await.status, 202);
    let token = link_token(&smtp, "verify@example.com", "e-mail address", 0).await;
    let r = app.post("/api/v1/email-verifications", None, json!({"token": token})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.get("/api/v1/me", Some(&me)).await.body["email_verified"], true);
    app.post("/api/v1/email-verifications", None, json!({"token": token})).await.assert_problem(400, "invalid_token");
    // A reset token is no verification token, nor the other way round.
    assert_eq!(app.post("/api/v1/password-resets", None, json!({"email": "verify@example.com"})).await.status, 202);
    let reset = link_token(&smtp, "verify@example.com", "new password", 0).await;
    app.post("/api/v1/email-verifications", None, json!({"token": reset})).await.assert_problem(400, "invalid_token");
    app.stop().await;
}

#[tokio::test]
async fn the_mailed_links_open_forms_that_spend_nothing_until_posted() {
    let app = common::spawn_app().await;
    let token = "ab".repeat(32);
    for (path, action) in [("/reset-password", "/reset-password"), ("/verify-email", "/verify-email")] {
        let r = app.client.get(app.url(&format!("{path}?token={token}"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("action=\"{action}\"")) && html.contains(&token), "{html}");
    }
    let r = app.client.get(app.url("/reset-password?token=%22%3E%3Cscript%3E")).send().await.unwrap();
    assert!(!r.text().await.unwrap().contains("\"><script>"), "the token is escaped");
    let signin = app.client.get(app.url("/signin")).send().await.unwrap().text().await.unwrap();
    assert!(signin.contains("href=\"/forgot-password\""));
    let forgot = app.client.get(app.url("/forgot-password")).send().await.unwrap();
    assert_eq!(forgot.status(), 200);
    // A post without the form's CSRF token changes nothing.
    let r = app
        .client
        .post(app.url("/reset-password"))
        .form(&[("token", token.as_str()), ("password", NEW_PASSWORD), ("password_again", NEW_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

async fn profile_changes_one_field_at_a_time(app: TestApp) {
    register(&app, "profile@example.com").await;
    let me = token_of(&app, "profile@example.com").await;
    let patch = |body: Value| app.call(reqwest::Method::PATCH, "/api/v1/me", Some(&me), Some(body));
    let r = patch(json!({"name": "  Ana Maria  "})).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["name"], &r.body["locale"]),
        (200, &json!("Ana Maria"), &json!("en")),
        "{}",
        r.body
    );
    let r = patch(json!({"locale": "pt"})).await;
    assert_eq!((&r.body["name"], &r.body["locale"]), (&json!("Ana Maria"), &json!("pt")), "{}", r.body);
    patch(json!({"name": "   "})).await.assert_problem(400, "invalid_name");
    patch(json!({"name": "x".repeat(121)})).await.assert_problem(400, "invalid_name");
    patch(json!({})).await.assert_problem(400, "nothing_to_change");
    patch(json!({"locale": "fr"})).await.assert_problem(400, "invalid_locale");
    let after = app.get("/api/v1/me", Some(&me)).await.body;
    assert_eq!((&after["name"], &after["locale"]), (&json!("Ana Maria"), &json!("pt")), "refusals change nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_user_changes_their_name_and_language() {
    profile_changes_one_field_at_a_time(common::spawn_app().await).await;
}

#[tokio::test]
async fn on_postgres_a_user_changes_their_name_and_language() {
    common::on_postgres(profile_changes_one_field_at_a_time).await;
}
