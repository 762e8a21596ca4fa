//! A property: what a tenant offers, where it is, and its house rules.

use crate::cancellation::CancellationPolicy;
use crate::money::Currency;
use jiff::civil::Time;
use serde::{Deserialize, Serialize};

/// Kind of property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    Hotel,
    Apartment,
    House,
    Guesthouse,
    Hostel,
    BedAndBreakfast,
    Villa,
    Cabin,
    Resort,
}

impl PropertyType {
    /// Every property type.
    pub const ALL: [PropertyType; 9] = [
        PropertyType::Hotel,
        PropertyType::Apartment,
        PropertyType::House,
        PropertyType::Guesthouse,
        PropertyType::Hostel,
        PropertyType::BedAndBreakfast,
        PropertyType::Villa,
        PropertyType::Cabin,
        PropertyType::Resort,
    ];

    /// The snake_case name used in the API and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            PropertyType::Hotel => "hotel",
            PropertyType::Apartment => "apartment",
            PropertyType::House => "house",
            PropertyType::Guesthouse => "guesthouse",
            PropertyType::Hostel => "hostel",
            PropertyType::BedAndBreakfast => "bed_and_breakfast",
            PropertyType::Villa => "villa",
            PropertyType::Cabin => "cabin",
            PropertyType::Resort => "resort",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<PropertyType> {
        PropertyType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The fixed vocabulary of amenities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amenity {
    Wifi,
    Parking,
    Pool,
    Breakfast,
    AirConditioning,
    Heating,
    Kitchen,
    Washer,
    Gym,
    Spa,
    PetsAllowed,
    WheelchairAccessible,
    Elevator,
    Restaurant,
    Bar,
    AirportShuttle,
    EvCharger,
    FamilyRooms,
    NonSmoking,
    BeachAccess,
    Workspace,
    Tv,
}

impl Amenity {
    /// Every amenity.
    pub const ALL: [Amenity; 22] = [
        Amenity::Wifi,
        Amenity::Parking,
        Amenity::Pool,
        Amenity::Breakfast,
        Amenity::AirConditioning,
        Amenity::Heating,
        Amenity::Kitchen,
        Amenity::Washer,
        Amenity::Gym,
        Amenity::Spa,
        Amenity::PetsAllowed,
        Amenity::WheelchairAccessible,
        Amenity::Elevator,
        Amenity::Restaurant,
        Amenity::Bar,
        Amenity::AirportShuttle,
        Amenity::EvCharger,
        Amenity::FamilyRooms,
        Amenity::NonSmoking,
        Amenity::BeachAccess,
        Amenity::Workspace,
        Amenity::Tv,
    ];

    /// The stable key (as in the API and the search facets).
    pub fn as_str(self) -> &'static str {
        match self {
            Amenity::Wifi => "wifi",
            Amenity::Parking => "parking",
            Amenity::Pool => "pool",
            Amenity::Breakfast => "breakfast",
            Amenity::AirConditioning => "air_conditioning",
            Amenity::Heating => "heating",
            Amenity::Kitchen => "kitchen",
            Amenity::Washer => "washer",
            Amenity::Gym => "gym",
            Amenity::Spa => "spa",
            Amenity::PetsAllowed => "pets_allowed",
            Amenity::WheelchairAccessible => "wheelchair_accessible",
            Amenity::Elevator => "elevator",
            Amenity::Restaurant => "restaurant",
            Amenity::Bar => "bar",
            Amenity::AirportShuttle => "airport_shuttle",
            Amenity::EvCharger => "ev_charger",
            Amenity::FamilyRooms => "family_rooms",
            Amenity::NonSmoking => "non_smoking",
            Amenity::BeachAccess => "beach_access",
            Amenity::Workspace => "workspace",
            Amenity::Tv => "tv",
        }
    }

    /// The name a person reads (English).
    pub fn label(self) -> &'static str {
        match self {
            Amenity::Wifi => "Wi-Fi",
            Amenity::Parking => "Parking",
            Amenity::Pool => "Pool",
            Amenity::Breakfast => "Breakfast",
            Amenity::AirConditioning => "Air conditioning",
            Amenity::Heating => "Heating",
            Amenity::Kitchen => "Kitchen",
            Amenity::Washer => "Washing machine",
            Amenity::Gym => "Gym",
            Amenity::Spa => "Spa",
            Amenity::PetsAllowed => "Pets allowed",
            Amenity::WheelchairAccessible => "Wheelchair accessible",
            Amenity::Elevator => "Lift",
            Amenity::Restaurant => "Restaurant",
            Amenity::Bar => "Bar",
            Amenity::AirportShuttle => "Airport shuttle",
            Amenity::EvCharger => "EV charging",
            Amenity::FamilyRooms => "Family rooms",
            Amenity::NonSmoking => "Non-smoking",
            Amenity::BeachAccess => "Beach access",
            Amenity::Workspace => "Workspace",
            Amenity::Tv => "TV",
        }
    }
}

/// An ISO 3166-1 alpha-2 country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

impl CountryCode {
    /// Parse an upper-case ISO 3166-1 alpha-2 code.
    pub fn parse(s: &str) -> Result<CountryCode, PropertyError> {
        let b = s.as_bytes();
        if b.len() == 2 && COUNTRIES.split(' ').any(|c| c == s) {
            Ok(CountryCode([b[0], b[1]]))
        } else {
            Err(PropertyError::Country(s.to_string()))
        }
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl TryFrom<String> for CountryCode {
    type Error = PropertyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CountryCode::parse(&s)
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.as_str().to_string()
    }
}

/// An IANA time zone name known to the bundled time zone database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parse an IANA name such as "Europe/Lisbon".
    pub fn parse(s: &str) -> Result<TimeZoneName, PropertyError> {
        // "UTC"-style fixed zones are fine, but an offset like "+01:00" is not a zone.
        match jiff::tz::db().get(s) {
            Ok(_) if !s.is_empty() => Ok(TimeZoneName(s.to_string())),
            _ => Err(PropertyError::TimeZone(s.to_string())),
        }
    }

    /// The IANA name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone's rules.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::db().get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The local date at an instant.
    pub fn today(&self, now: jiff::Timestamp) -> jiff::civil::Date {
        now.to_zoned_datetime(self.zone()).date()
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = PropertyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TimeZoneName::parse(&s)
    }
}

impl From<TimeZoneName> for String {
    fn from(t: TimeZoneName) -> String {
        t.0
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub lines: Vec<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    pub country: CountryCode,
}

impl Address {
    /// The address on one line, as messages, calendar entries and pages print it:
    /// "Rua das Flores 12, 1200-195 Lisboa, PT" (empty lines left out).
    pub fn one_line(&self) -> String {
        let mut parts: Vec<String> =
            self.lines.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        parts.push([self.postal_code.clone().unwrap_or_default(), self.city.clone()].join(" ").trim().to_string());
        parts.push(self.country.as_str().to_string());
        parts.join(", ")
    }
}

/// Why a property was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyError {
    #[error("{field} must be between {min} and {max} characters")]
    Length { field: &'static str, min: usize, max: usize },
    #[error("unknown ISO 3166-1 alpha-2 country code {0:?}")]
    Country(String),
    #[error("unknown IANA time zone {0:?}")]
    TimeZone(String),
    #[error("latitude must be within -90..90 and longitude within -180..180")]
    Coordinates,
    #[error("address must have between 1 and 4 lines")]
    AddressLines,
}

/// A property as created or updated by its host; `validate` checks every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDraft {
    pub name: String,
    pub description: String,
    pub property_type: PropertyType,
    pub address: Address,
    pub latitude: f64,
    pub longitude: f64,
    pub time_zone: TimeZoneName,
    pub currency: Currency,
    pub check_in_time: Time,
    pub check_out_time: Time,
    pub amenities: Vec<Amenity>,
    pub cancellation_policy: CancellationPolicy,
    /// When guests pay: `at_property` (the default) or `prepay` (a hold is confirmed only
    /// by a successful payment).
    #[serde(default)]
    pub payment_timing: crate::PaymentTiming,
}

impl PropertyDraft {
    /// Check lengths and coordinates, and normalise amenities (sorted, unique).
    pub fn validate(mut self) -> Result<PropertyDraft, PropertyError> {
        self.name = self.name.trim().to_string();
        if let Some(first) = self.problems().into_iter().next() {
            return Err(first);
        }
        self.amenities.sort();
        self.amenities.dedup();
        Ok(self)
    }

    /// Everything wrong with the draft, in the order of its fields (empty when valid), so
    /// a form can say all of it at once.
    pub fn problems(&self) -> Vec<PropertyError> {
        let mut out = Vec::new();
        let mut len = |field, value: &str, min, max| {
            if let Err(e) = check_len(field, value, min, max) {
                out.push(e);
            }
        };
        len("name", self.name.trim(), 1, 200);
        len("description", &self.description, 0, 10_000);
        len("address.city", self.address.city.trim(), 1, 120);
        for line in &self.address.lines {
            len("address.lines", line, 1, 200);
        }
        if let Some(r) = &self.address.region {
            len("address.region", r, 0, 120);
        }
        if let Some(p) = &self.address.postal_code {
            len("address.postal_code", p, 0, 20);
        }
        if (self.address.lines.is_empty() || self.address.lines.len() > 4)
            && !out.iter().any(|e| matches!(e, PropertyError::Length { field: "address.lines", .. }))
        {
            out.push(PropertyError::AddressLines);
        }
        if !(-90.0..=90.0).contains(&self.latitude) || !(-180.0..=180.0).contains(&self.longitude) {
            out.push(PropertyError::Coordinates);
        }
        out
    }
}

fn check_len(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), PropertyError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(PropertyError::Length { field, min, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amenity_keys_are_the_api_names_and_labels_are_words() {
        let mut labels = std::collections::HashSet::new();
        for a in Amenity::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), serde_json::json!(a.as_str()));
            assert!(!a.label().contains('_') && labels.insert(a.label()), "{}", a.label());
        }
        assert_eq!(Amenity::PetsAllowed.label(), "Pets allowed");
        assert_eq!(Amenity::EvCharger.label(), "EV charging");
    }

    #[test]
    fn every_problem_of_a_draft_is_listed_at_once() {
        let draft: PropertyDraft = serde_json::from_value(serde_json::json!({
            "name": " ", "description": "", "property_type": "hotel",
            "address": {"lines": [], "city": "x".repeat(121), "country": "PT"},
            "latitude": 91.0, "longitude": 0.0, "time_zone": "Europe/Lisbon", "currency": "EUR",
            "check_in_time": "15:00", "check_out_time": "11:00", "amenities": [],
            "cancellation_policy": "flexible"
        }))
        .unwrap();
        let problems = draft.problems();
        assert_eq!(
            problems,
            vec![
                PropertyError::Length { field: "name", min: 1, max: 200 },
                PropertyError::Length { field: "address.city", min: 1, max: 120 },
                PropertyError::AddressLines,
                PropertyError::Coordinates,
            ]
        );
        assert_eq!(draft.validate().unwrap_err(), problems[0], "validate refuses with the first");
    }

    #[test]
    fn countries_and_zones_are_checked() {
        assert!(CountryCode::parse("PT").is_ok());
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("pt").is_err());
        assert!(TimeZoneName::parse("Europe/Lisbon").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn today_depends_on_the_zone() {
        let now: jiff::Timestamp = "2026-11-24T23:30:00Z".parse().unwrap();
        assert_eq!(TimeZoneName::parse("Europe/Lisbon").unwrap().today(now), jiff::civil::date(2026, 11, 24));
        assert_eq!(TimeZoneName::parse("Asia/Tokyo").unwrap().today(now), jiff::civil::date(2026, 11, 25));
        assert_eq!(TimeZoneName::parse("America/New_York").unwrap().today(now), jiff::civil::date(2026, 11, 24));
    }
}
