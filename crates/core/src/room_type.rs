//! A room type: a kind of room a property has several units of, with its occupancy,
//! stay limits and rate plan (base rate, weekend and seasonal rules, length-of-stay
//! discounts, taxes and fees).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Who fits in one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupancy {
    pub max_adults: u16,
    pub max_children: u16,
    pub max_total: u16,
}

impl Occupancy {
    /// Whether a party fits in its number of units of this room type (shared so that each
    /// unit has an adult and stays within its limits); otherwise the reason. Such a share
    /// exists exactly when the totals fit `rooms` times the limits and there is an adult for
    /// every unit.
    pub fn admits(&self, party: crate::Party) -> Result<(), RoomTypeError> {
        party.check()?;
        let times = |max: u16| u32::from(max) * u32::from(party.rooms);
        if u32::from(party.adults) > times(self.max_adults)
            || u32::from(party.children) > times(self.max_children)
            || u32::from(party.adults) + u32::from(party.children) > times(self.max_total)
        {
            return Err(RoomTypeError::PartyTooLarge {
                adults: party.adults,
                children: party.children,
                rooms: party.rooms,
                max_adults: self.max_adults,
                max_children: self.max_children,
                max_total: self.max_total,
            });
        }
        Ok(())
    }
}

/// A weekend change to the base rate, in basis points (+2000 = +20%), for the nights
/// whose ISO weekday number (1 = Monday ... 7 = Sunday) is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekendRule {
    pub nights: Vec<u8>,
    pub adjust_bp: i64,
}

/// A seasonal change over the nights `[from, to)`; the first matching season applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonalRule {
    pub name: String,
    pub from: Date,
    pub to: Date,
    pub adjust_bp: i64,
}

/// A discount for stays of at least `min_nights`; the largest qualifying one applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LosDiscount {
    pub min_nights: u16,
    pub percent_bp: i64,
}

/// How a tax or fee is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// `amount` basis points of the discounted room price.
    Percent,
    /// `amount` minor units per night.
    PerNight,
    /// `amount` minor units per person per night (city taxes).
    PerPersonPerNight,
    /// `amount` minor units once per stay.
    PerStay,
}

/// A tax or a fee added to the room price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub name: String,
    pub kind: ChargeKind,
    pub amount: i64,
    #[serde(default)]
    pub tax: bool,
}

/// What a child up to `max_age` (inclusive) pays a night on top of the room's price (0: stays
/// free). A child's rate is that of the first band, in rising `max_age` order, that takes its
/// age; a child older than every band pays nothing on top (the room's price covers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRate {
    pub max_age: u8,
    pub per_night_minor: i64,
}

/// How a room type is priced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RatePlan {
    #[serde(default)]
    pub weekend: Option<WeekendRule>,
    #[serde(default)]
    pub seasons: Vec<SeasonalRule>,
    #[serde(default)]
    pub los_discounts: Vec<LosDiscount>,
    #[serde(default)]
    pub charges: Vec<Charge>,
    /// Children's rates by age, in rising `max_age` order; none: children stay at the
    /// room's price whatever their age.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_rates: Vec<ChildRate>,
}

impl RatePlan {
    /// The price of one night with no override: base rate, then season, then weekend.
    pub fn night_price(&self, base_minor: i64, night: Date) -> i64 {
        let mut price = base_minor as i128;
        if let Some(season) = self.seasons.iter().find(|s| s.from <= night && night < s.to) {
            price = price * (10_000 + season.adjust_bp as i128) / 10_000;
        }
        if let Some(w) = &self.weekend
            && w.nights.contains(&(night.weekday().to_monday_one_offset() as u8))
        {
            price = price * (10_000 + w.adjust_bp as i128) / 10_000;
        }
        i64::try_from(price.max(0)).unwrap_or(i64::MAX)
    }

    /// The discount (basis points) for a stay of `nights`.
    pub fn los_discount_bp(&self, nights: u32) -> i64 {
        self.los_discounts
            .iter()
            .filter(|d| u32::from(d.min_nights) <= nights)
            .max_by_key(|d| d.min_nights)
            .map(|d| d.percent_bp)
            .unwrap_or(0)
    }

    /// Whether pricing `party` needs its children's ages and they were not given.
    pub fn needs_child_ages(&self, party: crate::Party) -> bool {
        party.children > 0 && party.ages.is_empty() && !self.child_rates.is_empty()
    }

    /// What a child of `age` pays a night on top of the room's price.
    pub fn child_night_minor(&self, age: u8) -> i64 {
        self.child_rates.iter().find(|r| age <= r.max_age).map(|r| r.per_night_minor).unwrap_or(0)
    }

    /// Check the plan's rules are coherent.
    pub fn validate(&self) -> Result<(), RoomTypeError> {
        if self.child_rates.len() > 6
            || self.child_rates.windows(2).any(|w| w[0].max_age >= w[1].max_age)
            || self
                .child_rates
                .iter()
                .any(|r| r.max_age > crate::MAX_CHILD_AGE || !(0..=100_000_000).contains(&r.per_night_minor))
        {
            return Err(RoomTypeError::Rule(
                "child_rates are at most 6 bands in rising max_age order, ages 0 to 17, per_night_minor 0 to 100000000",
            ));
        }
        let bp_ok = |bp: i64| (-9_000..=50_000).contains(&bp);
        if let Some(w) = &self.weekend
            && !bp_ok(w.adjust_bp)
        {
            return Err(RoomTypeError::Rule("weekend.adjust_bp must be within -9000..=50000"));
        }
        if let Some(w) = &self.weekend
            && w.nights.iter().any(|d| !(1..=7).contains(d))
        {
            return Err(RoomTypeError::Rule("weekend.nights are ISO weekday numbers 1 (Monday) to 7 (Sunday)"));
        }
        for s in &self.seasons {
            if s.to <= s.from {
                return Err(RoomTypeError::Rule("a season's `to` must be after its `from`"));
            }
            if !bp_ok(s.adjust_bp) {
                return Err(RoomTypeError::Rule("seasons[].adjust_bp must be within -9000..=50000"));
            }
        }
        for d in &self.los_discounts {
            if !(0..=9_000).contains(&d.percent_bp) || d.min_nights < 2 {
                return Err(RoomTypeError::Rule("los_discounts need min_nights >= 2 and percent_bp within 0..=9000"));
            }
        }
        for c in &self.charges {
            if c.name.trim().is_empty() || c.name.len() > 80 {
                return Err(RoomTypeError::Rule("charges[].name must be 1 to 80 characters"));
            }
            let max = if c.kind == ChargeKind::Percent { 10_000 } else { 1_000_000_000_000 };
            if !(0..=max).contains(&c.amount) {
                return Err(RoomTypeError::Rule("charges[].amount is out of range"));
            }
        }
        Ok(())
    }
}

/// A room type as created or updated by its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomTypeDraft {
    pub name: String,
    pub description: String,
    pub occupancy: Occupancy,
    pub beds: String,
    pub units: u32,
    pub base_rate_minor: i64,
    pub min_stay: u16,
    pub max_stay: u16,
    pub rate_plan: RatePlan,
}

/// Most units a room type may have.
pub const MAX_UNITS: u32 = 10_000;

impl RoomTypeDraft {
    /// Check every field.
    pub fn validate(mut self) -> Result<RoomTypeDraft, RoomTypeError> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 200 {
            return Err(RoomTypeError::Rule("name must be between 1 and 200 characters"));
        }
        if self.description.chars().count() > 5_000 || self.beds.chars().count() > 200 {
            return Err(RoomTypeError::Rule("description or beds is too long"));
        }
        let o = self.occupancy;
        if o.max_adults == 0 || o.max_total == 0 || o.max_total > 50 || o.max_adults > o.max_total {
            return Err(RoomTypeError::Rule("occupancy needs 1 <= max_adults <= max_total <= 50"));
        }
        if self.units == 0 || self.units > MAX_UNITS {
            return Err(RoomTypeError::Rule("units must be between 1 and 10000"));
        }
        if self.base_rate_minor <= 0 || self.base_rate_minor > 1_000_000_000_000 {
            return Err(RoomTypeError::Rule("base_rate_minor must be between 1 and 10^12"));
        }
        if self.min_stay == 0 || self.max_stay < self.min_stay || self.max_stay > 365 {
            return Err(RoomTypeError::Rule("stay limits need 1 <= min_stay <= max_stay <= 365"));
        }
        self.rate_plan.validate()?;
        Ok(self)
    }
}

/// A change of some nights' calendar, set over `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NightOverride {
    pub price_minor: Option<i64>,
    pub closed: Option<bool>,
    pub min_stay: Option<u16>,
    pub units: Option<u32>,
}

impl NightOverride {
    /// Check the values are in range and at least one is set.
    pub fn validate(&self) -> Result<(), RoomTypeError> {
        if self.price_minor.is_none() && self.closed.is_none() && self.min_stay.is_none() && self.units.is_none() {
            return Err(RoomTypeError::Rule("set at least one of price, closed, min_stay, units"));
        }
        if let Some(p) = self.price_minor
            && !(1..=1_000_000_000_000).contains(&p)
        {
            return Err(RoomTypeError::Rule("price must be between 1 and 10^12 minor units"));
        }
        if let Some(m) = self.min_stay
            && !(1..=365).contains(&m)
        {
            return Err(RoomTypeError::Rule("min_stay must be between 1 and 365"));
        }
        if let Some(u) = self.units
            && u > MAX_UNITS
        {
            return Err(RoomTypeError::Rule("units must be between 0 and 10000"));
        }
        Ok(())
    }
}

/// Why a room type, a rule or a party was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomTypeError {
    #[error("{0}")]
    Rule(&'static str),
    #[error("a party needs at least one adult")]
    NoAdult,
    #[error(
        "party of {adults} adults and {children} children exceeds the occupancy of {rooms} room(s) (each at most {max_adults} adults, {max_children} children, {max_total} in total)"
    )]
    PartyTooLarge { adults: u16, children: u16, rooms: u16, max_adults: u16, max_children: u16, max_total: u16 },
    #[error("rooms must be between 1 and {max} (asked for {rooms})")]
    Rooms { rooms: u16, max: u16 },
    #[error("each room needs an adult: {adults} adult(s) cannot take {rooms} rooms")]
    AdultPerRoom { adults: u16, rooms: u16 },
    #[error("give an age from 0 to 17 for each child: {given} age(s) for {children} child(ren)")]
    ChildAges { children: u16, given: usize },
    #[error("this room's price depends on the children's ages: give child_ages, one for each child")]
    ChildAgesNeeded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Party;
    use jiff::civil::date;

    #[test]
    fn occupancy_limits_each_count_and_the_total() {
        let o = Occupancy { max_adults: 2, max_children: 2, max_total: 3 };
        assert!(o.admits(Party::new(2, 1)).is_ok());
        assert!(o.admits(Party::new(2, 2)).is_err());
        assert!(o.admits(Party::new(3, 0)).is_err());
        assert_eq!(o.admits(Party::new(0, 1)), Err(RoomTypeError::NoAdult));
    }

    #[test]
    fn a_party_in_several_rooms_needs_an_adult_in_each() {
        let o = Occupancy { max_adults: 2, max_children: 2, max_total: 3 };
        assert!(o.admits(Party::new(3, 2).in_rooms(2)).is_ok());
        assert!(o.admits(Party::new(3, 4).in_rooms(2)).is_err(), "7 people in two rooms of 3");
        assert_eq!(o.admits(Party::new(1, 2).in_rooms(2)), Err(RoomTypeError::AdultPerRoom { adults: 1, rooms: 2 }));
        assert_eq!(o.admits(Party::new(2, 0).in_rooms(0)), Err(RoomTypeError::Rooms { rooms: 0, max: 30 }));
        assert_eq!(o.admits(Party::new(40, 0).in_rooms(31)), Err(RoomTypeError::Rooms { rooms: 31, max: 30 }));
    }

    /// Whether the party can be shared out between its rooms, tried every way.
    fn shares_out(o: &Occupancy, adults: u16, children: u16, rooms: u16) -> bool {
        if rooms == 0 {
            return adults == 0 && children == 0;
        }
        (1..=o.max_adults.min(adults)).any(|a| {
            (0..=o.max_children.min(children))
                .any(|c| a + c <= o.max_total && shares_out(o, adults - a, children - c, rooms - 1))
        })
    }

    #[test]
    fn childrens_ages_are_one_for_each_child_from_0_to_17_when_given() {
        let o = Occupancy { max_adults: 2, max_children: 2, max_total: 4 };
        let ages = |a: &[u8]| crate::ChildAges::new(a).unwrap();
        assert!(o.admits(Party::new(2, 2)).is_ok(), "ages may be left out");
        assert!(o.admits(Party::new(2, 2).with_ages(ages(&[0, 17]))).is_ok());
        let e = RoomTypeError::ChildAges { children: 2, given: 1 };
        assert_eq!(o.admits(Party::new(2, 2).with_ages(ages(&[4]))), Err(e));
        let e = RoomTypeError::ChildAges { children: 2, given: 2 };
        assert_eq!(o.admits(Party::new(2, 2).with_ages(ages(&[4, 18]))), Err(e));
        assert!(crate::ChildAges::new(&[1; 11]).is_none(), "at most ten");
    }

    #[test]
    fn childrens_rates_rise_by_age_and_a_child_takes_the_first_band_that_fits() {
        let band = |max_age, per_night_minor| ChildRate { max_age, per_night_minor };
        let plan = RatePlan { child_rates: vec![band(2, 0), band(11, 2_000)], ..RatePlan::default() };
        assert!(plan.validate().is_ok());
        assert_eq!([0, 2, 3, 11, 12].map(|a| plan.child_night_minor(a)), [0, 0, 2_000, 2_000, 0]);
        for bad in [vec![band(11, 0), band(2, 0)], vec![band(18, 0)], vec![band(5, -1)], vec![band(3, 0); 2]] {
            assert!(RatePlan { child_rates: bad.clone(), ..RatePlan::default() }.validate().is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_party_is_admitted_exactly_when_it_can_be_shared_out(
            max_adults in 1u16..4, max_children in 0u16..3, extra in 0u16..3,
            adults in 1u16..9, children in 0u16..7, rooms in 1u16..4,
        ) {
            let o = Occupancy { max_adults, max_children, max_total: max_adults + extra };
            let party = Party::new(adults, children).in_rooms(rooms);
            proptest::prop_assert_eq!(o.admits(party).is_ok(), shares_out(&o, adults, children, rooms));
        }
    }

    #[test]
    fn season_then_weekend_adjust_the_base_rate() {
        let plan = RatePlan {
            weekend: Some(WeekendRule { nights: vec![5, 6], adjust_bp: 2_000 }),
            seasons: vec![SeasonalRule {
                name: "xmas".into(),
                from: date(2026, 12, 20),
                to: date(2027, 1, 3),
                adjust_bp: 5_000,
            }],
            ..RatePlan::default()
        };
        assert_eq!(plan.night_price(10_000, date(2026, 12, 1)), 10_000); // Tuesday
        assert_eq!(plan.night_price(10_000, date(2026, 12, 4)), 12_000); // Friday
        assert_eq!(plan.night_price(10_000, date(2026, 12, 22)), 15_000); // Tuesday in season
        assert_eq!(plan.night_price(10_000, date(2026, 12, 26)), 18_000); // Saturday in season
        assert_eq!(plan.night_price(10_000, date(2027, 1, 3)), 10_000); // season end is exclusive
    }

    #[test]
    fn the_largest_qualifying_discount_applies() {
        let plan = RatePlan {
            los_discounts: vec![
                LosDiscount { min_nights: 7, percent_bp: 1000 },
                LosDiscount { min_nights: 28, percent_bp: 2500 },
            ],
            ..RatePlan::default()
        };
        assert_eq!(plan.los_discount_bp(6), 0);
        assert_eq!(plan.los_discount_bp(7), 1000);
        assert_eq!(plan.los_discount_bp(30), 2500);
    }
}
