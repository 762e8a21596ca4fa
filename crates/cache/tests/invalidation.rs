//! Outbox events invalidate a node's cache through the invalidation consumer, and the
//! booking decision never reads the cache. Run on both backends: in process always, Redis
//! when INNKEEP_TEST_REDIS_URL is set (required when INNKEEP_TEST_REQUIRE_SERVERS=1).
//!
//! Two nodes share one database: `writer` has no cache (so no invalidation after its
//! commits reaches `reader`), `reader` has the cache under test, which only the
//! consumer can make fresh again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::auth::{Register, register};
use innkeep_app::booking::{PlaceBooking, place_booking};
use innkeep_app::cache::{Cache, NoCache};
use innkeep_app::clock::ManualClock;
use innkeep_app::search::{Candidate, CandidateQuery, FacetCounts, PlaceView, Places, PropertyIndex};
use innkeep_app::store::{GuestContact, Property, RoomType};
use innkeep_app::{Actor, AppError, Ports, Settings, Store};
use innkeep_cache::CacheInvalidator;
use innkeep_core::{NightOverride, Party, PropertyDraft, Role, RoomTypeDraft};
use innkeep_events::{ConsumerOptions, run_once};
use jiff::civil::date;
use serde_json::json;
use std::sync::Arc;

struct NoIndex;
impl PropertyIndex for NoIndex {
    fn candidates(&self, _: &CandidateQuery) -> Result<Vec<Candidate>, innkeep_app::search::IndexError> {
        Ok(Vec::new())
    }
    fn facets(&self, _: &CandidateQuery) -> Result<FacetCounts, innkeep_app::search::IndexError> {
        Ok(FacetCounts::default())
    }
    fn upsert(&self, _: &Property, _: &[RoomType]) -> Result<(), innkeep_app::search::IndexError> {
        Ok(())
    }
    fn commit(&self) -> Result<(), innkeep_app::search::IndexError> {
        Ok(())
    }
}

struct NoPlaces;
impl Places for NoPlaces {
    fn autocomplete(&self, _: &str, _: usize) -> Vec<PlaceView> {
        Vec::new()
    }
    fn reverse(&self, _: f64, _: f64) -> Option<PlaceView> {
        None
    }
    fn place(&self, _: u32) -> Option<PlaceView> {
        None
    }
}

fn ports(store: Arc<dyn Store>, cache: Arc<dyn Cache>) -> Ports {
    Ports {
        store,
        clock: Arc::new(ManualClock::new("2027-01-04T10:00:00Z".parse().unwrap())),
        index: Arc::new(NoIndex),
        places: Arc::new(NoPlaces),
        cache,
        limiter: Arc::new(innkeep_app::limit::MemoryLimiter::default()),
        settings: Settings::default(),
        changes: Default::default(),
    }
}

async fn redis() -> Option<Arc<dyn Cache>> {
    let url = innkeep_store::testing::server_url("INNKEEP_TEST_REDIS_URL")?;
    let prefix = format!("innkeep-test:{}:", uuid::Uuid::new_v4());
    Some(Arc::new(innkeep_cache::RedisCache::connect(&url, &prefix).await.expect("Redis answers")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_events_invalidate_and_holds_ignore_the_cache() {
    events_invalidate_and_holds_ignore_the_cache(Arc::new(innkeep_cache::MemoryCache::new(1000))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_events_invalidate_and_holds_ignore_the_cache() {
    let Some(cache) = redis().await else { return };
    events_invalidate_and_holds_ignore_the_cache(cache).await;
}

fn property_draft(name: &str) -> PropertyDraft {
    serde_json::from_value(json!({
        "name": name, "description": "", "property_type": "guesthouse",
        "address": {"lines": ["Rua dos Remédios 10"], "city": "Lisbon", "country": "PT"},
        "latitude": 38.7115, "longitude": -9.13, "time_zone": "Europe/Lisbon", "currency": "EUR",
        "check_in_time": "15:00", "check_out_time": "11:00", "amenities": [], "cancellation_policy": "moderate"
    }))
    .unwrap()
}

fn room_type_draft(units: u32) -> RoomTypeDraft {
    serde_json::from_value(json!({
        "name": "Double Room", "description": "", "beds": "1 double bed",
        "occupancy": {"max_adults": 2, "max_children": 0, "max_total": 2},
        "units": units, "base_rate_minor": 10000, "min_stay": 1, "max_stay": 14, "rate_plan": {}
    }))
    .unwrap()
}

async fn events_invalidate_and_holds_ignore_the_cache(cache: Arc<dyn Cache>) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir.path()))).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let writer = ports(store.clone(), Arc::new(NoCache));
    let reader = ports(store.clone(), cache.clone());
    let invalidator = CacheInvalidator::new("cache-invalidation@test", cache.clone());
    invalidator.skip_backlog(store.as_ref(), true).await.unwrap();
    let follow =
        || async { while run_once(store.as_ref(), &invalidator, &ConsumerOptions::default()).await.unwrap() > 0 {} };
    let now = writer.clock.now();

    let reg = |email: &str, role| Register {
        email: email.into(),
        password: "correct horse battery".into(),
        name: "Test".into(),
        role,
        locale: Default::default(),
    };
    let host = register(&writer, reg("host@example.com", Role::Host), now).await.unwrap();
    let host = Actor::new(host.id, host.role, host.tenant_id);
    let guest = register(&writer, reg("guest@example.com", Role::Guest), now).await.unwrap();
    let guest = Actor::new(guest.id, guest.role, None);
    let p = innkeep_app::catalog::create_property(&writer, &host, property_draft("Casa Azul"), now).await.unwrap();
    let rt = innkeep_app::catalog::create_room_type(&writer, &host, p.id, room_type_draft(1), now).await.unwrap();

    // The reader fills its cache.
    let party = Party::new(2, 0);
    let (ci, co) = (date(2027, 2, 1), date(2027, 2, 4));
    let offers = || innkeep_app::availability::availability(&reader, p.id, ci, co, party, now);
    assert_eq!(innkeep_app::cache::property(&reader, p.id).await.unwrap().draft.name, "Casa Azul");
    assert_eq!(offers().await.unwrap()[0].quote.subtotal.minor, 30000);

    // A property change: the reader serves the cached page until the consumer runs.
    let p2 = innkeep_app::catalog::update_property(&writer, &host, p.clone(), property_draft("Casa Verde"), now)
        .await
        .unwrap();
    assert_eq!(innkeep_app::cache::property(&reader, p.id).await.unwrap().draft.name, "Casa Azul", "cached");
    follow().await;
    assert_eq!(innkeep_app::cache::property(&reader, p.id).await.unwrap().draft.name, "Casa Verde");
    assert_eq!(p2.draft.name, "Casa Verde");

    // A rate change on the calendar: the cached price calendar goes stale, then fresh.
    let price = NightOverride { price_minor: Some(15000), ..NightOverride::default() };
    innkeep_app::catalog::set_calendar(&writer, &host, rt.id, ci, co, price, now).await.unwrap();
    assert_eq!(offers().await.unwrap()[0].quote.subtotal.minor, 30000, "cached");
    follow().await;
    assert_eq!(offers().await.unwrap()[0].quote.subtotal.minor, 45000);

    // A room type change.
    let mut bigger = room_type_draft(1);
    bigger.name = "Big Double".into();
    innkeep_app::catalog::update_room_type(&writer, &host, rt.clone(), bigger, now).await.unwrap();
    follow().await;
    assert_eq!(offers().await.unwrap()[0].room_type.draft.name, "Big Double");

    // The last unit, with a warm cache: the first hold wins; the reader's cache still
    // offers the unit, and its hold is refused by the store all the same.
    let place = |key: &str| PlaceBooking {
        room_type_id: rt.id,
        check_in: ci,
        check_out: co,
        party,
        guest: GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
        idempotency_key: Some(key.into()),
    };
    assert_eq!(offers().await.unwrap()[0].units_left, 1);
    place_booking(&writer, &guest, place("first"), now).await.unwrap();
    assert_eq!(offers().await.unwrap()[0].units_left, 1, "the reader's cache is warm and stale");
    match place_booking(&reader, &guest, place("second"), now).await {
        Err(AppError::SoldOut { night }) => assert_eq!(night, ci),
        other => panic!("the second hold of the last unit must be sold out, got {other:?}"),
    }
    follow().await;
    assert!(offers().await.unwrap().is_empty(), "after the consumer ran the room type is sold out");
}

/// A cache whose every call fails, as a dead Redis does.
struct Broken;

#[async_trait::async_trait]
impl Cache for Broken {
    async fn get(&self, _: &str) -> Result<innkeep_app::cache::Lookup, innkeep_app::cache::CacheError> {
        Err(innkeep_app::cache::CacheError::Backend("connection refused".into()))
    }
    async fn put(
        &self,
        _: &str,
        _: &[u8],
        _: innkeep_app::cache::Generation,
        _: std::time::Duration,
    ) -> Result<bool, innkeep_app::cache::CacheError> {
        Err(innkeep_app::cache::CacheError::Unavailable)
    }
    async fn invalidate(&self, _: &[String]) -> Result<(), innkeep_app::cache::CacheError> {
        Err(innkeep_app::cache::CacheError::Backend("connection refused".into()))
    }
}

#[tokio::test]
async fn a_failing_cache_never_fails_a_read_or_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir.path()))).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    let ports = ports(Arc::new(store), Arc::new(Broken));
    let now = ports.clock.now();
    let cmd = Register {
        email: "host@example.com".into(),
        password: "correct horse battery".into(),
        name: "Test".into(),
        role: Role::Host,
        locale: Default::default(),
    };
    let host = register(&ports, cmd, now).await.unwrap();
    let host = Actor::new(host.id, host.role, host.tenant_id);
    let p = innkeep_app::catalog::create_property(&ports, &host, property_draft("Casa Azul"), now).await.unwrap();
    innkeep_app::catalog::create_room_type(&ports, &host, p.id, room_type_draft(2), now).await.unwrap();
    assert_eq!(innkeep_app::cache::property(&ports, p.id).await.unwrap().draft.name, "Casa Azul");
    let party = Party::new(2, 0);
    let offers =
        innkeep_app::availability::availability(&ports, p.id, date(2027, 2, 1), date(2027, 2, 3), party, now).await;
    assert_eq!(offers.unwrap()[0].units_left, 2);
}
