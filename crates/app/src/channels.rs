//! Calendar sync with other channels through iCalendar feeds (RFC 5545).
//!
//! **Export**: a room type's busy nights at a secret URL (`/ical/{token}.ics`) that the host
//! gives Airbnb, Booking.com or a second Innkeep property. A night is busy when no unit is
//! left for a guest (sold out, closed, or no units) *not counting the nights other feeds
//! block*: a feed never echoes back what it imported, so two calendars that import each
//! other settle instead of blocking each other's bookings.
//!
//! **Import**: another channel's feed of a room type, fetched on a schedule by every node
//! (one at a time per feed, by a lease). Each night a feed's events cover holds one unit of
//! the room type, taken the way a booking takes it (only while one is left, inside the
//! database transaction); a night no unit is left for is kept as a *conflict*, shown to the
//! host, written as a `calendar.conflict` event (which mails the tenant's hosts), and changes
//! no booking. A night whose event left
//! the feed is released. How events become nights is the channels crate's rule
//! (`innkeep_channels::read_feed`); this module takes the nights.

use crate::error::AppError;
use crate::event::{CalendarUpdated, Change, Event};
use crate::notify::UrlCheck;
use crate::store::{RoomType, StoreError};
use crate::{Actor, Ports};
use async_trait::async_trait;
use innkeep_core::{Duty, NightOverride, PropertyId, RoomTypeId, TenantId};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The most feeds one room type imports.
pub const MAX_FEEDS_PER_ROOM_TYPE: usize = 10;
/// The longest feed name and URL.
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_URL_CHARS: usize = 2_000;
/// An export shows the nights from this many days ago ...
pub const EXPORT_DAYS_BEHIND: i64 = 30;
/// ... to this many days ahead; an import reads as far ahead.
pub const DAYS_AHEAD: i64 = 730;
/// How long a node may take to fetch and apply a feed before another may take it.
pub const SYNC_LEASE: SignedDuration = SignedDuration::from_secs(120);

/// A room type's export feed: its busy nights at `/ical/{token}.ics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcalExport {
    pub room_type_id: RoomTypeId,
    pub tenant_id: TenantId,
    /// 32 random bytes, hex: the URL's secret. A new one replaces the old at once.
    pub token: String,
    pub created_at: Timestamp,
}

/// How the last fetch of a feed went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Fetched and applied.
    Ok,
    /// The feed had not changed since the last fetch (a conditional GET answered 304).
    NotModified,
    /// Not fetched or not read: `last_error` says why; the nights stay as they were.
    Error,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Ok => "ok",
            SyncStatus::NotModified => "not_modified",
            SyncStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<SyncStatus> {
        [SyncStatus::Ok, SyncStatus::NotModified, SyncStatus::Error].into_iter().find(|k| k.as_str() == s)
    }
}

/// Another channel's feed imported into a room type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcalFeed {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub room_type_id: RoomTypeId,
    pub name: String,
    pub url: String,
    /// The last answer's validators, sent back on the next fetch.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_sync_at: Timestamp,
    pub last_sync_at: Option<Timestamp>,
    pub last_status: Option<SyncStatus>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// A night a feed blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedNight {
    pub night: Date,
    /// The feed's event (its UID) covering the night.
    pub uid: String,
    /// Whether it holds a unit; `false` is a conflict: no unit was left.
    pub applied: bool,
}

/// One night of a room type as an export sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportNight {
    pub night: Date,
    pub units: u32,
    pub sold: u32,
    pub closed: bool,
    /// Units held by imported feeds (part of `sold`).
    pub imported: u32,
}

/// What a fetch found, to record: the nights it read (`None` when nothing was read: not
/// modified, or an error), with the event covering each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    pub status: SyncStatus,
    pub error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub nights: Option<BTreeMap<Date, String>>,
}

/// What recording a fetch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Nights that now hold a unit and did not before.
    pub held: Vec<Date>,
    /// Nights released (their events left the feed).
    pub released: Vec<Date>,
    /// Nights the feed blocks that no unit was left for, and were not conflicts before.
    pub new_conflicts: Vec<Date>,
}

impl Applied {
    fn changed(&self) -> Option<(Date, Date)> {
        let all = self.held.iter().chain(&self.released);
        let from = all.clone().min()?;
        let to = all.max()?.tomorrow().ok()?;
        Some((*from, to))
    }
}

/// The events a recorded sync writes, made once the store knows what it changed.
pub type SyncEvents<'a> = &'a (dyn Fn(&Applied) -> Vec<Event> + Send + Sync);

/// The store's channels role.
#[async_trait]
pub trait ChannelStore {
    async fn ical_export(&self, room_type: RoomTypeId) -> Result<Option<IcalExport>, StoreError>;
    async fn ical_export_by_token(&self, token: &str) -> Result<Option<IcalExport>, StoreError>;
    /// Make or replace a room type's export.
    async fn put_ical_export(&self, export: &IcalExport) -> Result<(), StoreError>;
    async fn delete_ical_export(&self, room_type: RoomTypeId) -> Result<(), StoreError>;
    /// The nights of `[from, to)` that have an inventory row, and the room type's units.
    async fn export_nights(
        &self,
        room_type: RoomTypeId,
        from: Date,
        to: Date,
    ) -> Result<(Vec<ExportNight>, u32), StoreError>;
    async fn insert_ical_feed(&self, feed: &IcalFeed) -> Result<(), StoreError>;
    async fn ical_feed(&self, id: Uuid) -> Result<Option<IcalFeed>, StoreError>;
    /// A room type's feeds, oldest first.
    async fn ical_feeds(&self, room_type: RoomTypeId) -> Result<Vec<IcalFeed>, StoreError>;
    /// The nights a feed blocks, in order.
    async fn ical_feed_nights(&self, id: Uuid) -> Result<Vec<FeedNight>, StoreError>;
    /// Remove a feed, releasing every unit it holds, with the `events` of what it released.
    async fn delete_ical_feed(&self, id: Uuid, events: SyncEvents<'_>) -> Result<Applied, StoreError>;
    /// Fetch it at `at` (now, for "sync now").
    async fn schedule_ical_feed(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError>;
    /// Take up to `limit` feeds due at `now` that no node holds, holding them until
    /// `until`.
    async fn lease_due_ical_feeds(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<IcalFeed>, StoreError>;
    /// In one transaction: bring the feed's nights to `result.nights` (when read), record
    /// the fetch, schedule the next at `next`, let the lease go, and write `events` of what
    /// changed. `Ok(None)` if the feed was removed meanwhile.
    async fn record_ical_sync(
        &self,
        id: Uuid,
        result: &SyncResult,
        at: Timestamp,
        next: Timestamp,
        events: SyncEvents<'_>,
    ) -> Result<Option<Applied>, StoreError>;
    /// A property's OTA codes, if it has them.
    async fn ota_codes(&self, property: PropertyId) -> Result<Option<crate::ota::OtaCodes>, StoreError>;
    /// The codes of the tenant's hotel called `hotel_code`.
    async fn ota_hotel(&self, tenant: TenantId, hotel_code: &str) -> Result<Option<crate::ota::OtaCodes>, StoreError>;
    /// Replace a property's codes; `false` (nothing changed) if another property of the
    /// tenant has the hotel code.
    async fn put_ota_codes(&self, codes: &crate::ota::OtaCodes) -> Result<bool, StoreError>;
    /// The nights of a room type with an override (price, closed, min stay, units), in order.
    async fn calendar_overrides(&self, room_type: RoomTypeId) -> Result<Vec<(Date, NightOverride)>, StoreError>;
    /// Put a tenant's data in, ids kept, in one transaction with `event`: its properties,
    /// room types, rates and bookings (those holding nights counted as sold);
    /// `Duplicate(what)` if an id is here already; `UnitsBelowSold` if a night would be sold
    /// past its units.
    async fn import_tenant(&self, data: &crate::tenant_data::TenantData, event: &Event) -> Result<(), StoreError>;
    /// The booking a user's Idempotency-Key made, if it made one.
    async fn booking_by_idempotency_key(
        &self,
        user: innkeep_core::UserId,
        key: &str,
    ) -> Result<Option<innkeep_core::BookingId>, StoreError>;
}

/// `calendar.conflict`: nights an imported feed blocks that no unit was left for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarConflict {
    pub feed_id: Uuid,
    pub feed_name: String,
    pub room_type_id: RoomTypeId,
    pub property_id: PropertyId,
    pub nights: Vec<Date>,
}

fn token() -> String {
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    hex::encode(raw)
}

/// The export of a room type the actor sees, if it has one.
pub async fn export_of(ports: &Ports, actor: &Actor, id: RoomTypeId) -> Result<Option<IcalExport>, AppError> {
    crate::catalog::managed_room_type(ports, actor, id, Duty::SeeTenant).await?;
    Ok(ports.store.ical_export(id).await?)
}

/// Make a room type's export, or replace it: the old URL stops working at once.
pub async fn new_export(ports: &Ports, actor: &Actor, id: RoomTypeId, now: Timestamp) -> Result<IcalExport, AppError> {
    let rt = crate::catalog::managed_room_type(ports, actor, id, Duty::Rates).await?;
    let export = IcalExport { room_type_id: id, tenant_id: rt.tenant_id, token: token(), created_at: now };
    ports.store.put_ical_export(&export).await?;
    Ok(export)
}

/// Stop a room type's export.
pub async fn revoke_export(ports: &Ports, actor: &Actor, id: RoomTypeId) -> Result<(), AppError> {
    crate::catalog::managed_room_type(ports, actor, id, Duty::Rates).await?;
    if ports.store.ical_export(id).await?.is_none() {
        return Err(AppError::NotFound { what: "export" });
    }
    Ok(ports.store.delete_ical_export(id).await?)
}

/// What an export feed shows: the room type and its busy stretches `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportCalendar {
    pub room_type: RoomType,
    pub property_name: String,
    pub busy: Vec<(Date, Date)>,
}

/// The busy nights of the room type whose export `token` is (anyone with the URL): from
/// [`EXPORT_DAYS_BEHIND`] days ago to [`DAYS_AHEAD`] ahead, in the property's time zone.
pub async fn export_feed(ports: &Ports, token: &str, now: Timestamp) -> Result<ExportCalendar, AppError> {
    let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let export = match well_formed {
        true => ports.store.ical_export_by_token(token).await?,
        false => None,
    };
    let export = export.ok_or(AppError::NotFound { what: "calendar" })?;
    let room_type = crate::catalog::room_type(ports, export.room_type_id).await?;
    let property = crate::catalog::property(ports, room_type.property_id).await?;
    let today = property.draft.time_zone.today(now);
    let from = today.checked_sub(jiff::Span::new().days(EXPORT_DAYS_BEHIND)).unwrap_or(today);
    let to = today.checked_add(jiff::Span::new().days(DAYS_AHEAD)).unwrap_or(today);
    let (rows, base_units) = ports.store.export_nights(room_type.id, from, to).await?;
    let busy = busy_runs(&rows, base_units, from, to);
    Ok(ExportCalendar { room_type, property_name: property.draft.name.clone(), busy })
}

/// The stretches of `[from, to)` in which no unit is left for a guest, not counting the
/// units imported feeds hold (nights without a row have the room type's `base_units`, none
/// sold).
pub fn busy_runs(rows: &[ExportNight], base_units: u32, from: Date, to: Date) -> Vec<(Date, Date)> {
    let by_night: BTreeMap<Date, &ExportNight> = rows.iter().map(|r| (r.night, r)).collect();
    let mut runs: Vec<(Date, Date)> = Vec::new();
    let mut night = from;
    while night < to {
        let busy = match by_night.get(&night) {
            Some(r) => r.closed || r.sold.saturating_sub(r.imported) >= r.units,
            None => base_units == 0,
        };
        let Ok(next) = night.tomorrow() else { break };
        if busy {
            match runs.last_mut() {
                Some(last) if last.1 == night => last.1 = next,
                _ => runs.push((night, next)),
            }
        }
        night = next;
    }
    runs
}

/// A feed to import.
#[derive(Debug, Clone)]
pub struct NewFeed {
    pub name: String,
    pub url: String,
}

/// Import another channel's feed into a room type; it is fetched at once, then on the
/// schedule. `check_url` is the node's URL rule (https, no private addresses).
pub async fn add_feed(
    ports: &Ports,
    actor: &Actor,
    id: RoomTypeId,
    cmd: NewFeed,
    check_url: &UrlCheck,
    now: Timestamp,
) -> Result<IcalFeed, AppError> {
    let rt = crate::catalog::managed_room_type(ports, actor, id, Duty::Rates).await?;
    let name = cmd.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid("name", "invalid_name", format!("a name of 1 to {MAX_NAME_CHARS} characters")));
    }
    if cmd.url.chars().count() > MAX_URL_CHARS {
        return Err(AppError::invalid("url", "feed_url_refused", format!("at most {MAX_URL_CHARS} characters")));
    }
    check_url(&cmd.url).map_err(|reason| AppError::invalid("url", "feed_url_refused", reason))?;
    let feeds = ports.store.ical_feeds(id).await?;
    if feeds.iter().any(|f| f.url == cmd.url) {
        return Err(AppError::Conflict("this room type imports that feed already".to_string()));
    }
    if feeds.len() >= MAX_FEEDS_PER_ROOM_TYPE {
        return Err(AppError::Conflict(format!("a room type imports at most {MAX_FEEDS_PER_ROOM_TYPE} feeds")));
    }
    let feed = IcalFeed {
        id: Uuid::now_v7(),
        tenant_id: rt.tenant_id,
        room_type_id: id,
        name,
        url: cmd.url,
        etag: None,
        last_modified: None,
        next_sync_at: now,
        last_sync_at: None,
        last_status: None,
        last_error: None,
        created_at: now,
    };
    ports.store.insert_ical_feed(&feed).await?;
    Ok(feed)
}

/// The feeds a room type imports (the actor's tenant's).
pub async fn feeds(ports: &Ports, actor: &Actor, id: RoomTypeId) -> Result<Vec<IcalFeed>, AppError> {
    crate::catalog::managed_room_type(ports, actor, id, Duty::SeeTenant).await?;
    Ok(ports.store.ical_feeds(id).await?)
}

/// A feed the actor may see, with the nights it blocks. Another tenant's is not found.
pub async fn feed_of(ports: &Ports, actor: &Actor, id: Uuid) -> Result<(IcalFeed, Vec<FeedNight>), AppError> {
    match ports.store.ical_feed(id).await? {
        Some(f) if actor.may(Duty::SeeTenant, f.tenant_id) => {
            let nights = ports.store.ical_feed_nights(id).await?;
            Ok((f, nights))
        }
        _ => Err(AppError::NotFound { what: "feed" }),
    }
}

async fn managed_feed(ports: &Ports, actor: &Actor, id: Uuid) -> Result<IcalFeed, AppError> {
    match ports.store.ical_feed(id).await? {
        Some(f) if actor.may(Duty::Rates, f.tenant_id) => Ok(f),
        Some(f) if actor.may(Duty::SeeTenant, f.tenant_id) => {
            Err(AppError::Forbidden("the hosts who set availability"))
        }
        _ => Err(AppError::NotFound { what: "feed" }),
    }
}

/// Stop importing a feed: every night it blocks is released.
pub async fn delete_feed(ports: &Ports, actor: &Actor, id: Uuid, now: Timestamp) -> Result<(), AppError> {
    let feed = managed_feed(ports, actor, id).await?;
    let rt = crate::catalog::room_type(ports, feed.room_type_id).await?;
    let events = |a: &Applied| calendar_events(&rt, a, now);
    let applied = ports.store.delete_ical_feed(id, &events).await?;
    invalidate(ports, &rt, &applied, now).await;
    Ok(())
}

/// Fetch a feed now (on the next round of the node's sync loop, within seconds).
pub async fn sync_now(ports: &Ports, actor: &Actor, id: Uuid, now: Timestamp) -> Result<IcalFeed, AppError> {
    let mut feed = managed_feed(ports, actor, id).await?;
    ports.store.schedule_ical_feed(id, now).await?;
    feed.next_sync_at = now;
    Ok(feed)
}

/// The `calendar.updated` event of what a sync changed (none if nothing did).
fn calendar_events(rt: &RoomType, applied: &Applied, now: Timestamp) -> Vec<Event> {
    let Some((from, to)) = applied.changed() else { return Vec::new() };
    let payload = CalendarUpdated {
        room_type_id: rt.id,
        property_id: rt.property_id,
        from,
        to,
        change: NightOverride::default(),
    };
    vec![Event::new(&Change::CalendarUpdated(payload), now, Some(rt.tenant_id), rt.id.0)]
}

/// Drop this node's cached nights of what a sync changed at once (the outbox consumer does
/// it for every node).
async fn invalidate(ports: &Ports, rt: &RoomType, applied: &Applied, now: Timestamp) {
    for event in calendar_events(rt, applied, now) {
        crate::cache::invalidate_after(ports, &event).await;
    }
}

/// The window a feed's events are read in: its property's time zone, from today to
/// [`DAYS_AHEAD`] days ahead.
pub async fn window_of(
    ports: &Ports,
    feed: &IcalFeed,
    now: Timestamp,
) -> Result<(jiff::tz::TimeZone, Date, Date), AppError> {
    let rt = crate::catalog::room_type(ports, feed.room_type_id).await?;
    let property = crate::catalog::property(ports, rt.property_id).await?;
    let today = property.draft.time_zone.today(now);
    let until = today.checked_add(jiff::Span::new().days(DAYS_AHEAD)).unwrap_or(today);
    Ok((property.draft.time_zone.zone(), today, until))
}

/// Feeds due for a fetch, held by this node for [`SYNC_LEASE`].
pub async fn due_feeds(ports: &Ports, now: Timestamp, limit: u32) -> Result<Vec<IcalFeed>, AppError> {
    let until = now.checked_add(SYNC_LEASE).unwrap_or(now);
    Ok(ports.store.lease_due_ical_feeds(now, until, limit).await?)
}

/// Record what fetching `feed` found, and schedule its next fetch `every` later (a failed
/// fetch is tried again sooner, after at most 5 minutes). Conflicts new to this fetch are
/// written as a `calendar.conflict` event, which mails the tenant's hosts.
pub async fn record_sync(
    ports: &Ports,
    feed: &IcalFeed,
    result: &SyncResult,
    every: SignedDuration,
    now: Timestamp,
) -> Result<Option<Applied>, AppError> {
    let rt = crate::catalog::room_type(ports, feed.room_type_id).await?;
    let wait = match result.status {
        SyncStatus::Error => every.min(SignedDuration::from_secs(300)),
        _ => every,
    };
    let next = now.checked_add(wait).unwrap_or(now);
    let feed_id = feed.id;
    let events = |a: &Applied| {
        let mut events = calendar_events(&rt, a, now);
        if !a.new_conflicts.is_empty() {
            let conflict = CalendarConflict {
                feed_id,
                feed_name: feed.name.clone(),
                room_type_id: rt.id,
                property_id: rt.property_id,
                nights: a.new_conflicts.clone(),
            };
            events.push(Event::new(&Change::CalendarConflict(conflict), now, Some(rt.tenant_id), feed_id));
        }
        events
    };
    let applied = ports.store.record_ical_sync(feed.id, result, now, next, &events).await?;
    if let Some(applied) = &applied {
        invalidate(ports, &rt, applied, now).await;
    }
    Ok(applied)
}
