//! The store port's contract, run unchanged against every backend: SQLite always,
//! PostgreSQL when INNKEEP_TEST_POSTGRES_URL names a server (each run in a fresh
//! database, dropped afterwards). With INNKEEP_TEST_REQUIRE_SERVERS=1 a missing server
//! fails instead of skipping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::event::{Event, EventKind};
use innkeep_app::store::*;
use innkeep_app::{Store, StoreError};
use innkeep_core::*;
use innkeep_store::{SqlStore, StoreOptions};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use std::sync::Arc;

/// A store under test and what to clean up afterwards.
struct Backend {
    store: SqlStore,
    _dir: Option<tempfile::TempDir>,
    drop_db: Option<(String, String)>,
}

impl Backend {
    async fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let store = innkeep_store::open(&StoreOptions::new(innkeep_store::sqlite_url(dir.path()))).await.unwrap();
        innkeep_store::migrate(&store).await.unwrap();
        innkeep_store::migrate(&store).await.expect("migrating twice changes nothing");
        Backend { store, _dir: Some(dir), drop_db: None }
    }

    async fn postgres() -> Option<Backend> {
        let admin_url = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL")?;
        let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin_url).await.expect("fresh database");
        let store = innkeep_store::open(&StoreOptions::new(url)).await.unwrap();
        innkeep_store::migrate(&store).await.unwrap();
        innkeep_store::migrate(&store).await.expect("migrating twice changes nothing");
        Some(Backend { store, _dir: None, drop_db: Some((admin_url, name)) })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.drop_db {
            innkeep_store::testing::drop_postgres_database(&admin, &name).await.unwrap();
        }
    }
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let b = super::Backend::sqlite().await;
                super::$name(&b.store).await;
                b.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(b) = super::Backend::postgres().await else { return };
                super::$name(&b.store).await;
                b.finish().await;
            })*
        }
    };
}

contract!(
    users_are_unique_by_email_and_sessions_expire,
    properties_are_listed_per_tenant,
    holds_sell_each_night_once_and_refuse_when_full,
    idempotency_keys_replay_or_refuse,
    holds_are_priced_from_the_nights_they_take,
    transitions_apply_once_and_release_nights,
    calendar_overrides_merge_and_units_cannot_drop_below_sold,
    bookings_are_filtered_and_expired_holds_found,
    parallel_holds_for_the_last_unit_sell_it_once,
    migrations_are_ready,
    batched_reads_match_single_reads,
    photos_are_recorded_with_an_event_and_listed_in_order,
    a_lease_has_one_holder_until_it_runs_out,
    every_booking_is_read_in_id_order,
    the_room_type_for_a_hold_comes_with_its_property,
    a_guests_booked_stays_are_read_newest_first,
    an_erased_guests_bookings_keep_their_events_without_the_guest,
    a_booking_of_several_rooms_takes_and_gives_back_that_many_units,
    parallel_holds_of_several_rooms_never_sell_more_units_than_there_are,
);

/// PostgreSQL prices a hold from the nights read just before its one statement sells them:
/// a price set on a night in between makes the statement refuse, and the hold is priced
/// again from the new price, never stored at the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_price_changed_after_pricing_is_priced_again() {
    let Some(backend) = Backend::postgres().await else { return };
    let store = &backend.store;
    let (h, _, rt) = catalog(store, 2).await;
    let (d1, d2, d3) = (date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3));
    let hold = NewHold {
        room_type_id: rt.id,
        user_id: h.id,
        stay: Stay::range(d1, d3).unwrap(),
        rooms: 1,
        idempotency_key: Some("k".into()),
        request_hash: "h".into(),
        nights: None,
    };
    let totals = std::sync::Mutex::new(Vec::new());
    let price = |rows: &[NightRow]| {
        let mut totals = totals.lock().unwrap();
        if totals.is_empty() {
            // A host changes the second night's price after this pricing read the nights.
            let change = NightOverride { price_minor: Some(12_345), ..Default::default() };
            let second = Stay::range(d2, d3).unwrap();
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(store.set_nights(
                    rt.id,
                    &second,
                    &change,
                    &ev(EventKind::CalendarUpdated),
                ))
            })
            .unwrap();
        }
        let priced = priced_by_nights(&rt, h.id, d1, d3, rows);
        totals.push(priced.0.total.minor);
        Ok(priced)
    };
    let out = store.hold(&hold, &price).await.unwrap();
    let HoldOutcome::Created(b, _) = out else { panic!("{out:?}") };
    assert_eq!(totals.lock().unwrap().clone(), vec![20_000, 22_345], "priced again after the change");
    assert_eq!(store.booking(b.id).await.unwrap().unwrap().total.minor, 22_345, "stored at the new price");
    assert_eq!(sold(store, &rt, d1, d3).await, vec![1, 1], "sold once");
    backend.finish().await;
}

/// PostgreSQL: a hold priced first from the nights read with the room type, a price set on
/// a night after that read included: the statement refuses to sell at the old price, and the
/// hold is priced again from the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_nights_read_with_the_room_type_are_priced_again_when_changed() {
    let Some(backend) = Backend::postgres().await else { return };
    let store = &backend.store;
    let (h, _, rt) = catalog(store, 2).await;
    let (d1, d2, d3) = (date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3));
    let (_, _, nights) = store.room_type_for_hold(rt.id, d1, d3).await.unwrap().unwrap();
    let nights = nights.expect("PostgreSQL reads the nights with the room type");
    assert!(nights.is_empty(), "no night of the stay is stored yet: {nights:?}");
    let change = NightOverride { price_minor: Some(12_345), ..Default::default() };
    store.set_nights(rt.id, &Stay::range(d2, d3).unwrap(), &change, &ev(EventKind::CalendarUpdated)).await.unwrap();
    let hold = NewHold {
        room_type_id: rt.id,
        user_id: h.id,
        rooms: 1,
        stay: Stay::range(d1, d3).unwrap(),
        idempotency_key: None,
        request_hash: "h".into(),
        nights: Some(nights),
    };
    let totals = std::sync::Mutex::new(Vec::new());
    let price = |rows: &[NightRow]| {
        let priced = priced_by_nights(&rt, h.id, d1, d3, rows);
        totals.lock().unwrap().push(priced.0.total.minor);
        Ok(priced)
    };
    let out = store.hold(&hold, &price).await.unwrap();
    let HoldOutcome::Created(b, _) = out else { panic!("{out:?}") };
    assert_eq!(totals.lock().unwrap().clone(), vec![20_000, 22_345], "the stale read priced, then the new one");
    assert_eq!(store.booking(b.id).await.unwrap().unwrap().total.minor, 22_345, "stored at the new price");
    let (_, _, nights) = store.room_type_for_hold(rt.id, d1, d3).await.unwrap().unwrap();
    let sold: Vec<(Date, u32, Option<i64>)> =
        nights.unwrap().iter().map(|n| (n.date, n.sold, n.overrides.price_minor)).collect();
    assert_eq!(sold, vec![(d1, 1, None), (d2, 1, Some(12_345))], "both nights read back, in order");
    backend.finish().await;
}

async fn the_room_type_for_a_hold_comes_with_its_property(store: &SqlStore) {
    let (_, p, rt) = catalog(store, 2).await;
    let (d1, d2) = (date(2027, 10, 1), date(2027, 10, 2));
    let (got_rt, got_p, nights) = store.room_type_for_hold(rt.id, d1, d2).await.unwrap().unwrap();
    assert_eq!((got_rt.id, got_p.id), (rt.id, p.id));
    assert_eq!(nights.is_some(), store.backend() == innkeep_store::Backend::Postgres, "{nights:?}");
    let (_, _, none) = store.room_type_for_hold(rt.id, d2, d1).await.unwrap().unwrap();
    assert!(none.is_none(), "a range that is no stay reads no nights");
    assert!(store.room_type_for_hold(RoomTypeId::new_v7(now()), d1, d2).await.unwrap().is_none(), "unknown");
}

async fn a_guests_booked_stays_are_read_newest_first(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 5).await;
    let other = host(store).await;
    let mut made = Vec::new();
    for (i, day) in [1, 3, 5].into_iter().enumerate() {
        let mut b = booking(&rt, h.id, date(2027, 10, day), date(2027, 10, day + 1));
        b.created_at = now() + jiff::SignedDuration::from_secs(i as i64 * 60);
        if i == 1 {
            b.status = BookingStatus::Confirmed;
        }
        place(store, b.clone(), None, "a").await.unwrap();
        made.push(b);
    }
    place(store, booking(&rt, other.id, date(2027, 10, 7), date(2027, 10, 8)), None, "a").await.unwrap();
    let stays = store.booked_stays(h.id, 2).await.unwrap();
    let want: Vec<BookedStay> = made.iter().rev().take(2).map(BookedStay::from).collect();
    assert_eq!(stays, want, "the newest two, newest first, with their status");
    assert_eq!(stays[1].status, BookingStatus::Confirmed);
    assert_eq!(store.booked_stays(h.id, 10).await.unwrap().len(), 3, "only the guest's own");
}

/// SQLite: a processed mark commits without an fsync of its own (`synchronous = NORMAL`,
/// durable against a crash of the process), and leaves the one writer connection durable
/// (`FULL`) for every other write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_processed_mark_leaves_the_writer_durable() {
    let backend = Backend::sqlite().await;
    let store = &backend.store;
    let event = innkeep_core::EventId(uuid::Uuid::now_v7());
    assert!(store.mark_processed("counter", event).await.unwrap(), "marked");
    assert!(!store.mark_processed("counter", event).await.unwrap(), "marked once");
    assert!(store.was_processed("counter", event).await.unwrap());
    let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&store.writer()).await.unwrap();
    assert_eq!(level, 2, "the writer is back to synchronous = FULL");
    backend.finish().await;
}

async fn a_lease_has_one_holder_until_it_runs_out(store: &SqlStore) {
    let t = now();
    let later = |s: i64| t + jiff::SignedDuration::from_secs(s);
    assert!(store.take_lease("lake", "a", t, later(90)).await.unwrap(), "a free lease is taken");
    assert!(!store.take_lease("lake", "b", later(10), later(100)).await.unwrap(), "held by a");
    assert!(store.take_lease("lake", "a", later(60), later(150)).await.unwrap(), "a renews");
    assert!(!store.take_lease("lake", "b", later(120), later(210)).await.unwrap(), "the renewal counts");
    assert!(store.take_lease("other", "b", later(120), later(210)).await.unwrap(), "another lease is apart");
    assert!(store.take_lease("lake", "b", later(151), later(241)).await.unwrap(), "run out: b takes it");
    assert!(!store.take_lease("lake", "a", later(160), later(250)).await.unwrap(), "a lost it");
    // Many at once: exactly one takes a free lease.
    let tries = (0..8).map(|i| {
        let store = store.clone();
        async move { store.take_lease("race", &format!("n{i}"), t, later(90)).await.unwrap() }
    });
    let taken = futures::future::join_all(tries).await.into_iter().filter(|x| *x).count();
    assert_eq!(taken, 1);
}

async fn every_booking_is_read_in_id_order(store: &SqlStore) {
    let (_, _, rt) = catalog(store, 5).await;
    let guest = host(store).await;
    for d in 1..=3 {
        let ci: Date = format!("2030-01-0{d}").parse().unwrap();
        let b = booking(&rt, guest.id, ci, ci.tomorrow().unwrap());
        place(store, b, None, "h").await.unwrap();
    }
    let all = store.all_bookings(None, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    let mut ids: Vec<_> = all.iter().map(|b| b.id).collect();
    ids.sort();
    assert_eq!(ids, all.iter().map(|b| b.id).collect::<Vec<_>>(), "in id order");
    let first = store.all_bookings(None, 2).await.unwrap();
    let rest = store.all_bookings(first.last().map(|b| b.id), 2).await.unwrap();
    assert_eq!(first.len() + rest.len(), 3);
    assert_eq!(rest[0].id, ids[2], "the next page starts after the last id read");
}

fn now() -> Timestamp {
    "2027-01-04T10:00:00Z".parse().unwrap()
}

/// An event of `kind` (the store keeps payloads as they are; these carry none).
fn ev(kind: EventKind) -> Event {
    Event {
        id: innkeep_core::EventId(uuid::Uuid::now_v7()),
        kind,
        version: 1,
        occurred_at: now(),
        tenant_id: None,
        aggregate_id: uuid::Uuid::now_v7(),
        payload: serde_json::json!({}),
    }
}

async fn host(store: &SqlStore) -> User {
    let t = TenantId(uuid::Uuid::now_v7());
    let user = User {
        id: UserId(uuid::Uuid::now_v7()),
        email: Email::parse(&format!("h{}@example.com", uuid::Uuid::now_v7().simple())).unwrap(),
        name: "Host".into(),
        role: Role::Host,
        tenant_id: Some(t),
        staff_role: Some(innkeep_core::StaffRole::Owner),
        created_at: now(),
        locale: Default::default(),
        currency: None,
    };
    store
        .create_user(
            &NewUser { user: user.clone(), password_hash: "x".into(), tenant_name: Some("T".into()) },
            &ev(EventKind::UserRegistered),
        )
        .await
        .unwrap();
    user
}

async fn catalog(store: &SqlStore, units: u32) -> (User, Property, RoomType) {
    let h = host(store).await;
    let tenant_id = h.tenant_id.unwrap();
    let draft = PropertyDraft {
        name: "Casa".into(),
        description: String::new(),
        property_type: PropertyType::Guesthouse,
        address: Address {
            lines: vec!["Rua 1".into()],
            city: "Lisbon".into(),
            region: None,
            postal_code: None,
            country: CountryCode::parse("PT").unwrap(),
        },
        latitude: 38.7,
        longitude: -9.1,
        time_zone: TimeZoneName::parse("Europe/Lisbon").unwrap(),
        currency: Currency::parse("EUR").unwrap(),
        check_in_time: jiff::civil::time(15, 0, 0, 0),
        check_out_time: jiff::civil::time(11, 0, 0, 0),
        amenities: vec![],
        cancellation_policy: CancellationPolicy::Flexible,
        payment_timing: Default::default(),
    };
    let p = Property { id: PropertyId(uuid::Uuid::now_v7()), tenant_id, draft, created_at: now(), updated_at: now() };
    store.insert_property(&p, &ev(EventKind::PropertyCreated)).await.unwrap();
    let rt_draft = RoomTypeDraft {
        name: "Double".into(),
        description: String::new(),
        occupancy: Occupancy { max_adults: 2, max_children: 0, max_total: 2 },
        beds: String::new(),
        units,
        base_rate_minor: 10_000,
        min_stay: 1,
        max_stay: 30,
        rate_plan: RatePlan::default(),
    };
    let rt = RoomType {
        id: RoomTypeId(uuid::Uuid::now_v7()),
        property_id: p.id,
        tenant_id,
        draft: rt_draft,
        created_at: now(),
        updated_at: now(),
    };
    store.insert_room_type(&rt, &ev(EventKind::RoomTypeCreated)).await.unwrap();
    (h, p, rt)
}

/// The booking of `ci..co` priced from `rows` (10,000 a night where a night sets no price),
/// with its event: how the PostgreSQL pricing tests price a hold.
fn priced_by_nights(rt: &RoomType, user: UserId, ci: Date, co: Date, rows: &[NightRow]) -> (Booking, Event) {
    let mut b = booking(rt, user, ci, co);
    let total = rows.iter().map(|r| r.overrides.price_minor.unwrap_or(10_000)).sum();
    b.total = Money { minor: total, currency: b.total.currency };
    (b, ev(EventKind::BookingHeld))
}

fn booking(rt: &RoomType, user: UserId, ci: Date, co: Date) -> Booking {
    let eur = Currency::parse("EUR").unwrap();
    let stay = Stay::range(ci, co).unwrap();
    let quote = Quote::compute(&RatePlan::default(), 10_000, eur, &stay, Party::new(1, 0), |_| None).unwrap();
    Booking {
        id: BookingId(uuid::Uuid::now_v7()),
        status: BookingStatus::Held,
        tenant_id: rt.tenant_id,
        property_id: rt.property_id,
        room_type_id: rt.id,
        user_id: user,
        check_in: ci,
        check_out: co,
        adults: 1,
        children: 0,
        rooms: 1,
        child_ages: Default::default(),
        guest: GuestContact { name: "G".into(), email: "g@example.com".into(), phone: None },
        total: quote.total,
        quote,
        refund: None,
        hold_expires_at: Some("2027-01-04T10:15:00Z".parse().unwrap()),
        created_at: now(),
        updated_at: now(),
    }
}

/// Place a hold for `b` as it is (pricing returns it unchanged).
async fn place(store: &SqlStore, b: Booking, key: Option<&str>, hash: &str) -> Result<HoldOutcome, StoreError> {
    let hold = NewHold {
        room_type_id: b.room_type_id,
        user_id: b.user_id,
        stay: Stay::range(b.check_in, b.check_out).unwrap(),
        rooms: b.rooms,
        idempotency_key: key.map(str::to_string),
        request_hash: hash.into(),
        nights: None,
    };
    store.hold(&hold, &|_: &[NightRow]| Ok((b.clone(), ev(EventKind::BookingHeld)))).await
}

/// A booking of `rooms` units (its price does not matter to the store).
fn booking_of(rooms: u16, rt: &RoomType, user: UserId, ci: Date, co: Date) -> Booking {
    Booking { rooms, adults: rooms, ..booking(rt, user, ci, co) }
}

async fn a_booking_of_several_rooms_takes_and_gives_back_that_many_units(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 5).await;
    let (d1, d3, d4) = (date(2027, 9, 1), date(2027, 9, 3), date(2027, 9, 4));
    let mut three = booking_of(3, &rt, h.id, d1, d3);
    assert!(matches!(place(store, three.clone(), None, "r3").await, Ok(HoldOutcome::Created(..))));
    assert_eq!(sold(store, &rt, d1, d4).await, vec![3, 3, 0]);
    // Two units are left on the second night: three more are refused, changing nothing.
    let clash = place(store, booking_of(3, &rt, h.id, date(2027, 9, 2), d4), None, "r3b").await;
    assert!(matches!(clash, Err(StoreError::SoldOut { night }) if night == date(2027, 9, 2)), "{clash:?}");
    assert_eq!(sold(store, &rt, d1, d4).await, vec![3, 3, 0]);
    // Two fit, and fill the night.
    let two = booking_of(2, &rt, h.id, date(2027, 9, 2), d4);
    assert!(matches!(place(store, two, None, "r2").await, Ok(HoldOutcome::Created(..))));
    assert_eq!(sold(store, &rt, d1, d4).await, vec![3, 5, 2]);
    // The stored booking says its rooms; cancelling it gives back all three units.
    assert_eq!(store.booking(three.id).await.unwrap().unwrap().rooms, 3);
    three.status = BookingStatus::Cancelled;
    store
        .transition(
            &Transition { booking: three.clone(), from: BookingStatus::Held, release: true },
            &ev(EventKind::BookingCancelled),
        )
        .await
        .unwrap();
    assert_eq!(sold(store, &rt, d1, d4).await, vec![0, 2, 2]);
}

async fn parallel_holds_of_several_rooms_never_sell_more_units_than_there_are(store: &SqlStore) {
    // 7 units; 48 guests race for 1, 2 or 3 rooms each over the same nights.
    let (h, _, rt) = catalog(store, 7).await;
    let store = Arc::new(store.clone());
    let (ci, co) = (date(2027, 10, 1), date(2027, 10, 4));
    let tasks = (0..48u16).map(|i| {
        let (store, rt) = (store.clone(), rt.clone());
        tokio::spawn(async move {
            let b = booking_of(1 + i % 3, &rt, h.id, ci, co);
            let rooms = b.rooms;
            (rooms, place(&store, b, Some(&format!("m{i}")), "h").await)
        })
    });
    let results: Vec<(u16, Result<HoldOutcome, StoreError>)> =
        futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    let taken: u32 = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(HoldOutcome::Created(..))))
        .map(|(rooms, _)| u32::from(*rooms))
        .sum();
    assert!(
        results.iter().all(|(_, r)| matches!(r, Ok(HoldOutcome::Created(..)) | Err(StoreError::SoldOut { .. }))),
        "{results:?}"
    );
    assert!((5..=7).contains(&taken), "sold {taken} of 7 units: never more, and a refusal leaves fewer than 3");
    assert_eq!(sold(&store, &rt, ci, co).await, vec![taken; 3], "every night sold as the holds say");
}

async fn sold(store: &SqlStore, rt: &RoomType, ci: Date, co: Date) -> Vec<u32> {
    let range = Stay::range(ci, co).unwrap();
    let rows = store.nights(rt.id, &range).await.unwrap();
    range.each_night().map(|d| rows.iter().find(|r| r.date == d).map(|r| r.sold).unwrap_or(0)).collect()
}

/// An erased guest's booking keeps its events, rewritten without the guest, whether or not
/// they are numbered yet (PostgreSQL numbers an event only some time after its commit, and
/// nothing has read these).
async fn an_erased_guests_bookings_keep_their_events_without_the_guest(store: &SqlStore) {
    use innkeep_app::data_rights::{DataRights, Erasure, erased_address};
    let (_, _, rt) = catalog(store, 1).await;
    let guest = User {
        id: UserId(uuid::Uuid::now_v7()),
        email: Email::parse("g@example.com").unwrap(),
        name: "G".into(),
        role: Role::Guest,
        tenant_id: None,
        staff_role: None,
        created_at: now(),
        locale: Default::default(),
        currency: None,
    };
    let new = NewUser { user: guest.clone(), password_hash: "x".into(), tenant_name: None };
    store.create_user(&new, &ev(EventKind::UserRegistered)).await.unwrap();
    let b = booking(&rt, guest.id, date(2027, 1, 10), date(2027, 1, 12));
    let hold = NewHold {
        room_type_id: rt.id,
        rooms: 1,
        user_id: guest.id,
        stay: Stay::range(b.check_in, b.check_out).unwrap(),
        idempotency_key: None,
        request_hash: "h".into(),
        nights: None,
    };
    let held = |_: &[NightRow]| {
        let mut e = ev(EventKind::BookingHeld);
        e.aggregate_id = b.id.0;
        e.payload = serde_json::json!({"booking_id": b.id, "guest": b.guest});
        Ok((b.clone(), e))
    };
    assert!(matches!(store.hold(&hold, &held).await.unwrap(), HoldOutcome::Created(..)));

    // The stay is over by then.
    let erased = store.erase_user(guest.id, date(2027, 2, 1), now(), &ev(EventKind::UserErased)).await.unwrap();
    assert!(matches!(erased, Erasure::Erased(_)), "{erased:?}");
    let events = settled_events(store).await;
    let e = events.iter().find(|e| e.event.aggregate_id == b.id.0).expect("the booking's event is kept");
    assert_eq!(e.event.payload["booking_id"], b.id.to_string());
    assert_eq!(e.event.payload["guest"]["email"], erased_address(guest.id), "{}", e.event.payload);
    assert_eq!(store.booking(b.id).await.unwrap().unwrap().guest.email, erased_address(guest.id));
}

/// Every committed event (waiting for PostgreSQL to number them).
async fn settled_events(store: &SqlStore) -> Vec<innkeep_app::event::StoredEvent> {
    innkeep_store::testing::settled_events(store).await.unwrap()
}

/// The events after `seq`, once there are `n` of them.
async fn events_since(store: &SqlStore, seq: i64, n: usize) -> Vec<innkeep_app::event::StoredEvent> {
    innkeep_store::testing::events_since(store, seq, n).await.unwrap()
}

async fn migrations_are_ready(store: &SqlStore) {
    store.ready().await.unwrap();
}

async fn users_are_unique_by_email_and_sessions_expire(store: &SqlStore) {
    let h = host(store).await;
    let dup = NewUser {
        user: User { id: UserId(uuid::Uuid::now_v7()), ..h.clone() },
        password_hash: "y".into(),
        tenant_name: None,
    };
    assert!(matches!(store.create_user(&dup, &ev(EventKind::UserRegistered)).await, Err(StoreError::Duplicate(_))));
    let (found, hash) = store.user_credentials(&h.email).await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (h.id, "x"));
    let expires: Timestamp = "2027-01-05T10:00:00Z".parse().unwrap();
    store.create_session("tok", h.id, expires).await.unwrap();
    assert_eq!(store.session_user("tok", now()).await.unwrap().map(|(u, e)| (u.id, e)), Some((h.id, expires)));
    assert!(store.session_user("tok", expires).await.unwrap().is_none(), "expired at expires_at");
    let before = settled_events(store).await.last().map(|e| e.seq).unwrap_or(0);
    store.delete_session("tok", &ev(EventKind::SessionEnded)).await.unwrap();
    assert!(store.session_user("tok", now()).await.unwrap().is_none());
    assert_eq!(events_since(store, before, 1).await.len(), 1, "the sign-out's event is in the outbox");
}

async fn properties_are_listed_per_tenant(store: &SqlStore) {
    let (h1, p1, _) = catalog(store, 1).await;
    let (_, p2, _) = catalog(store, 1).await;
    let mine = store.list_properties(h1.tenant_id, 10, 0).await.unwrap();
    assert_eq!(mine.iter().map(|p| p.id).collect::<Vec<_>>(), vec![p1.id]);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.all_properties(after, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        paged.extend(page.into_iter().map(|p| p.id));
    }
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(paged, sorted, "keyset pages come in id order");
    assert!(paged.contains(&p1.id) && paged.contains(&p2.id));
    let all = store.list_properties(None, 10, 0).await.unwrap();
    assert!(all.iter().any(|p| p.id == p2.id) && all.iter().any(|p| p.id == p1.id));
    assert_eq!(store.property(p1.id).await.unwrap().unwrap(), p1);
    let mut changed = p1.clone();
    changed.draft.name = "Casa Nova".into();
    store.update_property(&changed, &ev(EventKind::PropertyUpdated)).await.unwrap();
    assert_eq!(store.property(p1.id).await.unwrap().unwrap().draft.name, "Casa Nova");
}

async fn holds_sell_each_night_once_and_refuse_when_full(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 1).await;
    let (d1, d3, d4) = (date(2027, 2, 1), date(2027, 2, 3), date(2027, 2, 4));
    let first = place(store, booking(&rt, h.id, d1, d3), None, "a").await.unwrap();
    assert!(matches!(first, HoldOutcome::Created(..)));
    assert_eq!(sold(store, &rt, d1, d4).await, vec![1, 1, 0]);
    let clash = place(store, booking(&rt, h.id, date(2027, 2, 2), d4), None, "b").await;
    assert!(matches!(clash, Err(StoreError::SoldOut { night }) if night == date(2027, 2, 2)), "{clash:?}");
    assert_eq!(sold(store, &rt, d1, d4).await, vec![1, 1, 0], "a refused hold changes nothing");
    assert!(matches!(place(store, booking(&rt, h.id, d3, d4), None, "c").await, Ok(HoldOutcome::Created(..))));
}

async fn holds_are_priced_from_the_nights_they_take(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 2).await;
    let (d1, d2, d3) = (date(2027, 9, 1), date(2027, 9, 2), date(2027, 9, 3));
    let second = Stay::range(d2, d3).unwrap();
    let price = NightOverride { price_minor: Some(9_900), ..Default::default() };
    store.set_nights(rt.id, &second, &price, &ev(EventKind::CalendarUpdated)).await.unwrap();
    place(store, booking(&rt, h.id, d1, d3), None, "a").await.unwrap();
    let b = booking(&rt, h.id, d1, d3);
    let hold = NewHold {
        rooms: 1,
        room_type_id: rt.id,
        user_id: b.user_id,
        stay: Stay::range(d1, d3).unwrap(),
        idempotency_key: None,
        request_hash: "b".into(),
        nights: None,
    };
    // Pricing sees every night of the stay it just took, this hold counted; a refusal
    // there undoes the hold.
    let seen = std::sync::Mutex::new(Vec::new());
    let refuse = |rows: &[NightRow]| {
        seen.lock().unwrap().extend(rows.iter().map(|r| (r.date, r.sold, r.overrides.price_minor)));
        Err(innkeep_app::AppError::Conflict("refused by pricing".into()))
    };
    let out = store.hold(&hold, &refuse).await.unwrap();
    assert!(matches!(out, HoldOutcome::Refused(innkeep_app::AppError::Conflict(_))), "{out:?}");
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, vec![(d1, 2, None), (d2, 2, Some(9_900))]);
    assert_eq!(sold(store, &rt, d1, d3).await, vec![1, 1], "a refused hold changes nothing");
    assert!(store.booking(b.id).await.unwrap().is_none());
    // Accepted, the booking pricing returns is the one stored.
    let accept = |_: &[NightRow]| Ok((b.clone(), ev(EventKind::BookingHeld)));
    assert!(matches!(store.hold(&hold, &accept).await.unwrap(), HoldOutcome::Created(..)));
    assert_eq!(store.booking(b.id).await.unwrap().map(|x| x.id), Some(b.id));
    assert_eq!(sold(store, &rt, d1, d3).await, vec![2, 2]);
}

async fn idempotency_keys_replay_or_refuse(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 5).await;
    let b = booking(&rt, h.id, date(2027, 3, 1), date(2027, 3, 2));
    let id = b.id;
    place(store, b.clone(), Some("k"), "hash-1").await.unwrap();
    let again = booking(&rt, h.id, date(2027, 3, 1), date(2027, 3, 2));
    match place(store, again.clone(), Some("k"), "hash-1").await.unwrap() {
        HoldOutcome::Replayed(r) => assert_eq!(r.id, id),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(place(store, again, Some("k"), "hash-2").await.unwrap(), HoldOutcome::KeyReused));
    assert_eq!(sold(store, &rt, date(2027, 3, 1), date(2027, 3, 2)).await, vec![1]);
}

async fn transitions_apply_once_and_release_nights(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 1).await;
    let (ci, co) = (date(2027, 4, 1), date(2027, 4, 3));
    let mut b = booking(&rt, h.id, ci, co);
    place(store, b.clone(), None, "h").await.unwrap();
    b.status = BookingStatus::Confirmed;
    store
        .transition(
            &Transition { booking: b.clone(), from: BookingStatus::Held, release: false },
            &ev(EventKind::BookingConfirmed),
        )
        .await
        .unwrap();
    let stale = store
        .transition(
            &Transition { booking: b.clone(), from: BookingStatus::Held, release: false },
            &ev(EventKind::BookingConfirmed),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Stale)));
    b.status = BookingStatus::Cancelled;
    store
        .transition(
            &Transition { booking: b.clone(), from: BookingStatus::Confirmed, release: true },
            &ev(EventKind::BookingCancelled),
        )
        .await
        .unwrap();
    assert_eq!(sold(store, &rt, ci, co).await, vec![0, 0]);
    assert_eq!(store.booking(b.id).await.unwrap().unwrap().status, BookingStatus::Cancelled);
    let kinds: Vec<EventKind> = settled_events(store).await.into_iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == EventKind::BookingConfirmed).count(),
        1,
        "the stale transition wrote no event"
    );
}

async fn calendar_overrides_merge_and_units_cannot_drop_below_sold(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 2).await;
    let range = Stay::range(date(2027, 5, 1), date(2027, 5, 4)).unwrap();
    store
        .set_nights(
            rt.id,
            &range,
            &NightOverride { price_minor: Some(12_000), ..Default::default() },
            &ev(EventKind::CalendarUpdated),
        )
        .await
        .unwrap();
    let one = Stay::range(date(2027, 5, 2), date(2027, 5, 3)).unwrap();
    store
        .set_nights(
            rt.id,
            &one,
            &NightOverride { closed: Some(true), ..Default::default() },
            &ev(EventKind::CalendarUpdated),
        )
        .await
        .unwrap();
    let rows = store.nights(rt.id, &range).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.overrides.price_minor == Some(12_000)), "a later change keeps earlier overrides");
    assert_eq!(rows[1].overrides.closed, Some(true));
    let closed = place(store, booking(&rt, h.id, date(2027, 5, 1), date(2027, 5, 3)), None, "x").await;
    assert!(matches!(closed, Err(StoreError::SoldOut { night }) if night == date(2027, 5, 2)));

    place(store, booking(&rt, h.id, date(2027, 6, 1), date(2027, 6, 2)), None, "y").await.unwrap();
    place(store, booking(&rt, h.id, date(2027, 6, 1), date(2027, 6, 2)), None, "z").await.unwrap();
    let june = Stay::range(date(2027, 6, 1), date(2027, 6, 2)).unwrap();
    let squeeze = store
        .set_nights(
            rt.id,
            &june,
            &NightOverride { units: Some(1), ..Default::default() },
            &ev(EventKind::CalendarUpdated),
        )
        .await;
    assert!(matches!(squeeze, Err(StoreError::UnitsBelowSold { sold: 2, .. })), "{squeeze:?}");
    let mut fewer = rt.clone();
    fewer.draft.units = 1;
    let r = store.update_room_type(&fewer, date(2027, 1, 4), &ev(EventKind::RoomTypeUpdated)).await;
    assert!(matches!(r, Err(StoreError::UnitsBelowSold { .. })));
    assert_eq!(store.room_type(rt.id).await.unwrap().unwrap().draft.units, 2, "refused changes roll back");
}

async fn bookings_are_filtered_and_expired_holds_found(store: &SqlStore) {
    let (h, p, rt) = catalog(store, 3).await;
    let (_, _, other_rt) = catalog(store, 3).await;
    let a = booking(&rt, h.id, date(2027, 7, 1), date(2027, 7, 3));
    let b = booking(&rt, h.id, date(2027, 7, 10), date(2027, 7, 12));
    let c = booking(&other_rt, h.id, date(2027, 7, 1), date(2027, 7, 2));
    for x in [&a, &b, &c] {
        place(store, x.clone(), None, "h").await.unwrap();
    }
    let f = BookingFilter { tenant_id: Some(rt.tenant_id), limit: 50, ..Default::default() };
    assert_eq!(store.list_bookings(&f).await.unwrap().len(), 2);
    let f = BookingFilter {
        property_id: Some(p.id),
        from: Some(date(2027, 7, 2)),
        to: Some(date(2027, 7, 5)),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(store.list_bookings(&f).await.unwrap().into_iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
    let f =
        BookingFilter { user_id: Some(h.id), status: Some(BookingStatus::Confirmed), limit: 50, ..Default::default() };
    assert!(store.list_bookings(&f).await.unwrap().is_empty());
    let before = store.expired_holds("2027-01-04T10:14:59Z".parse().unwrap(), 100).await.unwrap();
    assert!(!before.contains(&a.id));
    let after = store.expired_holds("2027-01-04T10:15:00Z".parse().unwrap(), 100).await.unwrap();
    assert!(after.contains(&a.id) && after.contains(&b.id) && after.contains(&c.id));
}

async fn parallel_holds_for_the_last_unit_sell_it_once(store: &SqlStore) {
    let (h, _, rt) = catalog(store, 3).await;
    let store = Arc::new(store.clone());
    let tasks = (0..64).map(|i| {
        let (store, rt) = (store.clone(), rt.clone());
        tokio::spawn(async move {
            let b = booking(&rt, h.id, date(2027, 8, 1), date(2027, 8, 4));
            place(&store, b, Some(&format!("p{i}")), "h").await
        })
    });
    let results = futures::future::join_all(tasks).await;
    let created = results.iter().filter(|r| matches!(r, Ok(Ok(HoldOutcome::Created(..))))).count();
    let refused = results.iter().filter(|r| matches!(r, Ok(Err(StoreError::SoldOut { .. })))).count();
    assert_eq!((created, refused), (3, 61), "{results:?}");
    assert_eq!(sold(&store, &rt, date(2027, 8, 1), date(2027, 8, 4)).await, vec![3, 3, 3]);
}

async fn batched_reads_match_single_reads(store: &SqlStore) {
    let (h, p1, rt1) = catalog(store, 2).await;
    let (_, p2, rt2) = catalog(store, 3).await;
    let unknown = PropertyId(uuid::Uuid::now_v7());
    let mut found = store.properties_by_ids(&[p2.id, unknown, p1.id]).await.unwrap();
    found.sort_by_key(|p| p.id.0);
    assert_eq!(found, vec![p1.clone(), p2.clone()], "unknown ids are left out");
    assert!(store.properties_by_ids(&[]).await.unwrap().is_empty());

    let mut rts = store.room_types_of_many(&[p1.id, p2.id]).await.unwrap();
    rts.sort_by_key(|r| r.id.0);
    assert_eq!(rts, vec![rt1.clone(), rt2.clone()]);
    assert_eq!(store.room_type_with_property(rt2.id).await.unwrap(), Some((rt2.clone(), p2.clone())));
    assert_eq!(store.room_type_with_property(RoomTypeId(uuid::Uuid::now_v7())).await.unwrap(), None);

    place(store, booking(&rt1, h.id, date(2027, 7, 1), date(2027, 7, 3)), None, "a").await.unwrap();
    let later = Stay::range(date(2027, 7, 2), date(2027, 7, 4)).unwrap();
    store
        .set_nights(
            rt2.id,
            &later,
            &NightOverride { price_minor: Some(9_000), ..Default::default() },
            &ev(EventKind::CalendarUpdated),
        )
        .await
        .unwrap();
    let range = Stay::range(date(2027, 6, 30), date(2027, 7, 4)).unwrap();
    let many = store.nights_of_many(&[rt1.id, rt2.id], &range).await.unwrap();
    for rt in [&rt1, &rt2] {
        let mine: Vec<NightRow> = many.iter().filter(|(id, _)| *id == rt.id).map(|(_, n)| *n).collect();
        assert_eq!(mine, store.nights(rt.id, &range).await.unwrap(), "same rows, in night order");
    }
    assert_eq!(many.len(), 4);
}

fn photo(p: &Property, n: u32, at: Timestamp) -> Photo {
    let id = PhotoId::new_v7(at);
    Photo {
        id,
        property_id: p.id,
        tenant_id: p.tenant_id,
        kind: if n.is_multiple_of(2) { ImageKind::Jpeg } else { ImageKind::Webp },
        size: 1000 + u64::from(n),
        alt: format!("photo {n}"),
        key: format!("photos/{}/{id}.jpg", p.id),
        created_at: at,
    }
}

async fn photos_are_recorded_with_an_event_and_listed_in_order(store: &SqlStore) {
    let (_, p, _) = catalog(store, 1).await;
    let (_, other, _) = catalog(store, 1).await;
    let (_, bare, _) = catalog(store, 1).await;
    let before = settled_events(store).await.last().map(|e| e.seq).unwrap_or(0);
    let first = photo(&p, 0, now());
    let second = photo(&p, 1, now() + jiff::SignedDuration::from_secs(5));
    let theirs = photo(&other, 2, now());
    for ph in [&second, &first, &theirs] {
        store.insert_photo(ph, &ev(EventKind::PhotoAdded)).await.unwrap();
    }
    // Numbers may skip (a sequence gives no number back); the events may not.
    assert_eq!(events_since(store, before, 3).await.len(), 3, "one event per photo");
    assert_eq!(store.photos_of(p.id).await.unwrap(), vec![first.clone(), second.clone()], "oldest first");
    assert_eq!(store.photo(theirs.id).await.unwrap(), Some(theirs.clone()));
    assert_eq!(store.photo(PhotoId(uuid::Uuid::now_v7())).await.unwrap(), None);
    let covers = store.cover_photos(&[p.id, other.id, bare.id]).await.unwrap();
    assert_eq!(covers.len(), 2, "one cover per property that has photos");
    assert!(covers.contains(&first) && covers.contains(&theirs));
    assert!(store.cover_photos(&[]).await.unwrap().is_empty());
    // The same object key twice is refused.
    let mut dup = photo(&p, 3, now());
    dup.key = first.key.clone();
    assert!(store.insert_photo(&dup, &ev(EventKind::PhotoAdded)).await.is_err());
}

/// On PostgreSQL a transaction can commit after a younger one that wrote its event later:
/// a reader that went past the younger one's event must still see the older one's when it
/// commits (no event is skipped, whatever the order of commits).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_an_event_committed_late_is_never_skipped() {
    let Some(b) = Backend::postgres().await else { return };
    let store = &b.store;
    let pool = store.writer();
    let (late, early) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    let insert = |id: &str| {
        format!(
            "INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload) \
             VALUES ('{id}', 'user.registered', 1, 0, NULL, '{id}', '{{}}')"
        )
    };
    let before = settled_events(store).await.last().map(|e| e.seq).unwrap_or(0);
    // `older` takes its transaction id first; `newer` writes its event first and stays open.
    let mut older = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()::text").execute(&mut *older).await.unwrap();
    let mut newer = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert(&late))).execute(&mut *newer).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert(&early))).execute(&mut *older).await.unwrap();
    older.commit().await.unwrap();
    let ids = |events: &[innkeep_app::event::StoredEvent]| -> Vec<String> {
        events.iter().map(|e| e.event.aggregate_id.to_string()).collect()
    };
    let first = store.events_after(before, 100).await.unwrap();
    assert!(!ids(&first).contains(&late), "uncommitted: {:?}", ids(&first));
    let position = first.last().map(|e| e.seq).unwrap_or(before);
    newer.commit().await.unwrap();
    // Numbering waits for every older transaction on the server (other tests' too), so the
    // reader polls as a consumer would.
    let second = events_since(store, position, 2 - first.len()).await;
    let all: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert!(all.contains(&early) && all.contains(&late), "both read: {all:?}");
    assert_eq!(all.len(), 2, "each once: {all:?}");
    b.finish().await;
}

/// A managed PostgreSQL (RDS, Cloud SQL) forces TLS: `sslmode=require` connects encrypted,
/// and the server says so for our own connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_sslmode_require_connects_over_tls() {
    let Some(b) = Backend::postgres().await else { return };
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&b.store.writer()).await.unwrap();
    if ssl != "on" {
        assert!(std::env::var_os("INNKEEP_TEST_REQUIRE_SERVERS").is_none(), "the test server has ssl off");
        eprintln!("skipped: the test PostgreSQL server has ssl off");
        return b.finish().await;
    }
    let admin = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL").unwrap();
    let sep = if admin.contains('?') { '&' } else { '?' };
    let tls = innkeep_store::open(&StoreOptions::new(format!("{admin}{sep}sslmode=require"))).await.unwrap();
    let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&tls.writer())
        .await
        .unwrap();
    assert!(encrypted, "the connection is encrypted");
    tls.close().await;
    b.finish().await;
}
