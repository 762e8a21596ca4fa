//! The operators' cost page: the mid-size example priced on both clouds with the chart,
//! a pasted profile priced, a bad one answered with the field and the line, for admins only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use innkeep_core::Role;
use support::*;

#[tokio::test]
async fn operators_see_both_monthly_costs_the_break_even_and_the_chart() {
    let t = test_web().await;
    user(&t, "admin@example.com", Role::Admin).await;
    user(&t, "guest@example.com", Role::Guest).await;
    let mut admin = Browser::default();
    admin.sign_in(&t, "admin@example.com").await;

    let r = admin.get(&t, "/ops/cost").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("mid-size: per month"), "{}", r.body);
    for id in ["cost-public", "cost-private", "cost-break-even", "cost-chart"] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}: {}", r.body);
    }
    assert!(r.body.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "the chart is inline SVG");
    assert!(r.body.contains("Break-even at") || r.body.contains("No break-even"));
    assert!(r.body.contains("transcribed list prices"), "the prices say what they are");

    // A pasted profile: priced; its name escaped in the page and in the chart.
    let csrf = r.input("csrf");
    let pasted = innkeep_cost::examples::SMALL.replace("name = \"small\"", "name = \"<script>x</script>\"");
    let r = admin.post(&t, "/ops/cost", &[("csrf", &csrf), ("profile", &pasted)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("<script>x"), "escaped: {}", r.body);
    assert!(r.body.contains("id=\"cost-public\""));

    // A bad one: 422 with the field and the line, the text kept in the form.
    let bad = innkeep_cost::examples::SMALL.replace("photo_mb = 0.4", "photo_mb = \"big\"");
    let line = bad.lines().position(|l| l.contains("\"big\"")).unwrap() + 1;
    let r = admin.post(&t, "/ops/cost", &[("csrf", &csrf), ("profile", &bad)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(&format!("line {line}: `load.photo_mb`")), "{}", r.body);
    assert!(r.body.contains("photo_mb = &#34;big&#34;") || r.body.contains("photo_mb = &quot;big&quot;"), "{}", r.body);

    // Not for guests.
    let mut guest = Browser::default();
    guest.sign_in(&t, "guest@example.com").await;
    assert_eq!(guest.get(&t, "/ops/cost").await.status, StatusCode::FORBIDDEN);
}
