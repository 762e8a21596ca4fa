//! Search and places: autocomplete, bookable stays with prices, freshness, bad parameters.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const STAY: &str = "check_in=2027-02-01&check_out=2027-02-04&adults=2";

async fn hits(app: &TestApp, query: &str) -> Vec<serde_json::Value> {
    let r = app.get(&format!("/api/v1/search?{query}"), None).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.body["hits"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_guest_types_lisb_picks_lisbon_and_sees_bookable_stays_nearest_first() {
    let app = spawn_app().await;
    let places = app.get("/api/v1/places?q=lisb", None).await;
    assert_eq!(places.body[0]["name"], "Lisbon", "{}", places.body);
    assert_eq!(places.body[0]["country"], "PT");
    let lisbon = places.body[0]["id"].as_u64().unwrap();

    let host = app.user("host").await;
    let near = app.property(&host, "flexible").await;
    app.room_type(&host, &near, 2).await;
    let mut far_body = property_body("flexible");
    far_body["name"] = json!("Quinta Longe");
    far_body["latitude"] = json!(38.78);
    far_body["longitude"] = json!(-9.25);
    let far = app.post("/api/v1/properties", Some(&host), far_body).await.body["id"].as_str().unwrap().to_string();
    app.room_type(&host, &far, 1).await;
    let mut porto = property_body("flexible");
    porto["address"]["city"] = json!("Porto");
    porto["latitude"] = json!(41.15);
    porto["longitude"] = json!(-8.61);
    let porto = app.post("/api/v1/properties", Some(&host), porto).await.body["id"].as_str().unwrap().to_string();
    app.room_type(&host, &porto, 1).await;

    let deadline = Instant::now() + Duration::from_secs(1);
    let found = loop {
        let h = hits(&app, &format!("place_id={lisbon}&{STAY}&sort=distance")).await;
        if h.len() == 2 || Instant::now() > deadline {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ids: Vec<&str> = found.iter().map(|h| h["property"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![near.as_str(), far.as_str()], "new properties show within 1 s, nearest first, Porto excluded");
    assert_eq!(found[0]["total"]["minor"], 31800, "the total price of the stay");
    assert!(found[0]["distance_km"].as_f64().unwrap() < found[1]["distance_km"].as_f64().unwrap());

    let by_name = hits(&app, &format!("destination=Lisbon&q=Quinta%20Longe&{STAY}")).await;
    assert_eq!(by_name[0]["property"]["id"], far.as_str(), "an exact name match ranks first");

    let page = app.get(&format!("/api/v1/search?place_id={lisbon}&{STAY}"), None).await;
    let bands = page.body["facets"]["price_bands"].as_array().unwrap();
    assert_eq!(bands.len(), 5, "every price band is listed: {bands:?}");
    let counted: u64 = bands.iter().map(|b| b[1].as_u64().unwrap()).sum();
    assert_eq!(counted, 2, "each Lisbon property falls in one band: {bands:?}");
    app.stop().await;
}

#[tokio::test]
async fn paging_through_many_candidates_finds_every_bookable_stay_once() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let mut bookable = std::collections::BTreeSet::new();
    for i in 0..47 {
        let p = app.property(&host, "flexible").await;
        let rt = app.room_type(&host, &p, 1).await;
        if i % 9 == 4 {
            assert_eq!(app.book(&guest, &rt, "2027-02-02", "2027-02-03", None).await.status, 201);
        } else {
            bookable.insert(p);
        }
    }
    let query = format!("lat=38.7115&lon=-9.13&radius_km=5&{STAY}&per_page=20");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let r = app.get(&format!("/api/v1/search?{query}&page=3"), None).await;
        if r.body["hits"].as_array().is_some_and(|h| h.len() == bookable.len() - 40) {
            break;
        }
        assert!(Instant::now() < deadline, "every property is indexed within 2 s: {}", r.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        for h in hits(&app, &format!("{query}&page={page}")).await {
            seen.push(h["property"]["id"].as_str().unwrap().to_string());
        }
    }
    let unique: std::collections::BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no stay shows on two pages");
    assert_eq!(unique, bookable, "every bookable stay shows, no sold-out one");
    app.stop().await;
}

#[tokio::test]
async fn sold_out_or_closed_stays_are_never_returned_as_bookable() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let p = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &p, 1).await;
    let query = format!("lat=38.7115&lon=-9.13&radius_km=5&{STAY}");
    let deadline = Instant::now() + Duration::from_secs(1);
    while hits(&app, &query).await.is_empty() {
        assert!(Instant::now() < deadline, "the property appears within 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.book(&guest, &rt, "2027-02-02", "2027-02-03", None).await.status, 201);
    assert!(hits(&app, &query).await.is_empty(), "one sold-out night makes the stay unbookable");
    let other = "lat=38.7115&lon=-9.13&radius_km=5&check_in=2027-03-01&check_out=2027-03-02".to_string();
    assert_eq!(hits(&app, &other).await.len(), 1);
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/room-types/{rt}/calendar"),
            Some(&host),
            Some(json!({"from": "2027-03-01", "to": "2027-03-02", "closed": true})),
        )
        .await;
    assert_eq!(put.status, 204);
    assert!(hits(&app, &other).await.is_empty(), "a closed night is never bookable");
    app.stop().await;
}

#[tokio::test]
async fn bad_search_parameters_get_a_400_that_says_why() {
    let app = spawn_app().await;
    for (query, field) in [
        (format!("lat=200&lon=0&{STAY}"), "lat"),
        (format!("lat=10&{STAY}"), "lat"),
        (format!("bbox=39,-9,38,-8&{STAY}"), "bbox"),
        (format!("bbox=1,2,3&{STAY}"), "bbox"),
        ("destination=Lisbon&check_in=2027-02-04&check_out=2027-02-01".to_string(), "check_out"),
        (format!("destination=Lisbon&{STAY}&per_page=500"), "page"),
        (format!("destination=Lisbon&{STAY}&sort=cheapest"), "sort"),
        (format!("destination=Lisbon&{STAY}&amenities=moat"), "amenities"),
        (format!("bbox=38,-10,39,-9&{STAY}&sort=distance"), "sort"),
        (STAY.to_string(), "destination"),
    ] {
        let r = app.get(&format!("/api/v1/search?{query}"), None).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.body["field"], field, "{query}: {}", r.body);
    }
    let r = app.get(&format!("/api/v1/search?destination=Lisbon&{STAY}&page=-1"), None).await;
    r.assert_problem(400, "invalid_query");
    app.get("/api/v1/places/reverse?lat=200&lon=0", None).await.assert_problem(400, "invalid_query");
    let lisbon = app.get("/api/v1/places?q=lisbon&limit=1", None).await.body[0].clone();
    let here =
        app.get(&format!("/api/v1/places/reverse?lat={}&lon={}", lisbon["latitude"], lisbon["longitude"]), None).await;
    assert_eq!(here.body["id"], lisbon["id"], "{}", here.body);
    let near = app.get("/api/v1/places/reverse?lat=38.73&lon=-9.14", None).await;
    assert_eq!(near.body["time_zone"], "Europe/Lisbon", "{}", near.body);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_in_guest_sees_recent_searches_and_can_search_again() {
    let app = spawn_app().await;
    let guest = app.user("guest").await;
    let query = format!("destination=Lisbon&{STAY}");
    assert_eq!(app.get(&format!("/api/v1/search?{query}"), Some(&guest)).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/search?destination=Porto&{STAY}"), None).await.status, 200);
    let recent = app.get("/api/v1/me/searches", Some(&guest)).await;
    let list = recent.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "anonymous searches are not recorded: {}", recent.body);
    assert_eq!(list[0]["query"], query.as_str());
    assert!(list[0]["summary"].as_str().unwrap().starts_with("Lisbon"), "{}", recent.body);
    let again = app.get(&format!("/api/v1/search?{}", list[0]["query"].as_str().unwrap()), Some(&guest)).await;
    assert_eq!(again.status, 200);
    app.get("/api/v1/me/searches", None).await.assert_problem(401, "unauthenticated");
    app.stop().await;
}
