//! The one error type of the use cases. Each variant is a 4xx the caller can act on,
//! except `Store`, which is an internal failure.

use crate::store::StoreError;
use innkeep_core::{MoneyError, OfferError, PropertyError, RoomTypeError, StayError, TransitionError};

/// How long a client is told to wait after a write refused for a full disk (database or
/// client event log): space is not freed in a second.
pub const STORAGE_FULL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, code: &'static str, message: String },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("authentication required")]
    Unauthenticated,
    #[error("e-mail or password is wrong")]
    BadCredentials,
    #[error("only {0} may do this")]
    Forbidden(&'static str),
    /// The account, or its tenant, is suspended by an operator.
    #[error("this account is suspended")]
    Suspended,
    #[error("an account with this e-mail already exists")]
    EmailTaken,
    #[error("sold out on the night of {night}")]
    SoldOut { night: jiff::civil::Date },
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("the booking changed meanwhile; read it again")]
    Concurrent,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("{0}")]
    Conflict(String),
    /// The property takes payment before the stay: a hold is confirmed by paying it.
    #[error("this property takes payment first: pay the booking (POST /api/v1/bookings/{{id}}/payments) to confirm it")]
    PaymentRequired,
    /// Too many attempts for one key (an e-mail address, a client): `code` says which
    /// limit, `wait` how long until the next attempt is allowed.
    #[error("too many attempts; try again in {} s", crate::limit::retry_after_secs(*wait))]
    RateLimited { code: &'static str, wait: std::time::Duration },
    #[error("store failure: {0}")]
    Store(StoreError),
    /// The search index failed; nothing was changed and a retry may work.
    #[error("search index failure: {0}")]
    IndexFailed(String),
}

impl AppError {
    /// An invalid field with a stable code and a message naming it.
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid { field, code, message: message.into() }
    }

    /// For a store failure that changed nothing and may work later (a failover, a lasting
    /// conflict, a full disk, a storage I/O error): the stable code to answer 503 with and
    /// how long the client should wait before it retries (with the same Idempotency-Key for
    /// a booking); a full disk is not freed in a second. Every front end answers these the
    /// same way.
    pub fn unavailable(&self) -> Option<(&'static str, std::time::Duration)> {
        match self {
            AppError::Store(StoreError::Full(_)) => Some(("storage_full", STORAGE_FULL_WAIT)),
            AppError::Store(StoreError::Retryable(_) | StoreError::Unavailable(_)) => {
                Some(("unavailable", std::time::Duration::from_secs(1)))
            }
            AppError::IndexFailed(_) => Some(("search_unavailable", std::time::Duration::from_secs(5))),
            _ => None,
        }
    }

    /// The stable code and HTTP status every front end answers this error with (the API's
    /// problem+json `code`, the pages' status): the one table of them.
    pub fn code_and_status(&self) -> (&'static str, u16) {
        if let Some((code, _)) = self.unavailable() {
            return (code, 503);
        }
        match self {
            AppError::Invalid { code, .. } => (code, 400),
            AppError::NotFound { .. } => ("not_found", 404),
            AppError::Unauthenticated => ("unauthenticated", 401),
            AppError::BadCredentials => ("bad_credentials", 401),
            AppError::Forbidden(_) => ("forbidden", 403),
            AppError::Suspended => ("account_suspended", 403),
            AppError::EmailTaken => ("email_taken", 409),
            AppError::SoldOut { .. } => ("sold_out", 409),
            AppError::Transition(_) => ("invalid_transition", 409),
            AppError::Concurrent => ("concurrent_change", 409),
            AppError::IdempotencyMismatch => ("idempotency_key_reused", 422),
            AppError::Conflict(_) => ("conflict", 409),
            AppError::PaymentRequired => ("payment_required", 409),
            AppError::RateLimited { code, .. } => (code, 429),
            AppError::Store(_) => ("internal", 500),
            AppError::IndexFailed(_) => ("search_unavailable", 503),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SoldOut { night } => AppError::SoldOut { night },
            StoreError::Stale => AppError::Concurrent,
            StoreError::Duplicate(_) => AppError::EmailTaken,
            StoreError::UnitsBelowSold { night, sold } => {
                AppError::Conflict(format!("{sold} units are already sold on {night}; units cannot go below that"))
            }
            other => AppError::Store(other),
        }
    }
}

impl From<StayError> for AppError {
    fn from(e: StayError) -> Self {
        let (field, code) = match e {
            StayError::EmptyRange => ("check_out", "stay_empty"),
            StayError::InThePast { .. } => ("check_in", "stay_in_past"),
            StayError::BeyondWindow { .. } => ("check_in", "stay_beyond_window"),
            StayError::TooShort { .. } => ("check_out", "stay_too_short"),
            StayError::TooLong { .. } => ("check_out", "stay_too_long"),
        };
        AppError::invalid(field, code, e.to_string())
    }
}

impl From<RoomTypeError> for AppError {
    fn from(e: RoomTypeError) -> Self {
        match e {
            RoomTypeError::NoAdult => AppError::invalid("adults", "no_adult", e.to_string()),
            RoomTypeError::PartyTooLarge { .. } => AppError::invalid("adults", "party_too_large", e.to_string()),
            RoomTypeError::Rooms { .. } => AppError::invalid("rooms", "invalid_rooms", e.to_string()),
            RoomTypeError::AdultPerRoom { .. } => AppError::invalid("rooms", "adult_per_room", e.to_string()),
            RoomTypeError::ChildAges { .. } => AppError::invalid("child_ages", "invalid_child_ages", e.to_string()),
            RoomTypeError::ChildAgesNeeded => AppError::invalid("child_ages", "child_ages_required", e.to_string()),
            RoomTypeError::Rule(m) => AppError::invalid("room_type", "invalid_room_type", m),
        }
    }
}

impl From<PropertyError> for AppError {
    fn from(e: PropertyError) -> Self {
        let field = match &e {
            PropertyError::Length { field, .. } => field,
            PropertyError::Country(_) => "address.country",
            PropertyError::TimeZone(_) => "time_zone",
            PropertyError::Coordinates => "latitude",
            PropertyError::AddressLines => "address.lines",
        };
        AppError::invalid(field, "invalid_property", e.to_string())
    }
}

impl From<OfferError> for AppError {
    fn from(e: OfferError) -> Self {
        match e {
            OfferError::Party(e) => e.into(),
            OfferError::Stay(e) => e.into(),
            OfferError::SoldOut { night } => AppError::SoldOut { night },
            OfferError::Price(e) => e.into(),
        }
    }
}

impl From<MoneyError> for AppError {
    fn from(e: MoneyError) -> Self {
        AppError::invalid("price", "invalid_amount", e.to_string())
    }
}
