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
        party: innkeep_core::Party::new(2, 0),
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

#[tokio::test]
async fn a_trip_has_its_own_page_with_the_price_the_terms_a_calendar_entry_and_a_receipt() {
    let t = test_web().await;
    let (_, _, id) = confirmed_booking(&t).await;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let trips = ana.get(&t, &format!("/trips?confirmed={id}")).await;
    assert!(trips.body.contains(&format!("<a href=\"/trips/{id}\">Casa Azul</a>")), "{}", trips.body);
    assert!(trips.body.contains("class=\"trip new\""), "the booking just confirmed stands out: {}", trips.body);

    let page = ana.get(&t, &format!("/trips/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for part in [
        "Rua dos Remédios 10, Lisbon, PT",
        "Wed 10 Feb 2027, from 15:00",
        "Fri 12 Feb 2027, by 11:00",
        "2 adults",
        "<th scope=\"row\">2 nights</th><td>EUR 200.00</td>",
        "<th scope=\"row\">VAT</th><td>EUR 12.00</td>",
        "<strong>EUR 212.00</strong>",
        "Cancel by Tue 9 Feb 2027, 15:00 (Lisbon time): a full refund (EUR 212.00).",
        "After that: no refund.",
        &format!("href=\"/trips/{id}/calendar.ics\""),
        &format!("href=\"/trips/{id}/receipt\""),
        &format!("href=\"/trips/{id}/cancel\""),
    ] {
        assert!(page.body.contains(part), "{part:?} in {}", page.body);
    }

    let ics = ana.get(&t, &format!("/trips/{id}/calendar.ics")).await;
    assert_eq!(ics.status, StatusCode::OK);
    assert_eq!(ics.headers.get(header::CONTENT_TYPE).unwrap(), "text/calendar; charset=utf-8");
    assert!(ics.headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap().starts_with("attachment"));
    let lines: Vec<String> = ics.body.replace("\r\n ", "").split("\r\n").map(str::to_string).collect();
    for line in [
        "BEGIN:VCALENDAR",
        &format!("UID:{id}@innkeep"),
        "DTSTART:20270210T150000Z",
        "DTEND:20270212T110000Z",
        "SUMMARY:Casa Azul",
        &format!("URL:http://localhost/trips/{id}"),
        "END:VCALENDAR",
    ] {
        assert!(lines.iter().any(|l| l == line), "{line:?} in {}", ics.body);
    }

    let receipt = ana.get(&t, &format!("/trips/{id}/receipt")).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    for part in [
        "<h1>Receipt</h1>",
        &id.to_string(),
        "Ana",
        "<td class=\"paid\">EUR 0.00</td>",
        "<th scope=\"row\">To pay at the property</th><td class=\"due\">EUR 212.00</td>",
    ] {
        assert!(receipt.body.contains(part), "{part:?} in {}", receipt.body);
    }

    // Another guest sees none of it.
    user(&t, "bea@example.com", Role::Guest).await;
    let mut bea = Browser::default();
    bea.sign_in(&t, "bea@example.com").await;
    for path in [format!("/trips/{id}"), format!("/trips/{id}/calendar.ics"), format!("/trips/{id}/receipt")] {
        assert_eq!(bea.get(&t, &path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A cancelled stay has no calendar entry to add.
    let guest = innkeep_app::Actor::new(t.ports.store.booking(id).await.unwrap().unwrap().user_id, Role::Guest, None);
    innkeep_app::booking::act(&t.ports, &guest, id, innkeep_app::booking::Action::Cancel, t.ports.clock.now())
        .await
        .unwrap();
    assert_eq!(ana.get(&t, &format!("/trips/{id}/calendar.ics")).await.status, StatusCode::CONFLICT);
    let receipt = ana.get(&t, &format!("/trips/{id}/receipt")).await;
    assert!(!receipt.body.contains("To pay at the property"), "nothing is owed for a cancelled stay");
}

#[tokio::test]
async fn checkout_shows_the_cancellation_terms_before_booking() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let page = ana
        .get(&t, &format!("/checkout?room_type={rt}&check_in=2027-02-10&check_out=2027-02-12&adults=2&children=0"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let terms = page.body.find("Cancellation (flexible)").expect("the terms are on the page");
    assert!(terms < page.body.find("Hold this room").unwrap(), "before the button");
    assert!(page.body.contains("Cancel by Tue 9 Feb 2027, 15:00 (Lisbon time): a full refund (EUR 212.00)."));
}

#[tokio::test]
async fn my_trips_lists_the_next_stay_first() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    let guest = user(&t, "ana@example.com", Role::Guest).await;
    // Booked in this order: the latest stay first, the soonest last.
    for (ci, co) in [("2027-06-01", "2027-06-03"), ("2027-03-01", "2027-03-03"), ("2027-01-10", "2027-01-12")] {
        let cmd = innkeep_app::booking::PlaceBooking {
            room_type_id: rt.parse().unwrap(),
            check_in: ci.parse().unwrap(),
            check_out: co.parse().unwrap(),
            party: innkeep_core::Party::new(1, 0),
            guest: innkeep_app::store::GuestContact {
                name: "Ana".into(),
                email: "ana@example.com".into(),
                phone: None,
            },
            idempotency_key: None,
        };
        innkeep_app::booking::place_booking(&t.ports, &guest, cmd, t.ports.clock.now()).await.unwrap();
    }
    // Not just made (a booking made within the hour would come first).
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let trips = ana.get(&t, "/trips").await;
    let at = |d: &str| trips.body.find(d).unwrap_or_else(|| panic!("{d} in {}", trips.body));
    assert!(at("Sun 10 Jan 2027") < at("Mon 1 Mar 2027") && at("Mon 1 Mar 2027") < at("Tue 1 Jun 2027"));
}

#[tokio::test]
async fn errors_are_sentences_that_say_what_to_do_and_keep_the_way_on() {
    let t = test_web().await;
    let (_, property, id) = confirmed_booking(&t).await;
    let rt = t.ports.store.booking(id).await.unwrap().unwrap().room_type_id;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;

    // A stay longer than the room takes (14 nights): words, and the way back to choose dates.
    let long = ana
        .get(&t, &format!("/checkout?room_type={rt}&check_in=2027-03-01&check_out=2027-03-31&adults=2&children=0"))
        .await;
    assert_eq!(long.status, StatusCode::OK, "{}", long.body);
    assert!(
        long.body.contains("This room takes stays of at most 14 nights: choose an earlier check-out date."),
        "{}",
        long.body
    );
    assert!(long.body.contains(&format!("href=\"/properties/{property}?check_in=2027-03-01&#38;check_out=2027-03-31")));
    assert!(!long.body.contains("Hold this room"), "no button that can only fail");
    assert!(!long.body.contains("check_out") || !long.body.contains("stay of 30 nights"), "no API words");

    // A check-in in the past, on the property page.
    let past = ana.get(&t, &format!("/properties/{property}?check_in=2020-01-01&check_out=2020-01-03")).await;
    assert!(past.body.contains("Check-in is in the past: choose today or a later date."), "{}", past.body);

    // A name too long for the guest field, next to the field.
    let page = ana
        .get(&t, &format!("/checkout?room_type={rt}&check_in=2027-03-01&check_out=2027-03-03&adults=2&children=0"))
        .await;
    let long_name = "A".repeat(121);
    let form = [
        ("csrf", page.input("csrf")),
        ("idempotency_key", page.input("idempotency_key")),
        ("room_type", rt.to_string()),
        ("check_in", "2027-03-01".to_string()),
        ("check_out", "2027-03-03".to_string()),
        ("adults", "2".to_string()),
        ("children", "0".to_string()),
        ("guest_name", long_name),
        ("guest_email", "ana@example.com".to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ana.post(&t, "/checkout", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Enter the full name of the guest (at most 120 characters)."), "{}", r.body);
    assert!(!r.body.contains("guest.name must be"), "{}", r.body);

    // Confirming a booking that is confirmed already.
    let mut host = Browser::default();
    host.sign_in(&t, "host@example.com").await;
    let csrf = host.get(&t, "/host").await.input("csrf");
    let r = host.post(&t, &format!("/host/bookings/{id}/confirm"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("This booking is already confirmed."), "{}", r.body);
    assert!(!r.body.contains("cannot become"), "{}", r.body);
}

/// The new-property form's fields, each replaceable.
fn property_form(csrf: &str) -> Vec<(&'static str, String)> {
    [
        ("csrf", csrf),
        ("name", "Quinta Verde"),
        ("description", "Green."),
        ("property_type", "villa"),
        ("address_line", "Estrada 1"),
        ("city", "Sintra"),
        ("country", "PT"),
        ("latitude", "38.79"),
        ("longitude", "-9.39"),
        ("time_zone", "Europe/Lisbon"),
        ("currency", "EUR"),
        ("check_in_time", "15:00"),
        ("check_out_time", "11:00"),
        ("cancellation_policy", "moderate"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

fn with(mut form: Vec<(&'static str, String)>, changes: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    for (k, v) in changes {
        form.retain(|(name, _)| name != k);
        form.push((k, v.to_string()));
    }
    form
}

#[tokio::test]
async fn a_property_form_says_every_error_at_once() {
    let t = test_web().await;
    user(&t, "host@example.com", Role::Host).await;
    let mut b = Browser::default();
    b.sign_in(&t, "host@example.com").await;
    let csrf = b.get(&t, "/host/properties/new").await.input("csrf");
    let long_city = "S".repeat(121);
    let form = with(
        property_form(&csrf),
        &[("name", " "), ("country", "XX"), ("city", &long_city), ("address_line", ""), ("check_in_time", "3pm")],
    );
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, "/host/properties/new", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for (field, words) in [
        ("name", "Enter a name for the property (at most 200 characters)."),
        ("country", "Use a two-letter ISO country code such as PT."),
        ("city", "Enter the city (at most 120 characters)."),
        ("address_line", "Enter the street address."),
        ("check_in_time", "Use a time such as 15:00."),
    ] {
        assert!(r.body.contains(&format!("id=\"{field}_err\">{words}</p>")), "{field}: {}", r.body);
    }
    assert!(r.body.contains(&long_city), "what was typed is kept");
}

#[tokio::test]
async fn a_host_finds_the_city_through_the_gazetteer_instead_of_typing_coordinates() {
    let t = test_web().await;
    user(&t, "host@example.com", Role::Host).await;
    let mut b = Browser::default();
    b.sign_in(&t, "host@example.com").await;
    let csrf = b.get(&t, "/host/properties/new").await.input("csrf");
    let form = with(property_form(&csrf), &[("city", "Porto"), ("latitude", ""), ("longitude", ""), ("time_zone", "")]);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, "/host/properties/locate", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Found Porto, PT"), "{}", r.body);
    assert!(r.body.contains("formaction=\"/host/properties/locate\""), "the button posts the form here");
    let text = |name: &str| {
        let marker = format!("name=\"{name}\" type=\"text\" value=\"");
        let at = r.body.find(&marker).unwrap_or_else(|| panic!("no {name} in {}", r.body)) + marker.len();
        r.body[at..at + r.body[at..].find('"').unwrap()].to_string()
    };
    let lat: f64 = text("latitude").parse().unwrap();
    let lon: f64 = text("longitude").parse().unwrap();
    assert!((lat - 41.15).abs() < 0.1 && (lon + 8.61).abs() < 0.1, "{lat}, {lon}");
    assert_eq!(text("time_zone"), "Europe/Lisbon");
    assert_eq!(text("name"), "Quinta Verde", "the rest of the form is kept");
    assert!(t.ports.store.list_properties(None, 10, 0).await.unwrap().is_empty(), "finding creates nothing");

    // Nothing of that name in that country: said next to the city.
    let form = with(property_form(&csrf), &[("city", "Qwxyzzy")]);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, "/host/properties/locate", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("No city of that name was found in PT"), "{}", r.body);
}

#[tokio::test]
async fn a_guest_reviews_a_finished_stay_and_the_rating_shows_on_the_property_and_the_results() {
    let t = test_web().await;
    let (_, property, id) = confirmed_booking(&t).await;
    let b = t.ports.store.booking(id).await.unwrap().unwrap();
    // The host's staff act with every duty of the tenant (an admin would do the same).
    let staff = innkeep_app::Actor::new(b.user_id, Role::Admin, None);
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let page = ana.get(&t, &format!("/trips/{id}")).await;
    assert!(!page.body.contains("How was your stay?"), "not over yet: no form");

    let now = t.ports.clock.now();
    for action in [innkeep_app::booking::Action::CheckIn, innkeep_app::booking::Action::Complete] {
        innkeep_app::booking::act(&t.ports, &staff, id, action, now).await.unwrap();
    }
    let page = ana.get(&t, &format!("/trips/{id}")).await;
    assert!(page.body.contains("How was your stay?"), "{}", page.body);
    let csrf = page.input("csrf");
    // A missing score is said next to its field, with what was chosen kept.
    let partial = [("csrf", csrf.as_str()), ("cleanliness", "9"), ("location", "10"), ("text", "Bright.")];
    let r = ana.post(&t, &format!("/trips/{id}/review"), &partial).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"value_err\">Choose a score for value from 1 to 10.</p>"), "{}", r.body);
    assert!(r.body.contains("<option value=\"10\" selected>10</option>"), "the choice is kept");
    assert!(t.ports.store.review_of_booking(id).await.unwrap().is_none(), "nothing written");

    let full = [
        ("csrf", csrf.as_str()),
        ("cleanliness", "9"),
        ("location", "10"),
        ("value", "7"),
        ("staff", "8"),
        ("comfort", "9"),
        ("text", "Bright and quiet."),
    ];
    let r = ana.post(&t, &format!("/trips/{id}/review"), &full).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("/trips/{id}?reviewed=1")), "{}", r.body);
    let page = ana.get(&t, &r.location()).await;
    assert!(page.body.contains("Thank you: your review is published."), "{}", page.body);
    assert!(page.body.contains("Your review") && !page.body.contains("How was your stay?"), "{}", page.body);
    // Sending the form again writes nothing more.
    let again = ana.post(&t, &format!("/trips/{id}/review"), &full).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
    assert!(again.body.contains("This stay has been reviewed already."), "{}", again.body);

    let page = Browser::default().get(&t, &format!("/properties/{property}")).await;
    assert!(page.body.contains("8.6 · 1 review"), "{}", page.body);
    assert!(page.body.contains("Bright and quiet.") && page.body.contains("Ana"), "{}", page.body);
    let results =
        Browser::default().get(&t, "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-03&sort=rating").await;
    assert!(results.body.contains("8.6 · 1 review"), "{}", results.body);
    let stays = "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-03";
    let eight = Browser::default().get(&t, &format!("{stays}&min_rating=8")).await;
    assert!(eight.body.contains("Casa Azul") && eight.body.contains("<option value=\"8\" selected>8+</option>"));
    let nine = Browser::default().get(&t, &format!("{stays}&min_rating=9")).await;
    assert!(!nine.body.contains("Casa Azul"), "8.6 is below 9: {}", nine.body);
}

#[tokio::test]
async fn a_host_answers_a_review_once_from_the_property_page() {
    let t = test_web().await;
    let (_, property, id) = confirmed_booking(&t).await;
    let b = t.ports.store.booking(id).await.unwrap().unwrap();
    let now = t.ports.clock.now();
    let admin = innkeep_app::Actor::new(b.user_id, Role::Admin, None);
    for action in [innkeep_app::booking::Action::CheckIn, innkeep_app::booking::Action::Complete] {
        innkeep_app::booking::act(&t.ports, &admin, id, action, now).await.unwrap();
    }
    let guest = innkeep_app::Actor::new(b.user_id, Role::Guest, None);
    let scores = innkeep_core::Scores { cleanliness: 6, location: 9, value: 7, staff: 8, comfort: 6 };
    let new = innkeep_app::review::NewReview { scores, text: "Noisy street.".into() };
    let review = innkeep_app::review::write_review(&t.ports, &guest, id, new, now).await.unwrap();

    let mut host = Browser::default();
    host.sign_in(&t, "host@example.com").await;
    let page = host.get(&t, &format!("/host/properties/{property}")).await;
    assert!(page.body.contains("Noisy street.") && page.body.contains("Publish the answer"), "{}", page.body);
    let csrf = page.input("csrf");
    let path = format!("/host/reviews/{}/reply", review.id);
    let empty = host.post(&t, &path, &[("csrf", &csrf), ("text", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.body);
    assert!(empty.body.contains("An answer is 1 to 2000 characters."), "{}", empty.body);
    let r = host.post(&t, &path, &[("csrf", &csrf), ("text", "Sorry about the noise: new windows are in.")]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, format!("/host/properties/{property}?answered=1#reviews"))
    );
    let again = host.post(&t, &path, &[("csrf", &csrf), ("text", "Again")]).await;
    assert!(again.body.contains("This review has been answered already."), "{}", again.body);
    let public = Browser::default().get(&t, &format!("/properties/{property}")).await;
    assert!(public.body.contains("Sorry about the noise: new windows are in."), "{}", public.body);
}

#[tokio::test]
async fn results_filter_by_amenities_price_floor_and_free_cancellation() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    // Casa Azul: flexible, Wi-Fi, 100.00 a night (plus 6% VAT).
    listing(&t, &host, "Casa Azul").await;
    let stays = "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-03";

    let all = Browser::default().get(&t, stays).await;
    assert!(all.body.contains("Casa Azul"), "{}", all.body);
    assert!(all.body.contains("value=\"ev_charger\"> EV charging</label>"), "amenities by their names");
    for (query, shown) in [
        ("&amenity=wifi", true),
        ("&amenity=wifi&amenity=pool", false),
        ("&min_price=100", true),
        ("&min_price=120", false),
        ("&free_cancellation=1", true),
    ] {
        let r = Browser::default().get(&t, &format!("{stays}{query}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.contains("<a href=\"/properties/"), shown, "{query}: {}", r.body);
    }
    let r = Browser::default().get(&t, &format!("{stays}&amenity=wifi&free_cancellation=1")).await;
    assert!(r.body.contains("More filters (2 on)") && r.body.contains("value=\"wifi\" checked"), "{}", r.body);
}

#[tokio::test]
async fn results_sort_by_distance_from_the_centre_of_the_place() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let now = t.ports.clock.now();
    // Lisbon's centre in the gazetteer is near 38.72, -9.14: Alfama is close, Belém farther.
    for (name, lat, lon, rate) in [("Belém Loft", 38.6970, -9.2060, 8000), ("Alfama Rooms", 38.7115, -9.1300, 9000)] {
        let draft: innkeep_core::PropertyDraft = serde_json::from_value(serde_json::json!({
            "name": name, "description": "", "property_type": "apartment",
            "address": {"lines": ["Rua 1"], "city": "Lisbon", "country": "PT"},
            "latitude": lat, "longitude": lon, "time_zone": "Europe/Lisbon", "currency": "EUR",
            "check_in_time": "15:00", "check_out_time": "11:00", "amenities": [],
            "cancellation_policy": "flexible"
        }))
        .unwrap();
        let p = innkeep_app::catalog::create_property(&t.ports, &host, draft, now).await.unwrap();
        let rt: innkeep_core::RoomTypeDraft = serde_json::from_value(serde_json::json!({
            "name": "Studio", "description": "", "beds": "1 double bed",
            "occupancy": {"max_adults": 2, "max_children": 0, "max_total": 2}, "units": 1,
            "base_rate_minor": rate, "min_stay": 1, "max_stay": 14, "rate_plan": {"charges": []}
        }))
        .unwrap();
        innkeep_app::catalog::create_room_type(&t.ports, &host, p.id, rt, now).await.unwrap();
    }
    innkeep_search::freshness::apply_events(t.ports.store.as_ref(), &t.index, 0).await.unwrap();
    let stays = "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-03";
    let by_price = Browser::default().get(&t, stays).await;
    assert!(
        by_price.body.find("Belém Loft").unwrap() < by_price.body.find("Alfama Rooms").unwrap(),
        "the cheaper first"
    );
    let near = Browser::default().get(&t, &format!("{stays}&sort=distance")).await;
    let (alfama, belem) = (near.body.find("Alfama Rooms").unwrap(), near.body.find("Belém Loft").unwrap());
    assert!(alfama < belem, "the nearer first: {}", near.body);
    assert!(near.body.contains("km from the centre"), "{}", near.body);
}

#[tokio::test]
async fn a_guest_who_prefers_another_currency_sees_approximate_prices_and_pays_in_the_propertys() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (property, rt) = listing(&t, &host, "Casa Azul").await;
    let ana = user(&t, "ana@example.com", Role::Guest).await;
    let stays = "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-03";
    let checkout = format!("/checkout?room_type={rt}&check_in=2027-03-01&check_out=2027-03-03&adults=2&children=0");
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    // No preference: prices in the property's currency only.
    assert!(!b.get(&t, stays).await.body.contains("≈"));

    let usd = innkeep_core::Currency::parse("USD").unwrap();
    innkeep_app::auth::update_profile(&t.ports, &ana, None, None, Some(usd)).await.unwrap();
    // EUR 212.00 at the bundled 1.1172 dollars a euro (the ECB's of 2026-10-30) is about USD 236.85.
    let results = b.get(&t, stays).await;
    assert!(
        results.body.contains("<strong>EUR 212.00</strong>") && results.body.contains("≈ USD 236.85"),
        "{}",
        results.body
    );
    let page = b.get(&t, &format!("/properties/{property}?check_in=2027-03-01&check_out=2027-03-03")).await;
    assert!(page.body.contains("≈ USD 236.85"), "{}", page.body);
    let page = b.get(&t, &checkout).await;
    assert!(page.body.contains("≈ USD 236.85"), "{}", page.body);
    assert!(page.body.contains("you are charged in EUR"), "{}", page.body);

    // A currency with no rate in the file shows none rather than a guess.
    let uah = innkeep_core::Currency::parse("UAH").unwrap();
    innkeep_app::auth::update_profile(&t.ports, &ana, None, None, Some(uah)).await.unwrap();
    assert!(!b.get(&t, stays).await.body.contains("≈"));
}

#[tokio::test]
async fn the_booking_just_made_comes_first_in_my_trips_for_an_hour() {
    let t = test_web().await;
    let (guest, property, sooner) = confirmed_booking(&t).await;
    let rt = innkeep_app::cache::room_types(&t.ports, property.parse().unwrap()).await.unwrap()[0].id;
    t.clock.advance(jiff::SignedDuration::from_secs(60));
    // A stay further away, held just now.
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt,
        check_in: "2027-05-10".parse().unwrap(),
        check_out: "2027-05-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let later =
        innkeep_app::booking::place_booking(&t.ports, &guest, cmd, t.ports.clock.now()).await.unwrap().booking.id;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let trips = ana.get(&t, "/trips").await;
    let (a, b) = (
        trips.body.find(&format!("/trips/{later}\"")).unwrap(),
        trips.body.find(&format!("/trips/{sooner}\"")).unwrap(),
    );
    assert!(a < b, "the new booking first, though its stay is later: {}", trips.body);
    assert_eq!(trips.body.matches("class=\"trip new\"").count(), 1, "{}", trips.body);
    // An hour on, it is one of the trips, in order of arrival.
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    let trips = ana.get(&t, "/trips").await;
    let (a, b) = (
        trips.body.find(&format!("/trips/{later}\"")).unwrap(),
        trips.body.find(&format!("/trips/{sooner}\"")).unwrap(),
    );
    assert!(b < a && !trips.body.contains("class=\"trip new\""), "{}", trips.body);
}

#[tokio::test]
async fn a_party_books_several_rooms_from_the_results_to_the_trip() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    // Three adults do not fit the house's double room; in two of them they do.
    let mut b = Browser::default();
    let stays = "/stays?city=Lisbon&check_in=2027-02-10&check_out=2027-02-12&adults=3&children=0";
    let one = b.get(&t, stays).await;
    assert!(!one.body.contains("Casa Azul</a>"), "{}", one.body);
    let two = b.get(&t, &format!("{stays}&rooms=2")).await;
    assert!(two.body.contains("Casa Azul"), "{}", two.body);
    assert!(two.body.contains(" / night for 2 rooms</span>"), "the card's price says it is both rooms': {}", two.body);
    assert!(
        two.body.contains("&#38;children=0&#38;rooms=2\""),
        "the link to the property keeps the rooms: {}",
        two.body
    );
    assert!(
        two.body.contains("<input type=\"hidden\" name=\"rooms\" value=\"2\">"),
        "the filters keep them: {}",
        two.body
    );
    // More rooms than adults is said in words, the form kept.
    let wrong = b.get(&t, "/stays?city=Lisbon&check_in=2027-02-10&check_out=2027-02-12&adults=1&rooms=2").await;
    assert!(wrong.body.contains("Each room needs an adult: choose fewer rooms or add adults."), "{}", wrong.body);

    user(&t, "ana@example.com", Role::Guest).await;
    b.sign_in(&t, "ana@example.com").await;
    let query = "check_in=2027-02-10&check_out=2027-02-12&adults=3&children=0&rooms=2";
    let checkout = b.get(&t, &format!("/checkout?room_type={rt}&{query}")).await;
    assert_eq!(checkout.status, StatusCode::OK, "{}", checkout.body);
    assert!(checkout.body.contains("3 adults, 2 rooms"), "{}", checkout.body);
    assert!(checkout.body.contains("2 nights × 2 rooms"), "{}", checkout.body);
    assert!(checkout.body.contains("EUR 424.00"), "two rooms, two nights and VAT: {}", checkout.body);
    let (csrf, key) = (checkout.input("csrf"), checkout.input("idempotency_key"));
    let form = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", &key),
        ("room_type", &rt),
        ("check_in", "2027-02-10"),
        ("check_out", "2027-02-12"),
        ("adults", "3"),
        ("children", "0"),
        ("rooms", "2"),
        ("guest_name", "Ana Silva"),
        ("guest_email", "ana@example.com"),
    ];
    let held = b.post(&t, "/checkout", &form).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let id: innkeep_core::BookingId = held.location().trim_start_matches("/checkout/").parse().unwrap();
    let booking = t.ports.store.booking(id).await.unwrap().unwrap();
    assert_eq!((booking.rooms, booking.adults, booking.total.minor), (2, 3, 42_400));
    let trip = b.get(&t, &format!("/trips/{id}")).await;
    assert!(trip.body.contains("3 adults, 2 rooms") && trip.body.contains("2 nights × 2 rooms"), "{}", trip.body);
    // The host sees the rooms in the bookings table and the CSV.
    let mut hb = Browser::default();
    hb.sign_in(&t, "host@example.com").await;
    let table = hb.get(&t, "/host/bookings").await;
    assert!(table.body.contains("Double Room × 2"), "{}", table.body);
    let csv = hb.get(&t, "/host/bookings.csv").await;
    assert!(csv.body.lines().next().unwrap().ends_with(",rooms"), "{}", csv.body);
    assert!(csv.body.lines().nth(1).unwrap().ends_with(",\"2\""), "{}", csv.body);
    // Both units are sold: one more room is refused at checkout, in words.
    let full = b.get(&t, &format!("/checkout?room_type={rt}&check_in=2027-02-10&check_out=2027-02-12&adults=1")).await;
    assert!(full.body.contains("This room is not available for these dates and this party"), "{}", full.body);
}

#[tokio::test]
async fn a_childs_age_sets_its_price_where_the_room_type_prices_by_age() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (property, _) = listing(&t, &host, "Casa Azul").await;
    let draft: innkeep_core::RoomTypeDraft = serde_json::from_value(serde_json::json!({
        "name": "Family Room", "description": "", "beds": "1 double, 2 singles",
        "occupancy": {"max_adults": 2, "max_children": 2, "max_total": 4}, "units": 2,
        "base_rate_minor": 10000, "min_stay": 1, "max_stay": 14,
        "rate_plan": {"child_rates": [{"max_age": 2, "per_night_minor": 0}, {"max_age": 11, "per_night_minor": 2500}]}
    }))
    .unwrap();
    let rt =
        innkeep_app::catalog::create_room_type(&t.ports, &host, property.parse().unwrap(), draft, t.ports.clock.now())
            .await
            .unwrap();
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    let stay = "check_in=2027-02-10&check_out=2027-02-12&adults=2&children=1";
    let seven = b.get(&t, &format!("/checkout?room_type={}&{stay}&age=7", rt.id)).await;
    assert_eq!(seven.status, StatusCode::OK, "{}", seven.body);
    assert!(seven.body.contains("Children&#39;s rates") || seven.body.contains("Children's rates"), "{}", seven.body);
    assert!(seven.body.contains("EUR 50.00") && seven.body.contains("EUR 250.00"), "25.00 a night: {}", seven.body);
    let baby = b.get(&t, &format!("/checkout?room_type={}&{stay}&age=1", rt.id)).await;
    assert!(baby.body.contains("EUR 200.00") && !baby.body.contains("EUR 250.00"), "a baby stays free: {}", baby.body);
}
