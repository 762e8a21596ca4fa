//! The nights of a room type: what is stored for a night, what a night is in effect (the
//! room type's defaults under the night's overrides), and whether and at what price a
//! stay can be sold on them.

use crate::{Currency, MoneyError, NightOverride, Party, Quote, RoomTypeDraft, RoomTypeError, Stay, StayError};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// One night of a room type's calendar as stored (absent rows mean "no override, none sold").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightRow {
    pub date: Date,
    pub sold: u32,
    pub overrides: NightOverride,
}

/// One night of a calendar in effect, as a host sees it and as a stay is sold on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarNight {
    pub date: Date,
    pub units: u32,
    pub sold: u32,
    pub available: u32,
    /// Price of the night in minor units of the property's currency.
    #[serde(rename = "price")]
    pub price_minor: i64,
    pub closed: bool,
    pub min_stay: u16,
}

/// Why a stay cannot be sold on a room type's nights.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error(transparent)]
    Party(#[from] RoomTypeError),
    #[error(transparent)]
    Stay(#[from] StayError),
    #[error("not enough units are free on {night}")]
    SoldOut { night: Date },
    #[error(transparent)]
    Price(#[from] MoneyError),
}

/// The effective values of every night in `range`, from the room type and its stored
/// nights (sorted by date; nights outside the range are skipped).
pub fn effective_nights(rt: &RoomTypeDraft, range: &Stay, rows: &[NightRow]) -> Vec<CalendarNight> {
    let mut rows = rows.iter().peekable();
    range
        .each_night()
        .map(|date| {
            while rows.peek().is_some_and(|r| r.date < date) {
                rows.next();
            }
            let row = rows.peek().filter(|r| r.date == date).copied();
            let (sold, ov) = row.map(|r| (r.sold, r.overrides)).unwrap_or((0, NightOverride::default()));
            let units = ov.units.unwrap_or(rt.units);
            CalendarNight {
                date,
                units,
                sold,
                available: units.saturating_sub(sold),
                price_minor: ov.price_minor.unwrap_or_else(|| rt.rate_plan.night_price(rt.base_rate_minor, date)),
                closed: ov.closed.unwrap_or(false),
                min_stay: ov.min_stay.unwrap_or(rt.min_stay),
            }
        })
        .collect()
}

/// Whether the room type takes the party, and the stay's length: the arrival night's
/// minimum stay (the room type's where the night sets none) and the room type's maximum.
pub fn check_stay(rt: &RoomTypeDraft, stay: &Stay, party: Party, nights: &[CalendarNight]) -> Result<(), OfferError> {
    rt.occupancy.admits(party)?;
    if rt.rate_plan.needs_child_ages(party) {
        return Err(RoomTypeError::ChildAgesNeeded.into());
    }
    let arrival_min = nights.first().map(|n| n.min_stay).unwrap_or(rt.min_stay);
    stay.check_length(arrival_min, rt.max_stay)?;
    Ok(())
}

/// The fewest units free on any night, or the first night that is closed or has fewer than
/// `needed` units free.
pub fn units_left(nights: &[CalendarNight], needed: u16) -> Result<u32, OfferError> {
    let mut left = u32::MAX;
    for n in nights {
        if n.closed || n.available < u32::from(needed.max(1)) {
            return Err(OfferError::SoldOut { night: n.date });
        }
        left = left.min(n.available);
    }
    Ok(left)
}

/// The price of the stay from its nights' effective prices.
pub fn quote_nights(
    rt: &RoomTypeDraft,
    currency: Currency,
    stay: &Stay,
    party: Party,
    nights: &[CalendarNight],
) -> Result<Quote, OfferError> {
    let by_date = |d: Date| nights.iter().find(|n| n.date == d).map(|n| n.price_minor);
    Ok(Quote::compute(&rt.rate_plan, rt.base_rate_minor, currency, stay, party, by_date)?)
}

/// A stay that can be sold: units left on its fullest night, and its price.
pub fn offer(
    rt: &RoomTypeDraft,
    currency: Currency,
    stay: &Stay,
    party: Party,
    nights: &[CalendarNight],
) -> Result<(u32, Quote), OfferError> {
    check_stay(rt, stay, party, nights)?;
    let left = units_left(nights, party.rooms)?;
    Ok((left, quote_nights(rt, currency, stay, party, nights)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Occupancy, RatePlan};

    fn rt() -> RoomTypeDraft {
        RoomTypeDraft {
            name: "Double".into(),
            description: String::new(),
            occupancy: Occupancy { max_adults: 2, max_children: 1, max_total: 3 },
            beds: "1 double".into(),
            units: 3,
            base_rate_minor: 10_000,
            min_stay: 2,
            max_stay: 14,
            rate_plan: RatePlan::default(),
        }
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn row(date: &str, sold: u32, overrides: NightOverride) -> NightRow {
        NightRow { date: d(date), sold, overrides }
    }

    #[test]
    fn a_night_takes_the_room_types_values_under_its_overrides() {
        let range = Stay::range(d("2027-03-01"), d("2027-03-04")).unwrap();
        let rows = [
            row("2027-02-28", 3, NightOverride::default()), // before the range: skipped
            row("2027-03-02", 1, NightOverride { price_minor: Some(15_000), units: Some(5), ..Default::default() }),
            row("2027-03-03", 3, NightOverride { closed: Some(true), min_stay: Some(1), ..Default::default() }),
        ];
        let n = effective_nights(&rt(), &range, &rows);
        assert_eq!(n.len(), 3);
        assert_eq!((n[0].units, n[0].sold, n[0].available, n[0].price_minor, n[0].min_stay), (3, 0, 3, 10_000, 2));
        assert_eq!((n[1].units, n[1].sold, n[1].available, n[1].price_minor), (5, 1, 4, 15_000));
        assert_eq!((n[2].available, n[2].closed, n[2].min_stay), (0, true, 1));
    }

    #[test]
    fn a_stay_sells_on_open_nights_at_their_prices_within_its_limits() {
        let stay = Stay::range(d("2027-03-01"), d("2027-03-03")).unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let two = Party::new(2, 0);
        let rows = [row("2027-03-02", 2, NightOverride { price_minor: Some(12_000), ..Default::default() })];
        let nights = effective_nights(&rt(), &stay, &rows);
        let (left, quote) = offer(&rt(), eur, &stay, two, &nights).unwrap();
        assert_eq!(left, 1, "the fullest night has one unit left");
        assert_eq!(quote.total.minor, 22_000);

        let three_adults = Party::new(3, 0);
        assert!(matches!(offer(&rt(), eur, &stay, three_adults, &nights), Err(OfferError::Party(_))));
        let one_night = Stay::range(d("2027-03-01"), d("2027-03-02")).unwrap();
        let short = effective_nights(&rt(), &one_night, &[]);
        assert!(matches!(
            offer(&rt(), eur, &one_night, two, &short),
            Err(OfferError::Stay(StayError::TooShort { .. }))
        ));
        let full = [row("2027-03-02", 3, NightOverride::default())];
        let nights = effective_nights(&rt(), &stay, &full);
        assert_eq!(offer(&rt(), eur, &stay, two, &nights), Err(OfferError::SoldOut { night: d("2027-03-02") }));

        // Two rooms need two units free on every night; three adults fit in two rooms.
        let rows = [row("2027-03-02", 1, NightOverride::default())];
        let nights = effective_nights(&rt(), &stay, &rows);
        let (left, quote) = offer(&rt(), eur, &stay, three_adults.in_rooms(2), &nights).unwrap();
        assert_eq!((left, quote.total.minor), (2, 40_000));
        assert_eq!(
            offer(&rt(), eur, &stay, three_adults.in_rooms(3), &nights),
            Err(OfferError::SoldOut { night: d("2027-03-02") })
        );
    }

    #[test]
    fn the_arrival_nights_minimum_stay_rules() {
        let stay = Stay::range(d("2027-03-01"), d("2027-03-02")).unwrap();
        let rows = [row("2027-03-01", 0, NightOverride { min_stay: Some(1), ..Default::default() })];
        let nights = effective_nights(&rt(), &stay, &rows);
        assert!(check_stay(&rt(), &stay, Party::new(1, 0), &nights).is_ok());
    }
}
