//! Which room types of a property can be booked for a stay and a party, at what price.

use crate::store::{NightRow, Property, RoomType};
use crate::{AppError, Ports};
use innkeep_core::night::{self, CalendarNight};
use innkeep_core::{Party, PropertyId, Quote, RoomTypeId, Stay, StayLimits};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::HashMap;

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
    let (units_left, quote) = night::offer(&rt.draft, property.draft.currency, stay, party, nights)?;
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
#[tracing::instrument(level = "debug", skip_all, fields(property_id = %property_id))]
pub async fn availability(
    ports: &Ports,
    property_id: PropertyId,
    check_in: Date,
    check_out: Date,
    party: Party,
    now: Timestamp,
) -> Result<Vec<Offer>, AppError> {
    let property = crate::cache::property(ports, property_id).await?;
    let stay = parse_stay(ports, &property, check_in, check_out, now)?;
    check_party(party)?;
    let room_types = crate::cache::room_types(ports, property.id).await?;
    let mut rows = HashMap::with_capacity(room_types.len());
    for rt in &room_types {
        rows.insert(rt.id, crate::cache::nights(ports, rt.id, &stay).await?);
    }
    offers_from(&property, &room_types, &rows, &stay, party)
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
    let stay = parse_stay(ports, property, check_in, check_out, now)?;
    check_party(party)?;
    let room_types = ports.store.room_types_of(property.id).await?;
    let ids: Vec<RoomTypeId> = room_types.iter().map(|rt| rt.id).collect();
    let rows = by_room_type(ports.store.nights_of_many(&ids, &stay).await?);
    offers_from(property, &room_types, &rows, &stay, party)
}

/// The bookable room types of many listings, each property's offers cheapest first: one
/// read of the store for the lot (the nights of every room type). A property whose zone
/// refuses the stay (check-in already past there) fails the lot, as a single property would.
pub async fn offers_of_listings(
    ports: &Ports,
    listings: &[std::sync::Arc<crate::search::Listing>],
    check_in: Date,
    check_out: Date,
    party: Party,
    now: Timestamp,
) -> Result<HashMap<PropertyId, Vec<Offer>>, AppError> {
    check_party(party)?;
    let range = Stay::range(check_in, check_out)?;
    let rt_ids: Vec<RoomTypeId> = listings.iter().flat_map(|l| l.room_types.iter().map(|rt| rt.id)).collect();
    let rows = by_room_type(ports.store.nights_of_many(&rt_ids, &range).await?);
    let mut out = HashMap::with_capacity(listings.len());
    for l in listings {
        let stay = parse_stay(ports, &l.property, check_in, check_out, now)?;
        out.insert(l.property.id, offers_from(&l.property, &l.room_types, &rows, &stay, party)?);
    }
    Ok(out)
}

fn by_room_type(rows: Vec<(RoomTypeId, NightRow)>) -> HashMap<RoomTypeId, Vec<NightRow>> {
    let mut out: HashMap<RoomTypeId, Vec<NightRow>> = HashMap::new();
    for (id, row) in rows {
        out.entry(id).or_default().push(row);
    }
    out
}

/// The party's own limits, whatever the room types take (`Party::check`).
fn check_party(party: Party) -> Result<(), AppError> {
    Ok(party.check()?)
}

/// The offers of a property's room types given the stored nights (of these room types or
/// more), cheapest first. Children without their ages where a room type prices by age are
/// an error, not a room left out: the guest is asked for the ages.
fn offers_from(
    property: &Property,
    room_types: &[RoomType],
    rows: &HashMap<RoomTypeId, Vec<NightRow>>,
    stay: &Stay,
    party: Party,
) -> Result<Vec<Offer>, AppError> {
    if room_types.iter().any(|rt| rt.draft.rate_plan.needs_child_ages(party)) {
        return Err(innkeep_core::RoomTypeError::ChildAgesNeeded.into());
    }
    let mut offers = Vec::new();
    for rt in room_types {
        let mine = rows.get(&rt.id).map(Vec::as_slice).unwrap_or_default();
        let nights = night::effective_nights(&rt.draft, stay, mine);
        if let Ok(offer) = offer_for(rt, property, stay, party, &nights) {
            offers.push(offer);
        }
    }
    offers.sort_by_key(|o| o.quote.total.minor);
    Ok(offers)
}
