//! The cache port and the hot reads that go through it: a property, its room types, the
//! stored nights of a room type (the price calendar behind availability and the property
//! page's strip), and the user behind a session token (every signed-in request).
//!
//! Values are serialized bytes by key with a time to live. Every fill is guarded by a
//! generation: `get` answers a miss with the key's generation, `invalidate` moves it on,
//! and `put` stores only if it has not moved, so a read that began before a change cannot
//! put the old value back after the change's invalidation.
//!
//! Invalidation follows the outbox (`keys_for` maps an event to the keys it changed; a
//! consumer per node, or one shared by the nodes for a shared cache, deletes them), and
//! the node that made a change also invalidates right after its commit so it reads its
//! own writes. The booking decision never reads the cache: `place_booking` reads the
//! store, and the store's conditional update in `Store::hold` is the only decision.

use crate::event::{Change, Event};
use crate::store::{NightRow, Property, RoomType, User};
use crate::{AppError, Ports};
use async_trait::async_trait;
use innkeep_core::{Email, PropertyId, Role, RoomTypeId, Stay, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// A cache backend failure; reads fall back to the store when the cache fails.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend failed.
    #[error("cache: {0}")]
    Backend(String),
    /// The backend failed recently and is not asked again yet (logged once, at the failure).
    #[error("cache unavailable after a recent failure")]
    Unavailable,
}

/// A key's invalidation generation, as a miss saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(pub u64);

/// What a `get` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The stored bytes.
    Hit(Vec<u8>),
    /// Nothing (or expired); fill with `put(.., since: this generation, ..)`.
    Miss(Generation),
}

/// The cache port: serialized values by key, each with a time to live.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value under `key`, or a miss with the generation to fill it with.
    async fn get(&self, key: &str) -> Result<Lookup, CacheError>;
    /// Store `value` for `ttl` unless `key` was invalidated since the miss that saw `since`;
    /// returns whether it was stored.
    async fn put(&self, key: &str, value: &[u8], since: Generation, ttl: Duration) -> Result<bool, CacheError>;
    /// Remove the keys and move their generations on.
    async fn invalidate(&self, keys: &[String]) -> Result<(), CacheError>;
}

/// No cache: every read misses and nothing is stored (`cache.ttl_secs = 0`).
pub struct NoCache;

#[async_trait]
impl Cache for NoCache {
    async fn get(&self, _key: &str) -> Result<Lookup, CacheError> {
        Ok(Lookup::Miss(Generation(0)))
    }
    async fn put(&self, _: &str, _: &[u8], _: Generation, _: Duration) -> Result<bool, CacheError> {
        Ok(false)
    }
    async fn invalidate(&self, _keys: &[String]) -> Result<(), CacheError> {
        Ok(())
    }
}

/// Which read a key holds: the label of the hit and miss counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Property,
    RoomTypes,
    Nights,
    Session,
}

impl Kind {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Property => "property",
            Kind::RoomTypes => "room_types",
            Kind::Nights => "nights",
            Kind::Session => "session",
        }
    }
}

/// The key of a property.
pub fn property_key(id: PropertyId) -> String {
    format!("property:{id}")
}

/// The key of a property's room types.
pub fn room_types_key(property: PropertyId) -> String {
    format!("room-types:{property}")
}

/// The key of a room type's stored nights in the calendar month starting at `month`.
pub fn nights_key(room_type: RoomTypeId, month: Date) -> String {
    format!("nights:{room_type}:{}", month.strftime("%Y-%m"))
}

/// The key of a session, by the hash of its token.
pub fn session_key(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

/// The first days of the months that `[from, to)` touches.
fn months(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut m = from.first_of_month();
    while m < to {
        out.push(m);
        match m.checked_add(jiff::Span::new().months(1)) {
            Ok(next) => m = next,
            Err(_) => break,
        }
    }
    out
}

fn nights_keys(rt: RoomTypeId, from: Date, to: Date) -> Vec<String> {
    months(from, to).into_iter().map(|m| nights_key(rt, m)).collect()
}

/// The keys an outbox event makes stale.
pub fn keys_for(event: &Event) -> Vec<String> {
    // Every booking event: holds, expiries and cancellations change what is sold. Read only
    // the room type and nights of these, the busiest events, not the whole booking.
    if let Some(nights) = event.booking_nights() {
        return match nights {
            Ok((rt, from, to)) => nights_keys(rt, from, to),
            Err(e) => {
                tracing::warn!(event_id = %event.id, kind = %event.kind, error = %e, "undecodable event payload");
                Vec::new()
            }
        };
    }
    let change = match event.change() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(event_id = %event.id, kind = %event.kind, error = %e, "undecodable event payload");
            return Vec::new();
        }
    };
    match change {
        Change::PropertyCreated(p) | Change::PropertyUpdated(p) => vec![property_key(p.id)],
        Change::RoomTypeCreated(rt) | Change::RoomTypeUpdated(rt) => vec![room_types_key(rt.property_id)],
        Change::CalendarUpdated(c) => nights_keys(c.room_type_id, c.from, c.to),
        // Every booking event: holds, expiries and cancellations change what is sold.
        Change::Booking(b) => nights_keys(b.room_type_id, b.check_in, b.check_out),
        Change::SessionEnded(s) => vec![session_key(&s.token_hash)],
        Change::UserRegistered(_)
        | Change::UserErased(_)
        | Change::PhotoAdded(_)
        | Change::CatalogImported(_)
        | Change::PaymentCreated(_)
        | Change::PaymentReceived(_)
        | Change::PaymentSucceeded(_)
        | Change::PaymentRefunded(_)
        | Change::PaymentUpdated(_)
        | Change::RefundPaid(_)
        | Change::CommissionMetered(_)
        | Change::InvoiceIssued(_)
        | Change::PayoutMade(_)
        | Change::AuditRecorded(_)
        | Change::ReviewPublished(_)
        | Change::ReviewChanged(_)
        | Change::CalendarConflict(_) => Vec::new(),
    }
}

/// After a change committed: drop what it made stale from this node's view at once (the
/// outbox consumer does the same for every node, durably).
pub async fn invalidate_after(ports: &Ports, event: &Event) {
    let keys = keys_for(event);
    if keys.is_empty() {
        return;
    }
    if let Err(e) = ports.cache.invalidate(&keys).await {
        tracing::warn!(event_id = %event.id, error = %e, "cache invalidation after commit failed");
    }
}

/// Read `key` through the cache, filling it from `fetch` on a miss. A failing or
/// undecodable cache never fails the read: it falls back to `fetch`.
async fn read_through<T, F, Fut>(ports: &Ports, kind: Kind, key: &str, fetch: F) -> Result<T, AppError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    read_through_for(ports, kind, key, fetch, |_| Some(ports.settings.cache_ttl)).await
}

/// `read_through`, keeping the value for `ttl(&value)`, or not at all where that is `None`.
async fn read_through_for<T, F, Fut>(
    ports: &Ports,
    kind: Kind,
    key: &str,
    fetch: F,
    ttl: impl FnOnce(&T) -> Option<Duration>,
) -> Result<T, AppError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let since = match ports.cache.get(key).await {
        Ok(Lookup::Hit(bytes)) => match serde_json::from_slice(&bytes) {
            Ok(v) => {
                metrics::counter!("innkeep_cache_hits_total", "kind" => kind.as_str()).increment(1);
                return Ok(v);
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "cache entry does not decode; reading the store");
                None
            }
        },
        Ok(Lookup::Miss(since)) => Some(since),
        Err(CacheError::Unavailable) => None,
        Err(e) => {
            tracing::warn!(key, error = %e, "cache read failed; reading the store");
            None
        }
    };
    metrics::counter!("innkeep_cache_misses_total", "kind" => kind.as_str()).increment(1);
    let value = fetch().await?;
    if let (Some(since), Some(ttl)) = (since, ttl(&value)) {
        match serde_json::to_vec(&value) {
            Ok(bytes) => match ports.cache.put(key, &bytes, since, ttl).await {
                Ok(_) | Err(CacheError::Unavailable) => {}
                Err(e) => tracing::warn!(key, error = %e, "cache fill failed"),
            },
            Err(e) => tracing::warn!(key, error = %e, "cache value does not encode"),
        }
    }
    Ok(value)
}

/// A property as guests see it, through the cache (never for a write: those read the store).
pub async fn property(ports: &Ports, id: PropertyId) -> Result<Property, AppError> {
    read_through(ports, Kind::Property, &property_key(id), || async {
        ports.store.property(id).await?.ok_or(AppError::NotFound { what: "property" })
    })
    .await
}

/// The room types of a property as guests see them, through the cache.
pub async fn room_types(ports: &Ports, property: PropertyId) -> Result<Vec<RoomType>, AppError> {
    read_through(ports, Kind::RoomTypes, &room_types_key(property), || async {
        Ok(ports.store.room_types_of(property).await?)
    })
    .await
}

/// A live session's user as the cache keeps it, with the session's end.
#[derive(Debug, Serialize, Deserialize)]
struct CachedSession {
    user_id: UserId,
    email: String,
    name: String,
    role: Role,
    tenant_id: Option<TenantId>,
    #[serde(default)]
    staff_role: Option<innkeep_core::StaffRole>,
    created_at: Timestamp,
    expires_at: Timestamp,
    #[serde(default)]
    locale: innkeep_core::Locale,
    #[serde(default)]
    currency: Option<innkeep_core::Currency>,
}

/// The user of a live session, by the hash of its token, through the cache: kept no longer
/// than the session lasts (nor than `cache_ttl`), dropped by the `session.ended` event of a
/// sign-out (at once on the node that signed out). Unknown tokens are not kept.
pub async fn session_user(ports: &Ports, token_hash: &str, now: Timestamp) -> Result<Option<User>, AppError> {
    let fetch = || async {
        Ok(ports.store.session_user(token_hash, now).await?.map(|(u, expires_at)| CachedSession {
            user_id: u.id,
            email: u.email.as_str().to_string(),
            name: u.name,
            role: u.role,
            tenant_id: u.tenant_id,
            staff_role: u.staff_role,
            created_at: u.created_at,
            expires_at,
            locale: u.locale,
            currency: u.currency,
        }))
    };
    let keep = |s: &Option<CachedSession>| {
        let left = s.as_ref()?.expires_at.duration_since(now).unsigned_abs();
        Some(left.min(ports.settings.cache_ttl))
    };
    let found = read_through_for(ports, Kind::Session, &session_key(token_hash), fetch, keep).await?;
    let Some(s) = found.filter(|s| s.expires_at > now) else { return Ok(None) };
    let email = Email::parse(&s.email).map_err(|e| AppError::Store(crate::StoreError::Corrupt(e.to_string())))?;
    Ok(Some(User {
        id: s.user_id,
        email,
        name: s.name,
        role: s.role,
        tenant_id: s.tenant_id,
        staff_role: s.staff_role,
        created_at: s.created_at,
        locale: s.locale,
        currency: s.currency,
    }))
}

/// The stored nights of `range` for prices and availability shown to guests, through the
/// cache: one entry per room type and calendar month.
pub async fn nights(ports: &Ports, room_type: RoomTypeId, range: &Stay) -> Result<Vec<NightRow>, AppError> {
    let (from, to) = (range.check_in(), range.check_out());
    let mut out = Vec::new();
    for month in months(from, to) {
        let rows: Vec<NightRow> = read_through(ports, Kind::Nights, &nights_key(room_type, month), || async {
            let end = month.checked_add(jiff::Span::new().months(1)).unwrap_or(Date::MAX);
            let whole = Stay::range(month, end).map_err(|e| AppError::Conflict(e.to_string()))?;
            Ok(ports.store.nights(room_type, &whole).await?)
        })
        .await?;
        out.extend(rows.into_iter().filter(|r| r.date >= from && r.date < to));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_range_touches_each_month_once() {
        assert_eq!(months(date(2027, 1, 30), date(2027, 2, 2)), vec![date(2027, 1, 1), date(2027, 2, 1)]);
        assert_eq!(months(date(2027, 2, 1), date(2027, 3, 1)), vec![date(2027, 2, 1)]);
        assert_eq!(months(date(2027, 12, 31), date(2028, 1, 1)), vec![date(2027, 12, 1)]);
    }

    #[test]
    fn calendar_events_name_the_months_they_touch() {
        let rt = RoomTypeId(uuid::Uuid::nil());
        let now = jiff::Timestamp::UNIX_EPOCH;
        let change = |from, to| {
            Change::CalendarUpdated(crate::event::CalendarUpdated {
                room_type_id: rt,
                property_id: PropertyId(uuid::Uuid::nil()),
                from,
                to,
                change: Default::default(),
            })
        };
        let e = Event::new(&change(date(2027, 1, 30), date(2027, 2, 2)), now, None, rt.0);
        assert_eq!(keys_for(&e), vec![nights_key(rt, date(2027, 1, 1)), nights_key(rt, date(2027, 2, 1))]);
        let e = Event::new(&change(date(2027, 3, 1), date(2027, 3, 5)), now, None, rt.0);
        assert_eq!(keys_for(&e), vec![nights_key(rt, date(2027, 3, 1))]);
        let registered = crate::event::UserRegistered {
            user_id: innkeep_core::UserId(uuid::Uuid::nil()),
            role: innkeep_core::Role::Guest,
        };
        let e = Event::new(&Change::UserRegistered(registered), now, None, uuid::Uuid::nil());
        assert!(keys_for(&e).is_empty());
        // A booking event names the months of its nights, read without the whole booking.
        let mut e = Event::new(&change(date(2027, 3, 1), date(2027, 3, 5)), now, None, rt.0);
        e.kind = crate::event::EventKind::BookingCancelled;
        e.payload = serde_json::json!({"room_type_id": rt, "check_in": "2027-01-30", "check_out": "2027-02-02", "quote": {"lines": []}});
        assert_eq!(keys_for(&e), vec![nights_key(rt, date(2027, 1, 1)), nights_key(rt, date(2027, 2, 1))]);
        let ended = crate::event::SessionEnded { token_hash: "abc".into() };
        assert_eq!(
            keys_for(&Event::new(&Change::SessionEnded(ended), now, None, uuid::Uuid::nil())),
            vec![session_key("abc")]
        );
    }
}
