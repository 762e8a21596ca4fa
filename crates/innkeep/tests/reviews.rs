//! Reviews (issue 19): a guest reviews a completed stay once, within 30 days of check-out;
//! the host answers once; anyone signed in reports abuse once; an operator hides a review,
//! which leaves the page and the rating; bad input is a 4xx that changes nothing. On SQLite
//! and PostgreSQL, with racing requests.

use crate::common;

use common::{TestApp, on_postgres, spawn_app};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn sign_in(app: &TestApp, email: &str) -> String {
    let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_string()
}

/// An operator (made by the operator's command, not the API), with two-factor sign-in on.
async fn admin(app: &TestApp) -> String {
    let ports = &app.server.as_ref().unwrap().ports;
    let cmd = innkeep_app::auth::Register {
        email: "olga@example.com".into(),
        password: PASSWORD.into(),
        name: "Olga Operator".into(),
        role: innkeep_core::Role::Admin,
        locale: Default::default(),
    };
    innkeep_app::auth::register(ports, cmd, app.clock.now_for_tests()).await.unwrap();
    let token = sign_in(app, "olga@example.com").await;
    common::enrol_two_factor(app, &token).await;
    token
}

fn review(s: u8, text: &str) -> Value {
    json!({"scores": {"cleanliness": s, "location": s, "value": s, "staff": s, "comfort": s}, "text": text})
}

/// A host, a guest and a completed stay of that guest (2027-02-01..03); (host, guest, property, booking).
async fn completed_stay(app: &TestApp) -> (String, String, String, String) {
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let guest = app.user("guest").await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = r.body["id"].as_str().unwrap().to_string();
    for (who, action) in [(&guest, "confirm"), (&host, "check-in"), (&host, "complete")] {
        let r = app.post(&format!("/api/v1/bookings/{booking}/{action}"), Some(who), json!({})).await;
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    }
    (host, guest, property, booking)
}

async fn the_rules(app: TestApp) {
    let (host, guest, property, booking) = completed_stay(&app).await;
    let path = format!("/api/v1/bookings/{booking}/review");

    // Bad input: a score out of range, an unknown aspect, a word for a number, too long a text.
    let bad_score = json!({"scores": {"cleanliness": 11, "location": 9, "value": 9, "staff": 9, "comfort": 9}});
    app.post(&path, Some(&guest), bad_score).await.assert_problem(400, "invalid_score");
    let unknown = json!({"scores": {"cleanliness": 9, "location": 9, "value": 9, "staff": 9, "comfort": 9, "wifi": 9}});
    assert_eq!(app.post(&path, Some(&guest), unknown).await.status, 400);
    let words = json!({"scores": {"cleanliness": "nine", "location": 9, "value": 9, "staff": 9, "comfort": 9}});
    assert_eq!(app.post(&path, Some(&guest), words).await.status, 400);
    app.post(&path, Some(&guest), review(9, &"x".repeat(5_001))).await.assert_problem(400, "review_too_long");
    // Someone else's booking is not found; the host cannot review their own guest's stay.
    let other = app.user("guest").await;
    app.post(&path, Some(&other), review(9, "")).await.assert_problem(404, "not_found");
    app.post(&path, Some(&host), review(9, "")).await.assert_problem(404, "not_found");
    let listed = app.get(&format!("/api/v1/properties/{property}/reviews"), None).await;
    assert_eq!(listed.body["reviews"], json!([]), "nothing was written");
    assert_eq!(listed.body["rating"], Value::Null);

    // The guest reviews it; a second review of the same stay is refused.
    let r = app
        .post(&path, Some(&guest), json!({"scores": {"cleanliness": 9, "location": 10, "value": 7, "staff": 8, "comfort": 9}, "text": "  Bright and quiet.  "}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["overall"], "8.6");
    assert_eq!(r.body["text"], "Bright and quiet.");
    assert!(r.body.get("user_id").is_none(), "the reviewer's account is not shown");
    let id = r.body["id"].as_str().unwrap().to_string();
    app.post(&path, Some(&guest), review(5, "again")).await.assert_problem(409, "conflict");

    let listed = app.get(&format!("/api/v1/properties/{property}/reviews"), None).await;
    assert_eq!(listed.body["rating"], json!({"average": "8.6", "count": 1}));
    assert_eq!(listed.body["reviews"][0]["id"], id.as_str());

    // The host answers once; a guest cannot answer.
    let reply = format!("/api/v1/reviews/{id}/reply");
    app.post(&reply, Some(&guest), json!({"text": "Me too"})).await.assert_problem(404, "not_found");
    app.post(&reply, Some(&host), json!({"text": "   "})).await.assert_problem(400, "invalid_reply");
    let r = app.post(&reply, Some(&host), json!({"text": "Thank you, come again."})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["reply"], "Thank you, come again.");
    app.post(&reply, Some(&host), json!({"text": "Again"})).await.assert_problem(409, "conflict");

    // Reports count once per person.
    let report = format!("/api/v1/reviews/{id}/reports");
    assert_eq!(app.post(&report, Some(&other), json!({"reason": "rude"})).await.status, 204);
    assert_eq!(app.post(&report, Some(&other), json!({"reason": "rude"})).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/reviews/{id}"), None).await.body["reports"], 1);
    app.post(&report, None, json!({})).await.assert_problem(401, "unauthenticated");

    // Only an operator hides; hidden, it leaves the page and the rating, and only staff see it.
    let hidden = format!("/api/v1/reviews/{id}/hidden");
    app.call(reqwest::Method::PUT, &hidden, Some(&host), None).await.assert_problem(403, "forbidden");
    let admin = admin(&app).await;
    let r = app.call(reqwest::Method::PUT, &hidden, Some(&admin), None).await;
    assert_eq!((r.status.as_u16(), r.body["hidden"].clone()), (200, json!(true)), "{}", r.body);
    let listed = app.get(&format!("/api/v1/properties/{property}/reviews"), None).await;
    assert_eq!((listed.body["rating"].clone(), listed.body["reviews"].clone()), (Value::Null, json!([])));
    app.get(&format!("/api/v1/reviews/{id}"), None).await.assert_problem(404, "not_found");
    assert_eq!(app.get(&format!("/api/v1/reviews/{id}"), Some(&host)).await.status, 200);
    let r = app.call(reqwest::Method::DELETE, &hidden, Some(&admin), None).await;
    assert_eq!(r.body["hidden"], false, "{}", r.body);
    assert_eq!(app.get(&format!("/api/v1/properties/{property}/reviews"), None).await.body["rating"]["count"], 1);

    // The events: one published, and the answer, the hiding and the showing as changes.
    let kinds: Vec<_> = app
        .settled_events()
        .await
        .iter()
        .map(|e| e.event.kind.as_str().to_string())
        .filter(|k| k.starts_with("review."))
        .collect();
    assert_eq!(kinds, ["review.published", "review.changed", "review.changed", "review.changed"]);
    app.stop().await;
}

#[tokio::test]
async fn reviews_follow_their_rules() {
    the_rules(spawn_app().await).await;
}

#[tokio::test]
async fn reviews_follow_their_rules_on_postgres() {
    on_postgres(the_rules).await;
}

#[tokio::test]
async fn only_a_completed_stay_within_thirty_days_of_check_out_is_reviewed() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 3).await;
    let body = json!({"email": "late@example.com", "password": PASSWORD, "name": "Late Guest", "role": "guest"});
    assert_eq!(app.post("/api/v1/users", None, body).await.status, 201);
    let guest = sign_in(&app, "late@example.com").await;
    let r = app.book(&guest, &room_type, "2027-02-01", "2027-02-03", None).await;
    let booking = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/bookings/{booking}/review");
    app.post(&path, Some(&guest), review(8, "")).await.assert_problem(409, "conflict");
    for (who, action) in [(&guest, "confirm"), (&host, "check-in"), (&host, "complete")] {
        assert_eq!(app.post(&format!("/api/v1/bookings/{booking}/{action}"), Some(who), json!({})).await.status, 200);
    }
    // Thirty-one days after check-out, the window has closed.
    let now = app.clock.now_for_tests();
    let after: jiff::Timestamp = "2027-03-06T12:00:00Z".parse().unwrap();
    app.clock.advance(after.duration_since(now));
    let guest = sign_in(&app, "late@example.com").await;
    app.post(&path, Some(&guest), review(8, "")).await.assert_problem(409, "conflict");
    // The day before, it was open (a fresh stay, reviewed within its window, shows it).
    assert!(app.get(&format!("/api/v1/properties/{property}/reviews"), None).await.body["rating"].is_null());
    app.stop().await;
}

async fn racing(app: TestApp) {
    let (_, guest, property, booking) = completed_stay(&app).await;
    let path = format!("/api/v1/bookings/{booking}/review");
    let tries = (0..8).map(|i| {
        let (app, path, guest) = (&app, path.clone(), guest.clone());
        async move { app.post(&path, Some(&guest), review(1 + i as u8, "race")).await.status.as_u16() }
    });
    let mut statuses = futures::future::join_all(tries).await;
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409], "one review, the rest refused");
    let listed = app.get(&format!("/api/v1/properties/{property}/reviews"), None).await;
    assert_eq!(listed.body["rating"]["count"], 1);
    app.stop().await;
}

#[tokio::test]
async fn eight_racing_reviews_of_one_stay_publish_one() {
    racing(spawn_app().await).await;
}

#[tokio::test]
async fn eight_racing_reviews_of_one_stay_publish_one_on_postgres() {
    on_postgres(racing).await;
}

#[tokio::test]
async fn search_counts_filters_and_sorts_stays_by_their_rating() {
    let app = spawn_app().await;
    let (host, guest, rated, booking) = completed_stay(&app).await;
    let r = app.post(&format!("/api/v1/bookings/{booking}/review"), Some(&guest), review(9, "Lovely")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let unrated = app.property(&host, "flexible").await;
    app.room_type(&host, &unrated, 3).await;

    let search = |extra: &str| {
        let path = format!("/api/v1/search?destination=Lisbon&check_in=2027-03-01&check_out=2027-03-03{extra}");
        let app = &app;
        async move { app.get(&path, None).await }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["hits"].as_array().unwrap().iter().map(|h| h["property"]["id"].as_str().unwrap().to_string()).collect()
    };
    // The index follows the outbox: the new property is searchable in a moment.
    let mut all = search("").await;
    for _ in 0..100 {
        if ids(&all.body).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        all = search("").await;
    }
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(ids(&all.body).len(), 2, "{}", all.body);
    assert_eq!(all.body["facets"]["ratings"], json!([["9+", 1], ["8+", 1], ["7+", 1], ["6+", 1]]));
    let hit =
        |page: &Value, id: &str| page["hits"].as_array().unwrap().iter().find(|h| h["property"]["id"] == id).cloned();
    assert_eq!(hit(&all.body, &rated).unwrap()["rating"], json!({"average": "9.0", "count": 1}));
    assert_eq!(hit(&all.body, &unrated).unwrap()["rating"], Value::Null);

    // At least 9 of 10 keeps the rated stay only; the facet still counts what the filter left out.
    let nine = search("&min_rating=9").await;
    assert_eq!(ids(&nine.body), std::slice::from_ref(&rated), "{}", nine.body);
    assert_eq!(nine.body["facets"]["ratings"], all.body["facets"]["ratings"]);
    assert_eq!(ids(&search("&min_rating=10").await.body), Vec::<String>::new());
    // Best rated first, unrated last.
    assert_eq!(ids(&search("&sort=rating").await.body), [rated.clone(), unrated.clone()]);

    for bad in ["&min_rating=0", "&min_rating=11", "&min_rating=nine", "&min_rating=-1", "&sort=stars"] {
        let r = search(bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.body["status"], 400, "{bad}: a problem");
    }
    app.stop().await;
}
