//! Finding stays: the index proposes candidate properties; the store decides which can
//! really be booked for the dates and party, and at what total price.

use crate::availability::offers_of_listings;
use crate::store::{Property, RoomType};
use crate::{AppError, Ports};
use innkeep_core::{Amenity, Money, Party, PropertyId, PropertyType};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Where to look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Area {
    Radius { lat: f64, lon: f64, km: f64 },
    BBox { south: f64, west: f64, north: f64, east: f64 },
}

/// How candidates come out of the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndexOrder {
    Relevance,
    Distance { lat: f64, lon: f64 },
}

/// What the index is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateQuery {
    pub text: Option<String>,
    pub area: Option<Area>,
    pub property_types: Vec<PropertyType>,
    pub amenities: Vec<Amenity>,
    pub party: u16,
    pub order: IndexOrder,
    pub limit: usize,
}

/// A property the index proposes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub property_id: PropertyId,
    pub score: f32,
    pub distance_km: Option<f64>,
}

/// Facet counts over the candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FacetCounts {
    pub property_types: Vec<(String, u64)>,
    pub amenities: Vec<(String, u64)>,
    /// Properties per band of their lowest nightly base rate (`"from..to"` in minor units,
    /// `to` excluded; `"from.."` unbounded), every band listed.
    pub price_bands: Vec<(String, u64)>,
    /// Properties rated at least 9, 8, 7 and 6 of 10 (`"9+"` ...), every step listed; filled
    /// by [`search_stays`] from the store's ratings, whatever `min_rating` asks.
    pub ratings: Vec<(String, u64)>,
}

/// The steps of the rating facet, in whole points of 10.
pub const RATING_STEPS: [u16; 4] = [9, 8, 7, 6];

/// A property with its room types: what pricing a candidate needs besides its nights.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub property: Property,
    pub room_types: Vec<RoomType>,
}

/// Why the index did not answer.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The query cannot be run as given (a caller's mistake: 400).
    #[error("invalid search: {0}")]
    Query(String),
    /// The index itself failed (I/O, a locked or damaged index: 503, the caller may retry).
    #[error("search index failure: {0}")]
    Failed(String),
}

/// The search index port: full text, filters and geo over properties.
pub trait PropertyIndex: Send + Sync + 'static {
    /// Candidates for a query.
    fn candidates(&self, q: &CandidateQuery) -> Result<Vec<Candidate>, IndexError>;
    /// Facet counts for a query.
    fn facets(&self, q: &CandidateQuery) -> Result<FacetCounts, IndexError>;
    /// Candidates and facet counts together (an index may answer both in one pass).
    fn candidates_and_facets(&self, q: &CandidateQuery) -> Result<(Vec<Candidate>, FacetCounts), IndexError> {
        Ok((self.candidates(q)?, self.facets(q)?))
    }
    /// The listings the index keeps beside its documents (as fresh as the index: both follow
    /// the outbox), in the order asked; `None` where it keeps none, and the caller reads the
    /// store instead.
    fn listings(&self, ids: &[PropertyId]) -> Vec<Option<Arc<Listing>>> {
        ids.iter().map(|_| None).collect()
    }
    /// Add or replace a property.
    fn upsert(&self, property: &Property, room_types: &[RoomType]) -> Result<(), IndexError>;
    /// Make changes searchable.
    fn commit(&self) -> Result<(), IndexError>;
}

/// A place of the gazetteer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceView {
    pub id: u32,
    pub name: String,
    pub country: String,
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    pub time_zone: String,
}

/// The gazetteer port.
pub trait Places: Send + Sync + 'static {
    /// Places whose names start like `q` (typo-tolerant), biggest first.
    fn autocomplete(&self, q: &str, limit: usize) -> Vec<PlaceView>;
    /// The nearest place.
    fn reverse(&self, lat: f64, lon: f64) -> Option<PlaceView>;
    /// A place by id.
    fn place(&self, id: u32) -> Option<PlaceView>;
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Relevance,
    Price,
    Distance,
    /// Best rated first (unrated last), cheapest first among equals.
    Rating,
}

/// A stay search as a guest asks it.
#[derive(Debug, Clone)]
pub struct StaySearch {
    pub destination: Option<String>,
    pub place_id: Option<u32>,
    pub point: Option<(f64, f64)>,
    pub radius_km: Option<f64>,
    pub bbox: Option<(f64, f64, f64, f64)>,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    /// Only properties whose rating is at least this many points of 10 (1 to 10).
    pub min_rating: Option<u16>,
    pub amenities: Vec<Amenity>,
    pub property_types: Vec<PropertyType>,
    pub text: Option<String>,
    pub sort: SortBy,
    pub page: u32,
    pub per_page: u32,
}

/// One bookable stay.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub property: Property,
    pub distance_km: Option<f64>,
    /// The cheapest bookable room type for the stay and party.
    pub room_type_id: innkeep_core::RoomTypeId,
    pub room_type_name: String,
    pub total: Money,
    pub nightly: Money,
    pub offers: usize,
    /// The property's rating (its shown reviews' mean), if rated; shown as the reviews
    /// show it: `{"average": "8.6", "count": 12}`.
    #[serde(serialize_with = "shown_rating")]
    pub rating: Option<crate::review::Rating>,
    /// The cheapest offer in full (room type and quote), for pages that show it.
    #[serde(skip)]
    pub cheapest: crate::availability::Offer,
}

/// A page of results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub place: Option<PlaceView>,
    pub hits: Vec<Hit>,
    pub page: u32,
    pub per_page: u32,
    /// Bookable stays found among the candidates examined (in relevance or distance order
    /// the search stops once this page is full, so more may exist).
    pub total: usize,
    pub facets: FacetCounts,
}

/// How many index candidates are priced for one search.
pub const CANDIDATES: usize = 200;
/// Candidates priced together in relevance or distance order (at least; one and a half
/// times the results needed up to this page when that is more: most candidates in a city
/// are bookable, so pricing many more than needed is wasted work).
pub const PRICING_CHUNK: usize = 24;
/// Radius around a chosen place when none is given.
pub const PLACE_RADIUS_KM: f64 = 25.0;

fn invalid(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::invalid(field, "invalid_search", message)
}

fn check_point(lat: f64, lon: f64) -> Result<(), AppError> {
    if !(-90.0..=90.0).contains(&lat) {
        return Err(invalid("lat", format!("lat must be between -90 and 90, not {lat}")));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(invalid("lon", format!("lon must be between -180 and 180, not {lon}")));
    }
    Ok(())
}

/// Turn the request into an area and a place, or say why it cannot be answered.
fn area_of(ports: &Ports, s: &StaySearch) -> Result<(Option<Area>, Option<PlaceView>), AppError> {
    let given = [s.place_id.is_some(), s.point.is_some(), s.bbox.is_some()].iter().filter(|x| **x).count();
    if given > 1 {
        return Err(invalid("place_id", "give one of place_id, lat/lon or bbox"));
    }
    if let Some(r) = s.radius_km
        && !(r > 0.0 && r <= 500.0)
    {
        return Err(invalid("radius_km", "radius_km must be above 0 and at most 500"));
    }
    if s.radius_km.is_some() && s.point.is_none() && s.place_id.is_none() && s.destination.is_none() {
        return Err(invalid("radius_km", "radius_km needs lat/lon, place_id or destination"));
    }
    let km = s.radius_km.unwrap_or(PLACE_RADIUS_KM);
    if let Some((south, west, north, east)) = s.bbox {
        check_point(south, west)?;
        check_point(north, east)?;
        if south >= north {
            return Err(invalid("bbox", "bbox is south,west,north,east with south below north"));
        }
        return Ok((Some(Area::BBox { south, west, north, east }), None));
    }
    if let Some((lat, lon)) = s.point {
        check_point(lat, lon)?;
        return Ok((Some(Area::Radius { lat, lon, km }), None));
    }
    let place = match (s.place_id, &s.destination) {
        (Some(id), _) => Some(ports.places.place(id).ok_or(AppError::NotFound { what: "place" })?),
        (None, Some(d)) if !d.trim().is_empty() => Some(
            ports
                .places
                .autocomplete(d, 1)
                .into_iter()
                .next()
                .ok_or_else(|| invalid("destination", format!("no place matches {d:?}")))?,
        ),
        _ => None,
    };
    Ok((place.as_ref().map(|p| Area::Radius { lat: p.latitude, lon: p.longitude, km }), place))
}

/// Bookable stays for a search, with the total price of the stay, paged.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search_stays(ports: &Ports, s: StaySearch, now: Timestamp) -> Result<SearchPage, AppError> {
    if s.check_out <= s.check_in {
        return Err(AppError::invalid("check_out", "stay_empty", "check_out must be after check_in"));
    }
    if s.page == 0 || s.per_page == 0 || s.per_page > 50 {
        return Err(invalid("page", "page starts at 1 and per_page is 1 to 50"));
    }
    if let (Some(a), Some(b)) = (s.min_price_minor, s.max_price_minor)
        && a > b
    {
        return Err(invalid("min_price", "min_price is above max_price"));
    }
    if s.min_rating.is_some_and(|r| !(1..=10).contains(&r)) {
        return Err(invalid("min_rating", "min_rating is a whole number of points from 1 to 10"));
    }
    let (area, place) = area_of(ports, &s)?;
    if area.is_none() && s.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(invalid("destination", "give a destination, place_id, lat/lon, bbox or q"));
    }
    if s.sort == SortBy::Distance && !matches!(area, Some(Area::Radius { .. })) {
        return Err(invalid("sort", "sort=distance needs a point: lat/lon, place_id or destination"));
    }
    let order = match (s.sort, area) {
        (SortBy::Distance, Some(Area::Radius { lat, lon, .. })) => IndexOrder::Distance { lat, lon },
        _ => IndexOrder::Relevance,
    };
    let q = CandidateQuery {
        text: s.text.clone().filter(|t| !t.trim().is_empty()),
        area,
        property_types: s.property_types.clone(),
        amenities: s.amenities.clone(),
        // A room type fits only if one of its rooms takes a share of the party this large.
        party: s.party.total().div_ceil(s.party.rooms.max(1)),
        order,
        limit: CANDIDATES,
    };
    let (mut candidates, mut facets) = ports.index.candidates_and_facets(&q).map_err(|e| match e {
        IndexError::Query(m) => AppError::invalid("q", "invalid_search", m),
        IndexError::Failed(m) => AppError::IndexFailed(m),
    })?;
    // Ratings change with every review: read from the store for the candidates (one query).
    let ids: Vec<PropertyId> = candidates.iter().map(|c| c.property_id).collect();
    let ratings: HashMap<PropertyId, crate::review::Rating> =
        ports.store.ratings(&ids).await?.into_iter().map(|r| (r.property_id, r)).collect();
    facets.ratings = rating_facet(ratings.values());
    if let Some(min) = s.min_rating {
        candidates.retain(|c| ratings.get(&c.property_id).is_some_and(|r| r.average >= min * 10));
    }
    // By price or by rating every candidate has to be priced first.
    let price_all = matches!(s.sort, SortBy::Price | SortBy::Rating);
    let nights = i64::from(innkeep_core::Stay::range(s.check_in, s.check_out).map(|st| st.nights()).unwrap_or(1));
    let mut hits = Vec::new();
    // In relevance or distance order the page is known once enough stays are bookable, so
    // candidates are priced a chunk at a time (three queries a chunk); by price every
    // candidate has to be priced first.
    let enough = (s.page * s.per_page) as usize;
    let chunk = if price_all { CANDIDATES } else { (enough + enough / 2).max(PRICING_CHUNK) };
    for group in candidates.chunks(chunk) {
        if !price_all && hits.len() >= enough {
            break;
        }
        let ids: Vec<PropertyId> = group.iter().map(|c| c.property_id).collect();
        let listings = listings_of(ports, &ids).await?;
        let mut offers = offers_of_listings(ports, &listings, s.check_in, s.check_out, s.party, now).await?;
        let listings: HashMap<PropertyId, Arc<Listing>> = listings.into_iter().map(|l| (l.property.id, l)).collect();
        for c in group {
            if !price_all && hits.len() >= enough {
                break;
            }
            let (Some(listing), Some(offers)) = (listings.get(&c.property_id), offers.remove(&c.property_id)) else {
                continue;
            };
            let Some(best) = offers.first() else { continue };
            let nightly = Money::new(best.quote.total.minor / nights.max(1), best.quote.total.currency);
            if s.min_price_minor.is_some_and(|m| nightly.minor < m)
                || s.max_price_minor.is_some_and(|m| nightly.minor > m)
            {
                continue;
            }
            hits.push(Hit {
                property: listing.property.clone(),
                distance_km: c.distance_km,
                room_type_id: best.room_type.id,
                room_type_name: best.room_type.draft.name.clone(),
                total: best.quote.total,
                nightly,
                offers: offers.len(),
                rating: ratings.get(&c.property_id).copied(),
                cheapest: best.clone(),
            });
        }
    }
    match s.sort {
        SortBy::Price => hits.sort_by_key(|h| h.nightly.minor),
        SortBy::Rating => {
            hits.sort_by_key(|h| (std::cmp::Reverse(h.rating.map_or(0, |r| r.average)), h.nightly.minor));
        }
        SortBy::Relevance | SortBy::Distance => {}
    }
    let total = hits.len();
    let start = ((s.page - 1) * s.per_page) as usize;
    let hits = hits.into_iter().skip(start).take(s.per_page as usize).collect();
    Ok(SearchPage { place, hits, page: s.page, per_page: s.per_page, total, facets })
}

fn shown_rating<S: serde::Serializer>(rating: &Option<crate::review::Rating>, to: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Shown {
        average: String,
        count: u32,
    }
    rating.map(|r| Shown { average: innkeep_core::review::score_label(r.average), count: r.count }).serialize(to)
}

/// How many of `ratings` reach each step of [`RATING_STEPS`] (`"9+"`: at least 9 of 10).
fn rating_facet<'a>(ratings: impl Iterator<Item = &'a crate::review::Rating> + Clone) -> Vec<(String, u64)> {
    RATING_STEPS
        .iter()
        .map(|step| (format!("{step}+"), ratings.clone().filter(|r| r.average >= step * 10).count() as u64))
        .collect()
}

/// The listings of these properties, in this order: from the index where it keeps them,
/// from the store (two batched reads) for the rest; unknown properties are left out.
async fn listings_of(ports: &Ports, ids: &[PropertyId]) -> Result<Vec<Arc<Listing>>, AppError> {
    let kept = ports.index.listings(ids);
    let missing: Vec<PropertyId> = ids.iter().zip(&kept).filter(|(_, l)| l.is_none()).map(|(id, _)| *id).collect();
    let mut read: HashMap<PropertyId, Arc<Listing>> = HashMap::new();
    if !missing.is_empty() {
        let mut room_types: HashMap<PropertyId, Vec<RoomType>> = HashMap::new();
        for rt in ports.store.room_types_of_many(&missing).await? {
            room_types.entry(rt.property_id).or_default().push(rt);
        }
        for property in ports.store.properties_by_ids(&missing).await? {
            let room_types = room_types.remove(&property.id).unwrap_or_default();
            read.insert(property.id, Arc::new(Listing { property, room_types }));
        }
    }
    Ok(ids.iter().zip(kept).filter_map(|(id, kept)| kept.or_else(|| read.remove(id))).collect())
}

/// A search to remember: `query` is the API's query string for it (so either front end can
/// run it again), `place` how the search named where.
pub struct Asked<'a> {
    pub query: &'a str,
    pub place: &'a str,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
}

/// Remember a signed-in user's search for "search again". The label is written here, the
/// same for the API and the pages. A failure to remember is logged and never fails the
/// search.
pub async fn remember(ports: &Ports, user: innkeep_core::UserId, asked: Asked<'_>, now: Timestamp) {
    let Asked { query, place, check_in, check_out, party } = asked;
    let children = if party.children > 0 { format!(", {} children", party.children) } else { String::new() };
    let rooms = if party.rooms > 1 { format!(", {} rooms", party.rooms) } else { String::new() };
    let summary = format!("{place} · {check_in} to {check_out} · {} adults{children}{rooms}", party.adults);
    if let Err(e) = ports.store.record_search(user, query, &summary, now).await {
        tracing::warn!(error = %e, "could not record the search");
    }
}
