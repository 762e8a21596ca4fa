//! Suggestions for a guest: the destinations other guests booked lately, leaving out the
//! ones this guest has booked already.

use crate::store::BookingFilter;
use crate::{AppError, Ports};
use innkeep_core::{BookingStatus, PropertyId, UserId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many of the newest bookings the suggestions are drawn from.
pub const RECENT_BOOKINGS: u32 = 500;

/// A destination other guests booked, with how many of the recent bookings went there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub city: String,
    pub bookings: usize,
}

/// The cities of the newest bookings (held, confirmed, stayed; not cancelled, expired or
/// no-show) by other guests than `viewer`, most booked first, without the cities `viewer`
/// booked; at most `limit`.
pub async fn popular_destinations(
    ports: &Ports,
    viewer: Option<UserId>,
    limit: usize,
) -> Result<Vec<Destination>, AppError> {
    let filter = BookingFilter { limit: RECENT_BOOKINGS, ..BookingFilter::default() };
    let bookings = ports.store.list_bookings(&filter).await?;
    let ids: Vec<PropertyId> = bookings.iter().map(|b| b.property_id).collect::<BTreeSet<_>>().into_iter().collect();
    let cities: HashMap<PropertyId, String> = ports
        .store
        .properties_by_ids(&ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.draft.address.city.trim().to_string()))
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut own = BTreeSet::new();
    for b in &bookings {
        let Some(city) = cities.get(&b.property_id) else { continue };
        if Some(b.user_id) == viewer {
            own.insert(city.clone());
        } else if !matches!(b.status, BookingStatus::Cancelled | BookingStatus::Expired | BookingStatus::NoShow) {
            *counts.entry(city.clone()).or_default() += 1;
        }
    }
    let mut out: Vec<Destination> = counts
        .into_iter()
        .filter(|(city, _)| !own.contains(city))
        .map(|(city, bookings)| Destination { city, bookings })
        .collect();
    out.sort_by(|a, b| b.bookings.cmp(&a.bookings).then_with(|| a.city.cmp(&b.city)));
    out.truncate(limit);
    Ok(out)
}
