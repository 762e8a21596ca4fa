//! The lake's columns: one table schema that every file's columns are a part of, and the
//! rows of each family of events (bookings, other outbox events, client events) as Arrow
//! record batches. Personal data (guests' names, e-mails, phones, addresses) never enters
//! the lake: booking events keep only their facts, other payloads are scrubbed.

use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use innkeep_app::event::StoredEvent;
use innkeep_app::ingest::ClientEvent;
use innkeep_app::store::Booking;
use jiff::Timestamp;
use jiff::civil::Date;
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

/// The JSON without personal data.
pub fn scrub(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter().filter(|(k, _)| !PERSONAL.contains(&k.as_str())).map(|(k, v)| (k.clone(), scrub(v))).collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(scrub).collect()),
        other => other.clone(),
    }
}

/// Builders for the columns of one file.
struct Columns {
    s: std::collections::HashMap<&'static str, StringBuilder>,
    i32s: std::collections::HashMap<&'static str, Int32Builder>,
    i64s: std::collections::HashMap<&'static str, Int64Builder>,
    dates: std::collections::HashMap<&'static str, Date32Builder>,
    times: std::collections::HashMap<&'static str, TimestampMicrosecondBuilder>,
    schema: SchemaRef,
}

impl Columns {
    fn new(family: Family) -> Columns {
        let schema = family.schema();
        let mut c = Columns {
            s: Default::default(),
            i32s: Default::default(),
            i64s: Default::default(),
            dates: Default::default(),
            times: Default::default(),
            schema: schema.clone(),
        };
        for name in family.columns() {
            match schema.field_with_name(name).map(|f| f.data_type().clone()) {
                Ok(DataType::Utf8) => {
                    c.s.insert(name, StringBuilder::new());
                }
                Ok(DataType::Int32) => {
                    c.i32s.insert(name, Int32Builder::new());
                }
                Ok(DataType::Int64) => {
                    c.i64s.insert(name, Int64Builder::new());
                }
                Ok(DataType::Date32) => {
                    c.dates.insert(name, Date32Builder::new());
                }
                _ => {
                    c.times.insert(name, TimestampMicrosecondBuilder::new().with_timezone("UTC"));
                }
            }
        }
        c
    }

    fn s(&mut self, name: &str, v: Option<&str>) {
        if let Some(b) = self.s.get_mut(name) {
            b.append_option(v);
        }
    }
    fn i32(&mut self, name: &str, v: Option<i32>) {
        if let Some(b) = self.i32s.get_mut(name) {
            b.append_option(v);
        }
    }
    fn i64(&mut self, name: &str, v: Option<i64>) {
        if let Some(b) = self.i64s.get_mut(name) {
            b.append_option(v);
        }
    }
    fn date(&mut self, name: &str, v: Option<Date>) {
        if let Some(b) = self.dates.get_mut(name) {
            b.append_option(v.map(days));
        }
    }
    fn time(&mut self, name: &str, v: Option<Timestamp>) {
        if let Some(b) = self.times.get_mut(name) {
            b.append_option(v.map(|t| t.as_microsecond()));
        }
    }

    fn finish(mut self) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for f in self.schema.fields() {
            let name = f.name().as_str();
            let a: ArrayRef = if let Some(b) = self.s.get_mut(name) {
                Arc::new(b.finish())
            } else if let Some(b) = self.i32s.get_mut(name) {
                Arc::new(b.finish())
            } else if let Some(b) = self.i64s.get_mut(name) {
                Arc::new(b.finish())
            } else if let Some(b) = self.dates.get_mut(name) {
                Arc::new(b.finish())
            } else if let Some(b) = self.times.get_mut(name) {
                Arc::new(b.finish())
            } else {
                return Err(datafusion::arrow::error::ArrowError::SchemaError(format!("no builder for {name}")));
            };
            arrays.push(a);
        }
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

/// Outbox events of one family as a record batch. A booking event whose payload does not
/// decode is kept with its common columns only.
pub fn outbox_batch(
    family: Family,
    events: &[&StoredEvent],
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let mut c = Columns::new(family);
    for e in events {
        let ev = &e.event;
        c.s("event_id", Some(&ev.id.to_string()));
        c.time("occurred_at", Some(ev.occurred_at));
        c.i32("schema_version", Some(SCHEMA_VERSION));
        c.s("tenant_id", ev.tenant_id.map(|t| t.0.to_string()).as_deref());
        c.i64("seq", Some(e.seq));
        c.s("aggregate_id", Some(&ev.aggregate_id.to_string()));
        match family {
            Family::Booking => {
                let b: Option<Booking> = serde_json::from_value(ev.payload.clone()).ok();
                let b = b.as_ref();
                c.s("booking_id", b.map(|b| b.id.0.to_string()).as_deref());
                c.s("status", b.map(|b| b.status.as_str()));
                c.s("property_id", b.map(|b| b.property_id.0.to_string()).as_deref());
                c.s("room_type_id", b.map(|b| b.room_type_id.0.to_string()).as_deref());
                c.s("user_id", b.map(|b| b.user_id.0.to_string()).as_deref());
                c.date("check_in", b.map(|b| b.check_in));
                c.date("check_out", b.map(|b| b.check_out));
                c.i32("nights", b.map(|b| days(b.check_out) - days(b.check_in)));
                c.i32("adults", b.map(|b| i32::from(b.adults)));
                c.i32("children", b.map(|b| i32::from(b.children)));
                c.i64("total_minor", b.map(|b| b.total.minor));
                c.s("currency", b.map(|b| b.total.currency.code()));
                c.time("created_at", b.map(|b| b.created_at));
            }
            // The audit log names people by e-mail address and IP in free text: it stays in
            // the database, where erasure and retention apply; the lake keeps that it happened.
            Family::Outbox if ev.kind.as_str() == "audit.recorded" => c.s("payload", None),
            Family::Outbox => c.s("payload", Some(&scrub(&ev.payload).to_string())),
            Family::Client => {}
        }
    }
    c.finish()
}

/// Client events as a record batch; the city is the `destination` or `city` of a search.
pub fn client_batch(events: &[&ClientEvent]) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let mut c = Columns::new(Family::Client);
    for e in events {
        c.s("event_id", Some(&e.id.to_string()));
        c.time("occurred_at", Some(e.occurred_at));
        c.i32("schema_version", Some(SCHEMA_VERSION));
        c.time("received_at", Some(e.received_at));
        c.s("client_id", Some(&e.client_id));
        c.s("user_id", e.user_id.map(|u| u.0.to_string()).as_deref());
        c.s("property_id", e.property_id.map(|p| p.0.to_string()).as_deref());
        let city = ["destination", "city"].iter().find_map(|k| e.data.get(k).and_then(|v| v.as_str()));
        c.s("city", city);
        c.s("data", Some(&scrub(&e.data).to_string()));
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_drops_personal_keys_at_any_depth() {
        let v = serde_json::json!({"id": 1, "guest": {"name": "A"}, "items": [{"email": "x@y", "n": 2}]});
        assert_eq!(scrub(&v), serde_json::json!({"id": 1, "items": [{"n": 2}]}));
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
