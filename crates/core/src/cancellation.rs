//! Cancellation policies and the refund they give, from the time left before check-in
//! (the property's check-in time on the check-in date, in the property's time zone).

use crate::money::{Money, MoneyError};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A property's cancellation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationPolicy {
    /// Full refund until 24 hours before check-in.
    Flexible,
    /// Full refund until 5 days before check-in.
    Moderate,
    /// Half refund until 7 days before check-in.
    Strict,
    /// No refund.
    NonRefundable,
}

impl CancellationPolicy {
    /// The snake_case name used in the API and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            CancellationPolicy::Flexible => "flexible",
            CancellationPolicy::Moderate => "moderate",
            CancellationPolicy::Strict => "strict",
            CancellationPolicy::NonRefundable => "non_refundable",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<CancellationPolicy> {
        [Self::Flexible, Self::Moderate, Self::Strict, Self::NonRefundable].into_iter().find(|p| p.as_str() == s)
    }

    /// The policy's one step: until this long before check-in, this share (in basis
    /// points) is refunded; after it, nothing. `None` for a policy that never refunds.
    fn step(&self) -> Option<(SignedDuration, i64)> {
        match self {
            CancellationPolicy::Flexible => Some((SignedDuration::from_hours(24), 10_000)),
            CancellationPolicy::Moderate => Some((SignedDuration::from_hours(5 * 24), 10_000)),
            CancellationPolicy::Strict => Some((SignedDuration::from_hours(7 * 24), 5_000)),
            CancellationPolicy::NonRefundable => None,
        }
    }

    /// The refund of `paid` when cancelling at `now` a stay that checks in at `check_in_at`.
    /// A deadline is inclusive: cancelling exactly 24 hours before is still in time.
    pub fn refund(&self, paid: Money, check_in_at: Timestamp, now: Timestamp) -> Result<Money, MoneyError> {
        match self.step() {
            Some((before, share_bp)) if check_in_at.duration_since(now) >= before => paid.percent_bp(share_bp),
            _ => Ok(Money::zero(paid.currency)),
        }
    }

    /// The refund schedule of `paid` for a stay that checks in at `check_in_at`, as a guest
    /// reads it before booking: each period's last instant (inclusive; `None` for "after
    /// that") and its refund. Agrees with `refund` at every instant.
    pub fn schedule(&self, paid: Money, check_in_at: Timestamp) -> Result<Vec<(Option<Timestamp>, Money)>, MoneyError> {
        let zero = Money::zero(paid.currency);
        Ok(match self.step() {
            Some((before, share_bp)) => match check_in_at.checked_sub(before) {
                Ok(deadline) => vec![(Some(deadline), paid.percent_bp(share_bp)?), (None, zero)],
                Err(_) => vec![(None, zero)],
            },
            None => vec![(None, zero)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;

    fn paid() -> Money {
        Money::new(10_001, Currency::parse("EUR").unwrap())
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_schedule_agrees_with_the_refund_at_its_deadline_and_just_after() {
        let ci = at("2026-12-10T15:00:00Z");
        for p in [
            CancellationPolicy::Flexible,
            CancellationPolicy::Moderate,
            CancellationPolicy::Strict,
            CancellationPolicy::NonRefundable,
        ] {
            let schedule = p.schedule(paid(), ci).unwrap();
            assert_eq!(schedule.last().unwrap(), &(None, Money::zero(paid().currency)), "{p:?}");
            for (until, refund) in &schedule {
                if let Some(until) = until {
                    assert_eq!(p.refund(paid(), ci, *until).unwrap(), *refund, "{p:?} at {until}");
                    let after = until.checked_add(SignedDuration::from_secs(1)).unwrap();
                    assert_eq!(p.refund(paid(), ci, after).unwrap().minor, 0, "{p:?} after {until}");
                }
            }
        }
        let strict = CancellationPolicy::Strict.schedule(paid(), ci).unwrap();
        assert_eq!(strict[0], (Some(at("2026-12-03T15:00:00Z")), Money::new(5_001, paid().currency)));
        assert_eq!(CancellationPolicy::NonRefundable.schedule(paid(), ci).unwrap().len(), 1);
    }

    #[test]
    fn flexible_refunds_in_full_until_24_hours_before() {
        let ci = at("2026-12-10T15:00:00Z");
        let p = CancellationPolicy::Flexible;
        assert_eq!(p.refund(paid(), ci, at("2026-12-09T15:00:00Z")).unwrap().minor, 10_001);
        assert_eq!(p.refund(paid(), ci, at("2026-12-09T15:00:01Z")).unwrap().minor, 0);
    }

    #[test]
    fn moderate_refunds_in_full_until_5_days_before() {
        let ci = at("2026-12-10T15:00:00Z");
        let p = CancellationPolicy::Moderate;
        assert_eq!(p.refund(paid(), ci, at("2026-12-05T15:00:00Z")).unwrap().minor, 10_001);
        assert_eq!(p.refund(paid(), ci, at("2026-12-05T16:00:00Z")).unwrap().minor, 0);
    }

    #[test]
    fn strict_refunds_half_until_7_days_before() {
        let ci = at("2026-12-10T15:00:00Z");
        let p = CancellationPolicy::Strict;
        assert_eq!(p.refund(paid(), ci, at("2026-12-01T00:00:00Z")).unwrap().minor, 5_001); // 5000.5 rounds up
        assert_eq!(p.refund(paid(), ci, at("2026-12-04T00:00:00Z")).unwrap().minor, 0);
    }

    #[test]
    fn non_refundable_never_refunds() {
        let ci = at("2027-12-10T15:00:00Z");
        assert_eq!(CancellationPolicy::NonRefundable.refund(paid(), ci, at("2026-01-01T00:00:00Z")).unwrap().minor, 0);
    }

    proptest! {
        #[test]
        fn a_refund_never_exceeds_what_was_paid(minor in 0i64..1_000_000_000, hours in -100i64..1000, p in 0usize..4) {
            let policy = [CancellationPolicy::Flexible, CancellationPolicy::Moderate, CancellationPolicy::Strict, CancellationPolicy::NonRefundable][p];
            let ci = at("2026-12-10T15:00:00Z");
            let now = ci.checked_sub(SignedDuration::from_hours(hours)).unwrap();
            let paid = Money::new(minor, Currency::parse("EUR").unwrap());
            let r = policy.refund(paid, ci, now).unwrap();
            prop_assert!(r.minor >= 0 && r.minor <= minor);
        }
    }
}
