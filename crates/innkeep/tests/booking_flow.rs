//! A stay is searched, quoted, booked, confirmed and cancelled through the API.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_guest_books_confirms_and_cancels_a_stay_with_a_refund() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "moderate").await;
    let rt = app.room_type(&host, &property, 3).await;

    let avail = app
        .get(
            &format!("/api/v1/availability?property_id={property}&check_in=2027-02-01&check_out=2027-02-04&adults=2"),
            None,
        )
        .await;
    assert_eq!(avail.status, 200, "{}", avail.body);
    let offer = &avail.body["offers"][0];
    assert_eq!(offer["room_type"]["id"], rt.as_str());
    assert_eq!(offer["units_left"], 3);
    assert_eq!(offer["quote"]["nights"].as_array().map(Vec::len), Some(3));
    assert_eq!(offer["quote"]["subtotal"]["minor"], 30000);
    assert_eq!(offer["quote"]["total"]["minor"], 31800);

    let held = app.book(&guest, &rt, "2027-02-01", "2027-02-04", Some("trip-1")).await;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!(held.body["status"], "held");
    assert_eq!(held.body["hold_expires_at"], "2027-01-04T10:15:00Z");
    assert_eq!(held.body["quote"]["total"]["minor"], 31800);
    let id = held.body["id"].as_str().expect("id").to_string();

    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-01-31&to=2027-02-05"), Some(&host)).await;
    assert_eq!(cal.status, 200, "{}", cal.body);
    let sold: Vec<i64> =
        cal.body["nights"].as_array().expect("nights").iter().map(|n| n["sold"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(sold, vec![0, 1, 1, 1, 0], "the hold counts as sold on its three nights only");

    let confirmed = app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["status"], "confirmed");

    let mine = app.get("/api/v1/bookings", Some(&guest)).await;
    assert_eq!(mine.body.as_array().map(Vec::len), Some(1));
    let hosts = app.get(&format!("/api/v1/bookings?property_id={property}&status=confirmed"), Some(&host)).await;
    assert_eq!(hosts.body.as_array().map(Vec::len), Some(1), "{}", hosts.body);

    let cancelled = app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["refund"]["minor"], 31800, "moderate policy: full refund 4 weeks ahead");

    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-02-01&to=2027-02-04"), Some(&host)).await;
    assert!(
        cal.body["nights"].as_array().expect("nights").iter().all(|n| n["sold"] == 0),
        "cancelling releases the nights"
    );

    let again = app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({})).await;
    again.assert_problem(409, "invalid_transition");
    app.stop().await;
}

#[tokio::test]
async fn a_strict_policy_refunds_nothing_inside_seven_days() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "strict").await;
    let rt = app.room_type(&host, &property, 1).await;
    let held = app.book(&guest, &rt, "2027-01-08", "2027-01-09", None).await;
    let id = held.body["id"].as_str().expect("id").to_string();
    app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({})).await;
    let cancelled = app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(cancelled.body["refund"]["minor"], 0, "{}", cancelled.body);
    app.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_booking_and_another_body_is_refused() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let first = app.book(&guest, &rt, "2027-03-01", "2027-03-03", Some("key-1")).await;
    assert_eq!(first.status, 201);
    let replay = app.book(&guest, &rt, "2027-03-01", "2027-03-03", Some("key-1")).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.body["id"], first.body["id"]);
    let other = app.book(&guest, &rt, "2027-03-01", "2027-03-04", Some("key-1")).await;
    other.assert_problem(422, "idempotency_key_reused");
    let mine = app.get("/api/v1/bookings", Some(&guest)).await;
    assert_eq!(mine.body.as_array().map(Vec::len), Some(1), "only one booking was made");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_hold_releases_its_nights_and_cannot_be_confirmed() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let held = app.book(&guest, &rt, "2027-02-10", "2027-02-12", None).await;
    let id = held.body["id"].as_str().expect("id").to_string();
    app.book(&guest, &rt, "2027-02-11", "2027-02-12", None).await.assert_problem(409, "sold_out");

    app.clock.advance(jiff::SignedDuration::from_mins(16));
    let ports = &app.server.as_ref().expect("server").ports;
    let expired = innkeep_app::booking::expire_holds(ports, app.clock.now_for_tests()).await.expect("sweep");
    assert_eq!(expired, 1);
    let b = app.get(&format!("/api/v1/bookings/{id}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "expired");
    app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    let again = app.book(&guest, &rt, "2027-02-11", "2027-02-12", None).await;
    assert_eq!(again.status, 201, "the expired hold's night is free again: {}", again.body);
    app.stop().await;
}

#[tokio::test]
async fn confirming_after_the_hold_time_is_refused_even_before_the_sweep() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let held = app.book(&guest, &rt, "2027-02-10", "2027-02-12", None).await;
    let id = held.body["id"].as_str().expect("id").to_string();
    app.clock.advance(jiff::SignedDuration::from_mins(15));
    app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&guest), json!({})).await.assert_problem(409, "conflict");
    app.stop().await;
}

#[tokio::test]
async fn hosts_run_the_stay_and_guests_cannot() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 2).await;
    let held = app.book(&guest, &rt, "2027-01-04", "2027-01-05", None).await;
    assert_eq!(held.status, 201, "check-in today is allowed: {}", held.body);
    let id = held.body["id"].as_str().expect("id").to_string();
    app.post(&format!("/api/v1/bookings/{id}/check-in"), Some(&host), json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    app.post(&format!("/api/v1/bookings/{id}/confirm"), Some(&host), json!({})).await;
    app.post(&format!("/api/v1/bookings/{id}/check-in"), Some(&guest), json!({}))
        .await
        .assert_problem(403, "forbidden");
    let r = app.post(&format!("/api/v1/bookings/{id}/check-in"), Some(&host), json!({})).await;
    assert_eq!(r.body["status"], "checked_in", "{}", r.body);
    let r = app.post(&format!("/api/v1/bookings/{id}/complete"), Some(&host), json!({})).await;
    assert_eq!(r.body["status"], "completed");
    app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_sees_only_its_own_data_and_other_ids_answer_404() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let other_host = app.user("host").await;
    let guest = app.user("guest").await;
    let other_guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 2).await;
    let held = app.book(&guest, &rt, "2027-02-01", "2027-02-02", None).await;
    let id = held.body["id"].as_str().expect("id").to_string();

    let patch = app
        .call(
            Method::PATCH,
            &format!("/api/v1/properties/{property}"),
            Some(&other_host),
            Some(json!({"name": "Mine now"})),
        )
        .await;
    patch.assert_problem(404, "not_found");
    app.post(&format!("/api/v1/properties/{property}/room-types"), Some(&other_host), room_type_body(1))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-02-01&to=2027-02-02"), Some(&other_host))
        .await
        .assert_problem(404, "not_found");
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/room-types/{rt}/calendar"),
            Some(&other_host),
            Some(json!({"from": "2027-02-01", "to": "2027-02-02", "closed": true})),
        )
        .await;
    put.assert_problem(404, "not_found");
    app.get(&format!("/api/v1/bookings/{id}"), Some(&other_host)).await.assert_problem(404, "not_found");
    app.get(&format!("/api/v1/bookings/{id}"), Some(&other_guest)).await.assert_problem(404, "not_found");
    app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&other_guest), json!({}))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/bookings", Some(&other_host)).await.body.as_array().map(Vec::len), Some(0));
    assert_eq!(app.get("/api/v1/bookings", Some(&other_guest)).await.body.as_array().map(Vec::len), Some(0));
    assert_eq!(app.get("/api/v1/properties", Some(&other_host)).await.body.as_array().map(Vec::len), Some(0));

    let b = app.get(&format!("/api/v1/bookings/{id}"), Some(&guest)).await;
    assert_eq!(b.body["status"], "held", "nothing changed");
    let p = app.get(&format!("/api/v1/properties/{property}"), None).await;
    assert_eq!(p.body["name"], "Casa Azul");
    app.stop().await;
}

#[tokio::test]
async fn hosts_edit_properties_room_types_and_calendars() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 2).await;

    let p = app
        .call(
            Method::PATCH,
            &format!("/api/v1/properties/{property}"),
            Some(&host),
            Some(json!({"name": "Casa Verde", "address": {"postal_code": "1100-000"}})),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["name"], "Casa Verde");
    assert_eq!(p.body["address"]["city"], "Lisbon", "merge patch keeps the other fields");
    assert_eq!(p.body["address"]["postal_code"], "1100-000");

    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            Some(json!({"from": "2027-02-05", "to": "2027-02-07", "price": 15000})),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.body);
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            Some(json!({"from": "2027-02-07", "to": "2027-02-08", "closed": true})),
        )
        .await;
    assert_eq!(put.status, 204);
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-02-04&to=2027-02-08"), Some(&host)).await;
    let prices: Vec<i64> =
        cal.body["nights"].as_array().expect("nights").iter().map(|n| n["price"].as_i64().unwrap_or(0)).collect();
    assert_eq!(prices, vec![10000, 15000, 15000, 10000]);
    assert_eq!(cal.body["nights"][3]["closed"], true);

    let q = app
        .get(
            &format!("/api/v1/availability?property_id={property}&check_in=2027-02-04&check_out=2027-02-07&adults=2"),
            None,
        )
        .await;
    assert_eq!(q.body["offers"][0]["quote"]["subtotal"]["minor"], 40000, "{}", q.body);
    let closed = app
        .get(&format!("/api/v1/availability?property_id={property}&check_in=2027-02-06&check_out=2027-02-08"), None)
        .await;
    assert_eq!(closed.body["offers"].as_array().map(Vec::len), Some(0), "a closed night is never offered");
    app.book(&guest, &rt, "2027-02-07", "2027-02-08", None).await.assert_problem(409, "sold_out");

    app.book(&guest, &rt, "2027-02-04", "2027-02-05", None).await;
    app.book(&guest, &rt, "2027-02-04", "2027-02-05", None).await;
    let shrink =
        app.call(Method::PATCH, &format!("/api/v1/room-types/{rt}"), Some(&host), Some(json!({"units": 1}))).await;
    shrink.assert_problem(409, "conflict");
    let squeeze = app
        .call(
            Method::PUT,
            &format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            Some(json!({"from": "2027-02-04", "to": "2027-02-05", "units": 1})),
        )
        .await;
    squeeze.assert_problem(409, "conflict");
    let grow = app
        .call(
            Method::PATCH,
            &format!("/api/v1/room-types/{rt}"),
            Some(&host),
            Some(json!({"units": 5, "max_stay": 20})),
        )
        .await;
    assert_eq!(grow.status, 200, "{}", grow.body);
    assert_eq!(grow.body["units"], 5);
    assert_eq!(grow.body["max_stay"], 20);

    // A minimum stay set on the arrival night refuses a shorter stay (the hold is priced
    // and checked inside its transaction) and takes nothing; a long enough stay is
    // charged the nights' prices as they are when it is sold.
    let cal = format!("/api/v1/room-types/{rt}/calendar");
    let body = json!({"from": "2027-03-01", "to": "2027-03-02", "min_stay": 3});
    assert_eq!(app.call(Method::PUT, &cal, Some(&host), Some(body)).await.status, 204);
    app.book(&guest, &rt, "2027-03-01", "2027-03-03", None).await.assert_problem(400, "stay_too_short");
    let march = app.get(&format!("{cal}?from=2027-03-01&to=2027-03-04"), Some(&host)).await;
    let sold: Vec<i64> =
        march.body["nights"].as_array().expect("nights").iter().map(|n| n["sold"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(sold, vec![0, 0, 0], "a refused hold takes no night");
    let body = json!({"from": "2027-03-02", "to": "2027-03-03", "price": 20000});
    assert_eq!(app.call(Method::PUT, &cal, Some(&host), Some(body)).await.status, 204);
    let b = app.book(&guest, &rt, "2027-03-01", "2027-03-04", None).await;
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.body["quote"]["subtotal"]["minor"], 40000, "10000 + 20000 + 10000: {}", b.body);
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_on_sign_out_and_wrong_passwords_are_rate_limited() {
    let app = spawn_app().await;
    let token = app.user("guest").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    let out = app.call(Method::DELETE, "/api/v1/sessions/current", Some(&token), None).await;
    assert_eq!(out.status, 204);
    app.get("/api/v1/me", Some(&token)).await.assert_problem(401, "unauthenticated");

    app.post(
        "/api/v1/users",
        None,
        json!({"email": "eve@example.com", "password": "correct horse battery", "name": "Eve", "role": "guest"}),
    )
    .await;
    let mut codes = Vec::new();
    let mut retry_after = Vec::new();
    for _ in 0..12 {
        let r = app
            .client
            .post(app.url("/api/v1/sessions"))
            .json(&json!({"email": "eve@example.com", "password": "wrong password!!"}))
            .send()
            .await
            .expect("sent");
        codes.push(r.status().as_u16());
        retry_after.push(r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()));
    }
    assert!(codes[..10].iter().all(|c| *c == 401), "{codes:?}");
    assert!(codes[10..].iter().all(|c| *c == 429), "{codes:?}");
    // 10 a minute: the next attempt is allowed within about 6 s, never 0 s.
    assert!(retry_after[10..].iter().all(|s| s.is_some_and(|s| (1..=60).contains(&s))), "{retry_after:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_family_books_several_rooms_in_one_booking_and_cancelling_frees_them_all() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "moderate").await;
    let rt = app.room_type(&host, &property, 3).await;
    let (ci, co) = ("2027-03-01", "2027-03-03");

    // Four adults and two children do not fit one room of 3; in two rooms they do.
    let avail = |rooms: u16| {
        format!(
            "/api/v1/availability?property_id={property}&check_in={ci}&check_out={co}&adults=4&children=2&rooms={rooms}"
        )
    };
    let one = app.get(&avail(1), None).await;
    assert_eq!((one.status.as_u16(), one.body["offers"].as_array().map(Vec::len)), (200, Some(0)), "{}", one.body);
    let two = app.get(&avail(2), None).await;
    assert_eq!(two.status, 200, "{}", two.body);
    assert_eq!(two.body["rooms"], 2);
    let quote = &two.body["offers"][0]["quote"];
    assert_eq!((quote["rooms"].as_i64(), quote["subtotal"]["minor"].as_i64()), (Some(2), Some(40_000)), "{quote}");
    assert_eq!(quote["total"]["minor"], 42_400, "two rooms, two nights, 6% VAT");
    assert_eq!(quote["nights"][0]["price"]["minor"], 10_000, "a night's price is one room's");
    // Four rooms are more than the three there are.
    let four = app.get(&avail(4), None).await;
    assert_eq!(four.body["offers"].as_array().map(Vec::len), Some(0), "{}", four.body);

    let body = |rooms: u16, adults: u16| {
        json!({
            "room_type_id": rt, "check_in": ci, "check_out": co, "adults": adults, "children": 2, "rooms": rooms,
            "guest": {"name": "Ana Silva", "email": "ana@example.com"}
        })
    };
    let held = app.post("/api/v1/bookings", Some(&guest), body(2, 4)).await;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!((held.body["rooms"].as_i64(), held.body["total"]["minor"].as_i64()), (Some(2), Some(42_400)));
    let id = held.body["id"].as_str().expect("id").to_string();
    let sold = |body: &serde_json::Value| -> Vec<i64> {
        body["nights"].as_array().expect("nights").iter().map(|n| n["sold"].as_i64().unwrap_or(-1)).collect()
    };
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from={ci}&to={co}"), Some(&host)).await;
    assert_eq!(sold(&cal.body), vec![2, 2], "two units of each night");

    // One unit is left: another two rooms are refused and change nothing.
    let refused = app.post("/api/v1/bookings", Some(&guest), body(2, 2)).await;
    assert_eq!((refused.status.as_u16(), refused.body["code"].as_str()), (409, Some("sold_out")), "{}", refused.body);
    for (rooms, adults, code) in [(0, 2, "invalid_rooms"), (31, 40, "invalid_rooms"), (3, 2, "adult_per_room")] {
        let r = app.post("/api/v1/bookings", Some(&guest), body(rooms, adults)).await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some(code)), "{rooms} rooms: {}", r.body);
    }
    let r = app.post("/api/v1/bookings", Some(&guest), body(2, 9)).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some("party_too_large")), "{}", r.body);
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from={ci}&to={co}"), Some(&host)).await;
    assert_eq!(sold(&cal.body), vec![2, 2], "refusals sold nothing");

    let cancelled = app.post(&format!("/api/v1/bookings/{id}/cancel"), Some(&guest), json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from={ci}&to={co}"), Some(&host)).await;
    assert_eq!(sold(&cal.body), vec![0, 0], "cancelling gave back both units");
}

#[tokio::test]
async fn children_pay_by_their_ages_where_the_room_type_says_so() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "moderate").await;
    let mut body = room_type_body(3);
    // Babies up to 2 free, children up to 11 at 20.00 a night, older ones at the room's price.
    body["rate_plan"]["child_rates"] =
        json!([{"max_age": 2, "per_night_minor": 0}, {"max_age": 11, "per_night_minor": 2000}]);
    let r = app.post(&format!("/api/v1/properties/{property}/room-types"), Some(&host), body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rt = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["rate_plan"]["child_rates"][1]["per_night_minor"], 2000);
    body["rate_plan"]["child_rates"] =
        json!([{"max_age": 11, "per_night_minor": 0}, {"max_age": 2, "per_night_minor": 0}]);
    let bad = app.post(&format!("/api/v1/properties/{property}/room-types"), Some(&host), body).await;
    assert_eq!(bad.status.as_u16(), 400, "bands out of order: {}", bad.body);

    let (ci, co) = ("2027-03-01", "2027-03-03");
    let avail = |ages: &str| {
        format!("/api/v1/availability?property_id={property}&check_in={ci}&check_out={co}&adults=2&children=1{ages}")
    };
    let asked = app.get(&avail(""), None).await;
    assert_eq!(
        (asked.status.as_u16(), asked.body["code"].as_str()),
        (400, Some("child_ages_required")),
        "{}",
        asked.body
    );
    let quoted = app.get(&avail("&child_ages=7"), None).await;
    assert_eq!(quoted.status, 200, "{}", quoted.body);
    let quote = &quoted.body["offers"][0]["quote"];
    assert_eq!(quote["children"]["minor"], 4_000, "20.00 for each of two nights: {quote}");
    assert_eq!(quote["total"]["minor"], 25_440, "(200.00 + 40.00) and 6% VAT");
    let baby = app.get(&avail("&child_ages=1"), None).await;
    assert_eq!(baby.body["offers"][0]["quote"]["total"]["minor"], 21_200, "{}", baby.body);
    for ages in ["&child_ages=18", "&child_ages=3,4", "&child_ages=x"] {
        let r = app.get(&avail(ages), None).await;
        assert_eq!(
            (r.status.as_u16(), r.body["code"].as_str()),
            (400, Some("invalid_child_ages")),
            "{ages}: {}",
            r.body
        );
    }

    let book = |ages: serde_json::Value| {
        json!({
            "room_type_id": rt, "check_in": ci, "check_out": co, "adults": 2, "children": 1, "child_ages": ages,
            "guest": {"name": "Ana Silva", "email": "ana@example.com"}
        })
    };
    let r = app.post("/api/v1/bookings", Some(&guest), book(json!([]))).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some("child_ages_required")), "{}", r.body);
    let held = app.post("/api/v1/bookings", Some(&guest), book(json!([7]))).await;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!((held.body["total"]["minor"].as_i64(), held.body["child_ages"][0].as_i64()), (Some(25_440), Some(7)));
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from={ci}&to={co}"), Some(&host)).await;
    let sold: Vec<i64> = cal.body["nights"].as_array().unwrap().iter().map(|n| n["sold"].as_i64().unwrap()).collect();
    assert_eq!(sold, vec![1, 1], "only the priced booking sold its nights");
}
