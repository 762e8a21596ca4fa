//! Operators find users and tenants and suspend them (issue 23): a suspended user's
//! sessions end and their sign-ins are refused; a suspended tenant's members and keys are
//! refused; restoring lets them back in; only operators may, and not on themselves.

use crate::common;

use common::{TestApp, spawn_app};
use innkeep_core::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn operator(app: &TestApp) -> String {
    let ports = &app.server.as_ref().unwrap().ports;
    let cmd = innkeep_app::auth::Register {
        email: "olga@example.com".into(),
        password: PASSWORD.into(),
        name: "Olga".into(),
        role: Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    let r = app.post("/api/v1/sessions", None, json!({"email": "olga@example.com", "password": PASSWORD})).await;
    let token = r.body["token"].as_str().unwrap().to_string();
    common::enrol_two_factor(app, &token).await;
    token
}

async fn register(app: &TestApp, email: &str, role: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD, "name": "Ana Lima", "role": role});
    assert_eq!(app.post("/api/v1/users", None, body).await.status, 201);
    sign_in(app, email).await.body["token"].as_str().unwrap().to_string()
}

async fn sign_in(app: &TestApp, email: &str) -> common::Reply {
    app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await
}

#[tokio::test]
async fn a_suspended_user_is_signed_out_and_refused_until_restored() {
    let app = spawn_app().await;
    let ops = operator(&app).await;
    let guest = register(&app, "ana@example.com", "guest").await;
    let found = app.get("/api/v1/ops/users?q=ANA@EXAMPLE", Some(&ops)).await;
    assert_eq!(found.status, 200, "{}", found.body);
    let users = found.body.as_array().unwrap();
    assert_eq!(users.len(), 1, "case-insensitive, by part of the address: {users:?}");
    let id = users[0]["user_id"].as_str().unwrap().to_string();
    assert!(users[0]["suspended_at"].is_null());
    assert_eq!(app.get("/api/v1/ops/users?q=%25", Some(&ops)).await.body.as_array().unwrap().len(), 0, "% is literal");

    let r = app.call(reqwest::Method::PUT, &format!("/api/v1/ops/users/{id}/suspension"), Some(&ops), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.get("/api/v1/me", Some(&guest)).await.status, 401, "the session ended at once");
    let refused = sign_in(&app, "ana@example.com").await;
    refused.assert_problem(403, "account_suspended");
    let listed = app.get("/api/v1/ops/users?q=ana", Some(&ops)).await;
    assert!(listed.body[0]["suspended_at"].is_string());
    // A wrong password still says only that it is wrong.
    let wrong =
        app.post("/api/v1/sessions", None, json!({"email": "ana@example.com", "password": "not the password"})).await;
    wrong.assert_problem(401, "bad_credentials");

    let r = app.call(reqwest::Method::DELETE, &format!("/api/v1/ops/users/{id}/suspension"), Some(&ops), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(sign_in(&app, "ana@example.com").await.status, 201, "restored");
    app.stop().await;
}

#[tokio::test]
async fn a_suspended_tenant_refuses_its_members_and_keys() {
    let app = spawn_app().await;
    let ops = operator(&app).await;
    let host = register(&app, "casa@example.com", "host").await;
    let key = app.post("/api/v1/api-keys", Some(&host), json!({"name": "PMS", "scopes": ["read"]})).await;
    let key = key.body["key"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/bookings", Some(&key)).await.status, 200);
    let tenant = app.get("/api/v1/me", Some(&host)).await.body["tenant_id"].as_str().unwrap().to_string();
    let found = app.get(&format!("/api/v1/ops/tenants?q={tenant}"), Some(&ops)).await;
    assert_eq!(found.body.as_array().unwrap().len(), 1, "{}", found.body);
    assert_eq!(found.body[0]["members"], 1);

    let path = format!("/api/v1/ops/tenants/{tenant}/suspension");
    assert_eq!(app.call(reqwest::Method::PUT, &path, Some(&ops), None).await.status, 204);
    assert_eq!(app.get("/api/v1/bookings", Some(&key)).await.status, 401, "the key is refused");
    assert_eq!(app.get("/api/v1/me", Some(&host)).await.status, 401, "the member's session ended");
    sign_in(&app, "casa@example.com").await.assert_problem(403, "account_suspended");

    assert_eq!(app.call(reqwest::Method::DELETE, &path, Some(&ops), None).await.status, 204);
    assert_eq!(app.get("/api/v1/bookings", Some(&key)).await.status, 200, "the key works again");
    assert_eq!(sign_in(&app, "casa@example.com").await.status, 201);
    app.stop().await;
}

#[tokio::test]
async fn only_operators_suspend_and_never_themselves() {
    let app = spawn_app().await;
    let ops = operator(&app).await;
    let host = register(&app, "casa@example.com", "host").await;
    let me = app.get("/api/v1/me", Some(&ops)).await.body["user_id"].as_str().unwrap().to_string();
    let own = app.call(reqwest::Method::PUT, &format!("/api/v1/ops/users/{me}/suspension"), Some(&ops), None).await;
    own.assert_problem(409, "conflict");
    let by_host =
        app.call(reqwest::Method::PUT, &format!("/api/v1/ops/users/{me}/suspension"), Some(&host), None).await;
    by_host.assert_problem(403, "forbidden");
    app.get("/api/v1/ops/users", Some(&host)).await.assert_problem(403, "forbidden");
    let nobody = uuid::Uuid::now_v7();
    let missing =
        app.call(reqwest::Method::PUT, &format!("/api/v1/ops/users/{nobody}/suspension"), Some(&ops), None).await;
    missing.assert_problem(404, "not_found");
    app.get(&format!("/api/v1/ops/users?q={}", "x".repeat(101)), Some(&ops))
        .await
        .assert_problem(400, "query_too_long");
    app.stop().await;
}
