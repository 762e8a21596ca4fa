//! What a traveller and a host saw wrong on the pages (issue 19), each fixed and kept so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::{StatusCode, header};
use innkeep_core::{BookingStatus, Role};
use support::*;

/// A host, their Lisbon listing and a guest's confirmed booking of it (nothing paid: the
/// listing's guests pay at the property).
async fn confirmed_booking(t: &TestWeb) -> (innkeep_app::Actor, String, innkeep_core::BookingId) {
    let host = user(t, "host@example.com", Role::Host).await;
    let (property, rt) = listing(t, &host, "Casa Azul").await;
    let guest = user(t, "ana@example.com", Role::Guest).await;
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party { adults: 2, children: 0 },
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let now = t.ports.clock.now();
    let placed = innkeep_app::booking::place_booking(&t.ports, &guest, cmd, now).await.unwrap();
    let id = placed.booking.id;
    innkeep_app::booking::act(&t.ports, &guest, id, innkeep_app::booking::Action::Confirm, now).await.unwrap();
    (guest, property, id)
}

#[tokio::test]
async fn a_host_is_asked_before_cancelling_a_guests_booking() {
    let t = test_web().await;
    let (_, _, id) = confirmed_booking(&t).await;
    let mut b = Browser::default();
    b.sign_in(&t, "host@example.com").await;
    let list = b.get(&t, "/host/bookings?status=confirmed").await;
    // Cancel is a link to a question, not a button that acts at once.
    let link = format!("href=\"/host/bookings/{id}/cancel?back=property%3D%26status%3Dconfirmed\"");
    assert!(list.body.contains(&link), "{}", list.body);
    assert!(!list.body.contains(&format!("action=\"/host/bookings/{id}/cancel\"")), "{}", list.body);

    let question = b.get(&t, &format!("/host/bookings/{id}/cancel?back=property%3D%26status%3Dconfirmed")).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.body);
    assert_eq!(question.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(question.body.contains("Cancel this booking?") && question.body.contains("Ana"), "{}", question.body);
    assert!(question.body.contains("nothing has been paid for it yet"), "{}", question.body);
    assert!(question.body.contains("refunds <strong class=\"refund\">EUR 212.00</strong>"), "{}", question.body);
    // The form carries the list to go back to (HTML-escaped in the attribute).
    assert_eq!(question.input("back"), "property=&#38;status=confirmed");
    let csrf = question.input("csrf");

    // A POST without the answer does not cancel: it asks.
    let r = b.post(&t, &format!("/host/bookings/{id}/cancel"), &[("csrf", &csrf), ("back", "status=confirmed")]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, format!("/host/bookings/{id}/cancel?back=status%3Dconfirmed"))
    );
    assert_eq!(t.ports.store.booking(id).await.unwrap().unwrap().status, BookingStatus::Confirmed);
    // A list to return to that is not a list is refused before anything changes.
    let r = b
        .post(
            &t,
            &format!("/host/bookings/{id}/cancel"),
            &[("csrf", &csrf), ("back", "next=/evil"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(t.ports.store.booking(id).await.unwrap().unwrap().status, BookingStatus::Confirmed);

    let r = b
        .post(
            &t,
            &format!("/host/bookings/{id}/cancel"),
            &[("csrf", &csrf), ("back", "property=&status=confirmed"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/host/bookings?property=&status=confirmed&done=1".into())
    );
    assert_eq!(t.ports.store.booking(id).await.unwrap().unwrap().status, BookingStatus::Cancelled);
    // Once cancelled, the question goes back to the list.
    let again = b.get(&t, &format!("/host/bookings/{id}/cancel")).await;
    assert_eq!((again.status, again.location()), (StatusCode::SEE_OTHER, "/host/bookings?".into()));
}

#[tokio::test]
async fn the_guests_cancel_page_says_you_paid_only_when_something_was_paid() {
    let t = test_web().await;
    let (_, _, id) = confirmed_booking(&t).await;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let page = ana.get(&t, &format!("/trips/{id}/cancel")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("You paid"), "{}", page.body);
    assert!(page.body.contains("Nothing has been paid for this stay yet"), "{}", page.body);
    assert!(page.body.contains("Its price is <strong>EUR 212.00</strong>"), "{}", page.body);
}

#[tokio::test]
async fn the_hold_page_is_never_shown_again_from_the_browsers_cache() {
    let t = test_web().await;
    let (_, _, id) = confirmed_booking(&t).await;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let page = ana.get(&t, &format!("/checkout/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(!page.body.contains("Confirm booking"), "a confirmed booking offers no Confirm: {}", page.body);
}

#[tokio::test]
async fn amenities_are_shown_by_their_names() {
    let t = test_web().await;
    let (_, property, _) = confirmed_booking(&t).await;
    let page = Browser::default().get(&t, &format!("/properties/{property}")).await;
    assert!(page.body.contains("<li>Wi-Fi</li>"), "{}", page.body);
    assert!(!page.body.contains("<li>Wifi</li>"), "{}", page.body);
    let mut host = Browser::default();
    host.sign_in(&t, "host@example.com").await;
    let form = host.get(&t, "/host/properties/new").await;
    assert!(form.body.contains("value=\"pets_allowed\"> Pets allowed</label>"), "{}", form.body);
    assert!(form.body.contains("value=\"ev_charger\"> EV charging</label>"), "{}", form.body);
}

#[tokio::test]
async fn a_destination_too_long_to_be_a_place_is_a_sentence_and_the_form_stays() {
    let t = test_web().await;
    let long = "a".repeat(5_000);
    let r = Browser::default().get(&t, &format!("/stays?city={long}&check_in=2027-02-10&check_out=2027-02-12")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..500.min(r.body.len())]);
    assert!(r.body.contains("A destination is at most 100 characters"), "the reason in words");
    assert!(r.body.contains("name=\"city\""), "the search form is still there");
    assert!(!r.body.contains(&format!("Stays in {long}")), "the title is not the 5,000 letters");
    // One at the limit is searched as usual.
    let ok = Browser::default().get(&t, &format!("/stays?city={}", "a".repeat(100))).await;
    assert_eq!(ok.status, StatusCode::OK);
}
