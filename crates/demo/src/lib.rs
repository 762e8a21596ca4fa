//! Deterministic demo data: properties in real cities around the world, room types with
//! realistic rates, taxes and rules, demo accounts, and existing bookings. The same seed
//! always gives the same catalogue.

pub mod photos;

use innkeep_app::auth::{self, Register};
use innkeep_app::booking::{self, Action, PlaceBooking};
use innkeep_app::event::{CatalogImported, Change};
use innkeep_app::store::{GuestContact, Property, RoomType};
use innkeep_app::{Actor, Event, Ports};
use innkeep_core::*;
use jiff::Timestamp;
use jiff::civil::Time;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The demo accounts' shared password.
pub const DEMO_PASSWORD: &str = "innkeep-demo-password";
/// The demo guest.
pub const DEMO_GUEST: &str = "guest@demo.innkeep.dev";
/// The demo host, owner of the first properties.
pub const DEMO_HOST: &str = "host@demo.innkeep.dev";
/// The demo operator.
pub const DEMO_ADMIN: &str = "admin@demo.innkeep.dev";

/// A real city: name, country, latitude, longitude, time zone, currency, price level (1-3).
pub struct City {
    pub name: &'static str,
    pub country: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub tz: &'static str,
    pub currency: &'static str,
    pub level: u8,
}

macro_rules! cities {
    ($(($n:expr, $c:expr, $lat:expr, $lon:expr, $tz:expr, $cur:expr, $lvl:expr)),* $(,)?) => {
        &[$(City { name: $n, country: $c, lat: $lat, lon: $lon, tz: $tz, currency: $cur, level: $lvl }),*]
    };
}

/// Cities the demo places properties in.
pub const CITIES: &[City] = cities![
    ("Lisbon", "PT", 38.7223, -9.1393, "Europe/Lisbon", "EUR", 2),
    ("Porto", "PT", 41.1579, -8.6291, "Europe/Lisbon", "EUR", 1),
    ("Madrid", "ES", 40.4168, -3.7038, "Europe/Madrid", "EUR", 2),
    ("Barcelona", "ES", 41.3874, 2.1686, "Europe/Madrid", "EUR", 2),
    ("Paris", "FR", 48.8566, 2.3522, "Europe/Paris", "EUR", 3),
    ("Nice", "FR", 43.7102, 7.2620, "Europe/Paris", "EUR", 2),
    ("London", "GB", 51.5074, -0.1278, "Europe/London", "GBP", 3),
    ("Edinburgh", "GB", 55.9533, -3.1883, "Europe/London", "GBP", 2),
    ("Dublin", "IE", 53.3498, -6.2603, "Europe/Dublin", "EUR", 2),
    ("Amsterdam", "NL", 52.3676, 4.9041, "Europe/Amsterdam", "EUR", 3),
    ("Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "EUR", 2),
    ("Munich", "DE", 48.1351, 11.5820, "Europe/Berlin", "EUR", 2),
    ("Vienna", "AT", 48.2082, 16.3738, "Europe/Vienna", "EUR", 2),
    ("Prague", "CZ", 50.0755, 14.4378, "Europe/Prague", "CZK", 1),
    ("Zurich", "CH", 47.3769, 8.5417, "Europe/Zurich", "CHF", 3),
    ("Rome", "IT", 41.9028, 12.4964, "Europe/Rome", "EUR", 2),
    ("Florence", "IT", 43.7696, 11.2558, "Europe/Rome", "EUR", 2),
    ("Venice", "IT", 45.4408, 12.3155, "Europe/Rome", "EUR", 3),
    ("Athens", "GR", 37.9838, 23.7275, "Europe/Athens", "EUR", 1),
    ("Istanbul", "TR", 41.0082, 28.9784, "Europe/Istanbul", "TRY", 1),
    ("Copenhagen", "DK", 55.6761, 12.5683, "Europe/Copenhagen", "DKK", 3),
    ("Stockholm", "SE", 59.3293, 18.0686, "Europe/Stockholm", "SEK", 2),
    ("Oslo", "NO", 59.9139, 10.7522, "Europe/Oslo", "NOK", 3),
    ("Reykjavik", "IS", 64.1466, -21.9426, "Atlantic/Reykjavik", "ISK", 3),
    ("Warsaw", "PL", 52.2297, 21.0122, "Europe/Warsaw", "PLN", 1),
    ("Budapest", "HU", 47.4979, 19.0402, "Europe/Budapest", "HUF", 1),
    ("New York", "US", 40.7128, -74.0060, "America/New_York", "USD", 3),
    ("San Francisco", "US", 37.7749, -122.4194, "America/Los_Angeles", "USD", 3),
    ("Chicago", "US", 41.8781, -87.6298, "America/Chicago", "USD", 2),
    ("Miami", "US", 25.7617, -80.1918, "America/New_York", "USD", 2),
    ("New Orleans", "US", 29.9511, -90.0715, "America/Chicago", "USD", 2),
    ("Toronto", "CA", 43.6532, -79.3832, "America/Toronto", "CAD", 2),
    ("Vancouver", "CA", 49.2827, -123.1207, "America/Vancouver", "CAD", 2),
    ("Mexico City", "MX", 19.4326, -99.1332, "America/Mexico_City", "MXN", 1),
    ("Cancun", "MX", 21.1619, -86.8515, "America/Cancun", "MXN", 2),
    ("Rio de Janeiro", "BR", -22.9068, -43.1729, "America/Sao_Paulo", "BRL", 1),
    ("Buenos Aires", "AR", -34.6037, -58.3816, "America/Argentina/Buenos_Aires", "ARS", 1),
    ("Lima", "PE", -12.0464, -77.0428, "America/Lima", "PEN", 1),
    ("Cape Town", "ZA", -33.9249, 18.4241, "Africa/Johannesburg", "ZAR", 1),
    ("Marrakesh", "MA", 31.6295, -7.9811, "Africa/Casablanca", "MAD", 1),
    ("Cairo", "EG", 30.0444, 31.2357, "Africa/Cairo", "EGP", 1),
    ("Nairobi", "KE", -1.2921, 36.8219, "Africa/Nairobi", "KES", 1),
    ("Dubai", "AE", 25.2048, 55.2708, "Asia/Dubai", "AED", 3),
    ("Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo", "JPY", 3),
    ("Kyoto", "JP", 35.0116, 135.7681, "Asia/Tokyo", "JPY", 2),
    ("Seoul", "KR", 37.5665, 126.9780, "Asia/Seoul", "KRW", 2),
    ("Bangkok", "TH", 13.7563, 100.5018, "Asia/Bangkok", "THB", 1),
    ("Singapore", "SG", 1.3521, 103.8198, "Asia/Singapore", "SGD", 3),
    ("Hong Kong", "HK", 22.3193, 114.1694, "Asia/Hong_Kong", "HKD", 3),
    ("Bali", "ID", -8.4095, 115.1889, "Asia/Makassar", "IDR", 1),
    ("Hanoi", "VN", 21.0278, 105.8342, "Asia/Ho_Chi_Minh", "VND", 1),
    ("Mumbai", "IN", 19.0760, 72.8777, "Asia/Kolkata", "INR", 1),
    ("Sydney", "AU", -33.8688, 151.2093, "Australia/Sydney", "AUD", 3),
    ("Melbourne", "AU", -37.8136, 144.9631, "Australia/Melbourne", "AUD", 2),
    ("Auckland", "NZ", -36.8485, 174.7633, "Pacific/Auckland", "NZD", 2),
];

/// Approximate units of a currency per US dollar, for plausible local prices.
fn per_usd(currency: &str) -> f64 {
    match currency {
        "EUR" => 0.92,
        "GBP" => 0.79,
        "CHF" => 0.88,
        "CZK" => 23.0,
        "TRY" => 33.0,
        "DKK" => 6.9,
        "SEK" => 10.5,
        "NOK" => 10.7,
        "ISK" => 138.0,
        "PLN" => 4.0,
        "HUF" => 360.0,
        "CAD" => 1.37,
        "MXN" => 17.5,
        "BRL" => 5.0,
        "ARS" => 900.0,
        "PEN" => 3.7,
        "ZAR" => 18.5,
        "MAD" => 10.0,
        "EGP" => 48.0,
        "KES" => 130.0,
        "AED" => 3.67,
        "JPY" => 150.0,
        "KRW" => 1350.0,
        "THB" => 36.0,
        "SGD" => 1.35,
        "HKD" => 7.8,
        "IDR" => 15_800.0,
        "VND" => 25_000.0,
        "INR" => 83.0,
        "AUD" => 1.52,
        "NZD" => 1.65,
        _ => 1.0,
    }
}

/// Value-added or sales tax rate (basis points) used for a country's demo properties.
fn vat_bp(country: &str) -> i64 {
    match country {
        "PT" => 600,
        "ES" | "IT" => 1000,
        "FR" => 1000,
        "GB" => 2000,
        "DE" => 700,
        "NL" => 900,
        "AT" => 1000,
        "CH" => 380,
        "US" => 1200,
        "CA" => 1300,
        "JP" => 1000,
        "AU" => 1000,
        "AE" => 500,
        _ => 800,
    }
}

const WORDS: &[&str] = &[
    "Azure",
    "Harbour",
    "Garden",
    "Old Town",
    "Riverside",
    "Central",
    "Grand",
    "Royal",
    "Sunset",
    "Park",
    "Plaza",
    "Boutique",
    "Cozy",
    "Bright",
    "Golden",
    "Hidden",
    "Lighthouse",
    "Market",
    "Olive",
    "Palm",
    "Quiet",
    "Rose",
    "Saffron",
    "Terrace",
    "Urban",
    "Vista",
    "Willow",
    "Cedar",
    "Coral",
    "Maple",
];

const DESCRIPTIONS: &[&str] = &[
    "A short walk from the old town, with a quiet courtyard and breakfast served until noon.",
    "Bright rooms with city views, fast wifi and a rooftop terrace for sunset drinks.",
    "Family-run and friendly, close to the metro, museums and the best local restaurants.",
    "Modern comfort in a restored historic building, steps from the waterfront.",
    "Calm, green and central: a garden hideaway with easy access to the sights.",
];

fn property_name(rng: &mut impl Rng, kind: PropertyType, city: &str) -> String {
    let a = WORDS.choose(rng).copied().unwrap_or("Grand");
    let b = WORDS.choose(rng).copied().unwrap_or("Park");
    match kind {
        PropertyType::Hotel => format!("{a} {b} Hotel {city}"),
        PropertyType::Hostel => format!("{a} Hostel {city}"),
        PropertyType::Apartment => format!("{a} {b} Apartments"),
        PropertyType::Guesthouse => format!("{a} Guesthouse"),
        PropertyType::BedAndBreakfast => format!("The {a} B&B"),
        PropertyType::Villa => format!("Villa {a}"),
        PropertyType::House => format!("{a} House"),
        PropertyType::Cabin => format!("{a} Cabin"),
        PropertyType::Resort => format!("{a} {b} Resort"),
    }
}

/// One generated property with its room types.
pub struct Generated {
    pub property: Property,
    pub room_types: Vec<RoomType>,
}

/// Generate property number `i` of a deterministic sequence.
pub fn generate(rng: &mut ChaCha8Rng, tenant_id: TenantId, now: Timestamp) -> Generated {
    let city = CITIES.choose(rng).unwrap_or(&CITIES[0]);
    let kinds = [
        PropertyType::Hotel,
        PropertyType::Hotel,
        PropertyType::Hotel,
        PropertyType::Apartment,
        PropertyType::Apartment,
        PropertyType::Guesthouse,
        PropertyType::Hostel,
        PropertyType::BedAndBreakfast,
        PropertyType::Villa,
        PropertyType::House,
        PropertyType::Resort,
        PropertyType::Cabin,
    ];
    let kind = *kinds.choose(rng).unwrap_or(&PropertyType::Hotel);
    let name = property_name(rng, kind, city.name);
    let mut amenities: Vec<Amenity> = Amenity::ALL.iter().copied().filter(|_| rng.random_bool(0.35)).collect();
    amenities.push(Amenity::Wifi);
    let policy = *[
        CancellationPolicy::Flexible,
        CancellationPolicy::Moderate,
        CancellationPolicy::Moderate,
        CancellationPolicy::Strict,
        CancellationPolicy::NonRefundable,
    ]
    .choose(rng)
    .unwrap_or(&CancellationPolicy::Moderate);
    let currency = Currency::parse(city.currency).unwrap_or_else(|_| fallback_currency());
    let draft = PropertyDraft {
        name,
        description: DESCRIPTIONS.choose(rng).copied().unwrap_or_default().to_string(),
        property_type: kind,
        address: Address {
            lines: vec![format!("{} {}", rng.random_range(1..300), WORDS.choose(rng).copied().unwrap_or("Main"))],
            city: city.name.to_string(),
            region: None,
            postal_code: Some(format!("{:05}", rng.random_range(1000..99999))),
            country: CountryCode::parse(city.country).unwrap_or_else(|_| fallback_country()),
        },
        latitude: city.lat + rng.random_range(-0.06..0.06),
        longitude: city.lon + rng.random_range(-0.08..0.08),
        time_zone: TimeZoneName::parse(city.tz).unwrap_or_else(|_| fallback_zone()),
        currency,
        check_in_time: Time::constant(15, 0, 0, 0),
        check_out_time: Time::constant(11, 0, 0, 0),
        amenities,
        cancellation_policy: policy,
        // Hotels and resorts take payment up front; the others are paid at the property
        // (chosen without the random source, so the rest of the demo stays as it was).
        payment_timing: if matches!(kind, PropertyType::Hotel | PropertyType::Resort) {
            innkeep_core::PaymentTiming::Prepay
        } else {
            innkeep_core::PaymentTiming::AtProperty
        },
    };
    // Demo data obeys the same rules as data entered through the API.
    let draft = draft.validate().unwrap_or_else(|e| unreachable!("demo property is invalid: {e}"));
    let property = Property { id: PropertyId::new_v7(now), tenant_id, draft, created_at: now, updated_at: now };
    let usd_base = [60.0, 110.0, 190.0][usize::from(city.level.clamp(1, 3) - 1)];
    let scale = per_usd(city.currency) * 10f64.powi(i32::from(currency.exponent()));
    let templates: &[(&str, u16, u16, u16, &str, f64)] = match kind {
        PropertyType::Hostel => {
            &[("Bed in 8-bed dorm", 1, 0, 1, "1 bunk bed", 0.3), ("Private Double", 2, 0, 2, "1 double bed", 0.8)]
        }
        PropertyType::Apartment | PropertyType::House | PropertyType::Villa | PropertyType::Cabin => &[
            ("Entire place, 1 bedroom", 2, 2, 4, "1 queen bed, 1 sofa bed", 1.1),
            ("Entire place, 2 bedrooms", 4, 2, 6, "2 queen beds, 1 sofa bed", 1.7),
        ],
        _ => &[
            ("Standard Double", 2, 1, 3, "1 double bed", 1.0),
            ("Twin Room", 2, 0, 2, "2 single beds", 0.95),
            ("Deluxe King", 2, 2, 3, "1 king bed", 1.4),
            ("Family Suite", 4, 3, 5, "1 king bed, 2 single beds", 1.9),
        ],
    };
    let count = rng.random_range(1..=templates.len());
    let room_types = templates[..count]
        .iter()
        .map(|(name, adults, children, total, beds, factor)| {
            let units = match kind {
                PropertyType::Hotel | PropertyType::Resort => rng.random_range(4..60),
                PropertyType::Hostel => rng.random_range(6..30),
                PropertyType::Apartment => rng.random_range(1..6),
                _ => 1,
            };
            let base = (usd_base * factor * rng.random_range(0.8..1.25) * scale).round() as i64;
            let mut charges =
                vec![Charge { name: "VAT".into(), kind: ChargeKind::Percent, amount: vat_bp(city.country), tax: true }];
            if matches!(city.country, "PT" | "FR" | "IT" | "ES" | "NL" | "DE" | "AT") {
                charges.push(Charge {
                    name: "City tax".into(),
                    kind: ChargeKind::PerPersonPerNight,
                    amount: (2.0 * scale / per_usd(city.currency) * 0.92).round() as i64,
                    tax: true,
                });
            }
            if matches!(kind, PropertyType::Apartment | PropertyType::House | PropertyType::Villa | PropertyType::Cabin)
            {
                charges.push(Charge {
                    name: "Cleaning fee".into(),
                    kind: ChargeKind::PerStay,
                    amount: (40.0 * scale).round() as i64,
                    tax: false,
                });
            }
            let rate_plan = RatePlan {
                weekend: Some(room_type::WeekendRule { nights: vec![5, 6], adjust_bp: 1_500 }),
                seasons: Vec::new(),
                los_discounts: vec![
                    LosDiscount { min_nights: 7, percent_bp: 1_000 },
                    LosDiscount { min_nights: 28, percent_bp: 2_500 },
                ],
                charges,
                // Rooms that take children: babies free, children up to 11 at a supplement.
                child_rates: if *children > 0 {
                    vec![
                        room_type::ChildRate { max_age: 2, per_night_minor: 0 },
                        room_type::ChildRate { max_age: 11, per_night_minor: (15.0 * scale).round() as i64 },
                    ]
                } else {
                    Vec::new()
                },
            };
            let draft = RoomTypeDraft {
                name: name.to_string(),
                description: String::new(),
                occupancy: Occupancy { max_adults: *adults, max_children: *children, max_total: *total },
                beds: beds.to_string(),
                units,
                base_rate_minor: base.max(1),
                min_stay: 1,
                max_stay: 30,
                rate_plan,
            };
            let draft = draft.validate().unwrap_or_else(|e| unreachable!("demo room type is invalid: {e}"));
            RoomType {
                id: RoomTypeId::new_v7(now),
                property_id: property.id,
                tenant_id,
                draft,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    Generated { property, room_types }
}

fn fallback_currency() -> Currency {
    Currency::parse("USD").unwrap_or_else(|_| unreachable!("USD is in the currency list"))
}
fn fallback_country() -> CountryCode {
    CountryCode::parse("US").unwrap_or_else(|_| unreachable!("US is a country"))
}
fn fallback_zone() -> TimeZoneName {
    TimeZoneName::parse("UTC").unwrap_or_else(|_| unreachable!("UTC is a zone"))
}

/// What the demo loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoSummary {
    pub properties: usize,
    pub room_types: usize,
    pub bookings: usize,
    /// Past stays reviewed by their guests.
    pub reviews: usize,
}

/// Load the demo: accounts, `properties` properties, and some bookings by the demo guest.
/// Does nothing if the database already has properties.
pub async fn load(ports: &Ports, properties: usize, seed: u64) -> anyhow::Result<DemoSummary> {
    if ports.store.count_properties().await? > 0 {
        tracing::info!("database already has properties; demo data not loaded");
        return Ok(DemoSummary::default());
    }
    let now = ports.clock.now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut accounts = Vec::new();
    for (email, name, role) in [
        (DEMO_GUEST, "Ana Guest", Role::Guest),
        (DEMO_HOST, "Demo Hospitality", Role::Host),
        (DEMO_ADMIN, "Olga Operator", Role::Admin),
    ] {
        let user = auth::register(
            ports,
            Register {
                email: email.into(),
                password: DEMO_PASSWORD.into(),
                name: name.into(),
                role,
                locale: Default::default(),
            },
            now,
        )
        .await?;
        accounts.push(user);
    }
    let host_tenant = accounts[1].tenant_id.ok_or_else(|| anyhow::anyhow!("the demo host has no tenant"))?;
    let mut summary = DemoSummary::default();
    let mut first_room_types = Vec::new();
    // Room types of properties whose guests pay at the property (Lisbon's first), for the
    // past stays that were reviewed.
    let mut reviewable = Vec::new();
    let batch = 5_000;
    let mut i = 0;
    while i < properties {
        let n = batch.min(properties - i);
        let mut tenants = Vec::new();
        let mut props = Vec::with_capacity(n);
        let mut rts = Vec::new();
        for j in i..i + n {
            // The demo host owns the first 20 properties; other tenants own 25 each.
            let tenant = if j < 20 {
                host_tenant
            } else {
                let t = TenantId(uuid::Uuid::from_u128(0x1000_0000_0000_0000_0000_0000_0000_0000 + (j / 25) as u128));
                if j % 25 == 0 || j == 20 || tenants.is_empty() {
                    tenants.push((t, format!("{} Hospitality Group", WORDS[(j / 25) % WORDS.len()])));
                }
                t
            };
            let g = generate(&mut rng, tenant, now);
            if j < 200 {
                first_room_types.extend(g.room_types.iter().map(|rt| rt.id));
            }
            let lisbon = g.property.draft.address.city == "Lisbon";
            if (j < 200 || lisbon)
                && g.property.draft.payment_timing == PaymentTiming::AtProperty
                && let Some(rt) = g.room_types.first()
            {
                reviewable.push((lisbon, rt.id, tenant));
            }
            props.push(g.property);
            rts.extend(g.room_types);
        }
        summary.properties += props.len();
        summary.room_types += rts.len();
        let imported = CatalogImported { properties: props.len(), room_types: rts.len() };
        let event = Event::new(&Change::CatalogImported(imported), now, None, uuid::Uuid::nil());
        ports.store.import_catalog(&tenants, &props, &rts, &event).await?;
        i += n;
    }
    let guest = Actor::new(accounts[0].id, Role::Guest, None);
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    for k in 0..first_room_types.len().min(60) {
        let rt = first_room_types[rng.random_range(0..first_room_types.len())];
        let check_in = today.checked_add(jiff::Span::new().days(rng.random_range(2..90))).unwrap_or(today);
        let check_out = check_in.checked_add(jiff::Span::new().days(rng.random_range(1..6))).unwrap_or(check_in);
        let cmd = PlaceBooking {
            room_type_id: rt,
            check_in,
            check_out,
            party: Party::new(1, 0),
            guest: GuestContact { name: "Ana Guest".into(), email: DEMO_GUEST.into(), phone: None },
            idempotency_key: Some(format!("demo-{k}")),
        };
        if let Ok(placed) = booking::place_booking(ports, &guest, cmd, now).await {
            summary.bookings += 1;
            if k % 4 != 0 {
                match booking::act(ports, &guest, placed.booking.id, Action::Confirm, now).await {
                    // A property that takes payment first: the guest pays by bank transfer
                    // and the bank's statement, imported, confirms the booking.
                    Err(innkeep_app::AppError::PaymentRequired) => {
                        let method = innkeep_core::PaymentMethod::BankTransfer;
                        let key = format!("demo-pay-{k}");
                        let (p, _) =
                            innkeep_app::payment::pay(ports, &guest, placed.booking.id, method, &key, now).await?;
                        let line = innkeep_app::payment::StatementLine {
                            booking_date: Some(today),
                            amount: p.amount,
                            credit: true,
                            references: p.reference.into_iter().collect(),
                            problem: None,
                        };
                        let bank = Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None);
                        innkeep_app::payment::import_statement(ports, &bank, &format!("demo-{k}"), &[line], now)
                            .await?;
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
    }
    reviewable.sort_by_key(|(lisbon, _, _)| !lisbon);
    reviewable.truncate(REVIEWED_PROPERTIES);
    summary.reviews = past_reviews(ports, &mut rng, &reviewable, now).await?;
    Ok(summary)
}

/// How many properties have past stays with reviews.
const REVIEWED_PROPERTIES: usize = 24;

/// Guests of past stays, who reviewed them (they never sign in: no password).
const REVIEWERS: &[&str] = &[
    "Sofia Martins",
    "Lukas Becker",
    "Emma Dubois",
    "Hiroshi Tanaka",
    "Olivia Smith",
    "Mateo García",
    "Chloé Laurent",
    "Noah Williams",
    "Ingrid Larsen",
    "Rafael Costa",
    "Aisha Khan",
    "Tomáš Novák",
];

const PRAISE: &[&str] = &[
    "Spotless room and a very friendly welcome. We would stay again.",
    "Great location: everything within walking distance, and quiet at night.",
    "Exactly as in the photos. The breakfast was excellent.",
    "Comfortable bed, good shower, helpful staff. Worth the price.",
    "Lovely stay. Check-in was quick and we got good tips for dinner nearby.",
    "Bright, clean and well equipped. The view from the balcony was a bonus.",
];
const MIXED: &[&str] = &[
    "Good value for the area. The room was small but clean.",
    "Nice place, though the street was noisy on Saturday night.",
    "Staff were kind; the Wi-Fi was slow in the evenings.",
    "Fine for a short stay. The bathroom could use an update.",
    "Central and convenient, but the mattress was on the soft side.",
];
const POOR: &[&str] = &[
    "The room had not been cleaned properly when we arrived.",
    "Too noisy to sleep, and the air conditioning did not work.",
    "Further from the centre than it looked, and the kitchen lacked basics.",
];
const REPLIES: &[&str] = &[
    "Thank you for staying with us. We hope to welcome you back soon!",
    "Thank you for the kind words; we have passed them on to the team.",
    "Thank you for the feedback. We are sorry about the noise and are fitting better windows.",
];

/// Past stays at `room_types` (each a property), checked out between 5 and 75 days ago,
/// booked, stayed and reviewed through the use cases at the times they happened; about
/// half the reviews answered by the property. Returns how many reviews were written.
async fn past_reviews(
    ports: &Ports,
    rng: &mut ChaCha8Rng,
    room_types: &[(bool, RoomTypeId, TenantId)],
    now: Timestamp,
) -> anyhow::Result<usize> {
    let days = |n: i64| jiff::SignedDuration::from_hours(24 * n);
    let mut guests = Vec::new();
    for (i, name) in REVIEWERS.iter().enumerate() {
        let user = innkeep_app::store::User {
            id: UserId::new_v7(now),
            email: Email::parse(&format!("reviewer{i}@demo.innkeep.dev"))?,
            name: name.to_string(),
            role: Role::Guest,
            tenant_id: None,
            staff_role: None,
            created_at: now.checked_sub(days(400))?,
            locale: Default::default(),
            currency: None,
        };
        let change = Change::UserRegistered(innkeep_app::event::UserRegistered { user_id: user.id, role: Role::Guest });
        let event = Event::new(&change, user.created_at, None, user.id.0);
        let new = innkeep_app::store::NewUser { user: user.clone(), password_hash: "!".into(), tenant_name: None };
        ports.store.create_user(&new, &event).await?;
        guests.push(user);
    }
    let staff = Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None);
    let mut written = 0;
    for (_, rt, tenant) in room_types {
        // Each property has a quality its reviews scatter around.
        let quality: f64 = rng.random_range(6.0..9.6);
        let host = Actor::new(UserId(uuid::Uuid::nil()), Role::Host, Some(*tenant));
        for k in 0..rng.random_range(2..7) {
            let guest = &guests[rng.random_range(0..guests.len())];
            let nights = rng.random_range(1..4);
            let check_out_at = now.checked_sub(days(5 + 12 * k + rng.random_range(0..5)))?;
            let check_in_at = check_out_at.checked_sub(days(nights))?;
            let booked_at = check_in_at.checked_sub(days(rng.random_range(7..60)))?;
            let utc = |t: Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
            let cmd = PlaceBooking {
                room_type_id: *rt,
                check_in: utc(check_in_at),
                check_out: utc(check_out_at),
                party: Party::new(2, 0),
                guest: GuestContact { name: guest.name.clone(), email: guest.email.as_str().into(), phone: None },
                idempotency_key: None,
            };
            let actor = Actor::new(guest.id, Role::Guest, None);
            let Ok(placed) = booking::place_booking(ports, &actor, cmd, booked_at).await else { continue };
            let id = placed.booking.id;
            booking::act(ports, &actor, id, Action::Confirm, booked_at).await?;
            booking::act(ports, &staff, id, Action::CheckIn, check_in_at).await?;
            booking::act(ports, &staff, id, Action::Complete, check_out_at).await?;
            let mut score = || (quality + rng.random_range(-1.5..1.5)).round().clamp(1.0, 10.0) as u8;
            let scores =
                Scores { cleanliness: score(), location: score(), value: score(), staff: score(), comfort: score() };
            let text = match scores.overall_tenths() {
                85.. => PRAISE,
                65..85 => MIXED,
                _ => POOR,
            };
            let text = text[rng.random_range(0..text.len())].to_string();
            let reviewed_at = check_out_at.checked_add(days(rng.random_range(1..4)))?;
            let new = innkeep_app::review::NewReview { scores, text };
            let review = innkeep_app::review::write_review(ports, &actor, id, new, reviewed_at).await?;
            written += 1;
            if rng.random_bool(0.5) {
                let answer = REPLIES[rng.random_range(0..REPLIES.len())];
                innkeep_app::review::reply(ports, &host, review.id, answer, reviewed_at.checked_add(days(1))?).await?;
            }
        }
    }
    Ok(written)
}

/// Regions of the world as the demo's guests think of them, by country.
pub const REGIONS: &[(&str, &[&str])] = &[
    ("Iberia", &["PT", "ES"]),
    ("Western Europe", &["FR", "GB", "IE", "NL", "DE", "AT", "CH"]),
    ("Mediterranean", &["IT", "GR", "TR"]),
    ("Nordics", &["DK", "SE", "NO", "IS"]),
    ("Central Europe", &["CZ", "PL", "HU"]),
    ("North America", &["US", "CA"]),
    ("Latin America", &["MX", "BR", "AR", "PE"]),
    ("Africa and the Gulf", &["ZA", "MA", "EG", "KE", "AE"]),
    ("East Asia", &["JP", "KR", "HK"]),
    ("South and Southeast Asia", &["TH", "SG", "ID", "VN", "IN"]),
    ("Oceania", &["AU", "NZ"]),
];

fn region_of(country: &str) -> usize {
    REGIONS.iter().position(|(_, cs)| cs.contains(&country)).unwrap_or(0)
}

/// The seasons a guest likes to travel in, as months.
const SEASONS: &[(&str, &[i8])] = &[
    ("summer", &[6, 7, 8, 9]),
    ("winter", &[12, 1, 2, 3]),
    ("spring and autumn", &[4, 5, 10, 11]),
    ("any time", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
];

/// How the past bookings of guests with tastes are generated: the parameters shown beside
/// the recommendation figures, so a reader knows what the evaluation was measured on.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryParams {
    /// How many guests, each with a persona.
    pub guests: usize,
    pub seed: u64,
    /// Stays end in the last this many days (check-out at least a day before now).
    pub days: i64,
    /// Fewest and most stays per guest.
    pub stays: (u32, u32),
    /// Fewest and most favourite cities per persona, in its home region.
    pub favourite_cities: (usize, usize),
    /// Share of stays in a favourite city (the rest: another city of the home region, or of
    /// a second region for the personas that have one).
    pub loyalty: f64,
    /// Share of personas with a second region.
    pub second_region: f64,
    /// Within a city, how much more likely a stay of a favourite type is.
    pub type_affinity: f64,
    /// Within a city, how much more likely a stay in the persona's price band is (half as
    /// much for the next band).
    pub band_affinity: f64,
    /// Share of stays chosen at random among all stays, whatever the persona.
    pub noise: f64,
    /// Share of bookings cancelled a day after they were made.
    pub cancel_rate: f64,
}

impl Default for HistoryParams {
    fn default() -> Self {
        HistoryParams {
            guests: 300,
            seed: 7,
            days: 540,
            stays: (4, 9),
            favourite_cities: (2, 4),
            loyalty: 0.7,
            second_region: 0.3,
            type_affinity: 4.0,
            band_affinity: 3.0,
            noise: 0.1,
            cancel_rate: 0.05,
        }
    }
}

impl std::fmt::Display for HistoryParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} guests (seed {}), {}-{} stays each over the last {} days at pay-at-property stays; \
             persona: a home region with {}-{} favourite cities (loyalty {:.2}), a second region for {:.0}%, \
             1-2 favourite types (x{:.1}), a price band (x{:.1}), a trip length of 1-7 nights, a season; \
             noise {:.2}, cancelled {:.2}",
            self.guests,
            self.seed,
            self.stays.0,
            self.stays.1,
            self.days,
            self.favourite_cities.0,
            self.favourite_cities.1,
            self.loyalty,
            self.second_region * 100.0,
            self.type_affinity,
            self.band_affinity,
            self.noise,
            self.cancel_rate
        )
    }
}

/// What the history generator wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct HistorySummary {
    pub params: HistoryParams,
    pub guests: usize,
    pub bookings: usize,
    pub cancelled: usize,
    /// Stays not booked because the nights were taken (another stay was tried instead).
    pub sold_out: usize,
}

impl std::fmt::Display for HistorySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} guests, {} bookings ({} cancelled, {} refused as sold out); {}",
            self.guests, self.bookings, self.cancelled, self.sold_out, self.params
        )
    }
}

/// A stay a guest can book without paying first, with what the persona choice needs.
struct Candidate {
    facts: innkeep_app::recommend::Facts,
    region: usize,
    /// Room types: id, most adults.
    room_types: Vec<(RoomTypeId, u16)>,
    /// How much guests like it, whatever their taste (a few places are much liked).
    appeal: f64,
}

/// A guest's tastes.
struct Persona {
    cities: Vec<String>,
    regions: Vec<usize>,
    kinds: Vec<PropertyType>,
    band: innkeep_app::recommend::PriceBand,
    nights: i64,
    months: &'static [i8],
    adults: u16,
}

fn pick_weighted<'a>(
    rng: &mut ChaCha8Rng,
    items: &[&'a Candidate],
    weight: impl Fn(&Candidate) -> f64,
) -> Option<&'a Candidate> {
    let total: f64 = items.iter().map(|c| weight(c)).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.random_range(0.0..total);
    for c in items {
        x -= weight(c);
        if x <= 0.0 {
            return Some(c);
        }
    }
    items.last().copied()
}

/// Past bookings of `params.guests` new guests with tastes (see [`HistoryParams`]), at the
/// properties already loaded whose guests pay at the property, booked, confirmed, checked
/// in and completed (or cancelled) through the use cases at the times they happened. Does
/// nothing if the history's first guest exists already.
pub async fn history(ports: &Ports, params: &HistoryParams) -> anyhow::Result<HistorySummary> {
    let mut summary = HistorySummary { params: params.clone(), guests: 0, bookings: 0, cancelled: 0, sold_out: 0 };
    if ports.store.user_credentials(&Email::parse("traveller0@demo.innkeep.dev")?).await?.is_some() {
        tracing::info!("demo history already loaded");
        return Ok(summary);
    }
    let now = ports.clock.now();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let (mut properties, mut room_types) = innkeep_app::store::catalogue(ports.store.as_ref()).await?;
    // Ids are random within the instant they were made: order by the generated place, so
    // the same seed gives the same history.
    properties.sort_by(|a, b| {
        (a.draft.latitude, a.draft.longitude)
            .partial_cmp(&(b.draft.latitude, b.draft.longitude))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    room_types.sort_by(|a, b| (a.property_id, &a.draft.name).cmp(&(b.property_id, &b.draft.name)));
    let facts = innkeep_app::recommend::Facts::of_catalog(&properties, &room_types);
    let mut rts: std::collections::HashMap<PropertyId, Vec<(RoomTypeId, u16)>> = Default::default();
    for rt in room_types.iter().filter(|rt| rt.draft.units > 0) {
        rts.entry(rt.property_id).or_default().push((rt.id, rt.draft.occupancy.max_adults));
    }
    let candidates: Vec<Candidate> = properties
        .iter()
        .zip(facts)
        .filter(|(p, f)| p.draft.payment_timing == PaymentTiming::AtProperty && f.band.is_some())
        .filter_map(|(p, facts)| {
            let room_types = rts.remove(&p.id)?;
            let region = region_of(&facts.country);
            Some(Candidate { facts, region, room_types, appeal: 0.0 })
        })
        .map(|mut c| {
            // Log-normal appeal: most places alike, a few liked much more.
            let z: f64 = (0..4).map(|_| rng.random_range(-1.0..1.0)).sum::<f64>() * 0.6;
            c.appeal = z.exp();
            c
        })
        .collect();
    if candidates.is_empty() {
        return Ok(summary);
    }
    let all: Vec<&Candidate> = candidates.iter().collect();
    let mut by_city: std::collections::BTreeMap<&str, Vec<&Candidate>> = Default::default();
    let mut by_region: Vec<Vec<&Candidate>> = vec![Vec::new(); REGIONS.len()];
    for c in &candidates {
        by_city.entry(c.facts.city.as_str()).or_default().push(c);
        by_region[c.region].push(c);
    }
    let regions: Vec<usize> = (0..REGIONS.len()).filter(|r| !by_region[*r].is_empty()).collect();
    let kinds = [
        PropertyType::Apartment,
        PropertyType::House,
        PropertyType::Villa,
        PropertyType::Cabin,
        PropertyType::Guesthouse,
        PropertyType::BedAndBreakfast,
        PropertyType::Hostel,
    ];
    let bands = [
        innkeep_app::recommend::PriceBand::Budget,
        innkeep_app::recommend::PriceBand::Mid,
        innkeep_app::recommend::PriceBand::Upper,
    ];
    let days = |n: i64| jiff::SignedDuration::from_hours(24 * n);
    let utc = |t: Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let staff = Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None);
    const FIRST: &[&str] =
        &["Alex", "Maria", "João", "Yuki", "Sam", "Lea", "Omar", "Priya", "Jonas", "Elena", "Kofi", "Mei"];
    const LAST: &[&str] = &["Silva", "Müller", "Rossi", "Kim", "Novak", "Smith", "Haddad", "Sato", "Okafor", "Larsen"];
    for g in 0..params.guests {
        let name = format!("{} {}", FIRST[g % FIRST.len()], LAST[(g / FIRST.len()) % LAST.len()]);
        let user = innkeep_app::store::User {
            id: UserId::new_v7(now),
            email: Email::parse(&format!("traveller{g}@demo.innkeep.dev"))?,
            name,
            role: Role::Guest,
            tenant_id: None,
            staff_role: None,
            created_at: now.checked_sub(days(params.days + 120))?,
            locale: Default::default(),
            currency: None,
        };
        let change = Change::UserRegistered(innkeep_app::event::UserRegistered { user_id: user.id, role: Role::Guest });
        let event = Event::new(&change, user.created_at, None, user.id.0);
        let new = innkeep_app::store::NewUser { user: user.clone(), password_hash: "!".into(), tenant_name: None };
        ports.store.create_user(&new, &event).await?;
        summary.guests += 1;

        // The persona.
        let home = regions[rng.random_range(0..regions.len())];
        let mut persona_regions = vec![home];
        if rng.random_bool(params.second_region) {
            let other = regions[rng.random_range(0..regions.len())];
            if other != home {
                persona_regions.push(other);
            }
        }
        let mut home_cities: Vec<&str> = by_region[home].iter().map(|c| c.facts.city.as_str()).collect();
        home_cities.sort_unstable();
        home_cities.dedup();
        let wanted = rng.random_range(params.favourite_cities.0..=params.favourite_cities.1).min(home_cities.len());
        let cities: Vec<String> = home_cities.choose_multiple(&mut rng, wanted).map(|c| c.to_string()).collect();
        let favourite_kinds = rng.random_range(1..=2);
        let kinds: Vec<PropertyType> = kinds.choose_multiple(&mut rng, favourite_kinds).copied().collect();
        let persona = Persona {
            cities,
            regions: persona_regions,
            kinds,
            band: bands[rng.random_range(0..bands.len())],
            nights: rng.random_range(1..=7),
            months: SEASONS[rng.random_range(0..SEASONS.len())].1,
            adults: rng.random_range(1..=2),
        };
        let weight = |c: &Candidate| {
            let kind = if persona.kinds.contains(&c.facts.kind) { params.type_affinity } else { 1.0 };
            let band = match c.facts.band {
                Some(b) if b == persona.band => params.band_affinity,
                Some(b) if b.rank().abs_diff(persona.band.rank()) == 1 => params.band_affinity / 2.0,
                _ => 1.0,
            };
            kind * band * c.appeal
        };
        let actor = Actor::new(user.id, Role::Guest, None);
        let stays = rng.random_range(params.stays.0..=params.stays.1);
        for s in 0..stays {
            // Where: a favourite city, else a city of one of the persona's regions; now and
            // then anywhere at all.
            let pool: Vec<&Candidate> = if rng.random_bool(params.noise) {
                all.clone()
            } else if rng.random_bool(params.loyalty) && !persona.cities.is_empty() {
                let city = &persona.cities[rng.random_range(0..persona.cities.len())];
                by_city.get(city.as_str()).cloned().unwrap_or_default()
            } else {
                by_region[persona.regions[rng.random_range(0..persona.regions.len())]].clone()
            };
            // When: a check-in in a liked month, check-out at least a day before now.
            let nights = (persona.nights + rng.random_range(-1..=1)).max(1);
            let mut check_in_at = now;
            for _ in 0..12 {
                check_in_at = now.checked_sub(days(rng.random_range(nights + 1..params.days)))?;
                if persona.months.contains(&utc(check_in_at).month()) {
                    break;
                }
            }
            let check_out_at = check_in_at.checked_add(days(nights))?;
            let booked_at = check_in_at.checked_sub(days(rng.random_range(3..90)))?;
            let mut placed = None;
            for attempt in 0..3 {
                let Some(c) = pick_weighted(&mut rng, &pool, weight) else { break };
                let (rt, max_adults) = c.room_types[rng.random_range(0..c.room_types.len())];
                let cmd = PlaceBooking {
                    room_type_id: rt,
                    check_in: utc(check_in_at),
                    check_out: utc(check_out_at),
                    party: Party::new(persona.adults.min(max_adults).max(1), 0),
                    guest: GuestContact { name: user.name.clone(), email: user.email.as_str().into(), phone: None },
                    idempotency_key: Some(format!("history-{g}-{s}-{attempt}")),
                };
                match booking::place_booking(ports, &actor, cmd, booked_at).await {
                    Ok(p) => {
                        placed = Some(p.booking);
                        break;
                    }
                    Err(innkeep_app::AppError::SoldOut { .. }) => summary.sold_out += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            let Some(b) = placed else { continue };
            summary.bookings += 1;
            booking::act(ports, &actor, b.id, Action::Confirm, booked_at).await?;
            if rng.random_bool(params.cancel_rate) {
                booking::act(ports, &actor, b.id, Action::Cancel, booked_at.checked_add(days(1))?).await?;
                summary.cancelled += 1;
            } else {
                booking::act(ports, &staff, b.id, Action::CheckIn, check_in_at).await?;
                booking::act(ports, &staff, b.id, Action::Complete, check_out_at).await?;
            }
        }
    }
    Ok(summary)
}
