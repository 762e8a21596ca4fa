//! Who may do what in a host tenant: the staff roles, the scopes of API keys, and the
//! duties each grants. Every host endpoint asks for one duty; this table is the only place
//! that says who has it.

use serde::{Deserialize, Serialize};

/// A member's role in a host tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Everything, including the team, keys, webhooks, the payout account and the audit log.
    Owner,
    /// Runs properties, rates and bookings; sees payments and refunds them.
    Manager,
    /// Sees bookings and checks guests in and out.
    FrontDesk,
    /// Sees payments, payouts and invoices.
    Accountant,
}

/// What an API key may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// See the tenant's bookings.
    Read,
    /// See bookings and change them (confirm, cancel, check in and out).
    Bookings,
    /// Set prices and availability (room-type calendars).
    RatesAndAvailability,
    /// A channel manager: rates and availability out, bookings in.
    Channel,
}

/// One thing a host endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// See the tenant's properties, room types and calendars (every member and key).
    SeeTenant,
    /// Create and change properties, room types and photos.
    Listings,
    /// Set prices and availability.
    Rates,
    /// See the tenant's bookings and their guests.
    SeeBookings,
    /// Check guests in and out, record no-shows.
    FrontDesk,
    /// Confirm or cancel a guest's booking on the guest's behalf.
    ChangeBookings,
    /// See payments, refunds, payouts, invoices and the commission rate.
    SeeMoney,
    /// Refund a payment.
    Refunds,
    /// Set the bank account payouts go to.
    PayoutAccount,
    /// The team, API keys, webhooks and the audit log.
    Team,
    /// The log of messages sent for the tenant.
    Messages,
}

impl Duty {
    const ALL: [Duty; 11] = [
        Duty::SeeTenant,
        Duty::Listings,
        Duty::Rates,
        Duty::SeeBookings,
        Duty::FrontDesk,
        Duty::ChangeBookings,
        Duty::SeeMoney,
        Duty::Refunds,
        Duty::PayoutAccount,
        Duty::Team,
        Duty::Messages,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of duties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duties(u16);

impl Duties {
    /// No duty at all (a guest).
    pub const NONE: Duties = Duties(0);

    /// Every duty (an owner, and operators).
    pub fn all() -> Duties {
        Duties::of(&Duty::ALL)
    }

    pub fn of(duties: &[Duty]) -> Duties {
        Duties(duties.iter().fold(0, |acc, d| acc | d.bit()))
    }

    pub fn contains(self, duty: Duty) -> bool {
        self.0 & duty.bit() != 0
    }

    /// The duties of both.
    pub fn union(self, other: Duties) -> Duties {
        Duties(self.0 | other.0)
    }
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [StaffRole::Owner, StaffRole::Manager, StaffRole::FrontDesk, StaffRole::Accountant];

    /// The snake_case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Owner => "owner",
            StaffRole::Manager => "manager",
            StaffRole::FrontDesk => "front_desk",
            StaffRole::Accountant => "accountant",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What a member with this role may do.
    pub fn duties(self) -> Duties {
        use Duty::*;
        match self {
            StaffRole::Owner => Duties::all(),
            StaffRole::Manager => Duties::of(&[
                SeeTenant,
                Listings,
                Rates,
                SeeBookings,
                FrontDesk,
                ChangeBookings,
                SeeMoney,
                Refunds,
                Messages,
            ]),
            StaffRole::FrontDesk => Duties::of(&[SeeTenant, SeeBookings, FrontDesk]),
            StaffRole::Accountant => Duties::of(&[SeeTenant, SeeBookings, SeeMoney]),
        }
    }
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Bookings, Scope::RatesAndAvailability, Scope::Channel];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Bookings => "bookings",
            Scope::RatesAndAvailability => "rates_and_availability",
            Scope::Channel => "channel",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What a key with this scope may do. No key manages the team, money or listings.
    pub fn duties(self) -> Duties {
        use Duty::*;
        match self {
            Scope::Read => Duties::of(&[SeeTenant, SeeBookings]),
            Scope::Bookings => Duties::of(&[SeeTenant, SeeBookings, FrontDesk, ChangeBookings]),
            Scope::RatesAndAvailability => Duties::of(&[SeeTenant, Rates]),
            Scope::Channel => Duties::of(&[SeeTenant, Rates, SeeBookings, ChangeBookings]),
        }
    }

    /// The duties of a set of scopes.
    pub fn duties_of(scopes: &[Scope]) -> Duties {
        scopes.iter().fold(Duties::NONE, |acc, s| acc.union(s.duties()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_desk_checks_guests_in_but_does_not_touch_rates_or_money() {
        let d = StaffRole::FrontDesk.duties();
        assert!(d.contains(Duty::FrontDesk) && d.contains(Duty::SeeBookings));
        for no in [Duty::Rates, Duty::Listings, Duty::SeeMoney, Duty::Refunds, Duty::Team, Duty::ChangeBookings] {
            assert!(!d.contains(no), "{no:?}");
        }
    }

    #[test]
    fn only_owners_run_the_team_and_the_payout_account() {
        for role in StaffRole::ALL {
            let d = role.duties();
            assert_eq!(d.contains(Duty::Team), role == StaffRole::Owner, "{role:?}");
            assert_eq!(d.contains(Duty::PayoutAccount), role == StaffRole::Owner, "{role:?}");
        }
        assert!(Duty::ALL.iter().all(|d| StaffRole::Owner.duties().contains(*d)));
    }

    #[test]
    fn accountants_see_money_and_change_nothing() {
        let d = StaffRole::Accountant.duties();
        assert!(d.contains(Duty::SeeMoney));
        for no in [Duty::Refunds, Duty::Rates, Duty::FrontDesk, Duty::ChangeBookings, Duty::Listings] {
            assert!(!d.contains(no), "{no:?}");
        }
    }

    #[test]
    fn keys_never_manage_the_team_or_money() {
        let d = Scope::duties_of(&Scope::ALL);
        for no in [Duty::Team, Duty::PayoutAccount, Duty::Refunds, Duty::SeeMoney, Duty::Listings] {
            assert!(!d.contains(no), "{no:?}");
        }
        assert!(Scope::duties_of(&[Scope::RatesAndAvailability]).contains(Duty::Rates));
        assert!(!Scope::duties_of(&[Scope::Read]).contains(Duty::ChangeBookings));
    }

    #[test]
    fn names_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(StaffRole::parse("admin"), None);
    }
}
