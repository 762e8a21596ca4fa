//! The operator's figures over bookings: bookings made per day, revenue booked per day in
//! the currency with the most bookings, and units held or sold per night. Pure arithmetic
//! over bookings already read; the pages only lay the figures out.

use crate::store::Booking;
use innkeep_core::{BookingStatus, Currency};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::BTreeMap;

/// The UTC day of an instant.
pub fn utc_day(t: Timestamp) -> Date {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

/// Whether a booking in this state counts as revenue (confirmed, or past that).
pub fn earns(s: BookingStatus) -> bool {
    matches!(s, BookingStatus::Confirmed | BookingStatus::CheckedIn | BookingStatus::Completed)
}

/// Whether a booking in this state takes a unit on its nights (holds count).
pub fn occupies(s: BookingStatus) -> bool {
    matches!(s, BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn)
}

/// Bookings made on each of `days` (UTC).
pub fn made_per_day(bookings: &[Booking], days: &[Date]) -> Vec<usize> {
    days.iter().map(|d| bookings.iter().filter(|b| utc_day(b.created_at) == *d).count()).collect()
}

/// Revenue booked per day in one currency, and what was booked in the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Revenue {
    /// The currency with the most earning bookings.
    pub currency: Currency,
    /// Minor units booked in it on each day asked for.
    pub per_day_minor: Vec<i64>,
    /// The other currencies: (currency, minor units, bookings), most bookings first.
    pub others: Vec<(Currency, i64, usize)>,
}

/// Revenue of the earning bookings made on `days`, in the currency that has the most of
/// them (others are listed, never converted); `None` without any earning booking.
pub fn revenue_per_day(bookings: &[Booking], days: &[Date]) -> Option<Revenue> {
    let mut by_currency: BTreeMap<&str, (Currency, i64, usize)> = BTreeMap::new();
    for b in bookings.iter().filter(|b| earns(b.status)) {
        let e = by_currency.entry(b.total.currency.code()).or_insert((b.total.currency, 0, 0));
        e.1 += b.total.minor;
        e.2 += 1;
    }
    let (_, &(currency, _, _)) = by_currency.iter().max_by_key(|(_, v)| v.2)?;
    let per_day_minor = days
        .iter()
        .map(|d| {
            bookings
                .iter()
                .filter(|b| earns(b.status) && b.total.currency == currency && utc_day(b.created_at) == *d)
                .map(|b| b.total.minor)
                .sum()
        })
        .collect();
    let mut others: Vec<(Currency, i64, usize)> =
        by_currency.into_values().filter(|(c, _, _)| *c != currency).collect();
    others.sort_by_key(|(_, _, n)| std::cmp::Reverse(*n));
    Some(Revenue { currency, per_day_minor, others })
}

/// Units held or sold on each of `nights` (a stay occupies `[check_in, check_out)`).
pub fn occupied_per_night(bookings: &[Booking], nights: &[Date]) -> Vec<usize> {
    nights
        .iter()
        .map(|n| bookings.iter().filter(|b| occupies(b.status) && b.check_in <= *n && *n < b.check_out).count())
        .collect()
}

/// `occupied` of `units` in percent (0 without units).
pub fn occupancy_pct(occupied: usize, units: u64) -> f64 {
    if units == 0 { 0.0 } else { 100.0 * occupied as f64 / units as f64 }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::GuestContact;
    use innkeep_core::{BookingId, Money, PropertyId, Quote, RoomTypeId, TenantId, UserId};
    use jiff::civil::date;
    use uuid::Uuid;

    fn booking(status: BookingStatus, made: Date, stay: (Date, Date), total: Money) -> Booking {
        let at = made
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp();
        let none = Money { minor: 0, currency: total.currency };
        let quote = Quote {
            currency: total.currency,
            nights: vec![],
            rooms: 1,
            subtotal: total,
            discount: none,
            children: None,
            charges: vec![],
            total,
        };
        Booking {
            id: BookingId(Uuid::now_v7()),
            status,
            tenant_id: TenantId(Uuid::nil()),
            property_id: PropertyId(Uuid::nil()),
            room_type_id: RoomTypeId(Uuid::nil()),
            user_id: UserId(Uuid::nil()),
            check_in: stay.0,
            check_out: stay.1,
            adults: 1,
            children: 0,
            rooms: 1,
            child_ages: Default::default(),
            guest: GuestContact { name: "A".into(), email: "a@example.com".into(), phone: None },
            quote,
            total,
            refund: None,
            hold_expires_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn figures_count_what_each_rule_says() {
        let eur = |m| Money { minor: m, currency: Currency::parse("EUR").unwrap() };
        let usd = |m| Money { minor: m, currency: Currency::parse("USD").unwrap() };
        let (d1, d2, d3) = (date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3));
        let all = vec![
            booking(BookingStatus::Confirmed, d1, (d2, d3), eur(10_000)),
            booking(BookingStatus::Held, d1, (d1, d3), eur(5_000)),
            booking(BookingStatus::Completed, d2, (d1, d2), eur(7_000)),
            booking(BookingStatus::Cancelled, d2, (d1, d3), eur(9_999)),
            booking(BookingStatus::Confirmed, d2, (d3, date(2027, 1, 4)), usd(3_000)),
        ];
        let days = [d1, d2, d3];
        assert_eq!(made_per_day(&all, &days), vec![2, 3, 0]);
        let r = revenue_per_day(&all, &days).unwrap();
        assert_eq!(r.currency.code(), "EUR", "the currency with the most earning bookings");
        assert_eq!(r.per_day_minor, vec![10_000, 7_000, 0], "holds and cancellations earn nothing");
        assert_eq!(r.others, vec![(usd(0).currency, 3_000, 1)]);
        // Held, confirmed and checked-in stays take their nights; a completed or cancelled
        // one no longer does, and a check-out day is not a night of the stay.
        assert_eq!(occupied_per_night(&all, &days), vec![1, 2, 1]);
        assert_eq!(occupancy_pct(1, 4), 25.0);
        assert_eq!(occupancy_pct(3, 0), 0.0);
        assert_eq!(revenue_per_day(&all[1..2], &days), None);
    }
}
