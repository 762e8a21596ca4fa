//! The load profile: what the operator expects the system to carry, read from TOML.
//! Unknown keys are refused, and every error names the field and the line it is on.

use crate::capacity::CapacityEntry;
use serde::{Deserialize, Serialize};

/// A profile that parsed and passed validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for the tables and the chart ("mid-size").
    pub name: String,
    pub load: Load,
    #[serde(default)]
    pub sizing: Sizing,
    /// Capacity of one web node, entered by hand (a `--capacity` file takes precedence).
    #[serde(default)]
    pub capacity: Option<CapacityEntry>,
    #[serde(default)]
    pub public: Public,
    #[serde(default)]
    pub private: Private,
}

/// The business's load.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    pub bookings_per_day: f64,
    pub peak_bookings_per_hour: f64,
    pub peak_searches_per_s: f64,
    /// Availability and price calendar requests at peak (default: twice the searches).
    #[serde(default)]
    pub peak_availability_per_s: Option<f64>,
    pub client_events_per_day: f64,
    pub properties: f64,
    pub photos_per_property: f64,
    pub photo_mb: f64,
    /// The database today, and how much it grows per month.
    pub database_gb: f64,
    pub data_growth_gb_per_month: f64,
    /// Months of bookings kept in the database and of client events kept in the lake.
    pub retention_months: f64,
    /// Yearly availability the business needs, in percent (99.9, 99.95).
    pub availability_target_pct: f64,
    /// Sites, each sized to carry the whole load alone.
    pub regions: u32,
}

/// Sizing assumptions; every one has a default the README explains.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sizing {
    /// Busiest a node may run at peak (0 < u <= 1).
    pub target_utilisation: f64,
    /// Availability zones (failure domains); default from the availability target.
    pub zones: Option<u32>,
    /// Average HTML/JSON response, KB.
    pub page_kb: f64,
    /// Photos (thumbnails) shown per search, and their size in KB.
    pub photos_per_search: f64,
    pub thumbnail_kb: f64,
    /// A client event in the Parquet lake, bytes (compressed).
    pub event_bytes: f64,
    /// Events written to the bus per booking (booking, payment, ledger, notifications).
    pub events_per_booking: f64,
    /// Days the bus keeps its streams.
    pub stream_days: f64,
    /// Booking transactions per second one PostgreSQL vCPU commits (BENCHMARKS.md: 390/s on
    /// 2 vCPU shared with the nodes and the load generator).
    pub postgres_bookings_per_s_per_vcpu: f64,
    /// Share of the working set kept in PostgreSQL's memory.
    pub postgres_memory_share: f64,
    /// Replica reads per availability request, and reads per second per replica vCPU.
    pub replica_reads_per_availability: f64,
    pub replica_reads_per_s_per_vcpu: f64,
    /// Messages per second one NATS vCPU carries with R3 file storage.
    pub bus_msgs_per_s_per_vcpu: f64,
    /// Cached bytes per property (listing page, price calendars), KB.
    pub cache_kb_per_property: f64,
    /// Days of events the nightly analytics job reads, and GB per Spark node-hour.
    pub analytics_scan_days: f64,
    pub spark_gb_per_node_hour: f64,
    /// Full database copies kept as backups.
    pub backup_copies: f64,
}

impl Default for Sizing {
    fn default() -> Sizing {
        Sizing {
            target_utilisation: 0.6,
            zones: None,
            page_kb: 60.0,
            photos_per_search: 10.0,
            thumbnail_kb: 40.0,
            event_bytes: 120.0,
            events_per_booking: 6.0,
            stream_days: 7.0,
            postgres_bookings_per_s_per_vcpu: 150.0,
            postgres_memory_share: 0.1,
            replica_reads_per_availability: 0.2,
            replica_reads_per_s_per_vcpu: 1500.0,
            bus_msgs_per_s_per_vcpu: 20_000.0,
            cache_kb_per_property: 64.0,
            analytics_scan_days: 30.0,
            spark_gb_per_node_hour: 40.0,
            backup_copies: 4.0,
        }
    }
}

/// How the public cloud is bought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Commitment {
    #[serde(rename = "on-demand")]
    OnDemand,
    #[default]
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "3y")]
    ThreeYears,
}

impl Commitment {
    pub const ALL: [Commitment; 3] = [Commitment::OnDemand, Commitment::OneYear, Commitment::ThreeYears];

    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::OnDemand => "on-demand",
            Commitment::OneYear => "1y",
            Commitment::ThreeYears => "3y",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Public {
    /// on-demand, 1y or 3y (savings plan / reserved, no upfront for 1 year).
    pub commitment: Commitment,
    /// Include AWS Business support (default true).
    pub business_support: Option<bool>,
}

/// The operator's own figures for the private cloud (each overrides openstack.toml).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Private {
    pub amortisation_years: Option<f64>,
    pub capital_rate: Option<f64>,
    pub kwh_price: Option<f64>,
    pub pue: Option<f64>,
    pub rack_month: Option<f64>,
    pub transit_mbps_month: Option<f64>,
    pub support_per_server_year: Option<f64>,
    pub staff_fte_minimum: Option<f64>,
    pub staff_cost_per_fte_year: Option<f64>,
    pub compute_node_price: Option<f64>,
    pub storage_node_price: Option<f64>,
}

/// A profile that cannot be used, with where the problem is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: `{field}`: {message}")]
pub struct ProfileError {
    /// The field's dotted path (`load.bookings_per_day`).
    pub field: String,
    /// 1-based line of the file.
    pub line: usize,
    pub message: String,
}

impl Profile {
    /// Parse and validate a profile.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| from_toml(text, &e))?;
        profile.validate().map_err(|(field, message)| ProfileError { line: line_of(text, &field), field, message })?;
        Ok(profile)
    }

    /// Zones: as given, else 3 for 99.95% and above, 2 for 99.9%, 1 below.
    pub fn zones(&self) -> u32 {
        self.sizing.zones.unwrap_or(if self.load.availability_target_pct >= 99.95 {
            3
        } else if self.load.availability_target_pct >= 99.9 {
            2
        } else {
            1
        })
    }

    /// Availability requests at peak.
    pub fn peak_availability_per_s(&self) -> f64 {
        self.load.peak_availability_per_s.unwrap_or(2.0 * self.load.peak_searches_per_s)
    }

    /// The same business with every load and data figure multiplied by `k` (for the curve).
    pub fn scaled(&self, k: f64) -> Profile {
        let mut p = self.clone();
        let l = &mut p.load;
        for x in [
            &mut l.bookings_per_day,
            &mut l.peak_bookings_per_hour,
            &mut l.peak_searches_per_s,
            &mut l.client_events_per_day,
            &mut l.properties,
            &mut l.database_gb,
            &mut l.data_growth_gb_per_month,
        ] {
            *x *= k;
        }
        l.peak_availability_per_s = l.peak_availability_per_s.map(|a| a * k);
        p
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
        if self.name.trim().is_empty() {
            return bad("name", "must not be empty");
        }
        let l = &self.load;
        let s = &self.sizing;
        let mut non_negative = vec![
            ("load.bookings_per_day", l.bookings_per_day),
            ("load.peak_bookings_per_hour", l.peak_bookings_per_hour),
            ("load.peak_searches_per_s", l.peak_searches_per_s),
            ("load.client_events_per_day", l.client_events_per_day),
            ("load.properties", l.properties),
            ("load.photos_per_property", l.photos_per_property),
            ("load.photo_mb", l.photo_mb),
            ("load.database_gb", l.database_gb),
            ("load.data_growth_gb_per_month", l.data_growth_gb_per_month),
            ("load.retention_months", l.retention_months),
            ("sizing.page_kb", s.page_kb),
            ("sizing.photos_per_search", s.photos_per_search),
            ("sizing.thumbnail_kb", s.thumbnail_kb),
            ("sizing.event_bytes", s.event_bytes),
            ("sizing.events_per_booking", s.events_per_booking),
            ("sizing.stream_days", s.stream_days),
            ("sizing.replica_reads_per_availability", s.replica_reads_per_availability),
            ("sizing.analytics_scan_days", s.analytics_scan_days),
            ("sizing.backup_copies", s.backup_copies),
        ];
        if let Some(a) = l.peak_availability_per_s {
            non_negative.push(("load.peak_availability_per_s", a));
        }
        for (f, v) in non_negative {
            if !v.is_finite() || v < 0.0 {
                return bad(f, "must be a number of zero or more");
            }
            if v > 1e15 {
                return bad(f, "is too large to be a real load");
            }
        }
        for (f, v) in [
            ("sizing.postgres_bookings_per_s_per_vcpu", s.postgres_bookings_per_s_per_vcpu),
            ("sizing.replica_reads_per_s_per_vcpu", s.replica_reads_per_s_per_vcpu),
            ("sizing.bus_msgs_per_s_per_vcpu", s.bus_msgs_per_s_per_vcpu),
            ("sizing.spark_gb_per_node_hour", s.spark_gb_per_node_hour),
            ("sizing.cache_kb_per_property", s.cache_kb_per_property),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return bad(f, "must be a number above zero");
            }
        }
        if !(s.target_utilisation > 0.0 && s.target_utilisation <= 1.0) {
            return bad("sizing.target_utilisation", "must be above 0 and at most 1 (0.6 is 60%)");
        }
        if !(s.postgres_memory_share > 0.0 && s.postgres_memory_share <= 1.0) {
            return bad("sizing.postgres_memory_share", "must be above 0 and at most 1");
        }
        if let Some(z) = s.zones
            && !(1..=6).contains(&z)
        {
            return bad("sizing.zones", "must be 1 to 6");
        }
        if l.bookings_per_day > 0.0 && l.peak_bookings_per_hour * 24.0 < l.bookings_per_day {
            return bad("load.peak_bookings_per_hour", "must be at least the average hour (bookings_per_day / 24)");
        }
        if !(90.0..100.0).contains(&l.availability_target_pct) {
            return bad("load.availability_target_pct", "must be a percentage from 90 to below 100 (99.95)");
        }
        if !(1..=10).contains(&l.regions) {
            return bad("load.regions", "must be 1 to 10");
        }
        let p = &self.private;
        if let Some(y) = p.amortisation_years
            && !(y.is_finite() && (1.0..=15.0).contains(&y))
        {
            return bad("private.amortisation_years", "must be 1 to 15 years");
        }
        if let Some(pue) = p.pue
            && !(pue.is_finite() && (1.0..=3.0).contains(&pue))
        {
            return bad("private.pue", "must be 1.0 to 3.0");
        }
        if let Some(r) = p.capital_rate
            && !(r.is_finite() && (0.0..=1.0).contains(&r))
        {
            return bad("private.capital_rate", "must be 0 to 1 (0.05 is 5% a year)");
        }
        for (f, v) in [
            ("private.kwh_price", p.kwh_price),
            ("private.rack_month", p.rack_month),
            ("private.transit_mbps_month", p.transit_mbps_month),
            ("private.support_per_server_year", p.support_per_server_year),
            ("private.staff_fte_minimum", p.staff_fte_minimum),
            ("private.staff_cost_per_fte_year", p.staff_cost_per_fte_year),
            ("private.compute_node_price", p.compute_node_price),
            ("private.storage_node_price", p.storage_node_price),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return bad(f, "must be a number of zero or more");
            }
        }
        if let Some(c) = &self.capacity {
            c.validate().map_err(|(f, m)| (format!("capacity.{f}"), m))?;
        }
        Ok(())
    }
}

/// A TOML error as a `ProfileError`: the line from the error's span, the field from the key
/// on that line (or from the message for a missing or unknown field).
fn from_toml(text: &str, e: &toml::de::Error) -> ProfileError {
    let message = e.message().trim().to_string();
    let offset = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let line = text.get(..offset).map(|t| t.matches('\n').count()).unwrap_or(0) + 1;
    let (table, key) = key_at(text, line);
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p).and_then(|r| r.split('`').next()).map(str::to_string));
    let field = match (named, key) {
        // An unknown key: the span is on it.
        (Some(n), Some(k)) if k == n => join(&table, &k),
        (Some(n), Some(_)) | (Some(n), None) => join(&table, &n),
        (None, Some(k)) => join(&table, &k),
        (None, None) if !table.is_empty() => table,
        (None, None) => "(profile)".into(),
    };
    ProfileError { field, line, message }
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() { key.to_string() } else { format!("{table}.{key}") }
}

/// The table in force at `line` and the key written on it, if any.
fn key_at(text: &str, line: usize) -> (String, Option<String>) {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = header(t) {
            table = h;
            if i + 1 == line {
                return (table, None);
            }
        } else if i + 1 == line {
            return (table, key_of(t));
        }
    }
    (table, None)
}

fn header(t: &str) -> Option<String> {
    let inner = t.strip_prefix('[')?.trim_start_matches('[');
    let end = inner.find(']')?;
    Some(inner[..end].trim().to_string())
}

fn key_of(t: &str) -> Option<String> {
    if t.starts_with('#') {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    let k = k.trim().trim_matches('"').trim();
    (!k.is_empty()).then(|| k.to_string())
}

/// The line where a dotted field is written; else its table's header; else 1.
fn line_of(text: &str, field: &str) -> usize {
    let (table, key) = field.rsplit_once('.').unwrap_or(("", field));
    let mut current = String::new();
    let mut table_line = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = header(t) {
            if h == table {
                table_line = Some(i + 1);
            }
            current = h;
        } else if let Some(k) = key_of(t)
            && (current == table && k == key || current.is_empty() && k == field)
        {
            return i + 1;
        }
    }
    table_line.unwrap_or(1)
}
