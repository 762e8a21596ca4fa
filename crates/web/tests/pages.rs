//! The pages served by an app built in the test on a fresh SQLite store, driven with
//! `oneshot` like a browser without JavaScript: forms, cookies and redirects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use innkeep_app::auth::{Register, register};
use innkeep_core::Role;
use std::sync::Arc;
use support::*;

#[tokio::test]
async fn every_page_carries_a_strict_content_security_policy() {
    let t = test_web().await;
    let mut b = Browser::default();
    for path in ["/", "/signin", "/signup", "/stays?city=Lisbon"] {
        let r = b.get(&t, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let csp = r.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert!(!r.body.contains("<script>"), "no inline script on {path}");
        assert!(!r.body.contains("style=\""), "no inline style on {path}");
    }
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_refused() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    let page = b.get(&t, "/signin").await;
    assert!(b.cookies.contains_key("innkeep_csrf"));
    let missing = b.post(&t, "/signin", &[("email", "ana@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("Form expired"));
    let wrong = b.post(&t, "/signin", &[("csrf", "00ff"), ("email", "ana@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // A token from another browser does not work with this browser's cookie.
    let mut other = Browser::default();
    let other_csrf = other.get(&t, "/signin").await.input("csrf");
    let stolen =
        b.post(&t, "/signin", &[("csrf", &other_csrf), ("email", "ana@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    let ok = b
        .post(&t, "/signin", &[("csrf", &page.input("csrf")), ("email", "ana@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // Signed in, the token is bound to the session: the pre-session token no longer works.
    let signout = b.post(&t, "/signout", &[("csrf", &page.input("csrf"))]).await;
    assert_eq!(signout.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    let page = b.get(&t, "/trips").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.input("csrf");
    // Sign in again to read the cookie as set.
    let mut c = Browser::default();
    let form = c.get(&t, "/signin").await;
    let r = c
        .post(&t, "/signin", &[("csrf", &form.input("csrf")), ("email", "ana@example.com"), ("password", PASSWORD)])
        .await;
    let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("innkeep_session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http by default: {cookie}");
    // Signing out clears it.
    let out = b.post(&t, "/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("innkeep_session"));
    assert_eq!(b.get(&t, "/trips").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_property_name_with_markup_is_escaped() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (p, _) = listing(&t, &host, "<script>alert(1)</script> Inn").await;
    let mut b = Browser::default();
    let r = b.get(&t, &format!("/properties/{p}?check_in=2027-02-01&check_out=2027-02-04")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("<script>alert(1)</script>"));
    assert!(
        r.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || r.body.contains("&lt;script&gt;"),
        "{}",
        r.body
    );
    let list = b.get(&t, "/stays?city=Lisbon&check_in=2027-02-01&check_out=2027-02-04&adults=2").await;
    assert!(!list.body.contains("<script>alert(1)</script>"));
}

#[tokio::test]
async fn a_guest_books_confirms_and_cancels_with_plain_forms() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (p, rt) = listing(&t, &host, "Casa Azul").await;
    let mut b = Browser::default();

    // Sign up as a guest.
    let form = b.get(&t, "/signup").await;
    let r = b
        .post(
            &t,
            "/signup",
            &[
                ("csrf", &form.input("csrf")),
                ("name", "Ana Silva"),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("role", "guest"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Search, then the property page with its breakdown and strip.
    let list = b.get(&t, "/stays?city=lisbon&check_in=2027-02-01&check_out=2027-02-04&adults=2").await;
    assert!(list.body.contains("Casa Azul"), "{}", list.body);
    assert!(list.body.contains("EUR 318.00"), "3 nights at 100 plus 6% VAT: {}", list.body);
    let page =
        b.get(&t, &format!("/properties/{p}?check_in=2027-02-01&check_out=2027-02-04&adults=2&children=0")).await;
    assert!(page.body.contains("Double Room") && page.body.contains("VAT") && page.body.contains("Next 14 nights"));

    // Checkout: the hold, then confirm.
    let checkout = b
        .get(&t, &format!("/checkout?room_type={rt}&check_in=2027-02-01&check_out=2027-02-04&adults=2&children=0"))
        .await;
    assert_eq!(checkout.status, StatusCode::OK, "{}", checkout.body);
    let csrf = checkout.input("csrf");
    let key = checkout.input("idempotency_key");
    let fields = |email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("idempotency_key", key.clone()),
            ("room_type", rt.clone()),
            ("check_in", "2027-02-01".to_string()),
            ("check_out", "2027-02-04".to_string()),
            ("adults", "2".to_string()),
            ("children", "0".to_string()),
            ("guest_name", "Ana Silva".to_string()),
            ("guest_email", email.to_string()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    // A bad e-mail re-renders the form with the message next to the field.
    let bad = as_refs(&fields("not-an-email"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, "/checkout", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"guest_email_err\""), "{}", r.body);

    let good = as_refs(&fields("ana@example.com"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let held = b.post(&t, "/checkout", &good).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let hold_path = held.location();
    // Sending the same form twice holds one room, not two.
    let again = b.post(&t, "/checkout", &good).await;
    assert_eq!(again.location(), hold_path);
    let hold = b.get(&t, &hold_path).await;
    assert!(hold.body.contains("data-expires-at") && hold.body.contains("Confirm booking"), "{}", hold.body);
    let confirmed = b.post(&t, &format!("{hold_path}/confirm"), &[("csrf", &hold.input("csrf"))]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);

    // My trips, the refund preview, then cancel.
    let trips = b.get(&t, "/trips").await;
    assert!(trips.body.contains("Casa Azul") && trips.body.contains("confirmed"), "{}", trips.body);
    let id = hold_path.trim_start_matches("/checkout/");
    let preview = b.get(&t, &format!("/trips/{id}/cancel")).await;
    assert!(preview.body.contains("refunds <strong class=\"refund\">EUR 318.00</strong>"), "{}", preview.body);
    let cancelled = b.post(&t, &format!("/trips/{id}/cancel"), &[("csrf", &preview.input("csrf"))]).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    assert_eq!(cancelled.location(), format!("/trips?cancelled={id}"), "the link names the booking, no message");
    let trips = b.get(&t, &cancelled.location()).await;
    assert!(trips.body.contains("Booking cancelled. Refund: EUR 318.00."), "{}", trips.body);
}

#[tokio::test]
async fn a_host_lists_a_property_sets_rates_and_acts_on_bookings() {
    let t = test_web().await;
    user(&t, "host@example.com", Role::Host).await;
    let mut b = Browser::default();
    b.sign_in(&t, "host@example.com").await;
    let form = b.get(&t, "/host/properties/new").await;
    let csrf = form.input("csrf");
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("name", "Quinta Verde"),
        ("description", "Green."),
        ("property_type", "villa"),
        ("address_line", "Estrada 1"),
        ("city", "Sintra"),
        ("country", "PT"),
        ("latitude", "91"),
        ("longitude", "-9.39"),
        ("time_zone", "Europe/Lisbon"),
        ("currency", "EUR"),
        ("check_in_time", "15:00"),
        ("check_out_time", "11:00"),
        ("cancellation_policy", "moderate"),
        ("amenities", "wifi"),
        ("amenities", "pool"),
    ];
    let bad = b.post(&t, "/host/properties/new", &fields).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"latitude_err\""), "{}", bad.body);
    fields[7] = ("latitude", "38.79");
    let created = b.post(&t, "/host/properties/new", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let prop_path = created.location();
    let room = |bands: [(&'static str, &'static str); 3]| {
        let mut f = vec![
            ("csrf", csrf.as_str()),
            ("name", "Garden Suite"),
            ("beds", "1 king bed"),
            ("units", "3"),
            ("base_rate", "150.00"),
            ("max_adults", "2"),
            ("max_children", "1"),
            ("max_total", "3"),
            ("min_stay", "1"),
            ("max_stay", "30"),
            ("vat_percent", "6"),
        ];
        for (n, (age, rate)) in bands.into_iter().enumerate() {
            f.push((["child_age_1", "child_age_2", "child_age_3"][n], age));
            f.push((["child_rate_1", "child_rate_2", "child_rate_3"][n], rate));
        }
        f
    };
    // Children's rates: a row for younger children under an older one, and a half-filled
    // row, are each pointed at; nothing is created.
    let bad = b.post(&t, &prop_path, &room([("11", "15.00"), ("2", "0"), ("", "9.x")])).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"child_age_2_err\"") && bad.body.contains("older children than the row above"));
    assert!(bad.body.contains("id=\"child_age_3_err\"") && bad.body.contains("id=\"child_rate_3_err\""));
    assert!(bad.body.contains("value=\"15.00\""), "the rows are kept: {}", bad.body);
    let r = b.post(&t, &prop_path, &room([("2", "0"), ("11", "15.00"), ("", "")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get(&t, &prop_path).await;
    assert!(page.body.contains("to age 2: free; to age 11: EUR 15.00"), "{}", page.body);
    assert_eq!(page.body.matches("<th scope=\"row\">Garden Suite</th>").count(), 1, "created once");
    let cal_path = r.location();
    let cal = b.get(&t, &format!("{cal_path}?month=2027-02")).await;
    assert!(cal.body.contains("February 2027") && cal.body.contains("150.00"), "{}", cal.body);
    let set = b
        .post(
            &t,
            &cal_path,
            &[("csrf", &csrf), ("from", "2027-02-10"), ("to", "2027-02-12"), ("price", "199.50"), ("month", "2027-02")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let cal = b.get(&t, &set.location()).await;
    assert_eq!(cal.body.matches("199.50").count(), 3, "three nights repriced");

    // A guest books it; the host sees it and checks it in after confirming.
    let rt = cal_path.trim_start_matches("/host/room-types/").trim_end_matches("/calendar").to_string();
    let guest = user(&t, "ana@example.com", Role::Guest).await;
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "=Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    innkeep_app::booking::place_booking(&t.ports, &guest, cmd, t.ports.clock.now()).await.unwrap();
    let list = b.get(&t, "/host/bookings?status=held").await;
    assert!(list.body.contains("=Ana") && list.body.contains("Quinta Verde"), "{}", list.body);
    let marker = "action=\"/host/bookings/";
    let at = list.body.find(marker).unwrap() + marker.len();
    let id = &list.body[at..at + 36];
    let r = b.post(&t, &format!("/host/bookings/{id}/confirm"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csv = b.get(&t, "/host/bookings.csv").await;
    assert_eq!(csv.headers.get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    assert!(csv.body.contains("\"confirmed\"") && csv.body.contains("\"'=Ana\""), "{}", csv.body);
    // A guest may not see host pages.
    let mut g = Browser::default();
    g.sign_in(&t, "ana@example.com").await;
    assert_eq!(g.get(&t, "/host").await.status, StatusCode::FORBIDDEN);
    assert_eq!(g.get(&t, "/ops").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_operator_dashboard_shows_counts_and_health() {
    let t = test_web().await;
    user(&t, "admin@example.com", Role::Admin).await;
    let mut b = Browser::default();
    b.sign_in(&t, "admin@example.com").await;
    let r = b.get(&t, "/ops").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<svg"), "charts are drawn");
    for kpi in ["Bookings made today", "Occupancy tonight", "Error rate (5xx)", "Latency p50 / p99"] {
        assert!(r.body.contains(kpi), "KPI {kpi}");
    }
    assert!(r.body.contains("id=\"chart-latency\"") && r.body.contains("id=\"chart-occupancy\""));
    assert!(r.body.contains("<th scope=\"row\">database</th>"), "the database is in the health list");
    // The requests made so far (sign-in pages) were measured, so the latency line exists.
    assert!(r.body.contains("<polyline"), "latency drawn from measured requests");
}

#[tokio::test]
async fn the_operator_sees_an_alert_for_a_part_that_is_down() {
    struct Broken;
    #[async_trait::async_trait]
    impl innkeep_app::health::Probe for Broken {
        async fn check(&self) -> Vec<innkeep_app::health::PartHealth> {
            vec![innkeep_app::health::PartHealth::new(
                "read replica 1",
                innkeep_app::health::Status::Down,
                "connection refused",
            )]
        }
    }
    let t = test_web_with(|s| s.with_probes(vec![Arc::new(Broken)])).await;
    user(&t, "admin@example.com", Role::Admin).await;
    let mut b = Browser::default();
    b.sign_in(&t, "admin@example.com").await;
    let r = b.get(&t, "/ops").await;
    assert!(r.body.contains("read replica 1 is down: connection refused"), "{}", r.body);
    assert!(r.body.contains("<th scope=\"row\">read replica 1</th>"));
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----innkeepTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(b: &mut Browser, t: &TestWeb, path: &str, ctype: &str, body: Vec<u8>) -> Reply {
    let req = Request::post(path)
        .header(header::COOKIE, b.cookie_header())
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    let r = send(t, req).await;
    b.keep(&r);
    r
}

#[tokio::test]
async fn a_host_uploads_a_photo_that_guests_see_on_the_property_and_in_results() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (property, _) = listing(&t, &host, "Casa Azul").await;
    let mut h = Browser::default();
    h.sign_in(&t, "host@example.com").await;
    let page = h.get(&t, &format!("/host/properties/{property}")).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""), "the upload form is there");
    let csrf = page.input("csrf");

    // Without the CSRF token the upload is refused before anything is stored.
    let (ct, body) = multipart(&[("alt", "x")], Some(("a.png", PNG)));
    let r = post_multipart(&mut h, &t, &format!("/host/properties/{property}/photos"), &ct, body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A file that is not an image is refused with a message on the page.
    let (ct, body) = multipart(&[("csrf", &csrf), ("alt", "x")], Some(("a.png", b"not an image at all")));
    let r = post_multipart(&mut h, &t, &format!("/host/properties/{property}/photos"), &ct, body).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body.contains("use a JPEG, PNG or WebP image"), "{}", r.body);

    let (ct, body) = multipart(&[("csrf", &csrf), ("alt", "The blue door")], Some(("door.png", PNG)));
    let r = post_multipart(&mut h, &t, &format!("/host/properties/{property}/photos"), &ct, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = h.get(&t, &r.location().replace("#photos", "")).await;
    assert!(page.body.contains("Photo added.") && page.body.contains("alt=\"The blue door\""));

    // Guests see it on the property page and as the result's photo; it is kept as a JPEG.
    let mut g = Browser::default();
    let p = g.get(&t, &format!("/properties/{property}")).await;
    let at = p.body.find("src=\"/photos/").expect("a photo on the property page");
    let src = &p.body[at + 5..at + 5 + p.body[at + 5..].find('"').unwrap()];
    let img = g.get(&t, src).await;
    assert_eq!(img.status, StatusCode::OK);
    assert_eq!(img.headers.get(header::CONTENT_TYPE).unwrap(), "image/jpeg");
    assert!(img.headers.get(header::CACHE_CONTROL).unwrap().to_str().unwrap().contains("max-age=31536000"));
    let stays = g.get(&t, "/stays?city=Lisbon&check_in=2027-02-01&check_out=2027-02-03&adults=2").await;
    assert!(stays.body.contains(&format!("<img class=\"photo\" src=\"{src}\"")), "{}", stays.body);

    // Another host cannot add photos to this property.
    user(&t, "other@example.com", Role::Host).await;
    let mut o = Browser::default();
    o.sign_in(&t, "other@example.com").await;
    let own = o.get(&t, "/").await;
    let csrf = own.input("csrf");
    let (ct, body) = multipart(&[("csrf", &csrf)], Some(("a.png", PNG)));
    let r = post_multipart(&mut o, &t, &format!("/host/properties/{property}/photos"), &ct, body).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn static_assets_are_cached_and_unknown_pages_are_not_found() {
    let t = test_web().await;
    let mut b = Browser::default();
    let home = b.get(&t, "/").await;
    let at = home.body.find("/static/app.css?v=").unwrap();
    let href = &home.body[at..home.body[at..].find('"').unwrap() + at];
    let css = b.get(&t, href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get(header::CACHE_CONTROL).unwrap().to_str().unwrap().contains("immutable"));
    assert_eq!(b.get(&t, "/static/vendor/leaflet/leaflet.js").await.status, StatusCode::OK);
    assert_eq!(b.get(&t, "/properties/not-a-uuid").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_home_page_offers_recent_searches_and_destinations_other_guests_booked() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    let booker = user(&t, "booker@example.com", Role::Guest).await;
    let _ = user(&t, "ana@example.com", Role::Guest).await;

    // Before anyone booked, there is nothing to suggest.
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let home = ana.get(&t, "/").await;
    assert!(!home.body.contains("Popular with other guests"), "{}", home.body);
    assert!(!home.body.contains("Your recent searches"));

    // Another guest books in Lisbon; Ana searches Lisbon.
    let now = t.ports.clock.now();
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-01".parse().unwrap(),
        check_out: "2027-02-03".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "B".into(), email: "booker@example.com".into(), phone: None },
        idempotency_key: None,
    };
    innkeep_app::booking::place_booking(&t.ports, &booker, cmd, now).await.unwrap();
    let list = ana.get(&t, "/stays?city=Lisbon&check_in=2027-03-01&check_out=2027-03-04&adults=2").await;
    assert!(list.body.contains("Casa Azul"), "{}", list.body);

    // Her recent searches show at once; the cities others booked are counted once a minute
    // per node (shared by every visitor), so Lisbon shows after that minute.
    let home = ana.get(&t, "/").await;
    assert!(home.body.contains("Your recent searches"), "{}", home.body);
    assert!(!home.body.contains("Popular with other guests"), "{}", home.body);
    t.clock.advance(jiff::SignedDuration::from_secs(60));
    let home = ana.get(&t, "/").await;
    assert!(
        home.body.contains("href=\"/stays?city=Lisbon&#38;check_in=2027-03-01&#38;check_out=2027-03-04&#38;adults=2"),
        "the search runs again from its link: {}",
        home.body
    );
    assert!(home.body.contains("Popular with other guests") && home.body.contains("Lisbon (1 recent bookings)"));

    // The guest who booked Lisbon is not told about Lisbon.
    let mut b = Browser::default();
    b.sign_in(&t, "booker@example.com").await;
    let home = b.get(&t, "/").await;
    assert!(!home.body.contains("Popular with other guests"), "{}", home.body);
}

/// A host signed in on the web, with a listing (Casa Azul, 100.00 EUR a night) and a guest's
/// held booking of 2027-02-10 to 2027-02-12; returns (browser, csrf, room type, booking id).
async fn host_with_a_held_booking(t: &TestWeb) -> (Browser, String, String, innkeep_core::BookingId) {
    let host = user(t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(t, &host, "Casa Azul").await;
    let guest = user(t, "ana@example.com", Role::Guest).await;
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let placed = innkeep_app::booking::place_booking(&t.ports, &guest, cmd, t.ports.clock.now()).await.unwrap();
    let mut b = Browser::default();
    b.sign_in(t, "host@example.com").await;
    let csrf = b.get(t, "/host").await.input("csrf");
    (b, csrf, rt, placed.booking.id)
}

#[tokio::test]
async fn a_control_character_in_next_is_refused_before_signing_in_or_up() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    let csrf = b.get(&t, "/signin").await.input("csrf");
    let next = "/trips\r\nSet-Cookie: evil=1";
    let r = b
        .post(&t, "/signin", &[("csrf", &csrf), ("email", "ana@example.com"), ("password", PASSWORD), ("next", next)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(!b.cookies.contains_key("innkeep_session"), "not signed in");

    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Bea"),
        ("email", "bea@example.com"),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
        ("role", "guest"),
        ("next", "/\t/evil.example/"),
    ];
    let r = b.post(&t, "/signup", &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(!b.cookies.contains_key("innkeep_session"));
    let bea = innkeep_core::Email::parse("bea@example.com").unwrap();
    assert!(t.ports.store.user_credentials(&bea).await.unwrap().is_none(), "no account was made");
}

#[tokio::test]
async fn next_leads_only_to_a_path_on_this_site() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    // The sign-in page drops a target that would leave the site (a tab, two slashes, a backslash).
    for next in ["/%09/evil.example/", "//evil.example/", "/%5Cevil.example/", "https://evil.example/"] {
        let page = b.get(&t, &format!("/signin?next={next}")).await;
        assert_eq!(page.input("next"), "", "{next}");
    }
    assert_eq!(b.get(&t, "/signin?next=/trips").await.input("next"), "/trips");
    // Sent with the form, such a target ends on the landing page; a local one is followed.
    for (next, to) in [("//evil.example/", "/"), ("/\\evil.example/", "/"), ("/trips", "/trips")] {
        let mut b = Browser::default();
        let csrf = b.get(&t, "/signin").await.input("csrf");
        let form = [("csrf", csrf.as_str()), ("email", "ana@example.com"), ("password", PASSWORD), ("next", next)];
        let r = b.post(&t, "/signin", &form).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, to.to_string()), "{next}");
    }
    // A page that needs a session sends its own path along.
    let r = Browser::default().get(&t, "/trips?x=1").await;
    assert_eq!(r.location(), "/signin?next=%2Ftrips%3Fx%3D1");
}

#[tokio::test]
async fn a_bad_month_is_refused_before_the_calendar_changes() {
    let t = test_web().await;
    let (mut b, csrf, rt, _) = host_with_a_held_booking(&t).await;
    let path = format!("/host/room-types/{rt}/calendar");
    let form = |month: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("from", "2027-02-20".into()),
            ("to", "2027-02-21".into()),
            ("price", "199.50".into()),
            ("month", month.into()),
        ]
    };
    let refs = |f: &[(&'static str, String); 5]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let bad = refs(&form("2027-02\r\nSet-Cookie: evil=1"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, &path, &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let cal = b.get(&t, &format!("{path}?month=2027-02")).await;
    assert!(!cal.body.contains("199.50"), "the price was not saved");

    // The form's month is the month shown, and saving returns to it.
    assert_eq!(cal.input("month"), "2027-02");
    let good = refs(&form("2027-02"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post(&t, &path, &good).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{path}?month=2027-02&saved=1")));
    assert_eq!(b.get(&t, &r.location()).await.body.matches("199.50").count(), 2);
}

#[tokio::test]
async fn a_bad_return_list_is_refused_before_the_booking_changes() {
    let t = test_web().await;
    let (mut b, csrf, _, id) = host_with_a_held_booking(&t).await;
    let path = format!("/host/bookings/{id}/confirm");
    for back in ["property=&status=held\r\nSet-Cookie: evil=1", "property=/evil.example", "next=x"] {
        let r = b.post(&t, &path, &[("csrf", &csrf), ("back", back)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{back:?}: {}", r.body);
    }
    let held = t.ports.store.booking(id).await.unwrap().unwrap();
    assert_eq!(held.status, innkeep_core::BookingStatus::Held, "not confirmed");
    let r = b.post(&t, &path, &[("csrf", &csrf), ("back", "property=&status=held")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/host/bookings?property=&status=held&done=1".into()));
    let confirmed = t.ports.store.booking(id).await.unwrap().unwrap();
    assert_eq!(confirmed.status, innkeep_core::BookingStatus::Confirmed);
}

#[tokio::test]
async fn the_trips_page_never_shows_a_message_from_the_link() {
    let t = test_web().await;
    // Ana (a guest) holds a booking.
    let (_, _, _, id) = host_with_a_held_booking(&t).await;
    let mut ana = Browser::default();
    ana.sign_in(&t, "ana@example.com").await;
    let spoof = "/trips?cancelled=1&refund=EUR%209,999.00%20-%20call%20%2B1%20555%200100";
    let page = ana.get(&t, spoof).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("9,999.00") && !page.body.contains("555 0100"), "{}", page.body);
    assert!(!page.body.contains("Booking cancelled"), "{}", page.body);
    // A booking that is only held was neither confirmed nor cancelled.
    let page = ana.get(&t, &format!("/trips?confirmed={id}")).await;
    assert!(!page.body.contains("Booking confirmed"), "{}", page.body);
    // Someone else's booking says nothing either.
    user(&t, "bea@example.com", Role::Guest).await;
    let mut bea = Browser::default();
    bea.sign_in(&t, "bea@example.com").await;
    let page = bea.get(&t, &format!("/trips?cancelled={id}&refund=EUR%201.00")).await;
    assert!(!page.body.contains("Booking cancelled") && !page.body.contains("EUR 1.00"), "{}", page.body);
}

#[tokio::test]
async fn a_form_from_one_node_is_accepted_by_another_with_the_same_key() {
    let key = b"pages-test-key-0123456789abcdef-0123".to_vec();
    let web = innkeep_web::WebConfig { csrf_key: Some(key.clone()), ..innkeep_web::WebConfig::default() };
    let a = test_web_configured(web.clone(), |s| s).await;
    let b_node = another_node(&a, web);
    let stranger = another_node(&a, innkeep_web::WebConfig::default());
    user(&a, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    let csrf = b.get(&a, "/signin").await.input("csrf");
    let form = [("csrf", csrf.as_str()), ("email", "ana@example.com"), ("password", PASSWORD)];
    assert_eq!(b.post(&stranger, "/signin", &form).await.status, StatusCode::FORBIDDEN, "another key refuses it");
    let r = b.post(&b_node, "/signin", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The session's forms too: one rendered by A is accepted by B.
    let csrf = b.get(&a, "/trips").await.input("csrf");
    assert_eq!(b.post(&b_node, "/signout", &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn cookies_carry_secure_when_configured() {
    let web = innkeep_web::WebConfig { secure_cookies: true, ..innkeep_web::WebConfig::default() };
    let t = test_web_configured(web, |s| s).await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    let form = b.get(&t, "/signin").await;
    let pre = form.set_cookies().into_iter().find(|c| c.starts_with("innkeep_csrf=")).unwrap();
    assert!(pre.contains("; Secure"), "{pre}");
    let r = b
        .post(&t, "/signin", &[("csrf", &form.input("csrf")), ("email", "ana@example.com"), ("password", PASSWORD)])
        .await;
    let session = r.set_cookies().into_iter().find(|c| c.starts_with("innkeep_session=")).unwrap();
    assert!(session.contains("; Secure") && session.contains("HttpOnly"), "{session}");
}

#[tokio::test]
async fn web_sign_in_keeps_the_password_whole_and_takes_any_spelling_of_the_address() {
    let t = test_web().await;
    let password = " correct horse battery ";
    let now = t.ports.clock.now();
    let cmd = Register {
        email: "ren\u{e9}e@x.org".into(),
        password: password.into(),
        name: "Renée".into(),
        role: Role::Guest,
        locale: Default::default(),
    };
    register(&t.ports, cmd, now).await.unwrap();
    let attempt = |email: &'static str, password: &'static str| {
        let t = &t;
        async move {
            let mut b = Browser::default();
            let csrf = b.get(t, "/signin").await.input("csrf");
            b.post(t, "/signin", &[("csrf", &csrf), ("email", email), ("password", password)]).await.status
        }
    };
    assert_eq!(attempt("ren\u{e9}e@x.org", " correct horse battery ").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt(" Rene\u{301}e@X.org ", " correct horse battery ").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt("ren\u{e9}e@x.org", "correct horse battery").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn my_trips_show_an_open_transfer_then_what_was_paid() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    let ana = user(&t, "ana@example.com", Role::Guest).await;
    let now = t.ports.clock.now();
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let booking = innkeep_app::booking::place_booking(&t.ports, &ana, cmd, now).await.unwrap().booking;
    let method = innkeep_core::PaymentMethod::BankTransfer;
    let (p, _) = innkeep_app::payment::pay(&t.ports, &ana, booking.id, method, "k", now).await.unwrap();
    let reference = p.reference.clone().unwrap();
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    let page = b.get(&t, "/trips").await;
    assert!(page.body.contains("awaiting a bank transfer of") && page.body.contains(&reference), "{}", page.body);
    let admin = innkeep_app::Actor::new(host.user_id, Role::Admin, None);
    let line = innkeep_app::payment::StatementLine {
        booking_date: None,
        amount: booking.total,
        credit: true,
        references: vec![reference.clone()],
        problem: None,
    };
    innkeep_app::payment::import_statement(&t.ports, &admin, "s", &[line], now).await.unwrap();
    let page = b.get(&t, "/trips").await;
    assert!(page.body.contains("paid "), "{}", page.body);
    assert!(!page.body.contains(&reference), "no open transfer is shown once paid: {}", page.body);
}

#[tokio::test]
async fn an_operator_matches_a_transfer_with_a_mistyped_reference_on_the_page() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    let ana = user(&t, "ana@example.com", Role::Guest).await;
    let admin = user(&t, "admin@example.com", Role::Admin).await;
    let now = t.ports.clock.now();
    let cmd = innkeep_app::booking::PlaceBooking {
        room_type_id: rt.parse().unwrap(),
        check_in: "2027-02-10".parse().unwrap(),
        check_out: "2027-02-12".parse().unwrap(),
        party: innkeep_core::Party::new(2, 0),
        guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: None,
    };
    let booking = innkeep_app::booking::place_booking(&t.ports, &ana, cmd, now).await.unwrap().booking;
    let method = innkeep_core::PaymentMethod::BankTransfer;
    let (p, _) = innkeep_app::payment::pay(&t.ports, &ana, booking.id, method, "k", now).await.unwrap();
    let line = innkeep_app::payment::StatementLine {
        booking_date: None,
        amount: booking.total,
        credit: true,
        references: vec!["for Ana's stay".into()],
        problem: None,
    };
    innkeep_app::payment::import_statement(&t.ports, &admin, "s", &[line], now).await.unwrap();
    let mut o = Browser::default();
    o.sign_in(&t, "admin@example.com").await;
    let page = o.get(&t, "/ops").await;
    let at = page.body.find("action=\"/ops/statement-lines/").expect("a match form on the unmatched line");
    let action = page.body[at + 8..].split('"').next().unwrap().to_string();
    let csrf = page.input("csrf");
    // Not a reference, then a reference no transfer has: said, nothing changes.
    let r = o.post(&t, &action, &[("csrf", &csrf), ("reference", "Ana")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("is not a payment reference"), "{}", r.body);
    let r = o.post(&t, &action, &[("csrf", &csrf), ("reference", "RF18 5390 0754 7034")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("No bank transfer has the reference"), "{}", r.body);
    let reference = p.reference.clone().unwrap();
    let r = o.post(&t, &action, &[("csrf", &csrf), ("reference", &reference)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let b = t.ports.store.booking(booking.id).await.unwrap().unwrap();
    assert_eq!(b.status, innkeep_core::BookingStatus::Confirmed);
    let page = o.get(&t, "/ops").await;
    assert!(!page.body.contains("action=\"/ops/statement-lines/"), "nothing left to match: {}", page.body);
    // A guest cannot.
    let mut g = Browser::default();
    g.sign_in(&t, "ana@example.com").await;
    let csrf = g.get(&t, "/trips").await.input("csrf");
    assert_eq!(g.post(&t, &action, &[("csrf", &csrf), ("reference", &reference)]).await.status, StatusCode::FORBIDDEN);
}

/// A multipart form with the CSRF token and one file in the field `file`.
fn file_form(csrf: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----innkeepDataBoundary9x";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_host_downloads_its_data_and_uploads_rates_edited_in_a_spreadsheet() {
    let t = test_web().await;
    let host = user(&t, "data-host@example.com", Role::Host).await;
    let (_, room_type) = listing(&t, &host, "Casa Azul").await;
    let mut h = Browser::default();
    h.sign_in(&t, "data-host@example.com").await;
    let page = h.get(&t, "/host/data").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.input("csrf");
    let doc = h.get(&t, "/host/data/tenant.json").await;
    assert_eq!(doc.headers.get(header::CONTENT_DISPOSITION).unwrap(), "attachment; filename=\"tenant.json\"");
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    assert_eq!(doc["room_types"][0]["id"], room_type.as_str());
    let csv = h.get(&t, "/host/data/room-types.csv").await;
    assert!(csv.body.starts_with("id,property_id,name,units") && csv.body.contains(&room_type), "{}", csv.body);
    assert_eq!(h.get(&t, "/host/data/secrets.txt").await.status, StatusCode::NOT_FOUND);

    // Rates edited in a spreadsheet: set, and said so.
    let rates =
        format!("room_type_id,night,price_minor,closed\n{room_type},2027-03-01,12500,\n{room_type},2027-03-02,,true\n");
    let (ct, body) = file_form(&csrf, "rates.csv", rates.as_bytes());
    let r = post_file(&mut h, &t, "/host/data/rates", &ct, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = h.get(&t, &r.location()).await;
    assert!(page.body.contains("2 rate rows set."), "{}", page.body);
    let id = room_type.parse().unwrap();
    let range = innkeep_core::Stay::range("2027-03-01".parse().unwrap(), "2027-03-03".parse().unwrap()).unwrap();
    let nights = t.ports.store.nights(id, &range).await.unwrap();
    assert_eq!((nights[0].overrides.price_minor, nights[1].overrides.closed), (Some(12500), Some(true)));

    // A file with a bad line sets nothing and names the line.
    let bad = format!("room_type_id,night,price_minor\n{room_type},2027-03-05,100\n{room_type},2027-02-30,100\n");
    let (ct, body) = file_form(&csrf, "rates.csv", bad.as_bytes());
    let r = post_file(&mut h, &t, "/host/data/rates", &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("line 3: night"), "{}", r.body);
    let range = innkeep_core::Stay::range("2027-03-05".parse().unwrap(), "2027-03-06".parse().unwrap()).unwrap();
    assert!(t.ports.store.nights(id, &range).await.unwrap().iter().all(|n| n.overrides.price_minor.is_none()));

    // The same document again: its ids are here, nothing is imported.
    let (ct, body) = file_form(&csrf, "tenant.json", serde_json::to_string(&doc).unwrap().as_bytes());
    let r = post_file(&mut h, &t, "/host/data/import", &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("nothing was imported"), "{}", r.body);
}

/// A multipart form with the CSRF token and a file in each named field.
fn files_form(csrf: &str, files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----innkeepDataBoundary9x";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
    for (field, name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_hosts_csv_files_move_to_another_innkeep_without_loss() {
    let t = test_web().await;
    let host = user(&t, "csv-host@example.com", Role::Host).await;
    let (_, room_type) = listing(&t, &host, "Casa Azul").await;
    let id = room_type.parse().unwrap();
    let change = innkeep_core::NightOverride { price_minor: Some(9900), ..Default::default() };
    let (from, to) = ("2027-05-01".parse().unwrap(), "2027-05-03".parse().unwrap());
    innkeep_app::catalog::set_calendar(&t.ports, &host, id, from, to, change, t.ports.clock.now()).await.unwrap();
    let mut h = Browser::default();
    h.sign_in(&t, "csv-host@example.com").await;
    let doc: serde_json::Value = serde_json::from_str(&h.get(&t, "/host/data/tenant.json").await.body).unwrap();
    let mut files = Vec::new();
    for f in ["properties.csv", "room-types.csv", "rates.csv", "bookings.csv"] {
        files.push(h.get(&t, &format!("/host/data/{f}")).await.body);
    }

    // Another Innkeep, another host: the files come in whole.
    let other = test_web().await;
    user(&other, "csv-owner@example.com", Role::Host).await;
    let mut o = Browser::default();
    o.sign_in(&other, "csv-owner@example.com").await;
    let csrf = o.get(&other, "/host/data").await.input("csrf");
    // Without the room types, or with a broken line, nothing comes in and the page says why.
    let (ct, body) = files_form(&csrf, &[("properties", "properties.csv", files[0].as_bytes())]);
    let r = post_file(&mut o, &other, "/host/data/import-csv", &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("room-types.csv is missing"), "{}", r.body);
    let broken = files[1].replace(&format!("{room_type},"), &format!("{room_type}x,"));
    let (ct, body) = files_form(
        &csrf,
        &[("properties", "properties.csv", files[0].as_bytes()), ("room_types", "room-types.csv", broken.as_bytes())],
    );
    let r = post_file(&mut o, &other, "/host/data/import-csv", &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("oom-types.csv line 2: UUID parsing failed"), "{}", r.body);
    assert_eq!(other.ports.store.list_properties(None, 10, 0).await.unwrap().len(), 0, "nothing came in");

    let (ct, body) = files_form(
        &csrf,
        &[
            ("properties", "properties.csv", files[0].as_bytes()),
            ("room_types", "room-types.csv", files[1].as_bytes()),
            ("rates", "rates.csv", files[2].as_bytes()),
            ("bookings", "bookings.csv", files[3].as_bytes()),
        ],
    );
    let r = post_file(&mut o, &other, "/host/data/import-csv", &ct, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = o.get(&other, &r.location()).await;
    assert!(page.body.contains("Imported: 1 properties, 1 room types, 2 rates, 0 bookings."), "{}", page.body);
    let back: serde_json::Value = serde_json::from_str(&o.get(&other, "/host/data/tenant.json").await.body).unwrap();
    let blank = |mut d: serde_json::Value| {
        d["tenant_id"] = serde_json::Value::Null;
        d["exported_at"] = serde_json::Value::Null;
        for kind in ["properties", "room_types"] {
            for item in d[kind].as_array_mut().unwrap() {
                item["tenant_id"] = serde_json::Value::Null;
            }
        }
        d
    };
    assert_eq!(blank(back), blank(doc), "the same data, read back from CSV");
}

async fn post_file(b: &mut Browser, t: &TestWeb, path: &str, ctype: &str, body: Vec<u8>) -> Reply {
    let req = Request::post(path)
        .header(header::COOKIE, b.cookie_header())
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    let r = send(t, req).await;
    b.keep(&r);
    r
}
