//! A stay: the half-open range of local nights `[check_in, check_out)` in the
//! property's time zone, and the party that stays.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Default booking window: how far ahead a check-in may be.
pub const DEFAULT_BOOKING_WINDOW_DAYS: i32 = 730;

/// Limits a stay must respect (from the room type, the night overrides and the platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StayLimits {
    pub min_stay: u16,
    pub max_stay: u16,
    pub booking_window_days: i32,
}

impl Default for StayLimits {
    fn default() -> Self {
        StayLimits { min_stay: 1, max_stay: 365, booking_window_days: DEFAULT_BOOKING_WINDOW_DAYS }
    }
}

/// Why a stay was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StayError {
    #[error("check_out must be after check_in")]
    EmptyRange,
    #[error("check_in {check_in} is in the past (today is {today} in the property's time zone)")]
    InThePast { check_in: Date, today: Date },
    #[error("check_in {check_in} is beyond the booking window of {window_days} days")]
    BeyondWindow { check_in: Date, window_days: i32 },
    #[error("stay of {nights} nights is shorter than the minimum stay of {min} nights")]
    TooShort { nights: u32, min: u16 },
    #[error("stay of {nights} nights is longer than the maximum stay of {max} nights")]
    TooLong { nights: u32, max: u16 },
}

/// A valid stay. Once built, `check_in < check_out` and it was bookable on the day checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Stay {
    check_in: Date,
    check_out: Date,
}

impl Stay {
    /// Parse a stay as of `today` (the current date in the property's time zone).
    pub fn new(check_in: Date, check_out: Date, today: Date, limits: StayLimits) -> Result<Stay, StayError> {
        let stay = Stay::range(check_in, check_out)?;
        if check_in < today {
            return Err(StayError::InThePast { check_in, today });
        }
        let last = today.checked_add(jiff::Span::new().days(limits.booking_window_days)).unwrap_or(Date::MAX);
        if check_in > last {
            return Err(StayError::BeyondWindow { check_in, window_days: limits.booking_window_days });
        }
        stay.check_length(limits.min_stay, limits.max_stay)?;
        Ok(stay)
    }

    /// A range of nights without the booking-time checks (for calendars and past bookings).
    pub fn range(check_in: Date, check_out: Date) -> Result<Stay, StayError> {
        if check_out <= check_in {
            return Err(StayError::EmptyRange);
        }
        Ok(Stay { check_in, check_out })
    }

    /// Check the number of nights against a minimum and maximum stay.
    pub fn check_length(&self, min: u16, max: u16) -> Result<(), StayError> {
        let nights = self.nights();
        if nights < u32::from(min) {
            return Err(StayError::TooShort { nights, min });
        }
        if nights > u32::from(max) {
            return Err(StayError::TooLong { nights, max });
        }
        Ok(())
    }

    /// First night.
    pub fn check_in(&self) -> Date {
        self.check_in
    }

    /// Day of departure (not a night of the stay).
    pub fn check_out(&self) -> Date {
        self.check_out
    }

    /// Number of nights.
    pub fn nights(&self) -> u32 {
        let days = self.check_in.until(self.check_out).map(|s| s.get_days()).unwrap_or(0);
        u32::try_from(days).unwrap_or(0)
    }

    /// Each night of the stay, in order.
    pub fn each_night(&self) -> impl Iterator<Item = Date> + '_ {
        self.check_in.series(jiff::Span::new().days(1)).take_while(move |d| *d < self.check_out)
    }

    /// Whether two stays share at least one night.
    pub fn overlaps(&self, other: &Stay) -> bool {
        self.check_in < other.check_out && other.check_in < self.check_out
    }
}

/// The most rooms of one room type a booking takes (a family, a team, a small group; a
/// larger group is the property's to arrange).
pub const MAX_ROOMS: u16 = 30;

/// The most children whose ages a party names.
pub const MAX_CHILD_AGES: usize = 10;

/// The oldest age of a child (at 18 a guest counts as an adult).
pub const MAX_CHILD_AGE: u8 = 17;

/// The ages of a party's children as given (none when not given): what a room type's
/// children's rates are priced by. At most `MAX_CHILD_AGES`, each 0 to 255 as given (a party
/// is checked against 0 to `MAX_CHILD_AGE` and its number of children by `Party::check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildAges {
    len: u8,
    ages: [u8; MAX_CHILD_AGES],
}

impl ChildAges {
    /// The ages, or `None` if there are more than `MAX_CHILD_AGES`.
    pub fn new(ages: &[u8]) -> Option<ChildAges> {
        let mut out = ChildAges::default();
        out.ages.get_mut(..ages.len())?.copy_from_slice(ages);
        out.len = ages.len() as u8;
        Some(out)
    }

    /// The ages, in the order given.
    pub fn as_slice(&self) -> &[u8] {
        &self.ages[..usize::from(self.len)]
    }

    /// Whether no age was given.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Serialize for ChildAges {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ChildAges {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ChildAges, D::Error> {
        let ages = Vec::<u8>::deserialize(d)?;
        ChildAges::new(&ages)
            .ok_or_else(|| serde::de::Error::custom(format!("at most {MAX_CHILD_AGES} children's ages")))
    }
}

/// Who stays, adults and children (with their ages where given), and in how many rooms of
/// the room type (the party shared between them, each room with at least one adult).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub adults: u16,
    pub children: u16,
    #[serde(default = "one_room")]
    pub rooms: u16,
    #[serde(default, skip_serializing_if = "ChildAges::is_empty")]
    pub ages: ChildAges,
}

/// One room: a count of rooms not given (bookings, quotes and files from before parties took
/// several rooms), as serde's default.
pub fn one_room() -> u16 {
    1
}

impl Party {
    /// A party in one room.
    pub fn new(adults: u16, children: u16) -> Party {
        Party { adults, children, rooms: 1, ages: ChildAges::default() }
    }

    /// The party's own limits, whatever room it is for: an adult, 1 to `MAX_ROOMS` rooms with
    /// an adult in each, and the children's ages (0 to 17, one for each child) when given.
    pub fn check(&self) -> Result<(), crate::RoomTypeError> {
        use crate::RoomTypeError;
        if self.adults == 0 {
            return Err(RoomTypeError::NoAdult);
        }
        if self.rooms == 0 || self.rooms > MAX_ROOMS {
            return Err(RoomTypeError::Rooms { rooms: self.rooms, max: MAX_ROOMS });
        }
        if self.adults < self.rooms {
            return Err(RoomTypeError::AdultPerRoom { adults: self.adults, rooms: self.rooms });
        }
        let ages = self.ages.as_slice();
        if !ages.is_empty() && (ages.len() != usize::from(self.children) || ages.iter().any(|a| *a > MAX_CHILD_AGE)) {
            return Err(RoomTypeError::ChildAges { children: self.children, given: ages.len() });
        }
        Ok(())
    }

    /// The same party with its children's ages.
    pub fn with_ages(self, ages: ChildAges) -> Party {
        Party { ages, ..self }
    }

    /// The same party in `rooms` rooms.
    pub fn in_rooms(self, rooms: u16) -> Party {
        Party { rooms, ..self }
    }

    /// Everyone in the party.
    pub fn total(&self) -> u16 {
        self.adults.saturating_add(self.children)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const TODAY: Date = date(2026, 11, 24);

    #[test]
    fn check_out_must_follow_check_in() {
        let e = Stay::new(date(2026, 12, 2), date(2026, 12, 2), TODAY, StayLimits::default());
        assert_eq!(e, Err(StayError::EmptyRange));
        let e = Stay::new(date(2026, 12, 3), date(2026, 12, 2), TODAY, StayLimits::default());
        assert_eq!(e, Err(StayError::EmptyRange));
    }

    #[test]
    fn check_in_in_the_past_is_refused_but_today_is_fine() {
        let e = Stay::new(date(2026, 11, 23), date(2026, 11, 25), TODAY, StayLimits::default());
        assert!(matches!(e, Err(StayError::InThePast { .. })));
        assert!(Stay::new(TODAY, date(2026, 11, 25), TODAY, StayLimits::default()).is_ok());
    }

    #[test]
    fn beyond_the_booking_window_is_refused() {
        let limits = StayLimits::default();
        let e = Stay::new(date(2028, 11, 25), date(2028, 11, 26), TODAY, limits);
        assert!(matches!(e, Err(StayError::BeyondWindow { .. })));
        assert!(Stay::new(date(2028, 11, 23), date(2028, 11, 24), TODAY, limits).is_ok());
    }

    #[test]
    fn min_and_max_stay_apply() {
        let limits = StayLimits { min_stay: 2, max_stay: 3, ..StayLimits::default() };
        let short = Stay::new(date(2026, 12, 1), date(2026, 12, 2), TODAY, limits);
        assert_eq!(short, Err(StayError::TooShort { nights: 1, min: 2 }));
        let long = Stay::new(date(2026, 12, 1), date(2026, 12, 5), TODAY, limits);
        assert_eq!(long, Err(StayError::TooLong { nights: 4, max: 3 }));
    }

    #[test]
    fn nights_cross_month_and_year_ends() {
        let s = Stay::range(date(2026, 12, 30), date(2027, 1, 2)).unwrap();
        assert_eq!(s.nights(), 3);
        let nights: Vec<Date> = s.each_night().collect();
        assert_eq!(nights, vec![date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)]);
    }

    proptest! {
        #[test]
        fn nights_count_matches_the_nights_listed(start in 0i32..3000, len in 1i32..400) {
            let ci = date(2026, 1, 1).checked_add(jiff::Span::new().days(start)).unwrap();
            let co = ci.checked_add(jiff::Span::new().days(len)).unwrap();
            let s = Stay::range(ci, co).unwrap();
            prop_assert_eq!(s.nights() as usize, s.each_night().count());
            prop_assert_eq!(s.nights() as i32, len);
        }

        #[test]
        fn adjacent_stays_do_not_overlap(start in 0i32..1000, a in 1i32..30, b in 1i32..30) {
            let ci = date(2026, 1, 1).checked_add(jiff::Span::new().days(start)).unwrap();
            let mid = ci.checked_add(jiff::Span::new().days(a)).unwrap();
            let end = mid.checked_add(jiff::Span::new().days(b)).unwrap();
            let first = Stay::range(ci, mid).unwrap();
            let second = Stay::range(mid, end).unwrap();
            prop_assert!(!first.overlaps(&second));
            prop_assert!(first.overlaps(&Stay::range(ci, end).unwrap()));
        }
    }
}
