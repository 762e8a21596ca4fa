//! A tenant's document as four CSV files, and read back: `properties.csv`, `room-types.csv`,
//! `rates.csv` and `bookings.csv`, one row per item with a header row, every field of the
//! document in a column, so the files round-trip without loss. Plain values are plain cells
//! (amounts in minor units, dates `YYYY-MM-DD`, times RFC 3339, an empty cell for "none");
//! an address is up to four line columns, amenities are names joined by `;`, and the two
//! structured fields a spreadsheet does not edit (a room type's rate plan, a booking's
//! priced quote) are JSON in one cell. The first columns are the ones a person reads first,
//! in the order earlier exports wrote them; the rest follow. Free text that a spreadsheet
//! would run as a formula (a guest named `=HYPERLINK(...)`, a phone `+351 ...`) is written
//! with a leading `'`, which reading takes off again ([`cell`], [`uncell`]).

use super::{FORMAT, MAX_ROWS, RateRow, TenantData, VERSION};
use crate::error::AppError;
use crate::store::{Booking, GuestContact, Property, RoomType};
use innkeep_core::{
    Address, Amenity, BookingId, BookingStatus, CancellationPolicy, CountryCode, Currency, Money, NightOverride,
    Occupancy, PaymentTiming, PropertyDraft, PropertyId, PropertyType, RatePlan, RoomTypeDraft, RoomTypeId, TenantId,
    TimeZoneName, UserId,
};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The CSV files a document is written as, in the order they are read.
pub const CSV_FILES: [&str; 4] = ["properties.csv", "room-types.csv", "rates.csv", "bookings.csv"];

/// The files without which there is no document to read (rates and bookings may be absent:
/// a tenant with none).
const REQUIRED: [&str; 2] = ["properties.csv", "room-types.csv"];

#[derive(Debug, Serialize, Deserialize)]
struct PropertyLine {
    id: PropertyId,
    name: String,
    property_type: PropertyType,
    city: String,
    country: CountryCode,
    latitude: f64,
    longitude: f64,
    time_zone: TimeZoneName,
    currency: Currency,
    cancellation_policy: CancellationPolicy,
    payment_timing: PaymentTiming,
    description: String,
    address_line_1: String,
    address_line_2: String,
    address_line_3: String,
    address_line_4: String,
    region: Option<String>,
    postal_code: Option<String>,
    check_in_time: Time,
    check_out_time: Time,
    /// Amenity names joined by `;`.
    amenities: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

const PROPERTY_COLUMNS: [&str; 23] = [
    "id",
    "name",
    "property_type",
    "city",
    "country",
    "latitude",
    "longitude",
    "time_zone",
    "currency",
    "cancellation_policy",
    "payment_timing",
    "description",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "region",
    "postal_code",
    "check_in_time",
    "check_out_time",
    "amenities",
    "created_at",
    "updated_at",
];

#[derive(Debug, Serialize, Deserialize)]
struct RoomTypeLine {
    id: RoomTypeId,
    property_id: PropertyId,
    name: String,
    units: u32,
    base_rate_minor: i64,
    max_adults: u16,
    max_children: u16,
    min_stay: u16,
    max_stay: u16,
    max_total: u16,
    description: String,
    beds: String,
    /// The rate plan as JSON.
    rate_plan: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

const ROOM_TYPE_COLUMNS: [&str; 15] = [
    "id",
    "property_id",
    "name",
    "units",
    "base_rate_minor",
    "max_adults",
    "max_children",
    "min_stay",
    "max_stay",
    "max_total",
    "description",
    "beds",
    "rate_plan",
    "created_at",
    "updated_at",
];

#[derive(Debug, Serialize, Deserialize)]
struct RateLine {
    room_type_id: RoomTypeId,
    night: Date,
    price_minor: Option<i64>,
    closed: Option<bool>,
    min_stay: Option<u16>,
    units: Option<u32>,
}

const RATE_COLUMNS: [&str; 6] = ["room_type_id", "night", "price_minor", "closed", "min_stay", "units"];

#[derive(Debug, Serialize, Deserialize)]
struct BookingLine {
    id: BookingId,
    status: BookingStatus,
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    check_in: Date,
    check_out: Date,
    adults: u16,
    children: u16,
    guest_name: String,
    guest_email: String,
    guest_phone: Option<String>,
    total_minor: i64,
    currency: Currency,
    created_at: Timestamp,
    refund_minor: Option<i64>,
    hold_expires_at: Option<Timestamp>,
    updated_at: Timestamp,
    /// The priced quote as JSON.
    quote: String,
    /// Units of the room type taken (a file written before bookings had rooms has one).
    #[serde(default = "innkeep_core::one_room")]
    rooms: u16,
    /// The children's ages as given when booking, `;` between them ("" if not given).
    #[serde(default)]
    child_ages: String,
}

/// The columns of bookings.csv; a file must have all but the last two (`rooms` and
/// `child_ages`, newer).
const BOOKING_COLUMNS: [&str; 20] = [
    "id",
    "status",
    "property_id",
    "room_type_id",
    "check_in",
    "check_out",
    "adults",
    "children",
    "guest_name",
    "guest_email",
    "guest_phone",
    "total_minor",
    "currency",
    "created_at",
    "refund_minor",
    "hold_expires_at",
    "updated_at",
    "quote",
    "rooms",
    "child_ages",
];

/// Whether a spreadsheet would take text as a formula (or it is already marked as text).
fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) || s.strip_prefix('\'').is_some_and(formula_like)
}

/// Free text as a cell a spreadsheet shows as text: a leading `'` when it would be a formula.
fn cell(s: &str) -> String {
    if formula_like(s) { format!("'{s}") } else { s.to_string() }
}

/// A cell's text as it was before [`cell`].
fn uncell(s: String) -> String {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest.to_string(),
        _ => s,
    }
}

/// A value's JSON name (`"guesthouse"` -> `guesthouse`).
fn name_of(v: &impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn json(v: &impl Serialize) -> Result<String, csv::Error> {
    serde_json::to_string(v).map_err(|e| csv::Error::from(std::io::Error::other(e)))
}

fn property_line(p: &Property) -> PropertyLine {
    let d = &p.draft;
    let line = |i: usize| d.address.lines.get(i).map(|l| cell(l)).unwrap_or_default();
    PropertyLine {
        id: p.id,
        name: cell(&d.name),
        property_type: d.property_type,
        city: cell(&d.address.city),
        country: d.address.country,
        latitude: d.latitude,
        longitude: d.longitude,
        time_zone: d.time_zone.clone(),
        currency: d.currency,
        cancellation_policy: d.cancellation_policy,
        payment_timing: d.payment_timing,
        description: cell(&d.description),
        address_line_1: line(0),
        address_line_2: line(1),
        address_line_3: line(2),
        address_line_4: line(3),
        region: d.address.region.as_deref().map(cell),
        postal_code: d.address.postal_code.as_deref().map(cell),
        check_in_time: d.check_in_time,
        check_out_time: d.check_out_time,
        amenities: d.amenities.iter().map(name_of).collect::<Vec<_>>().join(";"),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn room_type_line(rt: &RoomType) -> Result<RoomTypeLine, csv::Error> {
    let d = &rt.draft;
    Ok(RoomTypeLine {
        id: rt.id,
        property_id: rt.property_id,
        name: cell(&d.name),
        units: d.units,
        base_rate_minor: d.base_rate_minor,
        max_adults: d.occupancy.max_adults,
        max_children: d.occupancy.max_children,
        min_stay: d.min_stay,
        max_stay: d.max_stay,
        max_total: d.occupancy.max_total,
        description: cell(&d.description),
        beds: cell(&d.beds),
        rate_plan: json(&d.rate_plan)?,
        created_at: rt.created_at,
        updated_at: rt.updated_at,
    })
}

fn booking_line(b: &Booking) -> Result<BookingLine, csv::Error> {
    Ok(BookingLine {
        id: b.id,
        status: b.status,
        property_id: b.property_id,
        room_type_id: b.room_type_id,
        check_in: b.check_in,
        check_out: b.check_out,
        adults: b.adults,
        children: b.children,
        guest_name: cell(&b.guest.name),
        guest_email: cell(&b.guest.email),
        guest_phone: b.guest.phone.as_deref().map(cell),
        total_minor: b.total.minor,
        currency: b.total.currency,
        created_at: b.created_at,
        refund_minor: b.refund.map(|r| r.minor),
        hold_expires_at: b.hold_expires_at,
        updated_at: b.updated_at,
        quote: json(&b.quote)?,
        rooms: b.rooms,
        child_ages: b.child_ages.as_slice().iter().map(u8::to_string).collect::<Vec<_>>().join(";"),
    })
}

/// One kind of a document as CSV (one of [`CSV_FILES`]; bookings for any other name).
pub fn to_csv(data: &TenantData, file: &str) -> Result<String, String> {
    write_csv(data, file).map_err(|e| e.to_string())
}

fn write_csv(data: &TenantData, file: &str) -> Result<String, csv::Error> {
    // The header is written by hand so that a file with no rows still has one.
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    match file {
        "properties.csv" => {
            w.write_record(PROPERTY_COLUMNS)?;
            for p in &data.properties {
                w.serialize(property_line(p))?;
            }
        }
        "room-types.csv" => {
            w.write_record(ROOM_TYPE_COLUMNS)?;
            for rt in &data.room_types {
                w.serialize(room_type_line(rt)?)?;
            }
        }
        "rates.csv" => {
            w.write_record(RATE_COLUMNS)?;
            for r in &data.rates {
                let c = &r.change;
                w.serialize(RateLine {
                    room_type_id: r.room_type_id,
                    night: r.night,
                    price_minor: c.price_minor,
                    closed: c.closed,
                    min_stay: c.min_stay,
                    units: c.units,
                })?;
            }
        }
        _ => {
            w.write_record(BOOKING_COLUMNS)?;
            for b in &data.bookings {
                w.serialize(booking_line(b)?)?;
            }
        }
    }
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A problem in one file, said with its line.
fn problem(file: &str, line: Option<u64>, what: impl std::fmt::Display) -> AppError {
    let at = line.map(|l| format!(" line {l}")).unwrap_or_default();
    AppError::invalid("file", "invalid_csv", format!("{file}{at}: {what}"))
}

/// Every row of one file, or the first problem with its line.
fn rows<T: DeserializeOwned>(file: &str, bytes: &[u8], columns: &[&str]) -> Result<Vec<T>, AppError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes); // a spreadsheet's BOM
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader.headers().map_err(|e| problem(file, Some(1), e))?.clone();
    if let Some(missing) = columns.iter().find(|c| !header.iter().any(|h| h == **c)) {
        return Err(problem(file, Some(1), format!("no column {missing:?} (the header names the columns)")));
    }
    let mut out = Vec::new();
    for row in reader.deserialize::<T>() {
        let row = row.map_err(|e| {
            let line = e.position().map(|p| p.line());
            let what = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(i) => format!("{}: {}", header.get(i as usize).unwrap_or("?"), err.kind()),
                    None => err.kind().to_string(),
                },
                _ => e.to_string(),
            };
            problem(file, line, what)
        })?;
        out.push(row);
        if out.len() > MAX_ROWS {
            return Err(problem(file, None, format!("more than {MAX_ROWS} rows")));
        }
    }
    Ok(out)
}

fn from_json<T: DeserializeOwned>(file: &str, row: usize, column: &str, text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| problem(file, Some(row as u64 + 2), format!("{column}: {e}")))
}

/// A document from its CSV files (`(name, bytes)`; names as [`CSV_FILES`], any others
/// refused), for `tenant`, exported `now`. Every field is checked as the JSON document's
/// would be; the import then checks the whole.
pub fn from_csv(files: &[(String, Vec<u8>)], tenant: TenantId, now: Timestamp) -> Result<TenantData, AppError> {
    let mut given: Vec<Option<&[u8]>> = vec![None; CSV_FILES.len()];
    for (name, bytes) in files {
        let Some(i) = CSV_FILES.iter().position(|f| f == name) else {
            return Err(problem(name, None, format!("not one of {}", CSV_FILES.join(", "))));
        };
        if given[i].replace(bytes).is_some() {
            return Err(problem(name, None, "given twice"));
        }
    }
    for (i, name) in CSV_FILES.iter().enumerate() {
        if given[i].is_none() && REQUIRED.contains(name) {
            let said = format!("both properties.csv and room-types.csv are needed: {name} is missing");
            return Err(AppError::invalid("file", "invalid_csv", said));
        }
    }
    // An absent file is a kind with no rows.
    fn all<T: DeserializeOwned>(given: &[Option<&[u8]>], i: usize, columns: &[&str]) -> Result<Vec<T>, AppError> {
        given[i].map_or(Ok(Vec::new()), |bytes| rows(CSV_FILES[i], bytes, columns))
    }
    let lines: Vec<PropertyLine> = all(&given, 0, &PROPERTY_COLUMNS)?;
    let mut properties = Vec::with_capacity(lines.len());
    for (n, l) in lines.into_iter().enumerate() {
        let mut amenities = Vec::new();
        for name in l.amenities.split(';').map(str::trim).filter(|a| !a.is_empty()) {
            let a: Amenity = serde_json::from_value(serde_json::Value::String(name.to_string()))
                .map_err(|_| problem(CSV_FILES[0], Some(n as u64 + 2), format!("amenities: no amenity {name:?}")))?;
            amenities.push(a);
        }
        let lines = [l.address_line_1, l.address_line_2, l.address_line_3, l.address_line_4]
            .into_iter()
            .filter(|line| !line.is_empty())
            .map(uncell)
            .collect();
        properties.push(Property {
            id: l.id,
            tenant_id: tenant,
            draft: PropertyDraft {
                name: uncell(l.name),
                description: uncell(l.description),
                property_type: l.property_type,
                address: Address {
                    lines,
                    city: uncell(l.city),
                    region: l.region.map(uncell),
                    postal_code: l.postal_code.map(uncell),
                    country: l.country,
                },
                latitude: l.latitude,
                longitude: l.longitude,
                time_zone: l.time_zone,
                currency: l.currency,
                check_in_time: l.check_in_time,
                check_out_time: l.check_out_time,
                amenities,
                cancellation_policy: l.cancellation_policy,
                payment_timing: l.payment_timing,
            },
            created_at: l.created_at,
            updated_at: l.updated_at,
        });
    }
    let lines: Vec<RoomTypeLine> = all(&given, 1, &ROOM_TYPE_COLUMNS)?;
    let mut room_types = Vec::with_capacity(lines.len());
    for (n, l) in lines.into_iter().enumerate() {
        let rate_plan: RatePlan = from_json(CSV_FILES[1], n, "rate_plan", &l.rate_plan)?;
        room_types.push(RoomType {
            id: l.id,
            property_id: l.property_id,
            tenant_id: tenant,
            draft: RoomTypeDraft {
                name: uncell(l.name),
                description: uncell(l.description),
                occupancy: Occupancy { max_adults: l.max_adults, max_children: l.max_children, max_total: l.max_total },
                beds: uncell(l.beds),
                units: l.units,
                base_rate_minor: l.base_rate_minor,
                min_stay: l.min_stay,
                max_stay: l.max_stay,
                rate_plan,
            },
            created_at: l.created_at,
            updated_at: l.updated_at,
        });
    }
    let rates = all::<RateLine>(&given, 2, &RATE_COLUMNS)?
        .into_iter()
        .map(|l| RateRow {
            room_type_id: l.room_type_id,
            night: l.night,
            change: NightOverride {
                price_minor: l.price_minor,
                closed: l.closed,
                min_stay: l.min_stay,
                units: l.units,
            },
        })
        .collect();
    let lines: Vec<BookingLine> = all(&given, 3, &BOOKING_COLUMNS[..18])?;
    let mut bookings = Vec::with_capacity(lines.len());
    for (n, l) in lines.into_iter().enumerate() {
        let quote: innkeep_core::Quote = from_json(CSV_FILES[3], n, "quote", &l.quote)?;
        let mut ages = Vec::new();
        for a in l.child_ages.split(';').map(str::trim).filter(|a| !a.is_empty()) {
            ages.push(
                a.parse::<u8>().map_err(|_| {
                    problem(CSV_FILES[3], Some(n as u64 + 2), format!("child_ages: {a:?} is not an age"))
                })?,
            );
        }
        let child_ages = innkeep_core::ChildAges::new(&ages)
            .ok_or_else(|| problem(CSV_FILES[3], Some(n as u64 + 2), "child_ages: more ages than a party may name"))?;
        if quote.currency != l.currency {
            return Err(problem(CSV_FILES[3], Some(n as u64 + 2), "quote: not in the booking's currency"));
        }
        bookings.push(Booking {
            id: l.id,
            status: l.status,
            tenant_id: tenant,
            property_id: l.property_id,
            room_type_id: l.room_type_id,
            // The importing owner's, as the JSON document's bookings become.
            user_id: UserId(uuid::Uuid::nil()),
            check_in: l.check_in,
            check_out: l.check_out,
            adults: l.adults,
            children: l.children,
            rooms: l.rooms,
            child_ages,
            guest: GuestContact {
                name: uncell(l.guest_name),
                email: uncell(l.guest_email),
                phone: l.guest_phone.map(uncell),
            },
            quote,
            total: Money::new(l.total_minor, l.currency),
            refund: l.refund_minor.map(|r| Money::new(r, l.currency)),
            hold_expires_at: l.hold_expires_at,
            created_at: l.created_at,
            updated_at: l.updated_at,
        });
    }
    Ok(TenantData {
        format: FORMAT.to_string(),
        version: VERSION,
        exported_at: now,
        tenant_id: tenant,
        properties,
        room_types,
        rates,
        bookings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_columns_are_the_rows_fields_in_order() {
        fn header(row: impl Serialize) -> String {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.serialize(row).unwrap();
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            text.lines().next().unwrap().to_string()
        }
        let t = Timestamp::UNIX_EPOCH;
        let c = Currency::parse("EUR").unwrap();
        let p = PropertyLine {
            id: PropertyId(uuid::Uuid::nil()),
            name: String::new(),
            property_type: PropertyType::Hotel,
            city: String::new(),
            country: CountryCode::try_from("PT".to_string()).unwrap(),
            latitude: 0.0,
            longitude: 0.0,
            time_zone: TimeZoneName::try_from("UTC".to_string()).unwrap(),
            currency: c,
            cancellation_policy: CancellationPolicy::Flexible,
            payment_timing: PaymentTiming::default(),
            description: String::new(),
            address_line_1: String::new(),
            address_line_2: String::new(),
            address_line_3: String::new(),
            address_line_4: String::new(),
            region: None,
            postal_code: None,
            check_in_time: Time::midnight(),
            check_out_time: Time::midnight(),
            amenities: String::new(),
            created_at: t,
            updated_at: t,
        };
        assert_eq!(header(p), PROPERTY_COLUMNS.join(","));
        let rt = RoomTypeLine {
            id: RoomTypeId(uuid::Uuid::nil()),
            property_id: PropertyId(uuid::Uuid::nil()),
            name: String::new(),
            units: 1,
            base_rate_minor: 1,
            max_adults: 1,
            max_children: 0,
            min_stay: 1,
            max_stay: 1,
            max_total: 1,
            description: String::new(),
            beds: String::new(),
            rate_plan: String::new(),
            created_at: t,
            updated_at: t,
        };
        assert_eq!(header(rt), ROOM_TYPE_COLUMNS.join(","));
        let r = RateLine {
            room_type_id: RoomTypeId(uuid::Uuid::nil()),
            night: Date::constant(2027, 1, 1),
            price_minor: None,
            closed: None,
            min_stay: None,
            units: None,
        };
        assert_eq!(header(r), RATE_COLUMNS.join(","));
        let b = BookingLine {
            id: BookingId(uuid::Uuid::nil()),
            status: BookingStatus::Held,
            property_id: PropertyId(uuid::Uuid::nil()),
            room_type_id: RoomTypeId(uuid::Uuid::nil()),
            check_in: Date::constant(2027, 1, 1),
            check_out: Date::constant(2027, 1, 2),
            adults: 1,
            children: 0,
            guest_name: String::new(),
            guest_email: String::new(),
            guest_phone: None,
            total_minor: 0,
            currency: c,
            created_at: t,
            refund_minor: None,
            hold_expires_at: None,
            updated_at: t,
            quote: String::new(),
            rooms: 1,
            child_ages: String::new(),
        };
        assert_eq!(header(b), BOOKING_COLUMNS.join(","));
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_marked_and_read_back_as_it_was() {
        for (text, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+351 912 345 678", "'+351 912 345 678"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("'=already marked", "''=already marked"),
            ("'quoted", "'quoted"),
            ("Ana Silva", "Ana Silva"),
            ("", ""),
        ] {
            assert_eq!(cell(text), written, "{text}");
            assert_eq!(uncell(cell(text)), text, "{text}");
        }
    }

    #[test]
    fn files_missing_unknown_or_broken_are_refused_with_their_line() {
        let t = TenantId(uuid::Uuid::nil());
        let now = Timestamp::UNIX_EPOCH;
        let empty = |name: &str, cols: &[&str]| (name.to_string(), format!("{}\n", cols.join(",")).into_bytes());
        let base = vec![empty("properties.csv", &PROPERTY_COLUMNS), empty("room-types.csv", &ROOM_TYPE_COLUMNS)];
        let doc = from_csv(&base, t, now).unwrap();
        assert!(doc.properties.is_empty() && doc.bookings.is_empty());

        let said = |files: &[(String, Vec<u8>)]| match from_csv(files, t, now) {
            Err(AppError::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(said(&base[..1]).contains("room-types.csv is missing"));
        let mut unknown = base.clone();
        unknown.push(("secrets.csv".into(), Vec::new()));
        assert!(said(&unknown).contains("secrets.csv: not one of"));
        let mut twice = base.clone();
        twice.push(base[0].clone());
        assert!(said(&twice).contains("given twice"));
        let mut short = base.clone();
        short[1] = ("room-types.csv".into(), b"id,name\n".to_vec());
        assert!(said(&short).contains("room-types.csv line 1: no column \"property_id\""), "{}", said(&short));
        let mut bad = base.clone();
        let row = "01a2e024-3900-7000-8000-000000000001,01a2e024-3900-7000-8000-000000000002,Room,many,100,2,0,1,30,2,,,{},2027-01-01T00:00:00Z,2027-01-01T00:00:00Z";
        bad[1] = ("room-types.csv".into(), format!("{}\n{row}\n", ROOM_TYPE_COLUMNS.join(",")).into_bytes());
        assert!(said(&bad).contains("room-types.csv line 2: units"), "{}", said(&bad));
    }
}

#[cfg(test)]
mod booking_rows {
    use super::*;

    #[test]
    fn a_bookings_rooms_and_childrens_ages_come_back_from_csv() {
        let t = TenantId(uuid::Uuid::nil());
        let now = Timestamp::UNIX_EPOCH;
        let eur = Currency::parse("EUR").unwrap();
        let total = Money::new(10_000, eur);
        let stay = innkeep_core::Stay::range("2027-01-01".parse().unwrap(), "2027-01-02".parse().unwrap()).unwrap();
        let party =
            innkeep_core::Party::new(2, 2).in_rooms(2).with_ages(innkeep_core::ChildAges::new(&[4, 9]).unwrap());
        let quote =
            innkeep_core::Quote::compute(&innkeep_core::RatePlan::default(), 5_000, eur, &stay, party, |_| None)
                .unwrap();
        let b = Booking {
            id: BookingId(uuid::Uuid::now_v7()),
            status: BookingStatus::Confirmed,
            tenant_id: t,
            property_id: PropertyId(uuid::Uuid::now_v7()),
            room_type_id: RoomTypeId(uuid::Uuid::now_v7()),
            user_id: UserId(uuid::Uuid::nil()),
            check_in: stay.check_in(),
            check_out: stay.check_out(),
            adults: 2,
            children: 2,
            rooms: 2,
            child_ages: party.ages,
            guest: GuestContact { name: "Ana".into(), email: "ana@example.com".into(), phone: None },
            quote,
            total,
            refund: None,
            hold_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        let data = TenantData {
            format: FORMAT.to_string(),
            version: VERSION,
            exported_at: now,
            tenant_id: t,
            properties: Vec::new(),
            room_types: Vec::new(),
            rates: Vec::new(),
            bookings: vec![b],
        };
        let files: Vec<(String, Vec<u8>)> =
            CSV_FILES.iter().map(|f| (f.to_string(), to_csv(&data, f).unwrap().into_bytes())).collect();
        let back = from_csv(&files, t, now).unwrap();
        let b = &back.bookings[0];
        assert_eq!((b.rooms, b.child_ages.as_slice()), (2, &[4u8, 9][..]));
        // A file from before these columns reads as one room, no ages.
        let old: String = to_csv(&data, "bookings.csv")
            .unwrap()
            .lines()
            .map(|l| l.rsplitn(3, ',').last().unwrap().to_string() + "\n")
            .collect();
        let mut files = files;
        files[3].1 = old.into_bytes();
        let back = from_csv(&files, t, now).unwrap();
        assert_eq!((back.bookings[0].rooms, back.bookings[0].child_ages.is_empty()), (1, true));
    }
}
