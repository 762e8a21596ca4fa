//! Innkeep's use cases and the ports they call.
//!
//! A use case is one function taking `&Ports` and the current time; it validates with
//! `innkeep-core`, then performs one store transaction that carries the state change and
//! its outbox event together. Nothing here calls an index, a mailer or a provider inline:
//! those follow the outbox.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod billing;
pub mod booking;
pub mod cache;
pub mod card;
pub mod catalog;
pub mod changes;
pub mod channels;
pub mod clock;
pub mod credentials;
pub mod data_rights;
pub mod error;
pub mod event;
pub mod follow;
pub mod health;
pub mod history;
pub mod ics;
pub mod ingest;
pub mod intrusion;
pub mod limit;
pub mod node;
pub mod notify;
pub mod objects;
pub mod operator;
pub mod ota;
pub mod payment;
pub mod photo;
pub mod recommend;
pub mod report;
pub mod requests;
pub mod review;
pub mod search;
pub mod store;
pub mod suggest;
pub mod team;
pub mod tenant_data;
pub mod trending;
pub mod two_factor;

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
    /// Whether host owners must use two-factor sign-in (operators always must).
    pub two_factor_required_for_owners: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hold_ttl: jiff::SignedDuration::from_mins(15),
            booking_window_days: innkeep_core::stay::DEFAULT_BOOKING_WINDOW_DAYS,
            session_ttl: jiff::SignedDuration::from_hours(24 * 30),
            cache_ttl: std::time::Duration::from_secs(60),
            payments: payment::PaymentSettings::default(),
            two_factor_required_for_owners: false,
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
    /// Readers waiting for a payment or a booking to change (`Prefer: wait`).
    pub changes: Arc<changes::Changes>,
}

/// Who is acting: a signed-in user (or a tenant's API key) with a role, a tenant for hosts,
/// and what it may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: innkeep_core::UserId,
    pub role: innkeep_core::Role,
    pub tenant_id: Option<innkeep_core::TenantId>,
    /// A host's duties in its tenant: its staff role's, or its key's scopes'.
    pub duties: innkeep_core::Duties,
    /// The API key acting, if it is one (`user_id` is then whoever created the key).
    pub key_id: Option<uuid::Uuid>,
}

impl Actor {
    /// A user acting with every duty of its role (an owner, for a host).
    pub fn new(
        user_id: innkeep_core::UserId,
        role: innkeep_core::Role,
        tenant_id: Option<innkeep_core::TenantId>,
    ) -> Actor {
        let duties = match role {
            innkeep_core::Role::Guest => innkeep_core::Duties::NONE,
            _ => innkeep_core::Duties::all(),
        };
        Actor { user_id, role, tenant_id, duties, key_id: None }
    }

    /// A signed-in user, with the duties of its staff role.
    pub fn of(user: &store::User) -> Actor {
        let duties = match (user.role, user.staff_role) {
            (innkeep_core::Role::Host, Some(r)) => r.duties(),
            (innkeep_core::Role::Host, None) | (innkeep_core::Role::Guest, _) => innkeep_core::Duties::NONE,
            (innkeep_core::Role::Admin, _) => innkeep_core::Duties::all(),
        };
        Actor { user_id: user.id, role: user.role, tenant_id: user.tenant_id, duties, key_id: None }
    }

    /// Whether the actor may do `duty` for a tenant: an admin anywhere, a host member or key
    /// in its own tenant when its role or scopes grant it.
    pub fn may(&self, duty: innkeep_core::Duty, tenant: innkeep_core::TenantId) -> bool {
        self.role == innkeep_core::Role::Admin
            || (self.role == innkeep_core::Role::Host && self.tenant_id == Some(tenant) && self.duties.contains(duty))
    }

    /// `may`, as an answer: a member of the tenant without the duty is forbidden; anyone
    /// else is told `what` does not exist, so ids do not leak across tenants.
    pub fn check(
        &self,
        duty: innkeep_core::Duty,
        tenant: innkeep_core::TenantId,
        what: &'static str,
    ) -> Result<(), AppError> {
        if self.may(duty, tenant) {
            Ok(())
        } else if self.role == innkeep_core::Role::Host && self.tenant_id == Some(tenant) {
            Err(AppError::Forbidden("members whose role allows it"))
        } else {
            Err(AppError::NotFound { what })
        }
    }

    /// The person acting, for what only a person does (their account, booking a stay,
    /// paying): an API key acts for its tenant, never as the person who made it.
    pub fn person(&self) -> Result<innkeep_core::UserId, AppError> {
        match self.key_id {
            None => Ok(self.user_id),
            Some(_) => Err(AppError::Forbidden("people, not API keys")),
        }
    }

    /// The actor's own tenant, when it is a host that may do `duty` there.
    pub fn host_tenant(&self, duty: innkeep_core::Duty) -> Result<innkeep_core::TenantId, AppError> {
        match (self.role, self.tenant_id) {
            (innkeep_core::Role::Host, Some(t)) if self.duties.contains(duty) => Ok(t),
            (innkeep_core::Role::Host, Some(_)) => Err(AppError::Forbidden("members whose role allows it")),
            _ => Err(AppError::Forbidden("hosts")),
        }
    }
}
