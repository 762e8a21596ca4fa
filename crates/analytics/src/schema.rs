//! The lake's columns: one table schema that every file's columns are a part of, and the
//! rows of each family of events (bookings, other outbox events, client events) as Arrow
//! record batches. Personal data (guests' names, e-mails, phones, addresses) never enters
//! the lake: booking events keep only their facts, other payloads are scrubbed.

use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use innkeep_app::event::StoredEvent;
use innkeep_core::{BookingId, BookingStatus, Money, PropertyId, RoomTypeId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use std::sync::{Arc, LazyLock};

/// The version of the lake's columns, written into every file (`schema_version` and the
/// Parquet key `innkeep.schema`). Columns are only ever added, as nullable; a change to an
/// existing column's meaning takes a new version.
pub const SCHEMA_VERSION: i32 = 1;

/// Which columns a file of a kind of event has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `booking.*`: the booking's facts at that step.
    Booking,
    /// Every other outbox event: its payload as scrubbed JSON.
    Outbox,
    /// What clients report (`search`, `view`, `click`, `funnel`).
    Client,
}

impl Family {
    /// The family of an event kind.
    pub fn of(kind: &str) -> Family {
        if kind.starts_with("booking.") {
            Family::Booking
        } else if innkeep_app::ingest::KINDS.contains(&kind) {
            Family::Client
        } else {
            Family::Outbox
        }
    }

    /// Its name in the Parquet metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Booking => "booking",
            Family::Outbox => "outbox",
            Family::Client => "client",
        }
    }

    fn columns(&self) -> &'static [&'static str] {
        const COMMON: [&str; 4] = ["event_id", "occurred_at", "schema_version", "tenant_id"];
        match self {
            Family::Booking => &[
                COMMON[0],
                COMMON[1],
                COMMON[2],
                COMMON[3],
                "seq",
                "aggregate_id",
                "booking_id",
                "status",
                "property_id",
                "room_type_id",
                "user_id",
                "check_in",
                "check_out",
                "nights",
                "adults",
                "children",
                "rooms",
                "total_minor",
                "currency",
                "created_at",
            ],
            Family::Outbox => &[COMMON[0], COMMON[1], COMMON[2], COMMON[3], "seq", "aggregate_id", "payload"],
            Family::Client => {
                &[COMMON[0], COMMON[1], COMMON[2], "received_at", "client_id", "user_id", "property_id", "city", "data"]
            }
        }
    }

    /// The columns of its files.
    pub fn schema(&self) -> SchemaRef {
        let all = table_schema();
        let fields: Vec<Field> = self.columns().iter().filter_map(|c| all.field_with_name(c).ok().cloned()).collect();
        Arc::new(Schema::new(fields))
    }
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

static TABLE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        s("event_id"),
        Field::new("occurred_at", timestamp(), true),
        Field::new("schema_version", DataType::Int32, true),
        s("tenant_id"),
        Field::new("seq", DataType::Int64, true),
        s("aggregate_id"),
        s("payload"),
        s("booking_id"),
        s("status"),
        s("property_id"),
        s("room_type_id"),
        s("user_id"),
        Field::new("check_in", DataType::Date32, true),
        Field::new("check_out", DataType::Date32, true),
        Field::new("nights", DataType::Int32, true),
        Field::new("adults", DataType::Int32, true),
        Field::new("children", DataType::Int32, true),
        // Written since bookings have rooms: a file from before reads null (one room).
        Field::new("rooms", DataType::Int32, true),
        Field::new("total_minor", DataType::Int64, true),
        s("currency"),
        Field::new("created_at", timestamp(), true),
        Field::new("received_at", timestamp(), true),
        s("client_id"),
        s("city"),
        s("data"),
    ]))
});

/// Every column any file of the lake may have (all nullable; a file lacks the columns of
/// other families, read as null). The partition columns `kind` and `date` come from paths.
pub fn table_schema() -> SchemaRef {
    TABLE.clone()
}

/// Days since 1970-01-01 (Arrow's Date32).
pub fn days(d: Date) -> i32 {
    Date::new(1970, 1, 1).ok().and_then(|e| e.until(d).ok()).map(|s| s.get_days()).unwrap_or(0)
}

/// The UTC day of an instant.
pub fn utc_date(t: Timestamp) -> Date {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

/// Keys whose values are personal data, dropped from payloads anywhere in them.
const PERSONAL: [&str; 8] = ["guest", "email", "name", "phone", "address", "password", "iban", "ip"];

/// A JSON value without personal data, serialised as it is walked (the tree is not copied).
struct Scrubbed<'a>(&'a serde_json::Value);

impl serde::Serialize for Scrubbed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Object(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m.iter().filter(|(k, _)| !PERSONAL.contains(&k.as_str())) {
                    map.serialize_entry(k, &Scrubbed(v))?;
                }
                map.end()
            }
            serde_json::Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Scrubbed(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The facts of a booking event that the lake keeps, read from its payload in place in one
/// pass over its keys: the guest and the quote (its nights) are skipped, not walked.
struct Facts {
    id: BookingId,
    status: BookingStatus,
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    user_id: UserId,
    check_in: Date,
    check_out: Date,
    adults: u16,
    children: u16,
    rooms: u16,
    total: Money,
    created_at: Timestamp,
}

impl Facts {
    /// The facts of a payload, each read from its key's value in one pass over the keys.
    fn of(payload: &serde_json::Value) -> Option<Facts> {
        fn get<'a, T: Deserialize<'a>>(v: &'a serde_json::Value) -> Option<T> {
            T::deserialize(v).ok()
        }
        let (mut id, mut status, mut property_id, mut room_type_id, mut user_id) = (None, None, None, None, None);
        let (mut check_in, mut check_out, mut adults, mut children) = (None, None, None, None);
        // Written since bookings have rooms: an older payload is one room.
        let (mut rooms, mut total, mut created_at) = (Some(innkeep_core::one_room()), None, None);
        for (k, v) in payload.as_object()? {
            match k.as_str() {
                "id" => id = get(v),
                "status" => status = get(v),
                "property_id" => property_id = get(v),
                "room_type_id" => room_type_id = get(v),
                "user_id" => user_id = get(v),
                "check_in" => check_in = get(v),
                "check_out" => check_out = get(v),
                "adults" => adults = get(v),
                "children" => children = get(v),
                "rooms" => rooms = get(v),
                "total" => total = get(v),
                "created_at" => created_at = get(v),
                _ => {}
            }
        }
        Some(Facts {
            id: id?,
            status: status?,
            property_id: property_id?,
            room_type_id: room_type_id?,
            user_id: user_id?,
            check_in: check_in?,
            check_out: check_out?,
            adults: adults?,
            children: children?,
            rooms: rooms?,
            total: total?,
            created_at: created_at?,
        })
    }
}

/// The builder of one column.
enum Builder {
    S(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Date(Date32Builder),
    Time(TimestampMicrosecondBuilder),
}

/// Builders for the columns of one file, filled a row at a time in the columns' order (each
/// call appends to the next column; its name is checked in debug builds): no lookup by name
/// per value.
struct Columns {
    builders: Vec<Builder>,
    /// The column the next call appends to.
    at: usize,
    schema: SchemaRef,
    /// Where a JSON column's value is written before it is appended.
    json: Vec<u8>,
}

impl Columns {
    fn new(family: Family, rows: usize) -> Columns {
        let schema = family.schema();
        let builders = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 => Builder::S(StringBuilder::with_capacity(rows, rows * 36)),
                DataType::Int32 => Builder::I32(Int32Builder::with_capacity(rows)),
                DataType::Int64 => Builder::I64(Int64Builder::with_capacity(rows)),
                DataType::Date32 => Builder::Date(Date32Builder::with_capacity(rows)),
                _ => Builder::Time(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC")),
            })
            .collect();
        Columns { builders, at: 0, schema, json: Vec::new() }
    }

    /// The builder of the next column, which is `name`.
    fn next(&mut self, name: &str) -> &mut Builder {
        debug_assert_eq!(self.schema.field(self.at).name(), name, "columns appended out of order");
        let i = self.at;
        self.at = (i + 1) % self.builders.len();
        &mut self.builders[i]
    }

    // A value of the wrong type for its column is left out; the batch's columns then differ
    // in length and `finish` refuses it.
    fn s(&mut self, name: &str, v: Option<&str>) {
        if let Builder::S(b) = self.next(name) {
            b.append_option(v);
        }
    }
    /// A UUID in its usual lower-case hyphenated form (formatted without an allocation).
    fn uuid(&mut self, name: &str, v: Option<uuid::Uuid>) {
        if let Builder::S(b) = self.next(name) {
            match v {
                Some(u) => b.append_value(u.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer())),
                None => b.append_null(),
            }
        }
    }
    /// A JSON value without its personal data.
    fn scrubbed(&mut self, name: &str, v: &serde_json::Value) {
        let mut json = std::mem::take(&mut self.json);
        json.clear();
        let text = serde_json::to_writer(&mut json, &Scrubbed(v)).ok().and_then(|()| std::str::from_utf8(&json).ok());
        self.s(name, text);
        self.json = json;
    }
    fn i32(&mut self, name: &str, v: Option<i32>) {
        if let Builder::I32(b) = self.next(name) {
            b.append_option(v);
        }
    }
    fn i64(&mut self, name: &str, v: Option<i64>) {
        if let Builder::I64(b) = self.next(name) {
            b.append_option(v);
        }
    }
    fn date(&mut self, name: &str, v: Option<Date>) {
        if let Builder::Date(b) = self.next(name) {
            b.append_option(v.map(days));
        }
    }
    fn time(&mut self, name: &str, v: Option<Timestamp>) {
        if let Builder::Time(b) = self.next(name) {
            b.append_option(v.map(|t| t.as_microsecond()));
        }
    }

    fn finish(self) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        let arrays: Vec<ArrayRef> = self
            .builders
            .into_iter()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::S(mut b) => Arc::new(b.finish()),
                    Builder::I32(mut b) => Arc::new(b.finish()),
                    Builder::I64(mut b) => Arc::new(b.finish()),
                    Builder::Date(mut b) => Arc::new(b.finish()),
                    Builder::Time(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        RecordBatch::try_new(self.schema, arrays)
    }
}

/// Outbox events of one family as a record batch. A booking event whose payload does not
/// decode is kept with its common columns only.
pub fn outbox_batch(
    family: Family,
    events: &[&StoredEvent],
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let mut c = Columns::new(family, events.len());
    for e in events {
        let ev = &e.event;
        c.uuid("event_id", Some(ev.id.0));
        c.time("occurred_at", Some(ev.occurred_at));
        c.i32("schema_version", Some(SCHEMA_VERSION));
        c.uuid("tenant_id", ev.tenant_id.map(|t| t.0));
        c.i64("seq", Some(e.seq));
        c.uuid("aggregate_id", Some(ev.aggregate_id));
        match family {
            Family::Booking => {
                let b = Facts::of(&ev.payload);
                let b = b.as_ref();
                c.uuid("booking_id", b.map(|b| b.id.0));
                c.s("status", b.map(|b| b.status.as_str()));
                c.uuid("property_id", b.map(|b| b.property_id.0));
                c.uuid("room_type_id", b.map(|b| b.room_type_id.0));
                c.uuid("user_id", b.map(|b| b.user_id.0));
                c.date("check_in", b.map(|b| b.check_in));
                c.date("check_out", b.map(|b| b.check_out));
                c.i32("nights", b.map(|b| days(b.check_out) - days(b.check_in)));
                c.i32("adults", b.map(|b| i32::from(b.adults)));
                c.i32("children", b.map(|b| i32::from(b.children)));
                c.i32("rooms", b.map(|b| i32::from(b.rooms)));
                c.i64("total_minor", b.map(|b| b.total.minor));
                c.s("currency", b.map(|b| b.total.currency.code()));
                c.time("created_at", b.map(|b| b.created_at));
            }
            // The audit log names people by e-mail address and IP in free text: it stays in
            // the database, where erasure and retention apply; the lake keeps that it happened.
            Family::Outbox if ev.kind.as_str() == "audit.recorded" => c.s("payload", None),
            Family::Outbox => c.scrubbed("payload", &ev.payload),
            Family::Client => {}
        }
    }
    c.finish()
}

/// A client event read from its stored line ([`innkeep_app::ingest::ClientEvent`]'s form), borrowing its strings
/// and its `data` from the line.
#[derive(Debug, Deserialize)]
pub struct ClientLine<'a> {
    pub id: uuid::Uuid,
    #[serde(rename = "type", borrow)]
    pub kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub client_id: std::borrow::Cow<'a, str>,
    pub user_id: Option<uuid::Uuid>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub property_id: Option<uuid::Uuid>,
    #[serde(borrow)]
    pub data: Option<&'a serde_json::value::RawValue>,
}

impl<'a> ClientLine<'a> {
    /// The event of a stored line, if it is one.
    pub fn read(line: &'a [u8]) -> Option<ClientLine<'a>> {
        serde_json::from_slice(line).ok()
    }
}

/// Write `raw` without personal data as compact JSON with its objects' keys in order (as a
/// `serde_json::Value` of it would be written), reading it in place; `false` if it is not
/// JSON this can read so (a key with an escape), for the caller to take the slow way.
fn scrub_raw(raw: &serde_json::value::RawValue, out: &mut Vec<u8>) -> bool {
    use serde_json::value::RawValue;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => {
            let Ok(map) = serde_json::from_str::<std::collections::BTreeMap<&str, &RawValue>>(text) else {
                return false;
            };
            out.push(b'{');
            let mut first = true;
            for (k, v) in map.iter().filter(|(k, _)| !PERSONAL.contains(k)) {
                if !first {
                    out.push(b',');
                }
                first = false;
                // Borrowed keys have no escapes: written as they are.
                out.push(b'"');
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\":");
                if !scrub_raw(v, out) {
                    return false;
                }
            }
            out.push(b'}');
            true
        }
        Some(b'[') => {
            let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) else { return false };
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !scrub_raw(v, out) {
                    return false;
                }
            }
            out.push(b']');
            true
        }
        // A string is written again (escapes as `Value` writes them); a number, true, false
        // or null as it is.
        Some(b'"') => match serde_json::from_str::<std::borrow::Cow<str>>(text) {
            Ok(s) => serde_json::to_writer(&mut *out, &s).is_ok(),
            Err(_) => false,
        },
        Some(_) => {
            out.extend_from_slice(text.as_bytes());
            true
        }
        None => false,
    }
}

/// The text of a search's place: the `destination` or `city` of its data, if a string.
fn city_of<'a>(data: &'a serde_json::value::RawValue) -> Option<std::borrow::Cow<'a, str>> {
    #[derive(Deserialize)]
    struct Place<'a> {
        #[serde(borrow)]
        destination: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        city: Option<&'a serde_json::value::RawValue>,
    }
    let place: Place = serde_json::from_str(data.get()).ok()?;
    [place.destination, place.city]
        .into_iter()
        .flatten()
        .find_map(|v| serde_json::from_str::<std::borrow::Cow<str>>(v.get()).ok())
}

/// Client events as a record batch; the city is the `destination` or `city` of a search.
pub fn client_batch(events: &[&ClientLine]) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let mut c = Columns::new(Family::Client, events.len());
    for e in events {
        c.uuid("event_id", Some(e.id));
        c.time("occurred_at", Some(e.occurred_at));
        c.i32("schema_version", Some(SCHEMA_VERSION));
        c.time("received_at", Some(e.received_at));
        c.s("client_id", Some(&e.client_id));
        c.uuid("user_id", e.user_id);
        c.uuid("property_id", e.property_id);
        let city = e.data.and_then(city_of);
        c.s("city", city.as_deref());
        let Some(data) = e.data else {
            c.s("data", Some("null"));
            continue;
        };
        let mut json = std::mem::take(&mut c.json);
        json.clear();
        if scrub_raw(data, &mut json) {
            c.s("data", std::str::from_utf8(&json).ok());
            c.json = json;
        } else {
            c.json = json;
            match serde_json::from_str::<serde_json::Value>(data.get()) {
                Ok(v) => c.scrubbed("data", &v),
                Err(_) => c.s("data", None),
            }
        }
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};

    #[test]
    fn scrubbing_drops_personal_keys_at_any_depth() {
        let v =
            serde_json::json!({"id": 1, "guest": {"name": "A"}, "items": [{"email": "x@y", "n": 2}, "ip"], "z": null});
        let text = serde_json::to_string(&Scrubbed(&v)).unwrap();
        assert_eq!(text, r#"{"id":1,"items":[{"n":2},"ip"],"z":null}"#);
    }

    /// A booking event's columns are its booking's, read from the payload as the store
    /// writes it; a payload that is not a booking keeps only the common columns.
    #[test]
    fn a_booking_events_facts_are_read_from_its_payload() {
        use datafusion::arrow::datatypes::{Date32Type, Int32Type, Int64Type};
        let eur = innkeep_core::Currency::parse("EUR").unwrap();
        let stay = innkeep_core::Stay::range(jiff::civil::date(2027, 3, 1), jiff::civil::date(2027, 3, 4)).unwrap();
        let party = innkeep_core::Party::new(2, 1);
        let quote = innkeep_core::Quote::compute(&Default::default(), 10_000, eur, &stay, party, |_| None).unwrap();
        let at: Timestamp = "2027-01-04T10:00:00Z".parse().unwrap();
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let booking = innkeep_app::store::Booking {
            id: BookingId(id(1)),
            status: BookingStatus::Confirmed,
            tenant_id: innkeep_core::TenantId(id(2)),
            property_id: PropertyId(id(3)),
            room_type_id: RoomTypeId(id(4)),
            user_id: UserId(id(5)),
            check_in: stay.check_in(),
            check_out: stay.check_out(),
            adults: 2,
            children: 1,
            rooms: 1,
            child_ages: Default::default(),
            guest: innkeep_app::store::GuestContact { name: "Ana".into(), email: "a@example.com".into(), phone: None },
            total: quote.total,
            quote,
            refund: None,
            hold_expires_at: None,
            created_at: at,
            updated_at: at,
        };
        let event = |payload: serde_json::Value| StoredEvent {
            seq: 7,
            event: innkeep_app::event::Event {
                id: innkeep_core::EventId(id(6)),
                kind: innkeep_app::event::EventKind::BookingConfirmed,
                version: 1,
                occurred_at: at,
                tenant_id: Some(innkeep_core::TenantId(id(2))),
                aggregate_id: id(1),
                payload,
            },
        };
        let good = event(serde_json::to_value(&booking).unwrap());
        let bad = event(serde_json::json!({"id": "not a booking"}));
        let batch = outbox_batch(Family::Booking, &[&good, &bad]).unwrap();
        let text = |c: &str| batch.column_by_name(c).unwrap().as_string::<i32>().clone();
        assert_eq!(text("booking_id").value(0), id(1).to_string());
        assert_eq!(text("event_id").value(0), id(6).to_string());
        assert_eq!(text("tenant_id").value(1), id(2).to_string());
        assert_eq!(text("status").value(0), "confirmed");
        assert_eq!(text("user_id").value(0), id(5).to_string());
        assert_eq!(text("currency").value(0), "EUR");
        let int = |c: &str| batch.column_by_name(c).unwrap().as_primitive::<Int32Type>().clone();
        assert_eq!((int("nights").value(0), int("adults").value(0), int("children").value(0)), (3, 2, 1));
        let total = batch.column_by_name("total_minor").unwrap().as_primitive::<Int64Type>().clone();
        assert_eq!(total.value(0), booking.total.minor);
        let check_in = batch.column_by_name("check_in").unwrap().as_primitive::<Date32Type>().clone();
        assert_eq!(check_in.value(0), days(jiff::civil::date(2027, 3, 1)));
        for c in ["booking_id", "status", "property_id", "user_id", "currency"] {
            assert!(text(c).is_null(1), "{c} of a payload that is not a booking");
        }
        assert!(batch.column_by_name("check_in").unwrap().is_null(1));
        assert!(!text("event_id").is_null(1));
    }

    /// Client data read in place is scrubbed and written as `serde_json::Value` writes it
    /// (keys in order, compact, strings escaped alike); what that way cannot read (a key with an
    /// escape) takes the `Value` way, with the same answer.
    #[test]
    fn client_data_read_in_place_is_scrubbed_as_a_value_would_be() {
        let cases = [
            r#"{"destination": "Lisboa", "page": 2}"#,
            r#"{"z": 1.50, "a": [1, {"email": "x@y", "k": "caf\u00e9 \"quoted\""}], "guest": {"name": "A"}}"#,
            r#"{}"#,
            r#"{"n\u0061me": "key with an escape", "ok": true, "none": null}"#,
            r#"[{"phone": "1"}, "ip", -3]"#,
            r#""just text""#,
        ];
        for text in cases {
            let line = format!(
                r#"{{"id":"018f0000-0000-7000-8000-000000000001","type":"search","client_id":"c","user_id":null,"occurred_at":"2027-01-04T10:00:00Z","received_at":"2027-01-04T10:00:01Z","property_id":null,"data":{text}}}"#
            );
            let e = ClientLine::read(line.as_bytes()).expect(text);
            let batch = client_batch(&[&e]).unwrap();
            let data = batch.column_by_name("data").unwrap().as_string::<i32>().value(0).to_string();
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let expected = serde_json::to_string(&Scrubbed(&v)).unwrap();
            // Numbers are kept as written (1.50), which a Value writes as it reads them (1.5).
            assert_eq!(data.replace("1.50", "1.5"), expected, "{text}");
            let city = batch.column_by_name("city").unwrap().as_string::<i32>().clone();
            assert_eq!(city.is_null(0), !text.contains("destination"), "{text}");
        }
        // The city of a search is its destination, or else its city; a number is no city.
        let city = |data: &str| {
            let raw: Box<serde_json::value::RawValue> = serde_json::from_str(data).unwrap();
            city_of(&raw).map(|c| c.into_owned())
        };
        assert_eq!(city(r#"{"destination":"Porto","city":"Braga"}"#).as_deref(), Some("Porto"));
        assert_eq!(city(r#"{"destination":7,"city":"Braga"}"#).as_deref(), Some("Braga"));
        assert_eq!(city(r#"{"q":"x"}"#), None);
        // A line that is not an event is no event.
        assert!(ClientLine::read(b"{\"id\":1}").is_none());
    }

    #[test]
    fn a_booking_payload_from_before_rooms_is_one_room() {
        let payload = serde_json::json!({
            "id": "018f0000-0000-7000-8000-000000000001", "status": "confirmed",
            "property_id": "018f0000-0000-7000-8000-000000000002",
            "room_type_id": "018f0000-0000-7000-8000-000000000003",
            "user_id": "018f0000-0000-7000-8000-000000000004",
            "check_in": "2027-03-01", "check_out": "2027-03-03", "adults": 2, "children": 0,
            "total": {"minor": 20000, "currency": "EUR"}, "created_at": "2027-01-04T10:00:00Z",
            "quote": {"nights": [1, 2]}
        });
        let f = Facts::of(&payload).expect("a booking");
        assert_eq!((f.rooms, f.adults, f.total.minor), (1, 2, 20000));
        let mut without = payload.clone();
        without.as_object_mut().unwrap().remove("user_id");
        assert!(Facts::of(&without).is_none(), "a payload without a user is not a booking's");
    }

    #[test]
    fn days_since_epoch() {
        assert_eq!(days(jiff::civil::date(1970, 1, 2)), 1);
        assert_eq!(days(jiff::civil::date(2026, 12, 1)), 20_788);
    }

    #[test]
    fn family_schemas_are_parts_of_the_table() {
        for f in [Family::Booking, Family::Outbox, Family::Client] {
            assert_eq!(f.schema().fields().len(), f.columns().len(), "{f:?}");
        }
        assert_eq!(Family::of("booking.confirmed"), Family::Booking);
        assert_eq!(Family::of("view"), Family::Client);
        assert_eq!(Family::of("user.registered"), Family::Outbox);
    }
}
