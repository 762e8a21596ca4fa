//! The delivery log in the pages: a host's messages page (its tenant's messages, paged,
//! filtered by status) and the messages panel of the operator dashboard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use innkeep_app::Actor;
use innkeep_app::notify::{Channel, Content, NewMessage};
use innkeep_core::Role;
use jiff::{SignedDuration, Timestamp};
use support::*;
use uuid::Uuid;

/// A message of a tenant (none: an operator alert) written to the delivery log, pending;
/// answers its id.
async fn write(t: &TestWeb, tenant: &Actor, subject: &str) -> Uuid {
    write_message(t, tenant.tenant_id, subject, "ana@example.com", t.ports.clock.now()).await
}

async fn write_message(
    t: &TestWeb,
    tenant: Option<innkeep_core::TenantId>,
    subject: &str,
    recipient: &str,
    due: Timestamp,
) -> Uuid {
    let id = Uuid::now_v7();
    let m = NewMessage {
        id,
        dedup_key: format!("test/{id}"),
        event_id: None,
        tenant_id: tenant,
        booking_id: None,
        webhook_id: None,
        template: "booking.confirmed".into(),
        channel: Channel::Email,
        recipient: recipient.into(),
        content: Content { subject: subject.into(), text: "Hello".into(), ..Content::default() },
        not_before: due,
        created_at: due,
    };
    assert_eq!(t.ports.store.enqueue(&[m]).await.unwrap(), 1);
    id
}

async fn park(t: &TestWeb, id: Uuid, error: &str) {
    t.ports.store.record_failure(id, error, None).await.unwrap();
}

async fn signed_in(t: &TestWeb, email: &str) -> Browser {
    let mut b = Browser::default();
    b.sign_in(t, email).await;
    b
}

/// The rows of the messages table.
fn rows(r: &Reply) -> usize {
    r.body.split("id=\"messages\"").nth(1).map(|table| table.matches("<tr><td>").count()).unwrap_or(0)
}

#[tokio::test]
async fn a_host_sees_its_tenants_messages_and_not_another_tenants() {
    let t = test_web().await;
    let a = user(&t, "a@example.com", Role::Host).await;
    let other = user(&t, "b@example.com", Role::Host).await;
    write(&t, &a, "Your stay at Casa Azul is confirmed").await;
    write(&t, &other, "Your stay at Casa Verde is confirmed").await;
    write_message(&t, None, "Operator alert: disk full", "#ops", t.ports.clock.now()).await;

    let mut b = signed_in(&t, "a@example.com").await;
    let r = b.get(&t, "/host/messages").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<h1>Messages</h1>"));
    assert!(r.body.contains("Casa Azul"), "{}", r.body);
    assert!(r.body.contains("ana@example.com") && r.body.contains("booking.confirmed"));
    assert!(!r.body.contains("Casa Verde"), "another tenant's message");
    assert!(!r.body.contains("Operator alert"), "an operator's message");
    assert_eq!(rows(&r), 1);
    // The host's navigation and dashboard lead to it.
    assert!(r.body.contains("<a href=\"/host/messages\">Messages</a>"));
    assert!(b.get(&t, "/host").await.body.contains("href=\"/host/messages\""));
}

#[tokio::test]
async fn only_hosts_see_messages_and_anonymous_visitors_are_sent_to_sign_in() {
    let t = test_web().await;
    user(&t, "guest@example.com", Role::Guest).await;
    user(&t, "admin@example.com", Role::Admin).await;
    let r = Browser::default().get(&t, "/host/messages?status=parked").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/signin?next=%2Fhost%2Fmessages%3Fstatus%3Dparked");
    for email in ["guest@example.com", "admin@example.com"] {
        let r = signed_in(&t, email).await.get(&t, "/host/messages").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{email}");
        assert!(r.body.contains("Only hosts can see this page."), "{email}: {}", r.body);
    }
}

#[tokio::test]
async fn the_status_filter_shows_only_messages_of_that_status() {
    let t = test_web().await;
    let a = user(&t, "a@example.com", Role::Host).await;
    write(&t, &a, "Still waiting").await;
    let sent = write(&t, &a, "Went out fine").await;
    t.ports.store.record_sent(sent, t.ports.clock.now(), None).await.unwrap();
    let parked = write(&t, &a, "Never arrived").await;
    park(&t, parked, "550 mailbox unavailable").await;

    let mut b = signed_in(&t, "a@example.com").await;
    let all = b.get(&t, "/host/messages").await;
    assert_eq!(rows(&all), 3);
    let only = b.get(&t, "/host/messages?status=parked").await;
    assert_eq!(only.status, StatusCode::OK, "{}", only.body);
    assert_eq!(rows(&only), 1);
    assert!(only.body.contains("Never arrived") && only.body.contains("550 mailbox unavailable"));
    assert!(!only.body.contains("Went out fine") && !only.body.contains("Still waiting"));
    assert!(only.body.contains("<span class=\"state down\">parked</span>"), "parked stands out: {}", only.body);
    assert!(only.body.contains("<option value=\"parked\" selected>"), "the filter shows its choice");
    let sent = b.get(&t, "/host/messages?status=sent").await;
    assert!(sent.body.contains("Went out fine") && rows(&sent) == 1);
    assert!(sent.body.contains("<span class=\"state ok\">sent</span>"));
    assert_eq!(rows(&b.get(&t, "/host/messages?status=cancelled").await), 0);
    assert_eq!(rows(&b.get(&t, "/host/messages?status=").await), 3, "an empty choice is all");
}

#[tokio::test]
async fn the_messages_page_goes_back_fifty_at_a_time() {
    let t = test_web().await;
    let a = user(&t, "a@example.com", Role::Host).await;
    for i in 0..55 {
        write(&t, &a, &format!("Message number {i:02}")).await;
    }
    let mut b = signed_in(&t, "a@example.com").await;
    let first = b.get(&t, "/host/messages").await;
    assert_eq!(rows(&first), 50);
    assert!(first.body.contains("Message number 54") && first.body.contains("Message number 05"));
    assert!(!first.body.contains("Message number 04"));
    let marker = "<a href=\"";
    let next = first.body.split(" rel=\"next\"").next().unwrap();
    let older = &next[next.rfind(marker).unwrap() + marker.len()..next.len() - 1];
    assert!(older.starts_with("/host/messages?before="), "{older}");
    let second = b.get(&t, older).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(rows(&second), 5);
    assert!(second.body.contains("Message number 04") && second.body.contains("Message number 00"));
    assert!(!second.body.contains("Message number 05"));
    assert!(!second.body.contains("rel=\"next\""), "the last page has no older page");
    assert!(second.body.contains("<a href=\"/host/messages\">Newest</a>"));
    // A filtered list pages within its status.
    let pending = b.get(&t, "/host/messages?status=pending").await;
    assert!(pending.body.contains("/host/messages?status=pending&#38;before="), "{}", pending.body);
}

#[tokio::test]
async fn bad_query_values_are_refused_with_a_page() {
    let t = test_web().await;
    user(&t, "a@example.com", Role::Host).await;
    let mut b = signed_in(&t, "a@example.com").await;
    for path in [
        "/host/messages?before=not-a-uuid",
        "/host/messages?before=%3Cscript%3E",
        "/host/messages?status=lost",
        "/host/messages?status=PARKED",
    ] {
        let r = b.get(&t, path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert!(r.body.contains("That did not work"), "{path}: an error page");
        assert!(!r.body.contains("<script>"), "{path}");
    }
    let r = b.get(&t, &format!("/host/messages?before={}", Uuid::now_v7())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn the_operator_sees_parked_messages_with_their_error_and_overdue_ones() {
    let t = test_web().await;
    let a = user(&t, "a@example.com", Role::Host).await;
    user(&t, "admin@example.com", Role::Admin).await;
    let mut b = signed_in(&t, "admin@example.com").await;
    let calm = b.get(&t, "/ops").await;
    assert_eq!(calm.status, StatusCode::OK, "{}", calm.body);
    assert!(calm.body.contains("No messages sent yet.") && calm.body.contains("No parked messages"));

    let parked = write(&t, &a, "Your booking is confirmed").await;
    park(&t, parked, "smtp: 554 relay access denied").await;
    let sent = write_message(&t, None, "Operator alert", "#ops", t.ports.clock.now()).await;
    t.ports.store.record_sent(sent, t.ports.clock.now(), None).await.unwrap();
    let an_hour_ago = t.ports.clock.now() - SignedDuration::from_hours(1);
    write_message(&t, a.tenant_id, "Stuck", "bo@example.com", an_hour_ago).await;
    write(&t, &a, "Just written").await;

    let r = b.get(&t, "/ops").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"parked-messages\""), "{}", r.body);
    assert!(r.body.contains("smtp: 554 relay access denied"));
    assert!(r.body.contains("Your booking is confirmed"));
    assert!(r.body.contains("The newest 4 messages"), "{}", r.body);
    assert!(r.body.contains("<span class=\"state down\">parked</span> 1"));
    assert!(r.body.contains("<span class=\"state warn\">pending</span> 2"));
    assert!(r.body.contains("<span class=\"state ok\">sent</span> 1"));
    assert!(r.body.contains("1 parked message (given up on)"), "an alert: {}", r.body);
    assert!(r.body.contains("1 pending message overdue by more than 5 minutes"), "only the stuck one: {}", r.body);
    // The rest of the dashboard is still there.
    assert!(r.body.contains("Bookings made today") && r.body.contains("id=\"health\""));
}

#[tokio::test]
async fn markup_in_a_message_is_escaped() {
    let t = test_web().await;
    let a = user(&t, "a@example.com", Role::Host).await;
    user(&t, "admin@example.com", Role::Admin).await;
    let now = t.ports.clock.now();
    let id = write_message(&t, a.tenant_id, "<script>alert(1)</script>", "<script>x</script>@example.com", now).await;
    park(&t, id, "<script>alert(2)</script> \" onmouseover=\"alert(3)").await;

    let host = signed_in(&t, "a@example.com").await.get(&t, "/host/messages").await;
    let ops = signed_in(&t, "admin@example.com").await.get(&t, "/ops").await;
    for (page, r) in [("host", host), ("ops", ops)] {
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
        assert!(!r.body.contains("<script>"), "{page}: {}", r.body);
        assert!(!r.body.contains("\" onmouseover=\""), "{page}: the title attribute is not broken out of");
        assert!(r.body.contains("&#60;script&#62;alert(1)") || r.body.contains("&lt;script&gt;alert(1)"), "{page}");
    }
}
