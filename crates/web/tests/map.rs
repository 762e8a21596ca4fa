//! The results page searches the box a guest's map shows (`bbox`, in the API's order).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use innkeep_core::Role;
use support::*;

const STAY: &str = "city=Lisbon&check_in=2027-02-01&check_out=2027-02-04&adults=2";

#[tokio::test]
async fn the_results_page_searches_the_map_area_it_is_given() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    listing(&t, &host, "Casa Azul").await;
    let mut b = Browser::default();
    // Casa Azul is at 38.7115, -9.13: inside the first box, outside the second.
    let inside = b.get(&t, &format!("/stays?{STAY}&bbox=38.70,-9.15,38.72,-9.11")).await;
    assert_eq!(inside.status, StatusCode::OK, "{}", inside.body);
    assert!(inside.body.contains("Casa Azul"), "{}", inside.body);
    let outside = b.get(&t, &format!("/stays?{STAY}&bbox=38.60,-9.30,38.65,-9.20")).await;
    assert_eq!(outside.status, StatusCode::OK, "{}", outside.body);
    assert!(!outside.body.contains("Casa Azul") && outside.body.contains("No stays match"), "{}", outside.body);
}

#[tokio::test]
async fn a_map_area_that_cannot_be_searched_is_a_sentence_and_the_form_stays() {
    let t = test_web().await;
    let mut b = Browser::default();
    // Not four numbers, and south above north (the search's own rule).
    for bbox in ["38.7,-9.1,38.8", "a,b,c,d", "38.8,-9.2,38.7,-9.1", "NaN,-9.2,38.7,-9.1"] {
        let r = b.get(&t, &format!("/stays?{STAY}&bbox={bbox}")).await;
        assert!(r.status.is_success(), "{bbox}: {}", r.status);
        assert!(r.body.contains("That map area cannot be searched"), "{bbox}: {}", r.body);
        assert!(r.body.contains("name=\"city\"") && r.body.contains("value=\"Lisbon\""), "{bbox}: the form stays");
    }
}
