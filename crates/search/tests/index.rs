//! The property index: text relevance and typos, filters, geo, sorting, facets, upsert and delete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::store::{Property, RoomType};
use innkeep_core::{
    Address, Amenity, CancellationPolicy, CountryCode, Currency, Occupancy, PropertyDraft, PropertyId, PropertyType,
    RatePlan, RoomTypeDraft, RoomTypeId, TenantId, TimeZoneName,
};
use innkeep_search::{Geo, IndexQuery, SearchError, SearchIndex, Sort};
use jiff::Timestamp;

struct Spec {
    name: &'static str,
    city: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    kind: PropertyType,
    amenities: Vec<Amenity>,
    /// (room name, max guests, base rate in minor units)
    rooms: Vec<(&'static str, u16, i64)>,
}

fn spec(name: &'static str, city: &'static str, lat: f64, lon: f64) -> Spec {
    Spec {
        name,
        city,
        country: "PT",
        lat,
        lon,
        kind: PropertyType::Hotel,
        amenities: vec![Amenity::Wifi],
        rooms: vec![("Double room", 2, 10_000)],
    }
}

fn now() -> Timestamp {
    "2026-11-24T12:00:00Z".parse().unwrap()
}

fn build(s: &Spec) -> (Property, Vec<RoomType>) {
    let tenant = TenantId::new_v7(now());
    let draft = PropertyDraft {
        name: s.name.to_string(),
        description: format!("A quiet stay in {}, close to everything.", s.city),
        property_type: s.kind,
        address: Address {
            lines: vec!["1 Main Street".to_string()],
            city: s.city.to_string(),
            region: None,
            postal_code: None,
            country: CountryCode::parse(s.country).unwrap(),
        },
        latitude: s.lat,
        longitude: s.lon,
        time_zone: TimeZoneName::parse("Europe/Lisbon").unwrap(),
        currency: Currency::parse("EUR").unwrap(),
        check_in_time: jiff::civil::time(15, 0, 0, 0),
        check_out_time: jiff::civil::time(11, 0, 0, 0),
        amenities: s.amenities.clone(),
        cancellation_policy: CancellationPolicy::Flexible,
        payment_timing: Default::default(),
    }
    .validate()
    .unwrap();
    let property =
        Property { id: PropertyId::new_v7(now()), tenant_id: tenant, draft, created_at: now(), updated_at: now() };
    let rooms = s
        .rooms
        .iter()
        .map(|(name, guests, rate)| {
            let draft = RoomTypeDraft {
                name: name.to_string(),
                description: String::new(),
                occupancy: Occupancy { max_adults: *guests, max_children: 0, max_total: *guests },
                beds: "1 double bed".to_string(),
                units: 3,
                base_rate_minor: *rate,
                min_stay: 1,
                max_stay: 30,
                rate_plan: RatePlan::default(),
            }
            .validate()
            .unwrap();
            RoomType {
                id: RoomTypeId::new_v7(now()),
                property_id: property.id,
                tenant_id: tenant,
                draft,
                created_at: now(),
                updated_at: now(),
            }
        })
        .collect();
    (property, rooms)
}

/// An index holding these properties, and their ids in the same order.
fn index_of(specs: &[Spec]) -> (SearchIndex, Vec<PropertyId>) {
    let index = SearchIndex::open(None).unwrap();
    let built: Vec<_> = specs.iter().map(build).collect();
    let ids = built.iter().map(|(p, _)| p.id).collect();
    for (p, rooms) in &built {
        index.upsert(p, rooms).unwrap();
    }
    index.commit().unwrap();
    (index, ids)
}

fn q(text: &str) -> IndexQuery {
    IndexQuery { q: Some(text.to_string()), ..IndexQuery::default() }
}

fn found(index: &SearchIndex, query: &IndexQuery) -> Vec<PropertyId> {
    index.search(query).unwrap().into_iter().map(|c| c.property_id).collect()
}

// Reference points (degrees).
const LISBON: (f64, f64) = (38.7223, -9.1393);
const SINTRA: (f64, f64) = (38.8029, -9.3817); // ~23 km from Lisbon
const PORTO: (f64, f64) = (41.1579, -8.6291); // ~274 km from Lisbon
const MADRID: (f64, f64) = (40.4168, -3.7038); // ~503 km from Lisbon

#[test]
fn an_exact_name_match_ranks_first_among_similar_names() {
    let (index, ids) = index_of(&[
        spec("Hotel Lisbona Plaza", "Lisbon", LISBON.0, LISBON.1),
        spec("Hotel Lisboa Plaza Grande", "Lisbon", LISBON.0, LISBON.1),
        spec("Hotel Lisboa", "Lisbon", LISBON.0, LISBON.1),
        spec("Lisboa Hostel and Suites", "Lisbon", LISBON.0, LISBON.1),
    ]);
    let hits = found(&index, &q("Hotel Lisboa"));
    assert_eq!(hits[0], ids[2]);
    let hits = found(&index, &q("lisboa"));
    assert_eq!(hits.len(), 4, "the typo neighbour 'lisbona' matches too");
    assert_eq!(*hits.last().unwrap(), ids[0], "but ranks below every exact match");
}

#[test]
fn one_typo_is_forgiven_in_longer_words() {
    let (index, ids) =
        index_of(&[spec("Casa Lisbon", "Lisbon", LISBON.0, LISBON.1), spec("Porto Inn", "Porto", PORTO.0, PORTO.1)]);
    assert_eq!(found(&index, &q("lisbn")), vec![ids[0]]);
    assert_eq!(found(&index, &q("casa libson")), vec![ids[0]], "a swap of neighbours is one edit");
    assert!(found(&index, &q("lsbn")).is_empty(), "two edits are too many");
    assert!(found(&index, &q("inm")).is_empty(), "no typo allowed under 4 letters");
}

#[test]
fn accents_case_and_scripts_are_handled() {
    let (index, ids) = index_of(&[
        spec("Pousada São Bento", "Lisbon", LISBON.0, LISBON.1),
        spec("Gästehaus Zürichsee", "Zürich", 47.37, 8.54),
        spec("東京駅ホテル", "Tokyo", 35.68, 139.76),
        spec("Гостиница Москва", "Moscow", 55.75, 37.62),
    ]);
    assert_eq!(found(&index, &q("SAO BENTO")), vec![ids[0]]);
    assert_eq!(found(&index, &q("são bento")), vec![ids[0]]);
    assert_eq!(found(&index, &q("gastehaus")), vec![ids[1]]);
    assert_eq!(found(&index, &q("zurich")), vec![ids[1]], "the city field folds too");
    assert_eq!(found(&index, &q("東京")), vec![ids[2]]);
    assert_eq!(found(&index, &q("ホテル")), vec![ids[2]]);
    assert_eq!(found(&index, &q("москва")), vec![ids[3]]);
}

#[test]
fn room_types_amenities_and_kinds_are_searchable_text() {
    let mut villa = spec("Quinta Azul", "Lisbon", LISBON.0, LISBON.1);
    villa.kind = PropertyType::Villa;
    villa.amenities = vec![Amenity::Pool, Amenity::AirConditioning];
    villa.rooms = vec![("Garden Suite", 4, 30_000)];
    let (index, ids) = index_of(&[villa, spec("Plain Hotel", "Lisbon", LISBON.0, LISBON.1)]);
    assert_eq!(found(&index, &q("garden suite")), vec![ids[0]]);
    assert_eq!(found(&index, &q("villa pool")), vec![ids[0]]);
    assert_eq!(found(&index, &q("air conditioning")), vec![ids[0]]);
}

#[test]
fn a_radius_keeps_only_what_is_within_it_sorted_by_distance() {
    let (index, ids) = index_of(&[
        spec("Porto Inn", "Porto", PORTO.0, PORTO.1),
        spec("Sintra Palace", "Sintra", SINTRA.0, SINTRA.1),
        spec("Madrid Central", "Madrid", MADRID.0, MADRID.1),
        spec("Lisbon Central", "Lisbon", LISBON.0, LISBON.1),
    ]);
    let near = IndexQuery {
        geo: Some(Geo::Radius { lat: LISBON.0, lon: LISBON.1, km: 30.0 }),
        sort: Sort::Distance { lat: LISBON.0, lon: LISBON.1 },
        ..IndexQuery::default()
    };
    let hits = index.search(&near).unwrap();
    assert_eq!(hits.iter().map(|c| c.property_id).collect::<Vec<_>>(), vec![ids[3], ids[1]]);
    assert!(hits[0].distance_km.unwrap() < 0.01);
    let sintra = hits[1].distance_km.unwrap();
    assert!((20.0..26.0).contains(&sintra), "{sintra}");

    // 300 km takes in Porto but not Madrid.
    let wider = IndexQuery { geo: Some(Geo::Radius { lat: LISBON.0, lon: LISBON.1, km: 300.0 }), ..near.clone() };
    assert_eq!(found(&index, &wider), vec![ids[3], ids[1], ids[0]]);

    // Distance sort without a radius orders everything.
    let all = IndexQuery { geo: None, ..near };
    assert_eq!(found(&index, &all), vec![ids[3], ids[1], ids[0], ids[2]]);
}

#[test]
fn a_bounding_box_filters_and_may_cross_the_antimeridian() {
    let (index, ids) = index_of(&[
        spec("Lisbon Central", "Lisbon", LISBON.0, LISBON.1),
        spec("Madrid Central", "Madrid", MADRID.0, MADRID.1),
        spec("Suva Bay", "Suva", -18.14, 178.44),
        spec("Apia Beach", "Apia", -13.83, -171.76),
    ]);
    let portugal = IndexQuery {
        geo: Some(Geo::BBox { south: 36.9, west: -9.6, north: 42.2, east: -6.2 }),
        ..IndexQuery::default()
    };
    assert_eq!(found(&index, &portugal), vec![ids[0]]);
    let pacific = IndexQuery {
        geo: Some(Geo::BBox { south: -25.0, west: 170.0, north: -10.0, east: -165.0 }),
        sort: Sort::Distance { lat: -18.14, lon: 178.44 },
        ..IndexQuery::default()
    };
    assert_eq!(found(&index, &pacific), vec![ids[2], ids[3]]);
    let bad = IndexQuery { geo: Some(Geo::BBox { south: 10.0, west: 0.0, north: 5.0, east: 1.0 }), ..portugal };
    assert!(matches!(index.search(&bad), Err(SearchError::InvalidQuery(_))));
}

#[test]
fn a_radius_around_the_antimeridian_sees_both_sides() {
    let (index, ids) = index_of(&[
        spec("East", "Taveuni", -16.8, 179.95),
        spec("West", "Taveuni", -16.8, -179.95),
        spec("Far", "Suva", -18.14, 178.44),
    ]);
    let query = IndexQuery { geo: Some(Geo::Radius { lat: -16.8, lon: 180.0, km: 20.0 }), ..IndexQuery::default() };
    let mut hits = found(&index, &query);
    hits.sort();
    let mut want = vec![ids[0], ids[1]];
    want.sort();
    assert_eq!(hits, want);
}

#[test]
fn amenities_must_all_match_and_types_any() {
    let mut a = spec("A", "Lisbon", LISBON.0, LISBON.1);
    a.amenities = vec![Amenity::Wifi, Amenity::Pool];
    let mut b = spec("B", "Lisbon", LISBON.0, LISBON.1);
    b.amenities = vec![Amenity::Wifi];
    b.kind = PropertyType::Hostel;
    let mut c = spec("C", "Lisbon", LISBON.0, LISBON.1);
    c.amenities = vec![Amenity::Pool, Amenity::Parking];
    c.kind = PropertyType::Apartment;
    let (index, ids) = index_of(&[a, b, c]);
    let sorted = |mut v: Vec<PropertyId>| {
        v.sort();
        v
    };

    let both = IndexQuery { amenities: vec![Amenity::Wifi, Amenity::Pool], ..IndexQuery::default() };
    assert_eq!(found(&index, &both), vec![ids[0]]);
    let pool = IndexQuery { amenities: vec![Amenity::Pool], ..IndexQuery::default() };
    assert_eq!(sorted(found(&index, &pool)), sorted(vec![ids[0], ids[2]]));
    let kinds =
        IndexQuery { property_types: vec![PropertyType::Hostel, PropertyType::Apartment], ..IndexQuery::default() };
    assert_eq!(sorted(found(&index, &kinds)), sorted(vec![ids[1], ids[2]]));
    let kind_and_pool = IndexQuery { amenities: vec![Amenity::Pool], ..kinds };
    assert_eq!(found(&index, &kind_and_pool), vec![ids[2]]);
}

#[test]
fn properties_too_small_for_the_party_or_too_dear_are_dropped() {
    let mut big = spec("Big House", "Lisbon", LISBON.0, LISBON.1);
    big.rooms = vec![("Single", 1, 5_000), ("Family room", 6, 25_000)];
    let mut small = spec("Small Flat", "Lisbon", LISBON.0, LISBON.1);
    small.rooms = vec![("Double", 2, 8_000)];
    let mut empty = spec("No Rooms Yet", "Lisbon", LISBON.0, LISBON.1);
    empty.rooms = vec![];
    let (index, ids) = index_of(&[big, small, empty]);

    let party = IndexQuery { party: Some(4), ..IndexQuery::default() };
    assert_eq!(found(&index, &party), vec![ids[0]]);
    let cheap = IndexQuery { max_price_minor: Some(6_000), ..IndexQuery::default() };
    assert_eq!(found(&index, &cheap), vec![ids[0]], "the lowest rate decides");
    let cheap_for_two = IndexQuery { party: Some(2), max_price_minor: Some(9_000), ..IndexQuery::default() };
    let mut hits = found(&index, &cheap_for_two);
    hits.sort();
    let mut want = vec![ids[0], ids[1]];
    want.sort();
    assert_eq!(hits, want);

    let by_price = index.search(&IndexQuery { sort: Sort::Price, ..IndexQuery::default() }).unwrap();
    let rates: Vec<_> = by_price.iter().map(|c| c.min_rate_minor).collect();
    assert_eq!(rates, vec![Some(5_000), Some(8_000), None]);
    let eur = IndexQuery { currency: Some(Currency::parse("EUR").unwrap()), ..IndexQuery::default() };
    assert_eq!(found(&index, &eur).len(), 3);
    let usd = IndexQuery { currency: Some(Currency::parse("USD").unwrap()), ..IndexQuery::default() };
    assert!(found(&index, &usd).is_empty());
}

#[test]
fn upserting_twice_replaces_and_delete_removes() {
    let index = SearchIndex::open(None).unwrap();
    let (mut property, rooms) = build(&spec("Old Name Inn", "Lisbon", LISBON.0, LISBON.1));
    index.upsert(&property, &rooms).unwrap();
    index.commit().unwrap();
    property.draft.name = "New Name Lodge".to_string();
    index.upsert(&property, &rooms).unwrap();
    index.upsert(&property, &rooms).unwrap();
    index.commit().unwrap();
    assert_eq!(index.num_docs(), 1);
    assert!(found(&index, &q("old")).is_empty());
    assert_eq!(found(&index, &q("lodge")), vec![property.id]);
    // The listing kept for pricing follows the upsert.
    let unknown = PropertyId(uuid::Uuid::now_v7());
    let kept = index.listings(&[unknown, property.id]);
    assert!(kept[0].is_none());
    let listing = kept[1].as_ref().expect("a listing for an indexed property");
    assert_eq!((&listing.property, &listing.room_types), (&property, &rooms));

    index.delete(property.id).unwrap();
    assert!(index.listings(&[property.id])[0].is_none(), "a deleted property has no listing");
    assert_eq!(found(&index, &q("lodge")), vec![property.id], "not gone before commit");
    index.commit().unwrap();
    assert!(found(&index, &q("lodge")).is_empty());
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn rebuild_replaces_everything() {
    let (index, stale_ids) = index_of(&[spec("Stale Inn", "Lisbon", LISBON.0, LISBON.1)]);
    let fresh: Vec<_> =
        (0..50).map(|i| build(&spec("Fresh Inn", "Porto", PORTO.0 + f64::from(i) * 0.001, PORTO.1))).collect();
    assert!(index.listings(&stale_ids)[0].is_some());
    let fresh_ids: Vec<PropertyId> = fresh.iter().map(|(p, _)| p.id).collect();
    assert_eq!(index.rebuild(fresh).unwrap(), 50);
    assert_eq!(index.num_docs(), 50);
    assert!(index.listings(&fresh_ids).iter().all(Option::is_some), "every rebuilt property has a listing");
    assert!(index.listings(&stale_ids)[0].is_none(), "a rebuild drops the listings of what it left out");
    assert!(found(&index, &q("stale")).is_empty());
    assert_eq!(found(&index, &IndexQuery { limit: 10, ..q("fresh") }).len(), 10);
    assert_eq!(found(&index, &IndexQuery { limit: 5000, ..q("fresh") }).len(), 50);
}

#[test]
fn an_index_on_disk_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (property, rooms) = build(&spec("Durable Inn", "Lisbon", LISBON.0, LISBON.1));
    {
        let index = SearchIndex::open(Some(dir.path())).unwrap();
        index.upsert(&property, &rooms).unwrap();
        index.commit().unwrap();
    }
    let index = SearchIndex::open(Some(dir.path())).unwrap();
    assert_eq!(found(&index, &q("durable")), vec![property.id]);
}

#[test]
fn facets_count_types_amenities_and_price_bands() {
    let mut a = spec("A", "Lisbon", LISBON.0, LISBON.1);
    a.amenities = vec![Amenity::Wifi, Amenity::Pool];
    a.rooms = vec![("R", 2, 4_000)];
    let mut b = spec("B", "Lisbon", LISBON.0, LISBON.1);
    b.kind = PropertyType::Hostel;
    b.rooms = vec![("R", 2, 12_000)];
    let mut c = spec("C", "Madrid", MADRID.0, MADRID.1);
    c.amenities = vec![Amenity::Pool];
    let (index, _) = index_of(&[a, b, c]);

    let lisbon =
        IndexQuery { geo: Some(Geo::Radius { lat: LISBON.0, lon: LISBON.1, km: 10.0 }), ..IndexQuery::default() };
    let f = index.facets(&lisbon).unwrap();
    assert_eq!(f.property_types, vec![("hostel".to_string(), 1), ("hotel".to_string(), 1)]);
    assert_eq!(f.amenities, vec![("wifi".to_string(), 2), ("pool".to_string(), 1)]);
    let bands: Vec<u64> = f.price_bands.iter().map(|(_, n)| *n).collect();
    assert_eq!(bands, vec![1, 0, 1, 0, 0]);
    assert_eq!(f.price_bands[0].0, "0..5000");

    // With a type chosen, the other types still show their counts; amenities do not.
    let hotels = IndexQuery { property_types: vec![PropertyType::Hotel], ..lisbon.clone() };
    let f = index.facets(&hotels).unwrap();
    assert_eq!(f.property_types.len(), 2);
    assert_eq!(f.amenities, vec![("pool".to_string(), 1), ("wifi".to_string(), 1)]);

    // One pass answers what the two separate calls answer.
    for query in [lisbon.clone(), hotels.clone(), IndexQuery { amenities: vec![Amenity::Pool], ..lisbon.clone() }] {
        let (found, facets) = index.search_with_facets(&query).unwrap();
        assert_eq!(found, index.search(&query).unwrap(), "{query:?}");
        assert_eq!(facets, index.facets(&query).unwrap(), "{query:?}");
    }
    let (only_hotels, _) = index.search_with_facets(&hotels).unwrap();
    assert_eq!(only_hotels.len(), 1, "the type filter still applies to the candidates");
}

#[test]
fn bad_coordinates_are_refused_not_panicked_on() {
    let index = SearchIndex::open(None).unwrap();
    for geo in [
        Geo::Radius { lat: 91.0, lon: 0.0, km: 10.0 },
        Geo::Radius { lat: 0.0, lon: 0.0, km: -1.0 },
        Geo::Radius { lat: 0.0, lon: 0.0, km: f64::NAN },
        Geo::BBox { south: 0.0, west: 0.0, north: 1.0, east: 181.0 },
    ] {
        let query = IndexQuery { geo: Some(geo), ..IndexQuery::default() };
        assert!(matches!(index.search(&query), Err(SearchError::InvalidQuery(_))), "{geo:?}");
    }
    let sort = IndexQuery { sort: Sort::Distance { lat: f64::INFINITY, lon: 0.0 }, ..IndexQuery::default() };
    assert!(matches!(index.search(&sort), Err(SearchError::InvalidQuery(_))));
    assert!(index.search(&q("")).unwrap().is_empty());
    assert!(index.search(&q("*:( AND OR \"")).unwrap().is_empty());
}
