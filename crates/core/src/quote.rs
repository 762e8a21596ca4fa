//! A quote: the price of a stay for a party, night by night, with the discount,
//! taxes, fees and the total. All amounts are integer minor units; see `money` for
//! the rounding rule.

use crate::money::{Currency, Money, MoneyError};
use crate::room_type::{ChargeKind, RatePlan};
use crate::stay::{Party, Stay};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The price of one night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightPrice {
    pub date: Date,
    pub price: Money,
}

/// A tax or fee line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub name: String,
    pub tax: bool,
    pub amount: Money,
}

/// The full price of a stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    /// The price of each night for one room.
    pub nights: Vec<NightPrice>,
    /// How many rooms the stay takes: the subtotal is the nights' prices times this.
    #[serde(default = "crate::one_room")]
    pub rooms: u16,
    pub subtotal: Money,
    pub discount: Money,
    /// What the children pay on top of the rooms by the room type's children's rates (their
    /// ages, every night); absent where the room type has none or nobody is a child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Money>,
    pub charges: Vec<QuoteLine>,
    pub total: Money,
}

impl Quote {
    /// Price a stay in `party.rooms` rooms. `override_for(night)` gives a night's price
    /// override, if any; an override replaces the base rate and the weekend and seasonal
    /// rules. Per-night and per-stay charges are per room, per-person charges per person.
    pub fn compute(
        plan: &RatePlan,
        base_rate_minor: i64,
        currency: Currency,
        stay: &Stay,
        party: Party,
        override_for: impl Fn(Date) -> Option<i64>,
    ) -> Result<Quote, MoneyError> {
        let rooms = i64::from(party.rooms.max(1));
        let mut nights = Vec::with_capacity(stay.nights() as usize);
        let mut subtotal = Money::zero(currency);
        for date in stay.each_night() {
            let minor = override_for(date).unwrap_or_else(|| plan.night_price(base_rate_minor, date));
            if minor < 0 {
                return Err(MoneyError::Negative);
            }
            let price = Money::new(minor, currency);
            subtotal = subtotal.checked_add(price.times(rooms)?)?;
            nights.push(NightPrice { date, price });
        }
        let discount = subtotal.percent_bp(plan.los_discount_bp(stay.nights()))?;
        let n = i64::from(stay.nights());
        // Children by their ages, every night; percentage taxes apply to it as to the rooms.
        let children = match (plan.child_rates.is_empty(), party.ages.as_slice()) {
            (true, _) | (_, []) => None,
            (false, ages) => {
                let mut sum = Money::zero(currency);
                for age in ages {
                    sum = sum.checked_add(Money::new(plan.child_night_minor(*age), currency).times(n)?)?;
                }
                Some(sum)
            }
        };
        let mut room = subtotal.checked_sub(discount)?;
        if let Some(c) = children {
            room = room.checked_add(c)?;
        }
        let mut total = room;
        let mut charges = Vec::with_capacity(plan.charges.len());
        for c in &plan.charges {
            let amount = match c.kind {
                ChargeKind::Percent => room.percent_bp(c.amount)?,
                ChargeKind::PerNight => Money::new(c.amount, currency).times(n * rooms)?,
                ChargeKind::PerPersonPerNight => Money::new(c.amount, currency).times(n * i64::from(party.total()))?,
                ChargeKind::PerStay => Money::new(c.amount, currency).times(rooms)?,
            };
            total = total.checked_add(amount)?;
            charges.push(QuoteLine { name: c.name.clone(), tax: c.tax, amount });
        }
        Ok(Quote { currency, nights, rooms: party.rooms.max(1), subtotal, discount, children, charges, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room_type::{Charge, LosDiscount};
    use jiff::civil::date;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn a_quote_adds_discount_taxes_and_fees() {
        let plan = RatePlan {
            los_discounts: vec![LosDiscount { min_nights: 3, percent_bp: 1_000 }],
            charges: vec![
                Charge { name: "VAT".into(), kind: ChargeKind::Percent, amount: 600, tax: true },
                Charge { name: "City tax".into(), kind: ChargeKind::PerPersonPerNight, amount: 200, tax: true },
                Charge { name: "Cleaning".into(), kind: ChargeKind::PerStay, amount: 2_500, tax: false },
            ],
            ..RatePlan::default()
        };
        let stay = Stay::range(date(2026, 12, 1), date(2026, 12, 4)).unwrap();
        let party = Party::new(2, 0);
        let q =
            Quote::compute(&plan, 10_001, eur(), &stay, party, |d| (d == date(2026, 12, 2)).then_some(20_000)).unwrap();
        assert_eq!(q.nights.len(), 3);
        assert_eq!(q.subtotal.minor, 40_002);
        assert_eq!(q.discount.minor, 4_000); // 4000.2 -> 4000
        // VAT 6% of 36002 = 2160.12 -> 2160; city tax 2 * 3 * 200 = 1200; cleaning 2500
        assert_eq!(q.charges.iter().map(|c| c.amount.minor).collect::<Vec<_>>(), vec![2_160, 1_200, 2_500]);
        assert_eq!(q.total.minor, 36_002 + 2_160 + 1_200 + 2_500);

        // The same four people in two rooms: every night and the cleaning twice, the city
        // tax still per person.
        let q = Quote::compute(&plan, 10_001, eur(), &stay, Party::new(4, 0).in_rooms(2), |d| {
            (d == date(2026, 12, 2)).then_some(20_000)
        })
        .unwrap();
        assert_eq!((q.rooms, q.nights[0].price.minor), (2, 10_001), "a night's price is one room's");
        assert_eq!(q.subtotal.minor, 80_004);
        assert_eq!(q.discount.minor, 8_000);
        // VAT 6% of 72004 = 4320.24 -> 4320; city tax 4 * 3 * 200 = 2400; cleaning 2 * 2500
        assert_eq!(q.charges.iter().map(|c| c.amount.minor).collect::<Vec<_>>(), vec![4_320, 2_400, 5_000]);
        assert_eq!(q.total.minor, 72_004 + 4_320 + 2_400 + 5_000);
    }

    #[test]
    fn children_pay_by_their_ages_every_night_and_percentage_taxes_count_it() {
        use crate::room_type::ChildRate;
        let plan = RatePlan {
            charges: vec![Charge { name: "VAT".into(), kind: ChargeKind::Percent, amount: 1_000, tax: true }],
            child_rates: vec![
                ChildRate { max_age: 2, per_night_minor: 0 },
                ChildRate { max_age: 11, per_night_minor: 2_000 },
            ],
            ..RatePlan::default()
        };
        let stay = Stay::range(date(2026, 12, 1), date(2026, 12, 4)).unwrap();
        // A baby free, a child of 7 at 20.00 a night, a 14-year-old at the room's price.
        let ages = crate::ChildAges::new(&[1, 7, 14]).unwrap();
        let party = Party::new(2, 3).with_ages(ages);
        let q = Quote::compute(&plan, 10_000, eur(), &stay, party, |_| None).unwrap();
        assert_eq!(q.children.map(|c| c.minor), Some(6_000));
        assert_eq!(q.charges[0].amount.minor, 3_600, "10% of 300.00 + 60.00");
        assert_eq!(q.total.minor, 30_000 + 6_000 + 3_600);
        // Without child rates, ages change nothing.
        let q = Quote::compute(&RatePlan::default(), 10_000, eur(), &stay, party, |_| None).unwrap();
        assert_eq!((q.children, q.total.minor), (None, 30_000));
    }

    proptest! {
        #[test]
        fn a_quote_always_adds_up(
            base in 1i64..1_000_000,
            nights in 1i32..60,
            disc in 0i64..9_000,
            vat in 0i64..3_000,
            per_night in 0i64..10_000,
            adults in 1u16..6,
            rooms in 1u16..4,
        ) {
            let plan = RatePlan {
                los_discounts: vec![LosDiscount { min_nights: 2, percent_bp: disc }],
                charges: vec![
                    Charge { name: "VAT".into(), kind: ChargeKind::Percent, amount: vat, tax: true },
                    Charge { name: "Resort".into(), kind: ChargeKind::PerNight, amount: per_night, tax: false },
                ],
                ..RatePlan::default()
            };
            let ci = date(2026, 12, 1);
            let stay = Stay::range(ci, ci.checked_add(jiff::Span::new().days(nights)).unwrap()).unwrap();
            let q = Quote::compute(&plan, base, eur(), &stay, Party::new(adults, 0).in_rooms(rooms), |_| None).unwrap();
            let nights_sum: i64 = q.nights.iter().map(|n| n.price.minor).sum::<i64>() * i64::from(rooms);
            let charges_sum: i64 = q.charges.iter().map(|c| c.amount.minor).sum();
            prop_assert_eq!(q.subtotal.minor, nights_sum);
            prop_assert!(q.discount.minor >= 0 && q.discount.minor <= q.subtotal.minor);
            prop_assert_eq!(q.children, None);
            prop_assert_eq!(q.total.minor, q.subtotal.minor - q.discount.minor + charges_sum);
            prop_assert!(q.total.minor >= 0);
        }
    }
}
