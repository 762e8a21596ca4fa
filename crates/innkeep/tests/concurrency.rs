//! No oversell under real concurrency: many clients race for the last units.

use crate::common;

use common::*;
use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_parallel_bookings_for_the_last_unit_give_exactly_one_hold() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 1).await;
    let mut guests = Vec::new();
    for _ in 0..8 {
        guests.push(app.user("guest").await);
    }
    let attempts =
        (0..64).map(|i| {
            let app = &app;
            let token = guests[i % guests.len()].clone();
            let rt = rt.clone();
            async move {
                app.book(&token, &rt, "2027-03-10", "2027-03-13", Some(&format!("race-{i}"))).await.status.as_u16()
            }
        });
    let statuses = join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (1, 63), "{statuses:?}");

    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-03-10&to=2027-03-13"), Some(&host)).await;
    for night in cal.body["nights"].as_array().expect("nights") {
        assert_eq!(night["sold"], night["units"], "{night}");
        assert_eq!(night["available"], 0);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_stays_racing_for_five_units_never_oversell_any_night() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 5).await;
    // Stays of 1 to 4 nights starting on different days of one week, all overlapping.
    let stays: Vec<(String, String)> = (0..64)
        .map(|i| {
            let start = 1 + (i % 4);
            let len = 1 + (i % 3);
            (format!("2027-04-{:02}", start), format!("2027-04-{:02}", start + len))
        })
        .collect();
    let attempts = stays.iter().map(|(ci, co)| {
        let (app, guest, rt) = (&app, &guest, &rt);
        async move { (ci.clone(), co.clone(), app.book(guest, rt, ci, co, None).await.status.as_u16()) }
    });
    let results = join_all(attempts).await;
    assert!(results.iter().all(|(_, _, s)| *s == 201 || *s == 409), "{results:?}");
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from=2027-04-01&to=2027-04-08"), Some(&host)).await;
    for night in cal.body["nights"].as_array().expect("nights") {
        let date = night["date"].as_str().expect("date").to_string();
        let expected = results
            .iter()
            .filter(|(ci, co, s)| *s == 201 && ci.as_str() <= date.as_str() && date.as_str() < co.as_str())
            .count();
        assert_eq!(night["sold"].as_u64(), Some(expected as u64), "sold matches the holds granted on {date}");
        assert!(night["sold"].as_u64().unwrap_or(99) <= 5, "{night}");
    }
    app.stop().await;
}
