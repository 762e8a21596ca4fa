//! SEAMS for the search crate. Until search lands, destinations and stay results come
//! from scanning the store's property list; the search crate replaces `destinations`
//! and `find_stays` (same inputs and outputs) with its index.

use innkeep_app::availability::{Offer, availability};
use innkeep_app::store::Property;
use innkeep_app::{AppError, Ports};
use innkeep_core::{Party, PropertyType};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;

/// Properties read per page of the scan.
const PAGE: u32 = 200;
/// Most properties the scans read.
const SCAN_LIMIT: u32 = 5_000;
/// Most matches whose availability is computed.
const MAX_MATCHES: usize = 20;

/// Destinations cached for a minute, so the home page does not rescan on every view.
#[derive(Default)]
pub struct DestinationCache(Mutex<Option<(Timestamp, Vec<String>)>>);

/// SEAM (search crate): distinct city names of the properties, sorted.
pub async fn destinations(ports: &Ports, cache: &DestinationCache, now: Timestamp) -> Result<Vec<String>, AppError> {
    if let Ok(guard) = cache.0.lock()
        && let Some((at, list)) = guard.as_ref()
        && now.duration_since(*at) < SignedDuration::from_secs(60)
    {
        return Ok(list.clone());
    }
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
    let list: Vec<String> = cities.into_iter().collect();
    if let Ok(mut guard) = cache.0.lock() {
        *guard = Some((now, list.clone()));
    }
    Ok(list)
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
}

/// A property with its cheapest offer for the stay.
#[derive(Debug, Clone)]
pub struct StayMatch {
    pub property: Property,
    pub cheapest: Offer,
}

/// SEAM (search crate): properties in a city bookable for the stay and party, with the
/// cheapest offer each. Scans the newest properties and prices the first matches only.
pub async fn find_stays(ports: &Ports, q: &StayQuery, now: Timestamp) -> Result<Vec<StayMatch>, AppError> {
    let city = q.city.trim().to_lowercase();
    let mut matches = Vec::new();
    let mut offset = 0;
    'scan: while offset < SCAN_LIMIT {
        let page = ports.store.list_properties(None, PAGE, offset).await?;
        for p in &page {
            if !city.is_empty() && p.draft.address.city.trim().to_lowercase() != city {
                continue;
            }
            if q.property_type.is_some_and(|t| t != p.draft.property_type) {
                continue;
            }
            matches.push(p.clone());
            if matches.len() >= MAX_MATCHES {
                break 'scan;
            }
        }
        if (page.len() as u32) < PAGE {
            break;
        }
        offset += PAGE;
    }
    let mut out = Vec::new();
    for p in matches {
        let offers = match availability(ports, p.id, q.check_in, q.check_out, q.party, now).await {
            Ok(o) => o,
            // A stay invalid for one property (its zone's today, say) just leaves it out.
            Err(AppError::Invalid { .. }) => continue,
            Err(e) => return Err(e),
        };
        if let Some(cheapest) = offers.into_iter().next()
            && q.max_total_minor.is_none_or(|m| cheapest.quote.total.minor <= m)
        {
            out.push(StayMatch { property: p, cheapest });
        }
    }
    Ok(out)
}
