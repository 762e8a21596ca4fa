//! The account page: a person changes their name, language and currency, their password
//! (the other sessions end), downloads their data and deletes their account, and the page
//! refuses what is wrong without changing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use innkeep_core::Role;
use support::*;

async fn signed_in(t: &TestWeb, email: &str) -> Browser {
    let mut b = Browser::default();
    b.sign_in(t, email).await;
    b
}

#[tokio::test]
async fn profile_changes_are_saved_and_bad_choices_refused() {
    let t = test_web().await;
    let actor = user(&t, "ana@example.com", Role::Guest).await;
    let mut b = signed_in(&t, "ana@example.com").await;
    let page = b.get(&t, "/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ana@example.com"));
    let csrf = page.input("csrf");

    let r = b
        .post(&t, "/account/profile", &[("csrf", &csrf), ("name", "Ana Lima"), ("locale", "pt"), ("currency", "BRL")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Said in the language just chosen (the pages follow it).
    assert!(r.body.contains("Guardado."), "{}", r.body);
    let u = t.ports.store.user(actor.user_id).await.unwrap().unwrap();
    assert_eq!((u.name.as_str(), u.locale.as_str()), ("Ana Lima", "pt"));
    assert_eq!(u.currency.map(|c| c.code().to_string()).as_deref(), Some("BRL"));

    let r = b.post(&t, "/account/profile", &[("csrf", &csrf), ("name", ""), ("locale", "pt"), ("currency", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an empty name");
    let r = b
        .post(&t, "/account/profile", &[("csrf", &csrf), ("name", "Ana"), ("locale", "pt"), ("currency", "DOGE")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a currency not in the list");
    let r = b.post(&t, "/account/profile", &[("name", "Mallory"), ("locale", "en"), ("currency", "")]).await;
    assert!(r.status.is_client_error(), "without the form's token: {}", r.status);
    assert_eq!(t.ports.store.user(actor.user_id).await.unwrap().unwrap().name, "Ana Lima", "nothing changed");
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_browsers() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut here = signed_in(&t, "ana@example.com").await;
    let mut there = signed_in(&t, "ana@example.com").await;
    let csrf = here.get(&t, "/account").await.input("csrf");
    let r = here
        .post(
            &t,
            "/account/password",
            &[("csrf", &csrf), ("current_password", "not it at all"), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("current_password_err"));
    let r = here
        .post(
            &t,
            "/account/password",
            &[("csrf", &csrf), ("current_password", PASSWORD), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(here.get(&t, "/account").await.status, StatusCode::OK, "this browser stays signed in");
    let elsewhere = there.get(&t, "/account").await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER, "the other is sent to sign in");
}

#[tokio::test]
async fn a_person_downloads_their_data_and_deletes_the_account() {
    let t = test_web().await;
    let actor = user(&t, "ana@example.com", Role::Guest).await;
    let mut b = signed_in(&t, "ana@example.com").await;
    let data = b.get(&t, "/account/export").await;
    assert_eq!(data.status, StatusCode::OK);
    assert!(data.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let json: serde_json::Value = serde_json::from_str(&data.body).unwrap();
    assert_eq!(json["account"]["email"], "ana@example.com");

    let csrf = b.get(&t, "/account").await.input("csrf");
    let r = b.post(&t, "/account/delete", &[("csrf", &csrf), ("delete_password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the box is not ticked");
    let r = b
        .post(&t, "/account/delete", &[("csrf", &csrf), ("delete_password", "wrong password!"), ("confirm", "delete")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("delete_password_err"));
    assert!(t.ports.store.user(actor.user_id).await.unwrap().unwrap().email.as_str() == "ana@example.com");

    let r =
        b.post(&t, "/account/delete", &[("csrf", &csrf), ("delete_password", PASSWORD), ("confirm", "delete")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.cookies.is_empty() || b.get(&t, "/account").await.status == StatusCode::SEE_OTHER, "signed out");
    let u = t.ports.store.user(actor.user_id).await.unwrap().unwrap();
    assert!(u.email.as_str().ends_with("@erased.invalid"), "{}", u.email.as_str());
    let mut again = Browser::default();
    let page = again.get(&t, "/signin").await;
    let r = again
        .post(&t, "/signin", &[("csrf", &page.input("csrf")), ("email", "ana@example.com"), ("password", PASSWORD)])
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "the old address no longer signs in");
}
