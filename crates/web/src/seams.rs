//! Where the pages get destinations and stays: destinations are the cities that have
//! properties (a cached scan of the property list); stays come from the search use case
//! (the index proposes, the store decides availability and price).

use innkeep_app::availability::Offer;
use innkeep_app::store::Property;
use innkeep_app::{AppError, Ports};
use innkeep_core::{Party, PropertyType};
use jiff::Timestamp;
use jiff::civil::Date;

/// Properties read per page of the scan.
const PAGE: u32 = 200;
/// Most properties the destination scan reads.
const SCAN_LIMIT: u32 = 5_000;
/// Most stays shown on one results page.
const MAX_MATCHES: usize = 20;

/// SEAM (search crate): distinct city names of the properties, sorted (a scan of the
/// catalogue; the pages take it through [`crate::shared::Shared`]).
pub async fn destinations(ports: &Ports) -> Result<Vec<String>, AppError> {
    let mut cities = std::collections::BTreeSet::new();
    let mut offset = 0;
    while offset < SCAN_LIMIT {
        let page = ports.store.list_properties(None, PAGE, offset).await?;
        cities.extend(page.iter().map(|p| p.draft.address.city.trim().to_string()));
        if (page.len() as u32) < PAGE {
            break;
        }
        offset += PAGE;
    }
    Ok(cities.into_iter().collect())
}

/// What a guest searches for.
#[derive(Debug, Clone)]
pub struct StayQuery {
    pub city: String,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
    pub property_type: Option<PropertyType>,
    /// Highest total for the stay, in minor units of the property's currency.
    pub max_total_minor: Option<i64>,
    /// A map view (south, west, north, east) searched instead of the area around the city.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Only stays rated at least this many points of 10.
    pub min_rating: Option<u16>,
}

/// A property with its cheapest offer for the stay.
#[derive(Debug, Clone)]
pub struct StayMatch {
    pub property: Property,
    pub cheapest: Offer,
}

/// Properties near a city (the search index, then live availability in the store)
/// bookable for the stay and party, with the cheapest offer each.
pub async fn find_stays(ports: &Ports, q: &StayQuery, now: Timestamp) -> Result<Vec<StayMatch>, AppError> {
    let search = innkeep_app::search::StaySearch {
        destination: Some(q.city.clone()).filter(|c| !c.trim().is_empty()),
        place_id: None,
        point: None,
        radius_km: None,
        bbox: q.bbox,
        check_in: q.check_in,
        check_out: q.check_out,
        party: q.party,
        min_price_minor: None,
        max_price_minor: None,
        min_rating: q.min_rating,
        amenities: Vec::new(),
        property_types: q.property_type.into_iter().collect(),
        text: None,
        sort: innkeep_app::search::SortBy::Price,
        page: 1,
        per_page: MAX_MATCHES as u32,
    };
    let page = match innkeep_app::search::search_stays(ports, search, now).await {
        Ok(page) => page,
        // An unknown destination is simply no results on a page.
        Err(AppError::Invalid { field: "destination", .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(page
        .hits
        .into_iter()
        .filter(|h| q.max_total_minor.is_none_or(|m| h.total.minor <= m))
        .map(|h| StayMatch { property: h.property, cheapest: h.cheapest })
        .collect())
}
