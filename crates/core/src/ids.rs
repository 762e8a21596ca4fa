//! Typed identifiers: a `PropertyId` can never be passed where a `BookingId` is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered identifier (UUIDv7), so ids sort by creation.
            pub fn new_v7(ts: jiff::Timestamp) -> Self {
                let secs = u64::try_from(ts.as_second()).unwrap_or(0);
                let nanos = u32::try_from(ts.subsec_nanosecond()).unwrap_or(0);
                let uts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
                Self(Uuid::new_v7(uts))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A tenant: a host organisation.
    TenantId,
    /// A user account (guest, host or admin).
    UserId,
    /// A property of a tenant.
    PropertyId,
    /// A room type of a property.
    RoomTypeId,
    /// A booking (held, confirmed, ...).
    BookingId,
    /// An outbox event.
    EventId,
    /// A photo of a property.
    PhotoId,
    /// A guest's review of a stay.
    ReviewId,
);
