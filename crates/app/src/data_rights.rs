//! A person's data rights: a copy of everything Innkeep keeps about them (one JSON
//! document), and the erasure of their account.
//!
//! Erasure happens in one transaction, asked with the current password. The account keeps
//! its id, because bookings, payments, the ledger and invoices name it and are kept for
//! accounting; everything that names the person goes: the e-mail address (replaced by
//! [`erased_address`], under the reserved `.invalid` domain, so nothing is ever sent to
//! it), the name, the password, sessions, two-factor secrets, account tokens, recent
//! searches, open invitations to the address, the guest details of their bookings (in the
//! bookings and in the outbox events that carry them), the messages sent to them (their
//! content and address; pending ones are cancelled) and the address in audit entries of
//! failed sign-ins. Their API keys are revoked and a host leaves their tenant. A
//! `user.erased` event tells consumers (the lake) to do the same with their copies.
//!
//! What stays, and why: the account's id, role and creation time; bookings, payments and
//! refunds (amounts, dates, rooms: accounting); the audit log's entries of what the
//! account did, with address and user agent (security, for the log's retention).
//!
//! Refused while the person has a stay that is not over (held, confirmed or checked in,
//! leaving today or later: cancel it first), and for the last owner of a tenant that still
//! has properties or other members (hand the tenant to another owner first).

use crate::audit::Entry;
use crate::event::{Change, Event};
use crate::notify::Delivery;
use crate::payment::Payment;
use crate::store::{Booking, RecentSearch, StoreError};
use crate::team::ApiKey;
use crate::{Actor, AppError, Ports};
use async_trait::async_trait;
use innkeep_core::{Currency, Locale, Role, StaffRole, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The domain of erased accounts' addresses (RFC 2606: never resolves).
pub const ERASED_DOMAIN: &str = "erased.invalid";
/// What replaces a person's name and their guest details.
pub const ERASED_NAME: &str = "(erased)";

/// The address an erased account (and its bookings' guest details) is left with.
pub fn erased_address(user: UserId) -> String {
    format!("erased-{user}@{ERASED_DOMAIN}")
}

/// Whether `address` is an erased account's: nothing is sent to it.
pub fn is_erased_address(address: &str) -> bool {
    address.to_ascii_lowercase().ends_with(&format!("@{ERASED_DOMAIN}"))
}

/// `user.erased`: an account was erased; consumers holding copies of the person's data
/// remove them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserErased {
    pub user_id: UserId,
}

/// The account itself, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountCopy {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub tenant_id: Option<TenantId>,
    pub staff_role: Option<StaffRole>,
    pub locale: Locale,
    pub currency: Option<Currency>,
    pub created_at: Timestamp,
    pub email_verified_at: Option<Timestamp>,
    /// Whether reminders (messages that are not about a booking of theirs) are sent.
    pub reminders: bool,
    pub two_factor_enabled: bool,
}

/// A live session (never its token or the token's hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionCopy {
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A message Innkeep sent (or will send) to the person, with what it said.
#[derive(Debug, Clone, Serialize)]
pub struct MessageCopy {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub subject: String,
    pub text: String,
}

impl From<Delivery> for MessageCopy {
    fn from(d: Delivery) -> Self {
        MessageCopy { subject: d.content.subject.clone(), text: d.content.text.clone(), delivery: d }
    }
}

/// Everything Innkeep keeps about a person.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalData {
    pub exported_at: Timestamp,
    pub account: AccountCopy,
    pub sessions: Vec<SessionCopy>,
    /// Their bookings as guests, with their payments.
    pub bookings: Vec<Booking>,
    pub payments: Vec<Payment>,
    pub searches: Vec<RecentSearch>,
    /// Messages to their address (e-mails, text messages).
    pub messages: Vec<MessageCopy>,
    /// What they did, as the audit log recorded it.
    pub audit: Vec<Entry>,
    /// API keys they made for their tenant (never the secrets).
    pub api_keys: Vec<ApiKey>,
    /// Reviews they wrote.
    pub reviews: Vec<crate::review::Review>,
}

/// What asking to erase an account found.
#[derive(Debug, Clone, PartialEq)]
pub enum Erasure {
    /// Erased; the events written (`session.ended` for each session, `user.erased`).
    Erased(Vec<Event>),
    /// This many stays are not over.
    OpenStays(u32),
    /// The user is the last owner of a tenant that has properties or other members.
    LastOwner,
    /// There is no such account (or it is erased already).
    Gone,
}

/// The store's data-rights role.
#[async_trait]
pub trait DataRights: Send + Sync {
    /// Everything kept about a user (read from the primary), `None` if there is no such
    /// account or it is erased.
    async fn personal_data(&self, user: UserId, now: Timestamp) -> Result<Option<PersonalData>, StoreError>;
    /// Erase a user in one transaction (see the module doc), unless a stay of theirs leaving
    /// on `today` or later is not over, or they are a tenant's last owner. `event` is the
    /// `user.erased` event to write with it.
    async fn erase_user(&self, user: UserId, today: Date, now: Timestamp, event: &Event)
    -> Result<Erasure, StoreError>;
}

/// A copy of everything kept about the signed-in person.
pub async fn export(ports: &Ports, actor: &Actor) -> Result<PersonalData, AppError> {
    let user = actor.person()?;
    ports.store.personal_data(user, ports.clock.now()).await?.ok_or(AppError::Unauthenticated)
}

/// Erase the signed-in person's account; `password` is their current password.
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id))]
pub async fn erase(ports: &Ports, actor: &Actor, password: &str) -> Result<(), AppError> {
    let user = actor.person()?;
    crate::credentials::check_password(ports, user, "password", password).await?;
    let now = ports.clock.now();
    let today = crate::report::utc_day(now);
    let event = Event::new(&Change::UserErased(UserErased { user_id: user }), now, None, user.0);
    match ports.store.erase_user(user, today, now, &event).await? {
        Erasure::Erased(events) => {
            for e in &events {
                crate::cache::invalidate_after(ports, e).await;
            }
            tracing::warn!(ended = events.len().saturating_sub(1), "account erased");
            Ok(())
        }
        Erasure::OpenStays(n) => Err(AppError::Conflict(format!(
            "{n} stay(s) of yours are not over; cancel them (or wait until they end) before deleting the account"
        ))),
        Erasure::LastOwner => Err(AppError::Conflict(
            "you are the last owner of a tenant with properties or members; make another member an owner first".into(),
        )),
        Erasure::Gone => Err(AppError::Unauthenticated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_addresses_are_valid_and_recognised() {
        let user = UserId(uuid::Uuid::now_v7());
        let address = erased_address(user);
        assert!(innkeep_core::Email::parse(&address).is_ok(), "{address}");
        assert!(is_erased_address(&address));
        assert!(is_erased_address(&address.to_uppercase()));
        assert!(!is_erased_address("ana@example.com"));
        assert!(!is_erased_address("erased.invalid@example.com"));
    }
}
