//! What a property search asks for and what it answers.

use crate::error::SearchError;
use crate::geo::{DegreeBox, valid_point};
use innkeep_core::{Amenity, Currency, PropertyId, PropertyType};
use serde::Serialize;

/// The most candidates one search returns; larger limits are lowered to this.
pub const MAX_LIMIT: usize = 1000;

/// Free text beyond this many words is ignored.
pub const MAX_QUERY_WORDS: usize = 16;

/// Largest radius a geo filter may have, in kilometres (half the earth's circumference).
pub const MAX_RADIUS_KM: f64 = 20_016.0;

/// Price bands for facet counts, in minor units of the property's currency, half-open
/// `[from, to)`; `None` is unbounded.
pub const PRICE_BANDS: [(i64, Option<i64>); 5] =
    [(0, Some(5_000)), (5_000, Some(10_000)), (10_000, Some(20_000)), (20_000, Some(50_000)), (50_000, None)];

/// Where the properties must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Geo {
    /// Within `km` of a point (exact great-circle distance).
    Radius { lat: f64, lon: f64, km: f64 },
    /// Inside a box. `west > east` means the box crosses the antimeridian
    /// (e.g. west 170, east -170 is the 20 degrees around it).
    BBox { south: f64, west: f64, north: f64, east: f64 },
}

/// How candidates are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Sort {
    /// Best text match first; without text, by property id (oldest first for UUIDv7 ids).
    #[default]
    Relevance,
    /// Nearest to a point first.
    Distance { lat: f64, lon: f64 },
    /// Lowest base rate first; properties with no room type last.
    Price,
}

/// A property search.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexQuery {
    /// Free text, matched against names, places, descriptions, room types, amenities and
    /// property types; every word must match (one typo allowed in words of 4+ letters).
    /// Text with no letters or digits is no text filter at all.
    pub q: Option<String>,
    pub geo: Option<Geo>,
    /// Any of these property types (none: all).
    pub property_types: Vec<PropertyType>,
    /// All of these amenities.
    pub amenities: Vec<Amenity>,
    /// Guests in the party: a property qualifies if one of its room types takes them all.
    pub party: Option<u16>,
    /// Highest acceptable lowest base rate, in minor units (compare in one currency: set
    /// `currency` too).
    pub max_price_minor: Option<i64>,
    /// Only properties priced in this currency.
    pub currency: Option<Currency>,
    pub sort: Sort,
    /// How many candidates to return, at most [`MAX_LIMIT`].
    pub limit: usize,
}

impl Default for IndexQuery {
    fn default() -> Self {
        IndexQuery {
            q: None,
            geo: None,
            property_types: Vec::new(),
            amenities: Vec::new(),
            party: None,
            max_price_minor: None,
            currency: None,
            sort: Sort::Relevance,
            limit: 50,
        }
    }
}

impl IndexQuery {
    /// Check coordinates and radius; the box that pre-filters the geo condition.
    pub(crate) fn geo_box(&self) -> Result<Option<DegreeBox>, SearchError> {
        if let Sort::Distance { lat, lon } = self.sort
            && !valid_point(lat, lon)
        {
            return Err(SearchError::InvalidQuery(
                "sort point must have latitude -90..90 and longitude -180..180".into(),
            ));
        }
        match self.geo {
            None => Ok(None),
            Some(Geo::Radius { lat, lon, km }) => {
                if !valid_point(lat, lon) {
                    return Err(SearchError::InvalidQuery("latitude must be -90..90 and longitude -180..180".into()));
                }
                if !km.is_finite() || km <= 0.0 || km > MAX_RADIUS_KM {
                    return Err(SearchError::InvalidQuery(format!(
                        "radius must be more than 0 and at most {MAX_RADIUS_KM} km"
                    )));
                }
                Ok(Some(DegreeBox::around(lat, lon, km)))
            }
            Some(Geo::BBox { south, west, north, east }) => {
                if !valid_point(south, west) || !valid_point(north, east) {
                    return Err(SearchError::InvalidQuery(
                        "box edges must be latitudes -90..90 and longitudes -180..180".into(),
                    ));
                }
                if south > north {
                    return Err(SearchError::InvalidQuery(
                        "a box's south edge must not be north of its north edge".into(),
                    ));
                }
                Ok(Some(DegreeBox::edges(south, west, north, east)))
            }
        }
    }

    /// The point distances are measured from: the sort point, else the radius centre.
    pub(crate) fn distance_origin(&self) -> Option<(f64, f64)> {
        match (self.sort, self.geo) {
            (Sort::Distance { lat, lon }, _) => Some((lat, lon)),
            (_, Some(Geo::Radius { lat, lon, .. })) => Some((lat, lon)),
            _ => None,
        }
    }
}

/// One property that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub property_id: PropertyId,
    /// Text relevance (0 without free text).
    pub score: f32,
    /// Distance from the sort point, or else from the radius centre.
    pub distance_km: Option<f64>,
    /// The lowest base rate among the property's room types (`None`: no room types).
    pub min_rate_minor: Option<i64>,
}

/// Counts of matching properties per value, for filters in the UI.
///
/// Property type counts ignore the query's own type filter (so other types can be
/// offered); amenity counts say how many would remain with that amenity added; price
/// bands follow [`PRICE_BANDS`] (label `"from..to"` in minor units, every band listed).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Facets {
    pub property_types: Vec<(String, u64)>,
    pub amenities: Vec<(String, u64)>,
    pub price_bands: Vec<(String, u64)>,
}
