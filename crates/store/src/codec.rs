//! Converting between rows and records: ids and dates as text, times as Unix
//! milliseconds, documents as JSON.

use innkeep_app::StoreError;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn from_ms(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn date(d: Date) -> String {
    d.to_string()
}

pub fn parse_date(s: &str) -> Result<Date, StoreError> {
    s.parse().map_err(|e: jiff::Error| StoreError::Corrupt(e.to_string()))
}

pub fn to_json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn parse<T: std::str::FromStr>(s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}
