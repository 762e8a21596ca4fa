//! Measures the gazetteer (load, autocomplete) and the property index (rebuild of N
//! synthetic properties on disk, its size, search latency).
//!
//! `cargo run --release -p innkeep-search --example bench_index -- 100000`

use innkeep_app::store::{Property, RoomType};
use innkeep_core::{
    Address, Amenity, CancellationPolicy, CountryCode, Currency, Occupancy, PropertyDraft, PropertyId, PropertyType,
    RatePlan, RoomTypeDraft, RoomTypeId, TenantId, TimeZoneName,
};
use innkeep_search::{Gazetteer, Geo, IndexQuery, SearchIndex, Sort};
use std::error::Error;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ADJECTIVES: [&str; 12] = [
    "Grand",
    "Royal",
    "Cozy",
    "Blue",
    "Old Town",
    "Sunny",
    "Quiet",
    "Riverside",
    "Central",
    "Garden",
    "Little",
    "Golden",
];
const NOUNS: [&str; 10] =
    ["Hotel", "Inn", "Suites", "Lodge", "House", "Retreat", "Apartments", "Hostel", "Villa", "Rooms"];
const ROOMS: [&str; 6] = ["Double Room", "Twin Room", "Family Suite", "Studio", "Single Room", "Deluxe King"];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), Box<dyn Error>> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(100_000);

    let started = Instant::now();
    let gazetteer = Gazetteer::load()?;
    println!("gazetteer: {} places loaded in {:?}", gazetteer.len(), started.elapsed());

    let queries = [
        "lisb", "lisbn", "sao pa", "zur", "san", "new york", "par", "londn", "tok", "berlin", "madird", "s", "a",
        "mumb", "kara", "los ang", "amsterdm", "rio de", "mexico", "xian",
    ];
    let mut times = Vec::new();
    for _ in 0..50 {
        for q in queries {
            let t = Instant::now();
            let hits = gazetteer.autocomplete(q, 10);
            times.push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    times.sort();
    println!(
        "autocomplete: {} queries, p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );

    let t = Instant::now();
    for i in 0..10_000 {
        std::hint::black_box(gazetteer.reverse(f64::from(i % 180) - 89.5, f64::from(i % 360) - 179.5));
    }
    println!("reverse: {:?} per lookup", t.elapsed() / 10_000);

    // Synthetic properties within about 10 km of a few real cities.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now: jiff::Timestamp = "2026-11-24T12:00:00Z".parse()?;
    let tenant = TenantId::new_v7(now);
    let zone = TimeZoneName::parse("UTC")?;
    let eur = Currency::parse("EUR")?;
    let country = CountryCode::parse("PT")?;
    let sample: Vec<_> = ["lisbon", "porto", "madrid", "paris", "berlin", "rome", "tokyo", "new york", "sao paulo"]
        .iter()
        .filter_map(|q| gazetteer.autocomplete(q, 1).into_iter().next())
        .collect();
    let mut generated = Vec::with_capacity(n);
    for _ in 0..n {
        let city = rng.pick(&sample).clone();
        let lat = (city.latitude + (rng.below(2001) as f64 - 1000.0) / 10_000.0).clamp(-90.0, 90.0);
        let lon = (city.longitude + (rng.below(2001) as f64 - 1000.0) / 10_000.0).clamp(-180.0, 180.0);
        let name = format!("{} {} {}", rng.pick(&ADJECTIVES), city.name, rng.pick(&NOUNS));
        let amenities = (0..rng.below(6)).map(|_| *rng.pick(&Amenity::ALL)).collect();
        let draft = PropertyDraft {
            name,
            description: format!(
                "A {} place in {} with friendly staff, close to the old town, the river and the station.",
                rng.pick(&ADJECTIVES).to_lowercase(),
                city.name
            ),
            property_type: *rng.pick(&PropertyType::ALL),
            address: Address {
                lines: vec!["1 Main Street".into()],
                city: city.name.clone(),
                region: None,
                postal_code: None,
                country,
            },
            latitude: lat,
            longitude: lon,
            time_zone: zone.clone(),
            currency: eur,
            check_in_time: jiff::civil::time(15, 0, 0, 0),
            check_out_time: jiff::civil::time(11, 0, 0, 0),
            amenities,
            cancellation_policy: CancellationPolicy::Moderate,
            payment_timing: Default::default(),
        }
        .validate()?;
        let property =
            Property { id: PropertyId::new_v7(now), tenant_id: tenant, draft, created_at: now, updated_at: now };
        let rooms: Vec<RoomType> = (0..1 + rng.below(4))
            .map(|_| {
                let guests = 1 + rng.below(6) as u16;
                let draft = RoomTypeDraft {
                    name: rng.pick(&ROOMS).to_string(),
                    description: String::new(),
                    occupancy: Occupancy { max_adults: guests, max_children: 0, max_total: guests },
                    beds: "1 double bed".into(),
                    units: 5,
                    base_rate_minor: 3_000 + rng.below(40_000) as i64,
                    min_stay: 1,
                    max_stay: 30,
                    rate_plan: RatePlan::default(),
                };
                draft.validate().map(|draft| RoomType {
                    id: RoomTypeId::new_v7(now),
                    property_id: property.id,
                    tenant_id: tenant,
                    draft,
                    created_at: now,
                    updated_at: now,
                })
            })
            .collect::<Result<_, _>>()?;
        generated.push((property, rooms));
    }

    let dir = tempfile::tempdir()?;
    let index = SearchIndex::open(Some(dir.path()))?;
    let t = Instant::now();
    let count = index.rebuild(generated)?;
    let build = t.elapsed();
    let bytes: u64 = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    println!("rebuild: {count} properties in {build:?}, {:.1} MB on disk", bytes as f64 / 1e6);

    let lisbon = sample.first().ok_or("no Lisbon in the gazetteer")?;
    let searches = [
        ("text", IndexQuery { q: Some("grand lisbon hotel".into()), ..IndexQuery::default() }),
        ("text with typo", IndexQuery { q: Some("riversde lisbn".into()), ..IndexQuery::default() }),
        (
            "radius 5 km by distance",
            IndexQuery {
                geo: Some(Geo::Radius { lat: lisbon.latitude, lon: lisbon.longitude, km: 5.0 }),
                sort: Sort::Distance { lat: lisbon.latitude, lon: lisbon.longitude },
                ..IndexQuery::default()
            },
        ),
        (
            "radius 20 km, pool, party 4, by price",
            IndexQuery {
                geo: Some(Geo::Radius { lat: lisbon.latitude, lon: lisbon.longitude, km: 20.0 }),
                amenities: vec![Amenity::Pool],
                party: Some(4),
                sort: Sort::Price,
                ..IndexQuery::default()
            },
        ),
        ("everything, by price", IndexQuery { sort: Sort::Price, ..IndexQuery::default() }),
    ];
    for (label, query) in &searches {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let t = Instant::now();
            found = index.search(query)?.len();
            times.push(t.elapsed());
        }
        times.sort();
        let t = Instant::now();
        let facets = index.facets(query)?;
        let facet_time = t.elapsed();
        println!(
            "search {label}: {found} candidates, p50 {:?}, max {:?}; facets {facet_time:?} ({} types)",
            percentile(&times, 0.5),
            times.last().copied().unwrap_or_default(),
            facets.property_types.len()
        );
    }
    Ok(())
}
