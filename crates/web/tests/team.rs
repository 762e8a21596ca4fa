//! A host's team in the pages: the owner's team page (members, invitations, API keys),
//! joining with an invitation's link, and what a front-desk member may and may not do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use innkeep_app::credentials::AccountMail;
use innkeep_app::notify::Content;
use innkeep_app::store::User;
use innkeep_app::team::Invitation;
use innkeep_core::Role;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use support::*;

/// A test double of the account e-mails: writes a plain message and keeps each
/// invitation's token, as the invitee would find it in the link.
#[derive(Default)]
struct CapturingMail {
    tokens: Mutex<Vec<String>>,
}

impl CapturingMail {
    fn last_token(&self) -> String {
        self.tokens.lock().unwrap().last().cloned().expect("an invitation was mailed")
    }
}

impl AccountMail for CapturingMail {
    fn password_reset(&self, _user: &User, _token: &str, _expires_at: Timestamp) -> Content {
        Content { subject: "Reset your password".into(), text: "reset".into(), ..Content::default() }
    }

    fn email_verification(&self, _user: &User, _token: &str, _expires_at: Timestamp) -> Content {
        Content { subject: "Confirm your address".into(), text: "verify".into(), ..Content::default() }
    }

    fn invitation(&self, _invitation: &Invitation, inviter: &User, token: &str) -> Content {
        self.tokens.lock().unwrap().push(token.to_string());
        Content {
            subject: format!("{} invites you to their team", inviter.name),
            text: format!("https://stays.example/join?token={token}"),
            ..Content::default()
        }
    }
}

/// A node whose account e-mails go to the returned double.
async fn web_with_mail() -> (TestWeb, Arc<CapturingMail>) {
    let mail = Arc::new(CapturingMail::default());
    let sink: Arc<dyn AccountMail> = mail.clone();
    (test_web_with(|s| s.with_account_mail(sink)).await, mail)
}

async fn signed_in(t: &TestWeb, email: &str) -> Browser {
    let mut b = Browser::default();
    b.sign_in(t, email).await;
    b
}

/// The owner invites `email` as `role` through the team page; answers the mailed token.
async fn invite(t: &TestWeb, mail: &CapturingMail, owner: &mut Browser, email: &str, role: &str) -> String {
    let csrf = owner.get(t, "/host/team").await.input("csrf");
    let r = owner.post(t, "/host/team/invitations", &[("csrf", &csrf), ("email", email), ("role", role)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/host/team?done=invited");
    mail.last_token()
}

/// Joins with a token through the join page, with the test password.
async fn join(t: &TestWeb, token: &str, name: &str) -> Reply {
    let mut b = Browser::default();
    let form = b.get(t, &format!("/join?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.input("csrf");
    b.post(
        t,
        "/join",
        &[("csrf", &csrf), ("token", token), ("name", name), ("password", PASSWORD), ("password_again", PASSWORD)],
    )
    .await
}

/// The id of the member with this address in the members table.
fn member_id(r: &Reply, email: &str) -> String {
    let row = r.body.split("<tr data-member=\"").skip(1).find(|row| row.contains(email));
    row.unwrap_or_else(|| panic!("no member {email} in {}", r.body))[..36].to_string()
}

/// The id in the first `action="{prefix}ID/..."` of a page.
fn id_after(r: &Reply, prefix: &str) -> String {
    let marker = format!("action=\"{prefix}");
    let at = r.body.find(&marker).unwrap_or_else(|| panic!("no {marker} in {}", r.body)) + marker.len();
    r.body[at..at + 36].to_string()
}

#[tokio::test]
async fn an_owner_invites_a_colleague_who_joins_and_signs_in() {
    let (t, mail) = web_with_mail().await;
    user(&t, "owner@example.com", Role::Host).await;
    let mut owner = signed_in(&t, "owner@example.com").await;

    let page = owner.get(&t, "/host/team").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Team and API keys</h1>"));
    assert!(page.body.contains("owner@example.com") && page.body.contains("<td>Owner</td>"), "{}", page.body);
    assert!(page.body.contains("<a href=\"/host/team\">Team</a>"), "the host navigation leads to it");

    let token = invite(&t, &mail, &mut owner, "desk@example.com", "front_desk").await;
    let after = owner.get(&t, "/host/team?done=invited").await;
    assert!(after.body.contains("Invitation sent."), "{}", after.body);
    assert!(after.body.contains("id=\"invitations\"") && after.body.contains("desk@example.com"));
    // The e-mail is in the tenant's delivery log.
    let log = owner.get(&t, "/host/messages").await;
    assert!(log.body.contains("account.invitation") && log.body.contains("desk@example.com"), "{}", log.body);

    // The link's GET only shows the form: the token still works after it.
    let mut scanner = Browser::default();
    let form = scanner.get(&t, &format!("/join?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.input("token"), token);
    let csrf = form.input("csrf");
    let differ = scanner
        .post(
            &t,
            "/join",
            &[("csrf", &csrf), ("token", &token), ("name", "Dee"), ("password", PASSWORD), ("password_again", "other")],
        )
        .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(differ.body.contains("The two passwords differ."));
    let weak = scanner
        .post(
            &t,
            "/join",
            &[("csrf", &csrf), ("token", &token), ("name", "Dee"), ("password", "short"), ("password_again", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("id=\"password-error\""), "{}", weak.body);

    let joined = join(&t, &token, "Dee Desk").await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    assert_eq!(joined.location(), "/signin?joined=1");
    let again = join(&t, &token, "Dee Again").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("unknown, already used or expired"), "{}", again.body);

    signed_in(&t, "desk@example.com").await;
    let team = owner.get(&t, "/host/team").await;
    assert!(team.body.contains("Dee Desk") && team.body.contains("<td>Front desk</td>"), "{}", team.body);
    assert!(!team.body.contains("id=\"invitations\""), "the used invitation is no longer open");
}

#[tokio::test]
async fn joining_without_a_valid_token_or_csrf_changes_nothing() {
    let (t, _) = web_with_mail().await;
    let mut b = Browser::default();
    let form = b.get(&t, "/join?token=nope").await;
    let csrf = form.input("csrf");
    let r = b
        .post(
            &t,
            "/join",
            &[("csrf", &csrf), ("token", "nope"), ("name", "X"), ("password", PASSWORD), ("password_again", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Ask whoever invited you"), "{}", r.body);
    let forged = Browser::default()
        .post(&t, "/join", &[("token", "nope"), ("name", "X"), ("password", PASSWORD), ("password_again", PASSWORD)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "the form needs its CSRF token");
}

#[tokio::test]
async fn an_address_with_an_account_cannot_join() {
    let (t, mail) = web_with_mail().await;
    user(&t, "owner@example.com", Role::Host).await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut owner = signed_in(&t, "owner@example.com").await;
    let token = invite(&t, &mail, &mut owner, "ana@example.com", "manager").await;
    let r = join(&t, &token, "Ana").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("already has an account"), "{}", r.body);
}

#[tokio::test]
async fn a_front_desk_member_checks_guests_in_but_cannot_run_the_team_or_the_rates() {
    let (t, mail) = web_with_mail().await;
    let host = user(&t, "owner@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    let guest = user(&t, "ana@example.com", Role::Guest).await;
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let placed = innkeep_app::booking::place_booking(&t.ports, &guest, cmd, t.ports.clock.now()).await.unwrap();
    let now = t.ports.clock.now();
    innkeep_app::booking::act(&t.ports, &host, placed.booking.id, innkeep_app::booking::Action::Confirm, now)
        .await
        .unwrap();

    let mut owner = signed_in(&t, "owner@example.com").await;
    let token = invite(&t, &mail, &mut owner, "desk@example.com", "front_desk").await;
    assert_eq!(join(&t, &token, "Dee Desk").await.status, StatusCode::SEE_OTHER);
    let mut desk = signed_in(&t, "desk@example.com").await;

    let team = desk.get(&t, "/host/team").await;
    assert_eq!(team.status, StatusCode::FORBIDDEN, "{}", team.body);
    assert!(team.body.contains("Only the team"), "{}", team.body);
    let csrf = desk.get(&t, "/host/bookings").await.input("csrf");
    let invite = desk
        .post(&t, "/host/team/invitations", &[("csrf", &csrf), ("email", "x@example.com"), ("role", "owner")])
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN, "{}", invite.body);
    let rates = desk
        .post(
            &t,
            &format!("/host/room-types/{rt}/calendar"),
            &[("csrf", &csrf), ("from", "2027-02-10"), ("to", "2027-02-12"), ("price", "1.00")],
        )
        .await;
    assert_eq!(rates.status, StatusCode::FORBIDDEN, "{}", rates.body);

    let list = desk.get(&t, "/host/bookings").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let id = placed.booking.id.to_string();
    assert!(list.body.contains(&format!("action=\"/host/bookings/{id}/check-in\"")), "{}", list.body);
    let r = desk.post(&t, &format!("/host/bookings/{id}/check-in"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let b = t.ports.store.booking(placed.booking.id).await.unwrap().unwrap();
    assert_eq!(b.status, innkeep_core::BookingStatus::CheckedIn);
}

#[tokio::test]
async fn an_owner_changes_a_role_removes_a_member_and_keeps_an_owner() {
    let (t, mail) = web_with_mail().await;
    user(&t, "owner@example.com", Role::Host).await;
    let mut owner = signed_in(&t, "owner@example.com").await;
    let token = invite(&t, &mail, &mut owner, "mia@example.com", "accountant").await;
    assert_eq!(join(&t, &token, "Mia").await.status, StatusCode::SEE_OTHER);
    let page = owner.get(&t, "/host/team").await;
    let csrf = page.input("csrf");
    let me = member_id(&page, "owner@example.com");
    let mia = member_id(&page, "mia@example.com");

    let last = owner.post(&t, &format!("/host/team/members/{me}/role"), &[("csrf", &csrf), ("role", "manager")]).await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
    assert!(last.body.contains("at least one owner"), "{}", last.body);

    let r = owner.post(&t, &format!("/host/team/members/{mia}/role"), &[("csrf", &csrf), ("role", "manager")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/host/team?done=role");
    let page = owner.get(&t, "/host/team?done=role").await;
    assert!(page.body.contains("Role changed."), "{}", page.body);
    assert!(page.body.contains("<td>Manager</td>"), "{}", page.body);

    let r = owner.post(&t, &format!("/host/team/members/{mia}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = owner.get(&t, &r.location()).await;
    assert!(page.body.contains("Member removed") && !page.body.contains("mia@example.com"), "{}", page.body);
    let bad = owner.post(&t, "/host/team/members/not-an-id/remove", &[("csrf", &csrf)]).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_invitation_can_be_withdrawn_and_a_bad_address_is_shown_on_the_form() {
    let (t, mail) = web_with_mail().await;
    user(&t, "owner@example.com", Role::Host).await;
    let mut owner = signed_in(&t, "owner@example.com").await;
    let csrf = owner.get(&t, "/host/team").await.input("csrf");
    let bad = owner
        .post(&t, "/host/team/invitations", &[("csrf", &csrf), ("email", "not an address"), ("role", "manager")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"invite-email-error\"") && bad.body.contains("value=\"not an address\""));
    assert!(bad.body.contains("<option value=\"manager\" selected>"), "the role chosen is kept");

    let token = invite(&t, &mail, &mut owner, "leo@example.com", "manager").await;
    let page = owner.get(&t, "/host/team").await;
    let id = id_after(&page, "/host/team/invitations/");
    let r = owner.post(&t, &format!("/host/team/invitations/{id}/withdraw"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(owner.get(&t, &r.location()).await.body.contains("Invitation withdrawn."));
    assert_eq!(join(&t, &token, "Leo").await.status, StatusCode::UNPROCESSABLE_ENTITY, "a withdrawn link is spent");
    let again = owner.post(&t, &format!("/host/team/invitations/{id}/withdraw"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_account_mail_the_invitation_form_says_so() {
    let t = test_web().await;
    user(&t, "owner@example.com", Role::Host).await;
    let mut owner = signed_in(&t, "owner@example.com").await;
    let csrf = owner.get(&t, "/host/team").await.input("csrf");
    let r = owner
        .post(&t, "/host/team/invitations", &[("csrf", &csrf), ("email", "leo@example.com"), ("role", "manager")])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.body.contains("not set up to send e-mail"), "{}", r.body);
}

async fn api_bookings(t: &TestWeb, key: &str) -> StatusCode {
    let req =
        Request::get("/api/v1/bookings").header(header::AUTHORIZATION, format!("Bearer {key}")).body(Body::empty());
    send(t, req.unwrap()).await.status
}

#[tokio::test]
async fn a_new_key_is_shown_once_works_and_stops_when_revoked() {
    let t = test_web().await;
    user(&t, "owner@example.com", Role::Host).await;
    let mut owner = signed_in(&t, "owner@example.com").await;
    let csrf = owner.get(&t, "/host/team").await.input("csrf");

    let none = owner.post(&t, "/host/team/keys", &[("csrf", &csrf), ("name", "Channel")]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", none.body);
    assert!(none.body.contains("id=\"key-scopes-error\""), "{}", none.body);

    let made =
        owner.post(&t, "/host/team/keys", &[("csrf", &csrf), ("name", "Channel manager"), ("scopes", "read")]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(made.body.contains("it will not be shown again"), "{}", made.body);
    let marker = "<code id=\"new-key-secret\">";
    let at = made.body.find(marker).unwrap() + marker.len();
    let secret = made.body[at..at + made.body[at..].find('<').unwrap()].to_string();
    assert!(secret.starts_with("ik_"), "{secret}");
    assert_eq!(api_bookings(&t, &secret).await, StatusCode::OK);

    let page = owner.get(&t, "/host/team").await;
    assert!(!page.body.contains(&secret), "the key is shown once");
    assert!(page.body.contains("Channel manager") && page.body.contains(&secret[..11]), "{}", page.body);
    let id = id_after(&page, "/host/team/keys/");
    let r = owner.post(&t, &format!("/host/team/keys/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = owner.get(&t, &r.location()).await;
    assert!(page.body.contains("Key revoked."), "{}", page.body);
    assert!(!page.body.contains(&format!("/host/team/keys/{id}/revoke")), "a revoked key has no revoke button");
    assert_eq!(api_bookings(&t, &secret).await, StatusCode::UNAUTHORIZED);
}
