//! Historical search: bookings across the whole history by the guest's name or e-mail, a
//! reference (the booking's id, or the bank-transfer reference of one of its payments), the
//! property and the dates of the stay, and the guests behind them. For operators over every
//! tenant, and for a host's staff who may see bookings over their own tenant. The index
//! (Tantivy, fed from the outbox like the property index) sits behind [`BookingHistory`].

use crate::search::IndexError;
use crate::store::Booking;
use crate::{Actor, AppError, Ports};
use innkeep_core::{BookingId, BookingStatus, Duty, Money, PropertyId, Role, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Bookings (and guests) answered at most.
pub const MAX_LIMIT: usize = 100;

/// What the index is asked; every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryQuery {
    /// Words of the guest's name or e-mail or of the property's name, typo-tolerant.
    pub text: Option<String>,
    /// The guest's e-mail, exactly (case aside).
    pub email: Option<String>,
    pub booking_id: Option<BookingId>,
    pub property_id: Option<PropertyId>,
    pub tenant_id: Option<TenantId>,
    pub status: Option<BookingStatus>,
    /// Stays with at least one night in `[from, to)`.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub limit: usize,
}

/// A booking as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingHit {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    pub tenant_id: TenantId,
    pub property_id: PropertyId,
    /// The property's name when the booking last changed.
    pub property_name: String,
    pub user_id: UserId,
    pub guest_name: String,
    pub guest_email: String,
    pub check_in: Date,
    pub check_out: Date,
    pub total: Money,
    pub created_at: Timestamp,
}

impl BookingHit {
    pub fn of(b: &Booking, property_name: &str) -> Self {
        BookingHit {
            booking_id: b.id,
            status: b.status,
            tenant_id: b.tenant_id,
            property_id: b.property_id,
            property_name: property_name.to_string(),
            user_id: b.user_id,
            guest_name: b.guest.name.clone(),
            guest_email: b.guest.email.clone(),
            check_in: b.check_in,
            check_out: b.check_out,
            total: b.total,
            created_at: b.created_at,
        }
    }
}

/// A guest behind the bookings found: their name and e-mail as on their latest booking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuestHit {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    /// Their bookings among those found.
    pub bookings: u64,
    pub last_booked_at: Timestamp,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistoryAnswer {
    /// Bookings matching, in all (more than those listed).
    pub total: u64,
    /// The best matches for words, the newest otherwise.
    pub bookings: Vec<BookingHit>,
    /// The guests with most bookings among all matching.
    pub guests: Vec<GuestHit>,
}

/// The history index.
pub trait BookingHistory: Send + Sync {
    /// Search; `IndexError::Failed` while it is not built yet.
    fn search(&self, q: &HistoryQuery) -> Result<HistoryAnswer, IndexError>;
}

/// A search as asked (through the API or the operator's page).
#[derive(Debug, Clone, Default)]
pub struct HistorySearch {
    pub text: Option<String>,
    pub email: Option<String>,
    /// A booking id, or a payment's bank-transfer reference (`RF..`, spaces allowed).
    pub reference: Option<String>,
    pub property_id: Option<PropertyId>,
    pub tenant_id: Option<TenantId>,
    pub status: Option<BookingStatus>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub limit: Option<usize>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// Search the history: an operator over every tenant (or one), a host's member who may see
/// bookings over their own tenant only.
pub async fn search(
    ports: &Ports,
    history: &dyn BookingHistory,
    actor: &Actor,
    ask: &HistorySearch,
) -> Result<HistoryAnswer, AppError> {
    let tenant_id = match actor.role {
        Role::Admin => ask.tenant_id,
        Role::Host => {
            let own = actor.host_tenant(Duty::SeeBookings)?;
            if ask.tenant_id.is_some_and(|t| t != own) {
                return Err(AppError::Forbidden("the tenant's own staff and operators"));
            }
            Some(own)
        }
        Role::Guest => return Err(AppError::Forbidden("hosts and operators")),
    };
    let limit = ask.limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid("limit", "invalid_limit", format!("limit is between 1 and {MAX_LIMIT}")));
    }
    if let (Some(from), Some(to)) = (ask.from, ask.to)
        && from >= to
    {
        return Err(AppError::invalid("to", "invalid_range", "to is after from"));
    }
    let booking_id = match blank(&ask.reference) {
        None => None,
        Some(r) => match r.parse::<BookingId>() {
            Ok(id) => Some(id),
            Err(_) => match innkeep_core::payment::parse_rf(&r) {
                Some(rf) => match ports.store.payment_by_reference(&rf).await? {
                    Some(p) => Some(p.booking_id),
                    // A well-formed reference no payment has: nothing matches.
                    None => return Ok(HistoryAnswer::default()),
                },
                None => {
                    return Err(AppError::invalid(
                        "reference",
                        "invalid_reference",
                        "a reference is a booking id or a bank-transfer reference (RF followed by digits and letters)",
                    ));
                }
            },
        },
    };
    let q = HistoryQuery {
        text: blank(&ask.text),
        email: blank(&ask.email).map(|e| e.to_lowercase()),
        booking_id,
        property_id: ask.property_id,
        tenant_id,
        status: ask.status,
        from: ask.from,
        to: ask.to,
        limit,
    };
    history.search(&q).map_err(|e| match e {
        IndexError::Query(m) => AppError::invalid("q", "invalid_search", m),
        IndexError::Failed(m) => AppError::IndexFailed(m),
    })
}
