//! Outbox events: every state change is recorded as an event in the same transaction.
//! The catalogue is documented in docs/events.md. Every kind is a variant of [`EventKind`]
//! and every payload a type of [`Change`]: producers build a `Change`, consumers read one
//! back with [`Event::change`]; no other code spells a kind or reads a payload field by name.

use crate::payment::Payment;
use crate::store::{Booking, Property, RoomType};
use async_trait::async_trait;
use innkeep_core::{BookingStatus, EventId, NightOverride, PhotoId, PropertyId, Role, RoomTypeId, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every kind of outbox event; its wire name is `as_str` (`booking.held`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind { $($variant),* }

        impl EventKind {
            /// Every kind, in the catalogue's order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),*];

            /// The wire name, as stored in the outbox and used in NATS subjects.
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $name),* }
            }
        }
    };
}

kinds! {
    UserRegistered => "user.registered",
    SessionEnded => "session.ended",
    UserErased => "user.erased",
    PropertyCreated => "property.created",
    PropertyUpdated => "property.updated",
    RoomTypeCreated => "room_type.created",
    RoomTypeUpdated => "room_type.updated",
    CalendarUpdated => "calendar.updated",
    BookingHeld => "booking.held",
    BookingConfirmed => "booking.confirmed",
    BookingCheckedIn => "booking.checked_in",
    BookingCompleted => "booking.completed",
    BookingExpired => "booking.expired",
    BookingCancelled => "booking.cancelled",
    BookingNoShow => "booking.no_show",
    PhotoAdded => "photo.added",
    CatalogImported => "catalog.imported",
    PaymentCreated => "payment.created",
    PaymentReceived => "payment.received",
    PaymentSucceeded => "payment.succeeded",
    PaymentRefunded => "payment.refunded",
    PaymentUpdated => "payment.updated",
    RefundPaid => "refund.paid",
    CommissionMetered => "commission.metered",
    InvoiceIssued => "invoice.issued",
    PayoutMade => "payout.made",
    AuditRecorded => "audit.recorded",
    ReviewPublished => "review.published",
    ReviewChanged => "review.changed",
    CalendarConflict => "calendar.conflict",
}

impl EventKind {
    /// The kind named `s`, if there is one.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The event a booking moving into `status` writes.
    pub fn of_booking(status: BookingStatus) -> EventKind {
        match status {
            BookingStatus::Held => EventKind::BookingHeld,
            BookingStatus::Confirmed => EventKind::BookingConfirmed,
            BookingStatus::CheckedIn => EventKind::BookingCheckedIn,
            BookingStatus::Completed => EventKind::BookingCompleted,
            BookingStatus::Expired => EventKind::BookingExpired,
            BookingStatus::Cancelled => EventKind::BookingCancelled,
            BookingStatus::NoShow => EventKind::BookingNoShow,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventKind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown event type {s:?}")))
    }
}

/// `user.registered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: UserId,
    pub role: Role,
}

/// `session.ended`: the SHA-256 of the signed-out token, never the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub token_hash: String,
}

/// `calendar.updated`: nights `[from, to)` of a room type changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarUpdated {
    pub room_type_id: RoomTypeId,
    pub property_id: PropertyId,
    pub from: Date,
    pub to: Date,
    pub change: NightOverride,
}

/// `photo.added` (the bytes are in object storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoAdded {
    pub photo_id: PhotoId,
    pub property_id: PropertyId,
    pub content_type: String,
    pub size: u64,
}

/// `catalog.imported`: a bulk import (the demo) of this many rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogImported {
    pub properties: usize,
    pub room_types: usize,
}

/// A state change with its payload: one type per kind (a booking's kind follows from
/// its status after the change).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    UserRegistered(UserRegistered),
    SessionEnded(SessionEnded),
    /// An account was erased (data rights).
    UserErased(crate::data_rights::UserErased),
    PropertyCreated(Property),
    PropertyUpdated(Property),
    RoomTypeCreated(RoomType),
    RoomTypeUpdated(RoomType),
    CalendarUpdated(CalendarUpdated),
    Booking(Booking),
    PhotoAdded(PhotoAdded),
    CatalogImported(CatalogImported),
    /// A payment was started (a bank transfer's reference handed out).
    PaymentCreated(Payment),
    /// Money arrived for a payment, less than it asks.
    PaymentReceived(Payment),
    /// A payment is paid in full.
    PaymentSucceeded(Payment),
    /// (Part of) a payment is owed back to the guest.
    PaymentRefunded(Payment),
    /// A payment moved on otherwise: the provider is processing it, it failed, it was
    /// canceled, or the provider's payment was made for it.
    PaymentUpdated(Payment),
    /// A refund reached the guest (the provider refunded the card).
    RefundPaid(crate::payment::Refund),
    /// A completed stay's commission was metered (and charged to the host's balance).
    CommissionMetered(crate::billing::Commission),
    /// A month's commission was invoiced to a host.
    InvoiceIssued(crate::billing::Invoice),
    /// Money was paid out to a host.
    PayoutMade(crate::billing::Payout),
    /// An entry was added to the audit log (who did what, when, from where).
    AuditRecorded(crate::audit::Entry),
    /// A guest reviewed a stay.
    ReviewPublished(crate::review::Review),
    /// A review was answered, hidden or shown again.
    ReviewChanged(crate::review::Review),
    /// Nights an imported calendar feed blocks that no unit was left for.
    CalendarConflict(crate::channels::CalendarConflict),
}

impl Change {
    /// The event kind this change is recorded as.
    pub fn kind(&self) -> EventKind {
        match self {
            Change::UserRegistered(_) => EventKind::UserRegistered,
            Change::SessionEnded(_) => EventKind::SessionEnded,
            Change::UserErased(_) => EventKind::UserErased,
            Change::PropertyCreated(_) => EventKind::PropertyCreated,
            Change::PropertyUpdated(_) => EventKind::PropertyUpdated,
            Change::RoomTypeCreated(_) => EventKind::RoomTypeCreated,
            Change::RoomTypeUpdated(_) => EventKind::RoomTypeUpdated,
            Change::CalendarUpdated(_) => EventKind::CalendarUpdated,
            Change::Booking(b) => EventKind::of_booking(b.status),
            Change::PhotoAdded(_) => EventKind::PhotoAdded,
            Change::CatalogImported(_) => EventKind::CatalogImported,
            Change::PaymentCreated(_) => EventKind::PaymentCreated,
            Change::PaymentReceived(_) => EventKind::PaymentReceived,
            Change::PaymentSucceeded(_) => EventKind::PaymentSucceeded,
            Change::PaymentRefunded(_) => EventKind::PaymentRefunded,
            Change::PaymentUpdated(_) => EventKind::PaymentUpdated,
            Change::RefundPaid(_) => EventKind::RefundPaid,
            Change::CommissionMetered(_) => EventKind::CommissionMetered,
            Change::InvoiceIssued(_) => EventKind::InvoiceIssued,
            Change::PayoutMade(_) => EventKind::PayoutMade,
            Change::AuditRecorded(_) => EventKind::AuditRecorded,
            Change::ReviewPublished(_) => EventKind::ReviewPublished,
            Change::ReviewChanged(_) => EventKind::ReviewChanged,
            Change::CalendarConflict(_) => EventKind::CalendarConflict,
        }
    }

    fn payload(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Change::UserRegistered(p) => serde_json::to_value(p),
            Change::SessionEnded(p) => serde_json::to_value(p),
            Change::UserErased(p) => serde_json::to_value(p),
            Change::PropertyCreated(p) | Change::PropertyUpdated(p) => serde_json::to_value(p),
            Change::RoomTypeCreated(p) | Change::RoomTypeUpdated(p) => serde_json::to_value(p),
            Change::CalendarUpdated(p) => serde_json::to_value(p),
            Change::Booking(p) => serde_json::to_value(p),
            Change::PhotoAdded(p) => serde_json::to_value(p),
            Change::CatalogImported(p) => serde_json::to_value(p),
            Change::PaymentCreated(p)
            | Change::PaymentReceived(p)
            | Change::PaymentSucceeded(p)
            | Change::PaymentRefunded(p)
            | Change::PaymentUpdated(p) => serde_json::to_value(p),
            Change::RefundPaid(r) => serde_json::to_value(r),
            Change::CommissionMetered(c) => serde_json::to_value(c),
            Change::InvoiceIssued(i) => serde_json::to_value(i),
            Change::PayoutMade(p) => serde_json::to_value(p),
            Change::AuditRecorded(e) => serde_json::to_value(e),
            Change::ReviewPublished(r) | Change::ReviewChanged(r) => serde_json::to_value(r),
            Change::CalendarConflict(c) => serde_json::to_value(c),
        }
    }
}

/// An event as written to the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub version: u16,
    pub occurred_at: Timestamp,
    pub tenant_id: Option<TenantId>,
    pub aggregate_id: Uuid,
    pub payload: serde_json::Value,
}

/// An event read back from the outbox, with its position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: Event,
}

impl Event {
    /// A version-1 event recording `change` to `aggregate_id`; the payload is serialised
    /// here, once.
    pub fn new(change: &Change, now: Timestamp, tenant_id: Option<TenantId>, aggregate_id: Uuid) -> Event {
        Event {
            id: EventId::new_v7(now),
            kind: change.kind(),
            version: 1,
            occurred_at: now,
            tenant_id,
            aggregate_id,
            // Every payload type is plain data that serialises; Null would only mean a bug.
            payload: change.payload().unwrap_or(serde_json::Value::Null),
        }
    }

    /// The room type and nights of a booking event (`booking.*`), read from its payload
    /// without decoding the whole booking (its quote, its guest): what cache invalidation
    /// needs, for the busiest kind of event. `None` for other kinds.
    pub fn booking_nights(&self) -> Option<Result<(RoomTypeId, Date, Date), serde_json::Error>> {
        #[derive(Deserialize)]
        struct Nights {
            room_type_id: RoomTypeId,
            check_in: Date,
            check_out: Date,
        }
        if !self.kind.as_str().starts_with("booking.") {
            return None;
        }
        Some(Nights::deserialize(&self.payload).map(|n| (n.room_type_id, n.check_in, n.check_out)))
    }

    /// Whether this event records a booking's new state (its payload is the whole booking).
    pub fn is_booking_change(&self) -> bool {
        BookingStatus::ALL.iter().any(|s| EventKind::of_booking(*s) == self.kind)
    }

    /// Whether this event changes the catalogue (a property or a room type, one or all).
    pub fn is_catalog_change(&self) -> bool {
        matches!(
            self.kind,
            EventKind::PropertyCreated
                | EventKind::PropertyUpdated
                | EventKind::RoomTypeCreated
                | EventKind::RoomTypeUpdated
                | EventKind::CatalogImported
        )
    }

    /// The change this event records, read back into its payload type.
    pub fn change(&self) -> Result<Change, serde_json::Error> {
        fn de<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, serde_json::Error> {
            T::deserialize(v)
        }
        let p = &self.payload;
        Ok(match self.kind {
            EventKind::UserRegistered => Change::UserRegistered(de(p)?),
            EventKind::SessionEnded => Change::SessionEnded(de(p)?),
            EventKind::UserErased => Change::UserErased(de(p)?),
            EventKind::PropertyCreated => Change::PropertyCreated(de(p)?),
            EventKind::PropertyUpdated => Change::PropertyUpdated(de(p)?),
            EventKind::RoomTypeCreated => Change::RoomTypeCreated(de(p)?),
            EventKind::RoomTypeUpdated => Change::RoomTypeUpdated(de(p)?),
            EventKind::CalendarUpdated => Change::CalendarUpdated(de(p)?),
            EventKind::BookingHeld
            | EventKind::BookingConfirmed
            | EventKind::BookingCheckedIn
            | EventKind::BookingCompleted
            | EventKind::BookingExpired
            | EventKind::BookingCancelled
            | EventKind::BookingNoShow => Change::Booking(de(p)?),
            EventKind::PhotoAdded => Change::PhotoAdded(de(p)?),
            EventKind::CatalogImported => Change::CatalogImported(de(p)?),
            EventKind::PaymentCreated => Change::PaymentCreated(de(p)?),
            EventKind::PaymentReceived => Change::PaymentReceived(de(p)?),
            EventKind::PaymentSucceeded => Change::PaymentSucceeded(de(p)?),
            EventKind::PaymentRefunded => Change::PaymentRefunded(de(p)?),
            EventKind::PaymentUpdated => Change::PaymentUpdated(de(p)?),
            EventKind::RefundPaid => Change::RefundPaid(de(p)?),
            EventKind::CommissionMetered => Change::CommissionMetered(de(p)?),
            EventKind::InvoiceIssued => Change::InvoiceIssued(de(p)?),
            EventKind::PayoutMade => Change::PayoutMade(de(p)?),
            EventKind::AuditRecorded => Change::AuditRecorded(de(p)?),
            EventKind::ReviewPublished => Change::ReviewPublished(de(p)?),
            EventKind::ReviewChanged => Change::ReviewChanged(de(p)?),
            EventKind::CalendarConflict => Change::CalendarConflict(de(p)?),
        })
    }
}

/// Why a consumer could not handle an event: whatever its adapter failed with.
pub type HandleError = Box<dyn std::error::Error + Send + Sync>;

/// A named consumer of outbox events: the port adapters implement, and `innkeep-events`
/// runs. `handle` must be safe to call again for an event it has seen (the runner records
/// handled events, but a crash between handling and recording means one more call).
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// The stable name that keys the consumer's position.
    fn name(&self) -> &str;
    /// Act on one event; an error is retried, then parked as a dead letter (with the
    /// error's text and its sources).
    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError>;
    /// Whether handling an event twice is harmless (deleting a cache key, say). Then the
    /// runner records no processed mark per event, only its position once a batch: after a
    /// crash the rest of the batch is handled again. Otherwise (the default) every handled
    /// event is recorded before the next, so the consumer acts on none twice.
    fn idempotent(&self) -> bool {
        false
    }
    /// How many events of a batch an idempotent consumer handles at once (events of one
    /// aggregate always in order). More than one suits a consumer that waits on an outside
    /// service; it is ignored for a consumer that is not idempotent.
    fn concurrency(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_wire_name_that_reads_back() {
        let names: std::collections::HashSet<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len());
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::Value::String(k.as_str().into())));
        }
        assert_eq!(EventKind::parse("booking.lost"), None);
        assert!(serde_json::from_value::<EventKind>(serde_json::json!("booking.lost")).is_err());
    }

    #[test]
    fn the_catalogue_in_the_docs_names_every_kind() {
        let docs = include_str!("../../../docs/events.md");
        for k in EventKind::ALL {
            assert!(docs.contains(&format!("`{}`", k.as_str())), "docs/events.md does not list {k}");
        }
    }

    #[test]
    fn a_change_reads_back_as_written() {
        let now = Timestamp::UNIX_EPOCH;
        let c = Change::CalendarUpdated(CalendarUpdated {
            room_type_id: RoomTypeId(Uuid::nil()),
            property_id: PropertyId(Uuid::nil()),
            from: jiff::civil::date(2027, 1, 1),
            to: jiff::civil::date(2027, 1, 3),
            change: NightOverride { price_minor: Some(9_900), ..Default::default() },
        });
        let e = Event::new(&c, now, None, Uuid::nil());
        assert_eq!(e.kind, EventKind::CalendarUpdated);
        assert_eq!(e.payload["from"], "2027-01-01");
        assert_eq!(e.change().ok(), Some(c));
        let wrong = Event { kind: EventKind::PhotoAdded, ..e };
        assert!(wrong.change().is_err(), "a payload of another kind must not read as this one");
    }
}
