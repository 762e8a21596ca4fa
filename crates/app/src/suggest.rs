//! Suggestions for a guest: the destinations other guests booked lately, leaving out the
//! ones this guest has booked already.

use crate::store::BookingFilter;
use crate::{AppError, Ports};
use innkeep_core::{BookingStatus, PropertyId, UserId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many of the newest bookings the suggestions are drawn from.
pub const RECENT_BOOKINGS: u32 = 500;
/// How many of a guest's own bookings are read for the cities to leave out.
const OWN_BOOKINGS: u32 = 200;

/// A destination other guests booked, with how many of the recent bookings went there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub city: String,
    pub bookings: usize,
}

/// The city of each of the newest bookings and who made it: what the popular destinations
/// are counted from, read once and shared by every visitor for a while.
#[derive(Debug, Clone, Default)]
pub struct RecentCities(Vec<(UserId, String, BookingStatus)>);

/// The newest [`RECENT_BOOKINGS`] bookings with their properties' cities.
pub async fn recent_cities(ports: &Ports) -> Result<RecentCities, AppError> {
    let filter = BookingFilter { limit: RECENT_BOOKINGS, ..BookingFilter::default() };
    let bookings = ports.store.list_bookings(&filter).await?;
    let ids: Vec<PropertyId> = bookings.iter().map(|b| b.property_id).collect::<BTreeSet<_>>().into_iter().collect();
    let cities = cities_of(ports, &ids).await?;
    Ok(RecentCities(
        bookings.iter().filter_map(|b| Some((b.user_id, cities.get(&b.property_id)?.clone(), b.status))).collect(),
    ))
}

async fn cities_of(ports: &Ports, ids: &[PropertyId]) -> Result<HashMap<PropertyId, String>, AppError> {
    Ok(ports
        .store
        .properties_by_ids(ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.draft.address.city.trim().to_string()))
        .collect())
}

/// The cities of the recent bookings (held, confirmed, stayed; not cancelled, expired or
/// no-show) by other guests than `viewer`, most booked first, without the cities `viewer`
/// ever booked (read now, so a city just booked is left out at once); at most `limit`.
pub async fn popular_destinations(
    ports: &Ports,
    recent: &RecentCities,
    viewer: Option<UserId>,
    limit: usize,
) -> Result<Vec<Destination>, AppError> {
    let own: BTreeSet<String> = match viewer {
        Some(user) => {
            let filter = BookingFilter { user_id: Some(user), limit: OWN_BOOKINGS, ..BookingFilter::default() };
            let ids: BTreeSet<PropertyId> =
                ports.store.list_bookings(&filter).await?.iter().map(|b| b.property_id).collect();
            cities_of(ports, &ids.into_iter().collect::<Vec<_>>()).await?.into_values().collect()
        }
        None => BTreeSet::new(),
    };
    Ok(recent.popular(viewer, &own, limit))
}

impl RecentCities {
    /// The cities booked by others than `viewer`, leaving out `own`, most booked first.
    fn popular(&self, viewer: Option<UserId>, own: &BTreeSet<String>, limit: usize) -> Vec<Destination> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (user, city, status) in &self.0 {
            let counted = !matches!(status, BookingStatus::Cancelled | BookingStatus::Expired | BookingStatus::NoShow);
            if Some(*user) != viewer && counted && !own.contains(city) {
                *counts.entry(city).or_default() += 1;
            }
        }
        let mut out: Vec<Destination> =
            counts.into_iter().map(|(city, bookings)| Destination { city: city.to_string(), bookings }).collect();
        out.sort_by(|a, b| b.bookings.cmp(&a.bookings).then_with(|| a.city.cmp(&b.city)));
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popular_cities_count_live_bookings_of_others_and_leave_out_the_viewers_own() {
        let [ana, bo, cy] = [1, 2, 3].map(|n| UserId(uuid::Uuid::from_u128(n)));
        let recent = RecentCities(vec![
            (bo, "Porto".into(), BookingStatus::Confirmed),
            (cy, "Porto".into(), BookingStatus::Held),
            (bo, "Lisbon".into(), BookingStatus::Completed),
            (cy, "Faro".into(), BookingStatus::Cancelled),
            (ana, "Braga".into(), BookingStatus::Confirmed),
        ]);
        let names =
            |d: Vec<Destination>| d.into_iter().map(|d| format!("{} {}", d.city, d.bookings)).collect::<Vec<_>>();
        assert_eq!(names(recent.popular(None, &BTreeSet::new(), 5)), ["Porto 2", "Braga 1", "Lisbon 1"]);
        assert_eq!(names(recent.popular(Some(ana), &BTreeSet::from(["Lisbon".into()]), 5)), ["Porto 2"]);
        assert_eq!(names(recent.popular(None, &BTreeSet::new(), 1)), ["Porto 2"]);
    }
}
