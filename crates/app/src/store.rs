//! The store port: the operations the use cases need, each one transaction, and the
//! records they read and write. Every backend runs the same contract tests.

use crate::AppError;
use crate::event::{Event, StoredEvent};
pub use crate::payment::Payments;
use async_trait::async_trait;
use innkeep_core::{
    BookingId, BookingStatus, Email, ImageKind, Money, NightOverride, PhotoId, PropertyDraft, PropertyId, Quote, Role,
    RoomTypeDraft, RoomTypeId, Stay, TenantId, UserId,
};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A store failure. `SoldOut`, `Stale`, `Duplicate` and `UnitsBelowSold` are expected
/// outcomes the use cases turn into answers; the rest are internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sold out on {night}")]
    SoldOut { night: Date },
    #[error("the row changed since it was read")]
    Stale,
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    #[error("{sold} units sold on {night}")]
    UnitsBelowSold { night: Date, sold: u32 },
    #[error("database: {0}")]
    Database(String),
    /// A serialization failure or deadlock: the transaction may succeed if run again.
    #[error("transient database conflict: {0}")]
    Retryable(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The storage has no room left (a full disk): nothing was written, and writes work
    /// again once there is space.
    #[error("storage full: {0}")]
    Full(String),
    /// The storage itself failed (an I/O error, a read-only file system, a database file
    /// that cannot be opened): nothing was written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// The write fault this error shows, if it says the storage cannot take writes now.
    pub fn fault_reason(&self) -> Option<&'static str> {
        match self {
            StoreError::Full(_) => Some("storage_full"),
            StoreError::Unavailable(_) => Some("storage_error"),
            _ => None,
        }
    }
}

/// Why the store's writes fail now: set by a write that failed on the storage itself
/// (full, I/O error, read-only), cleared by the next write that commits. Reads go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteFault {
    /// `storage_full` or `storage_error`.
    pub reason: &'static str,
    /// The last failure, as the database said it.
    pub detail: String,
    /// When writes started failing.
    pub since: Timestamp,
    /// Writes refused since then.
    pub failed_writes: u64,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub tenant_id: Option<TenantId>,
    /// A host's role in its tenant.
    pub staff_role: Option<innkeep_core::StaffRole>,
    pub created_at: Timestamp,
    /// The language messages to this user are written in.
    pub locale: innkeep_core::Locale,
    /// The currency the user prefers to see prices in (none: each property's own).
    pub currency: Option<innkeep_core::Currency>,
}

/// A live session of a user (its token is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What a single-use account token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::EmailVerification => "email_verification",
        }
    }
}

/// A single-use token mailed to a user, kept as its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// A user to create; for a host, `tenant_id` names the tenant created with it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub password_hash: String,
    pub tenant_name: Option<String>,
}

/// A stored property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    pub id: PropertyId,
    pub tenant_id: TenantId,
    #[serde(flatten)]
    pub draft: PropertyDraft,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A stored room type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomType {
    pub id: RoomTypeId,
    pub property_id: PropertyId,
    pub tenant_id: TenantId,
    #[serde(flatten)]
    pub draft: RoomTypeDraft,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub use innkeep_core::night::NightRow;

/// Contact details of whoever stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestContact {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// A booking, whatever its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub status: BookingStatus,
    pub tenant_id: TenantId,
    pub property_id: PropertyId,
    pub room_type_id: RoomTypeId,
    pub user_id: UserId,
    pub check_in: Date,
    pub check_out: Date,
    pub adults: u16,
    pub children: u16,
    /// Units of the room type the booking takes on each night (the party shared between them).
    #[serde(default = "innkeep_core::one_room")]
    pub rooms: u16,
    /// The children's ages as given when booking (none if not given).
    #[serde(default, skip_serializing_if = "innkeep_core::ChildAges::is_empty")]
    pub child_ages: innkeep_core::ChildAges,
    pub guest: GuestContact,
    pub quote: Quote,
    pub total: Money,
    pub refund: Option<Money>,
    pub hold_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Booking {
    /// The booked nights.
    pub fn stay(&self) -> Result<Stay, StoreError> {
        Stay::range(self.check_in, self.check_out).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// Records a consumer's processed marks over one batch (see `Store::marks`).
#[async_trait]
pub trait Marks: Send {
    /// Record that the consumer handled the event; false if it already had.
    async fn mark(&mut self, event: innkeep_core::EventId) -> Result<bool, StoreError>;
}

/// A booking as a guest's taste reads it: which property, in what status, made when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedStay {
    pub property_id: PropertyId,
    pub status: BookingStatus,
    pub created_at: Timestamp,
}

impl From<&Booking> for BookedStay {
    fn from(b: &Booking) -> BookedStay {
        BookedStay { property_id: b.property_id, status: b.status, created_at: b.created_at }
    }
}

/// A hold to place: the room type and nights, whose booking it is, and the idempotency
/// key that guards it.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub room_type_id: RoomTypeId,
    pub user_id: UserId,
    pub stay: Stay,
    /// Units of the room type taken on each night.
    pub rooms: u16,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    /// The stay's stored nights as read with the room type (`room_type_for_hold`), if they
    /// were: PostgreSQL's first attempt prices from them instead of reading them again. Its
    /// one statement sells the nights only if their prices and minimum stays are still
    /// these, so stale rows cost a retry, never a wrong price.
    pub nights: Option<Vec<NightRow>>,
}

/// Prices a hold from the stored nights it takes, one row per night in night order (`sold`
/// already counts the hold), and returns the booking to store with its event. An error
/// refuses the hold: nothing changes. On SQLite the rows are those the hold's transaction
/// has just taken; on PostgreSQL they are read before the hold's one statement (with the room
/// type, see [`NewHold::nights`], or again on a retry), which sells the nights only if their
/// prices and minimum stays are still the ones priced (else they are read and priced again),
/// so the price is always that of the nights sold.
pub type PriceHold<'a> = dyn Fn(&[NightRow]) -> Result<(Booking, Event), AppError> + Send + Sync + 'a;

/// What placing a hold did.
#[derive(Debug)]
pub enum HoldOutcome {
    /// A new booking holds the nights; its event is in the outbox.
    Created(Booking, Event),
    /// The key was seen with the same request: the earlier booking.
    Replayed(Booking),
    /// The key was seen with another request.
    KeyReused,
    /// The nights were free but pricing them refused the stay (a minimum stay set on
    /// the arrival night, say); nothing changed.
    Refused(AppError),
}

/// A status change to apply if the booking is still in `from`.
#[derive(Debug, Clone)]
pub struct Transition {
    pub booking: Booking,
    pub from: BookingStatus,
    /// Whether the booking's nights go back to the inventory.
    pub release: bool,
}

/// Which bookings to list.
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub user_id: Option<UserId>,
    pub tenant_id: Option<TenantId>,
    pub property_id: Option<PropertyId>,
    pub status: Option<BookingStatus>,
    /// Bookings with at least one night in `[from, to)`.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub limit: u32,
    pub offset: u32,
}

/// The store's accounts role: users and their sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Create a user (and its tenant, for a host); `Duplicate` if the e-mail is taken.
    async fn create_user(&self, user: &NewUser, event: &Event) -> Result<(), StoreError>;
    /// A user and its password hash, by e-mail.
    async fn user_credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError>;
    /// Record a session token's hash.
    async fn create_session(&self, token_hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), StoreError>;
    /// The user of an unexpired session, and when the session expires. Read from the
    /// primary: a sign-in is followed at once by requests with its token.
    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<(User, Timestamp)>, StoreError>;
    /// End a session, with its `session.ended` event.
    async fn delete_session(&self, token_hash: &str, event: &Event) -> Result<(), StoreError>;
    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// A user's live sessions, newest first.
    async fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionRecord>, StoreError>;
    /// End a user's sessions, all but `keep` (a token hash), with a `session.ended` event
    /// each, in one transaction; with `password_hash`, set the user's password in it too.
    /// Answers the events written.
    async fn end_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        password_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Event>, StoreError>;
    /// The user's password hash.
    async fn password_hash(&self, user: UserId) -> Result<Option<String>, StoreError>;
    /// Keep a single-use token (its hash).
    async fn add_account_token(&self, token: &AccountToken) -> Result<(), StoreError>;
    /// Use a token of this purpose: once, before it expires; whose it was.
    async fn use_account_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError>;
    /// Mark a user's e-mail address verified.
    async fn set_email_verified(&self, user: UserId, at: Timestamp) -> Result<(), StoreError>;
    /// When the user's e-mail address was verified.
    async fn email_verified_at(&self, user: UserId) -> Result<Option<Timestamp>, StoreError>;
    /// Change a user's name and the language their messages are written in (each if given).
    async fn update_profile(
        &self,
        user: UserId,
        name: Option<&str>,
        locale: Option<innkeep_core::Locale>,
        currency: Option<innkeep_core::Currency>,
    ) -> Result<(), StoreError>;
    /// The members of a tenant (its hosts), oldest first.
    async fn tenant_users(&self, tenant: TenantId) -> Result<Vec<User>, StoreError>;
}

/// The store's catalog role: properties and room types, one at a time and in bulk.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Bulk-load tenants (id, name; existing ones are kept), properties and room types in
    /// one transaction with one event (the demo generator; consumers such as the search
    /// index rebuild from the database).
    async fn import_catalog(
        &self,
        tenants: &[(TenantId, String)],
        properties: &[Property],
        room_types: &[RoomType],
        event: &Event,
    ) -> Result<(), StoreError>;
    /// How many properties there are.
    async fn count_properties(&self) -> Result<i64, StoreError>;

    /// Add a property.
    async fn insert_property(&self, property: &Property, event: &Event) -> Result<(), StoreError>;
    /// Replace a property's fields.
    async fn update_property(&self, property: &Property, event: &Event) -> Result<(), StoreError>;
    /// A property by id.
    async fn property(&self, id: PropertyId) -> Result<Option<Property>, StoreError>;
    /// Properties, of one tenant or all, newest first.
    async fn list_properties(
        &self,
        tenant: Option<TenantId>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Property>, StoreError>;

    /// Add a room type.
    async fn insert_room_type(&self, room_type: &RoomType, event: &Event) -> Result<(), StoreError>;
    /// Replace a room type's fields; `UnitsBelowSold` if its units would drop below what
    /// is sold on a night from `from_night` on that has no units override.
    async fn update_room_type(&self, room_type: &RoomType, from_night: Date, event: &Event) -> Result<(), StoreError>;
    /// A room type by id.
    async fn room_type(&self, id: RoomTypeId) -> Result<Option<RoomType>, StoreError>;
    /// A room type by id with its property, in one read.
    async fn room_type_with_property(&self, id: RoomTypeId) -> Result<Option<(RoomType, Property)>, StoreError>;
    /// A room type with its property for a hold of the nights `from..to`: on a store that
    /// prices a hold from nights read before its write (PostgreSQL), also the stored nights
    /// of the stay, read from the primary in the same round trip (see [`NewHold::nights`]);
    /// elsewhere `None`, the hold's own transaction reads them.
    async fn room_type_for_hold(
        &self,
        id: RoomTypeId,
        from: Date,
        to: Date,
    ) -> Result<Option<(RoomType, Property, Option<Vec<NightRow>>)>, StoreError>;
    /// The room types of a property.
    async fn room_types_of(&self, property: PropertyId) -> Result<Vec<RoomType>, StoreError>;
    /// Properties by id, in no particular order; unknown ids are left out.
    async fn properties_by_ids(&self, ids: &[PropertyId]) -> Result<Vec<Property>, StoreError>;
    /// The room types of several properties, in no particular order.
    async fn room_types_of_many(&self, properties: &[PropertyId]) -> Result<Vec<RoomType>, StoreError>;
    /// Every room type, a page at a time in id order after `after` (for rebuilding indexes).
    async fn all_room_types(&self, after: Option<RoomTypeId>, limit: u32) -> Result<Vec<RoomType>, StoreError>;
    /// Every property, a page at a time in id order after `after` (for rebuilding indexes).
    async fn all_properties(&self, after: Option<PropertyId>, limit: u32) -> Result<Vec<Property>, StoreError>;
}

/// The store's inventory role: nights, holds and bookings: where a night is sold, once.
#[async_trait]
pub trait Inventory: Send + Sync {
    /// Set overrides on the nights of `range`; `UnitsBelowSold` if units would drop below sold.
    async fn set_nights(
        &self,
        room_type: RoomTypeId,
        range: &Stay,
        change: &NightOverride,
        event: &Event,
    ) -> Result<(), StoreError>;
    /// The stored nights of `range` (nights without a row are absent).
    async fn nights(&self, room_type: RoomTypeId, range: &Stay) -> Result<Vec<NightRow>, StoreError>;

    /// The stored nights of `range` for several room types, in night order.
    async fn nights_of_many(
        &self,
        room_types: &[RoomTypeId],
        range: &Stay,
    ) -> Result<Vec<(RoomTypeId, NightRow)>, StoreError>;

    /// Hold one unit on every night of the stay, then price it from the nights just taken
    /// and store the booking and its event, all in one transaction; or fail with `SoldOut`
    /// and change nothing. A key seen before answers before any night is touched.
    async fn hold(&self, hold: &NewHold, price: &PriceHold<'_>) -> Result<HoldOutcome, StoreError>;
    /// Apply a status change if the booking is still in `from`; `Stale` otherwise.
    async fn transition(&self, transition: &Transition, event: &Event) -> Result<(), StoreError>;
    /// A booking by id.
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;
    /// Bookings matching a filter, newest first.
    async fn list_bookings(&self, filter: &BookingFilter) -> Result<Vec<Booking>, StoreError>;
    /// A guest's newest `limit` bookings as their taste reads them (no document decoded),
    /// newest first.
    async fn booked_stays(&self, user: UserId, limit: u32) -> Result<Vec<BookedStay>, StoreError>;
    /// Every booking in id order, a page after `after` (a rebuild of the history index,
    /// read from the primary so that it matches the outbox position it follows from).
    async fn all_bookings(&self, after: Option<BookingId>, limit: u32) -> Result<Vec<Booking>, StoreError>;
    /// Holds whose expiry is before `now`.
    async fn expired_holds(&self, now: Timestamp, limit: u32) -> Result<Vec<BookingId>, StoreError>;
}

/// The store's outbox role: the outbox, consumer positions, processed marks and dead letters.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Outbox events after position `seq`, oldest first. Only events whose transaction
    /// committed before every running one are returned, so no event is ever skipped.
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;
    /// The newest outbox position.
    async fn last_event_seq(&self) -> Result<i64, StoreError>;

    /// A consumer's position in the outbox (0 before its first event).
    async fn consumer_position(&self, consumer: &str) -> Result<i64, StoreError>;
    /// Every consumer's position.
    async fn consumer_positions(&self) -> Result<Vec<(String, i64)>, StoreError>;
    /// Move a consumer past `seq`.
    async fn set_consumer_position(&self, consumer: &str, seq: i64) -> Result<(), StoreError>;
    /// Take or renew the lease `name` for `holder` until `until`: true if `holder` holds it
    /// now (it was free, ran out before `now`, or was the holder's already).
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError>;
    /// Record that a consumer handled an event; false if it already had.
    async fn mark_processed(&self, consumer: &str, event: innkeep_core::EventId) -> Result<bool, StoreError>;
    /// A consumer's processed marks for one batch: `mark_processed` one event at a time,
    /// on a connection held for the batch where the engine allows it (PostgreSQL), so a
    /// mark is one round trip instead of a pool checkout and its release each.
    async fn marks<'a>(&'a self, consumer: &'a str) -> Result<Box<dyn Marks + 'a>, StoreError>;
    /// Whether a consumer already handled an event.
    async fn was_processed(&self, consumer: &str, event: innkeep_core::EventId) -> Result<bool, StoreError>;
    /// Which of these events a consumer already handled (one read for a batch).
    async fn processed_among(
        &self,
        consumer: &str,
        events: &[innkeep_core::EventId],
    ) -> Result<std::collections::HashSet<innkeep_core::EventId>, StoreError>;
    /// Park an event a consumer gave up on.
    async fn add_dead_letter(&self, letter: &DeadLetter) -> Result<(), StoreError>;
    /// Parked events, of one consumer or all.
    async fn dead_letters(&self, consumer: Option<&str>) -> Result<Vec<DeadLetter>, StoreError>;
    /// Remove a parked event (after a successful replay).
    async fn remove_dead_letter(&self, consumer: &str, event: innkeep_core::EventId) -> Result<(), StoreError>;
    /// An outbox event by id.
    async fn event(&self, id: innkeep_core::EventId) -> Result<Option<StoredEvent>, StoreError>;
}

/// The store's photos role: the photos of properties (their bytes are in object storage).
#[async_trait]
pub trait Photos: Send + Sync {
    /// Record a photo whose bytes are already in object storage.
    async fn insert_photo(&self, photo: &Photo, event: &Event) -> Result<(), StoreError>;
    /// The photos of a property, oldest first.
    async fn photos_of(&self, property: PropertyId) -> Result<Vec<Photo>, StoreError>;
    /// A photo by id.
    async fn photo(&self, id: PhotoId) -> Result<Option<Photo>, StoreError>;
    /// The first photo of each of these properties that has one.
    async fn cover_photos(&self, properties: &[PropertyId]) -> Result<Vec<Photo>, StoreError>;
}

/// The store's history role: what each guest searched for.
#[async_trait]
pub trait History: Send + Sync {
    /// Remember a user's search (the query string and a short summary).
    async fn record_search(&self, user: UserId, query: &str, summary: &str, at: Timestamp) -> Result<(), StoreError>;
    /// A user's most recent searches, newest first.
    async fn recent_searches(&self, user: UserId, limit: u32) -> Result<Vec<RecentSearch>, StoreError>;
}

/// The store port: every role, and the store's own health.
#[async_trait]
pub trait Store:
    Accounts
    + Catalog
    + Inventory
    + Outbox
    + Photos
    + History
    + Payments
    + crate::billing::Billing
    + crate::notify::Notifications
    + crate::two_factor::TwoFactorStore
    + crate::team::TeamStore
    + crate::operator::Directory
    + crate::audit::AuditLog
    + crate::data_rights::DataRights
    + crate::review::ReviewStore
    + crate::channels::ChannelStore
    + Send
    + Sync
    + 'static
{
    /// Whether the database answers and its migrations are applied.
    async fn ready(&self) -> Result<(), StoreError>;

    /// The read replicas as last measured (none on SQLite or without replicas).
    fn replicas(&self) -> Vec<ReplicaStatus> {
        Vec::new()
    }
    /// Why writes fail now, if they do (for /readyz, /metrics and the operator pages).
    fn write_fault(&self) -> Option<WriteFault> {
        None
    }
}

/// A photo of a property; its bytes are in object storage under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub id: PhotoId,
    pub property_id: PropertyId,
    pub tenant_id: TenantId,
    pub kind: ImageKind,
    /// Size in bytes.
    pub size: u64,
    /// A short description for people who cannot see the photo.
    pub alt: String,
    pub key: String,
    pub created_at: Timestamp,
}

/// How one read replica is doing, as its last health check found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaStatus {
    /// Its position in the configured replica list: "0", "1", ...
    pub name: String,
    /// Whether it answered its last check (or last read).
    pub up: bool,
    /// How far its replay is behind the primary, in seconds (0 when caught up; None while down).
    pub lag_seconds: Option<f64>,
    /// Whether reads go to it now: up and within the configured lag limit.
    pub serving: bool,
    /// Reads it has served since the node started.
    pub reads: u64,
}

/// A search a user made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSearch {
    /// The query string, to run the search again: `GET /api/v1/search?{query}`.
    pub query: String,
    pub summary: String,
    pub searched_at: Timestamp,
}

/// An event a consumer gave up on after its retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub consumer: String,
    pub seq: i64,
    pub event_id: innkeep_core::EventId,
    pub error: String,
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// The whole catalogue: every property and every room type, each in id order, read a page
/// at a time (the index rebuild, the lake's snapshot, the recommendation model, the demo).
pub async fn catalogue(store: &dyn Catalog) -> Result<(Vec<Property>, Vec<RoomType>), StoreError> {
    const PAGE: u32 = 5_000;
    let mut properties: Vec<Property> = Vec::new();
    loop {
        let page = store.all_properties(properties.last().map(|p| p.id), PAGE).await?;
        let done = page.len() < PAGE as usize;
        properties.extend(page);
        if done {
            break;
        }
    }
    let mut room_types: Vec<RoomType> = Vec::new();
    loop {
        let page = store.all_room_types(room_types.last().map(|r| r.id), PAGE).await?;
        let done = page.len() < PAGE as usize;
        room_types.extend(page);
        if done {
            break;
        }
    }
    Ok((properties, room_types))
}
