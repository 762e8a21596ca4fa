//! Suggestions (issue 18): on the demo with guests who have tastes, the blend of co-stays,
//! likeness and popularity finds the stays guests booked later better than popularity
//! alone; it never suggests a stay the guest booked already or one that cannot be booked,
//! and a property is never "similar" to itself. On SQLite.

use crate::common;

use common::{TestApp, spawn_app};
use innkeep_app::recommend::{self, Model, Taste};
use innkeep_app::{Ports, event::Change};
use innkeep_core::PropertyId;
use std::collections::HashSet;

/// The demo (1,000 properties) and 300 guests with tastes; the generator's parameters.
async fn demo_with_history(app: &TestApp) -> (Ports, innkeep_demo::HistorySummary) {
    let ports = app.server.as_ref().unwrap().ports.clone();
    let started = std::time::Instant::now();
    let loaded = innkeep_demo::load(&ports, 1_000, 42).await.unwrap();
    assert_eq!(loaded.properties, 1_000);
    let history = innkeep_demo::history(&ports, &innkeep_demo::HistoryParams::default()).await.unwrap();
    eprintln!("demo and history loaded in {:.1} s: {history}", started.elapsed().as_secs_f64());
    assert_eq!(history.guests, 300);
    assert!(history.bookings > 1_000, "{history}");
    (ports, history)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blend_beats_popularity_and_suggests_only_new_bookable_stays() {
    let app = spawn_app().await;
    let (ports, history) = demo_with_history(&app).await;
    let now = app.clock.now_for_tests();

    // Trained on the bookings made until 120 days ago, tested on the later ones.
    let cutoff = now.checked_sub(jiff::SignedDuration::from_hours(24 * 120)).unwrap();
    let e = recommend::evaluate_store(&ports, cutoff, 10, 7).await.unwrap();
    eprintln!("generator: {}\n{e}", history.params);
    assert!(e.test_guests >= 100, "{e}");
    // The margin the issue asks to state: at least three times popularity's hit rate, and
    // better NDCG; popularity itself beats chance.
    assert!(e.blend.hit_rate >= 3.0 * e.popularity.hit_rate, "{e}");
    assert!(e.blend.ndcg > e.popularity.ndcg, "{e}");
    assert!(e.popularity.hit_rate > e.random.hit_rate, "{e}");

    // A twin of the most booked property, with no room type: alike in every way, and not
    // bookable.
    let before = recommend::build(&ports, now).await.unwrap();
    let twin_of = before.popular(&[], 1)[0].property_id;
    let mut closed = ports.store.property(twin_of).await.unwrap().unwrap();
    closed.id = PropertyId::new_v7(now);
    let event =
        innkeep_app::Event::new(&Change::PropertyCreated(closed.clone()), now, Some(closed.tenant_id), closed.id.0);
    ports.store.insert_property(&closed, &event).await.unwrap();
    let closed = closed.id;
    let recommender = recommend::Recommender::new(Model::default());
    recommender.rebuild(&ports, now).await.unwrap();
    let model = recommender.model();
    assert!(!model.is_bookable(closed));

    let inputs = recommend::read_inputs(&ports).await.unwrap();
    let guests: HashSet<_> = inputs.bookings.iter().map(|b| b.user_id).collect();
    let mut answered = 0;
    let started = std::time::Instant::now();
    for user in &guests {
        let got = recommend::recommendations(&ports, &model, Some(*user), &[], &[], 10).await.unwrap();
        let booked: HashSet<PropertyId> =
            inputs.bookings.iter().filter(|b| b.user_id == *user).map(|b| b.property_id).collect();
        assert_eq!(got.len(), 10);
        for s in &got {
            assert!(!booked.contains(&s.property.id), "{user:?} already booked {}", s.property.id);
            assert_ne!(s.property.id, closed, "a property without room types is suggested");
            assert!(model.is_bookable(s.property.id));
        }
        answered += 1;
    }
    eprintln!(
        "{answered} guests answered in {:.1} ms each (debug build, with the store reads)",
        started.elapsed().as_secs_f64() * 1e3 / answered as f64
    );

    // The pure model answers alike, and a signed-out visitor gets the popular stays.
    for user in guests.iter().take(20) {
        let taste = model.taste_of(*user);
        for s in model.recommend(&taste, 10) {
            assert!(!taste.booked.contains(&s.property_id));
        }
    }
    let anyone = recommend::recommendations(&ports, &model, None, &[], &["Lisbon".into()], 5).await.unwrap();
    assert_eq!(anyone.len(), 5);
    assert!(anyone.iter().all(|s| s.property.id != closed));
    assert_eq!(anyone[0].property.draft.address.city, "Lisbon");

    // Similar stays: never the property itself, never the closed one, only bookable ones.
    for f in inputs.facts.iter().take(300) {
        let similar = recommend::similar(&ports, &model, f.id, 10).await.unwrap();
        assert!(!similar.is_empty(), "{} has no similar stays", f.id);
        for s in &similar {
            assert_ne!(s.property.id, f.id, "{} is similar to itself", f.id);
            assert_ne!(s.property.id, closed);
            assert!(model.is_bookable(s.property.id));
        }
    }
    // A viewed stay steers a guest without bookings towards its neighbours.
    let viewed = inputs.facts[0].id;
    let taste = Taste { viewed: vec![viewed], ..Taste::default() };
    let got = model.recommend(&taste, 10);
    let near: Vec<PropertyId> = model.similar(viewed, 10).iter().map(|s| s.property_id).collect();
    assert!(near.contains(&got[0].property_id), "{got:?} / {near:?}");
    app.stop().await;
}
