//! Innkeep's use cases and the ports they call.
//!
//! A use case is one function taking `&Ports` and the current time; it validates with
//! `innkeep-core`, then performs one store transaction that carries the state change and
//! its outbox event together. Nothing here calls an index, a mailer or a provider inline:
//! those follow the outbox.

pub mod auth;
pub mod availability;
pub mod billing;
pub mod booking;
pub mod cache;
pub mod card;
pub mod catalog;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod event;
pub mod follow;
pub mod health;
pub mod ingest;
pub mod limit;
pub mod node;
pub mod notify;
pub mod objects;
pub mod payment;
pub mod photo;
pub mod report;
pub mod requests;
pub mod search;
pub mod store;
pub mod suggest;

pub use cache::Cache;
pub use clock::{Clock, SystemClock};
pub use error::AppError;
pub use event::Event;
pub use store::{Store, StoreError};

use std::sync::Arc;

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a hold lasts before the sweeper expires it.
    pub hold_ttl: jiff::SignedDuration,
    /// How far ahead a check-in may be, in days.
    pub booking_window_days: i32,
    /// How long a session token is valid.
    pub session_ttl: jiff::SignedDuration,
    /// How long a cached read may be served before it is read again.
    pub cache_ttl: std::time::Duration,
    pub payments: payment::PaymentSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hold_ttl: jiff::SignedDuration::from_mins(15),
            booking_window_days: innkeep_core::stay::DEFAULT_BOOKING_WINDOW_DAYS,
            session_ttl: jiff::SignedDuration::from_hours(24 * 30),
            cache_ttl: std::time::Duration::from_secs(60),
            payments: payment::PaymentSettings::default(),
        }
    }
}

/// Everything a use case may call.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub index: Arc<dyn search::PropertyIndex>,
    pub places: Arc<dyn search::Places>,
    /// Hot public reads only; never the booking decision.
    pub cache: Arc<dyn Cache>,
    /// Attempt limits (sign-in, client event batches): per node, or shared through Redis.
    pub limiter: Arc<dyn limit::Limiter>,
    pub settings: Settings,
}

/// Who is acting: a signed-in user with a role, and a tenant for hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: innkeep_core::UserId,
    pub role: innkeep_core::Role,
    pub tenant_id: Option<innkeep_core::TenantId>,
}

impl Actor {
    /// Whether the actor may manage a tenant's data (its host members, or an admin).
    pub fn manages(&self, tenant: innkeep_core::TenantId) -> bool {
        self.role == innkeep_core::Role::Admin
            || (self.role == innkeep_core::Role::Host && self.tenant_id == Some(tenant))
    }
}
