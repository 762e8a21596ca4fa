//! Which room types of a property can be booked for a stay and a party, at what price.

use crate::catalog::{CalendarNight, effective_nights};
use crate::store::{NightRow, Property, RoomType};
use crate::{AppError, Ports};
use innkeep_core::{Party, PropertyId, Quote, Stay, StayLimits};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

/// A bookable room type with the full quote for the stay.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub room_type: RoomType,
    /// Fewest units free on any night of the stay.
    pub units_left: u32,
    pub quote: Quote,
}

/// Why a room type cannot be booked for a stay, or the quote if it can.
pub fn offer_for(
    rt: &RoomType,
    property: &Property,
    stay: &Stay,
    party: Party,
    nights: &[CalendarNight],
) -> Result<Offer, AppError> {
    rt.draft.occupancy.admits(party)?;
    let arrival_min = nights.first().map(|n| n.min_stay).unwrap_or(rt.draft.min_stay);
    stay.check_length(arrival_min, rt.draft.max_stay)?;
    let mut units_left = u32::MAX;
    for n in nights {
        if n.closed || n.available == 0 {
            return Err(AppError::SoldOut { night: n.date });
        }
        units_left = units_left.min(n.available);
    }
    let by_date = |d: Date| nights.iter().find(|n| n.date == d).map(|n| n.price_minor);
    let quote =
        Quote::compute(&rt.draft.rate_plan, rt.draft.base_rate_minor, property.draft.currency, stay, party, by_date)?;
    Ok(Offer { room_type: rt.clone(), units_left, quote })
}

/// The stay as of today in the property's zone, with the platform's limits only.
pub fn parse_stay(
    ports: &Ports,
    property: &Property,
    check_in: Date,
    check_out: Date,
    now: Timestamp,
) -> Result<Stay, AppError> {
    let today = property.draft.time_zone.today(now);
    let limits = StayLimits { booking_window_days: ports.settings.booking_window_days, ..StayLimits::default() };
    Ok(Stay::new(check_in, check_out, today, limits)?)
}

/// The room types of a property bookable for the stay and party, cheapest first. A
/// public read: the property, its room types and their nights come through the cache
/// (placing the booking reads the store and decides there).
pub async fn availability(
    ports: &Ports,
    property_id: PropertyId,
    check_in: Date,
    check_out: Date,
    party: Party,
    now: Timestamp,
) -> Result<Vec<Offer>, AppError> {
    let property = crate::cache::property(ports, property_id).await?;
    let stay = checked_stay(ports, &property, check_in, check_out, party, now)?;
    let mut offers = Vec::new();
    for rt in crate::cache::room_types(ports, property.id).await? {
        let rows = crate::cache::nights(ports, rt.id, &stay).await?;
        push_offer(&mut offers, &rt, &property, &stay, party, &rows);
    }
    offers.sort_by_key(|o| o.quote.total.minor);
    Ok(offers)
}

/// The bookable room types of a property already read, cheapest first, from the store.
pub async fn offers(
    ports: &Ports,
    property: &Property,
    check_in: Date,
    check_out: Date,
    party: Party,
    now: Timestamp,
) -> Result<Vec<Offer>, AppError> {
    let stay = checked_stay(ports, property, check_in, check_out, party, now)?;
    let mut offers = Vec::new();
    for rt in ports.store.room_types_of(property.id).await? {
        let rows = ports.store.nights(rt.id, &stay).await?;
        push_offer(&mut offers, &rt, property, &stay, party, &rows);
    }
    offers.sort_by_key(|o| o.quote.total.minor);
    Ok(offers)
}

fn checked_stay(
    ports: &Ports,
    property: &Property,
    check_in: Date,
    check_out: Date,
    party: Party,
    now: Timestamp,
) -> Result<Stay, AppError> {
    let stay = parse_stay(ports, property, check_in, check_out, now)?;
    if party.adults == 0 {
        return Err(AppError::invalid("adults", "no_adult", "a party needs at least one adult"));
    }
    Ok(stay)
}

fn push_offer(
    offers: &mut Vec<Offer>,
    rt: &RoomType,
    property: &Property,
    stay: &Stay,
    party: Party,
    rows: &[NightRow],
) {
    let nights = effective_nights(rt, stay, rows);
    if let Ok(offer) = offer_for(rt, property, stay, party, &nights) {
        offers.push(offer);
    }
}
