//! A host's data out and in: the tenant's properties, room types, rates (the calendar's
//! overrides night by night) and bookings as one JSON document, to keep, to move to another
//! Innkeep (embedded to a cluster, one install to another), or to read in a spreadsheet as
//! CSV (the front ends write the CSV from the same document). Importing a document puts its
//! properties, room types, rates and bookings, with their ids, into the importing owner's
//! tenant in one transaction: all of it or nothing. Exported again, it is the same document
//! but for the tenant, the time of export and the bookings' user (the importing owner: guest
//! accounts are the guests', not the host's; each booking keeps its guest's contact).

use crate::error::AppError;
use crate::event::{CatalogImported, Change, Event};
use crate::store::{Booking, BookingFilter, Property, RoomType, StoreError, User};
use crate::{Actor, Ports};
use innkeep_core::{BookingStatus, Duty, NightOverride, Role, RoomTypeId, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

mod tables;
pub use tables::{CSV_FILES, from_csv, to_csv};

/// The `format` of the document, and its `version`.
pub const FORMAT: &str = "innkeep-tenant";
pub const VERSION: u32 = 1;
/// The most of each kind a document holds.
pub const MAX_ROWS: usize = 200_000;

/// A tenant's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantData {
    pub format: String,
    pub version: u32,
    pub exported_at: Timestamp,
    pub tenant_id: TenantId,
    pub properties: Vec<Property>,
    pub room_types: Vec<RoomType>,
    pub rates: Vec<RateRow>,
    pub bookings: Vec<Booking>,
}

/// A night of a room type whose price, closing, minimum stay or units differ from the room
/// type's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRow {
    pub room_type_id: RoomTypeId,
    pub night: Date,
    #[serde(flatten)]
    pub change: NightOverride,
}

/// What an import brought in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub properties: usize,
    pub room_types: usize,
    pub rates: usize,
    pub bookings: usize,
}

/// The owners of a tenant (and operators) take its data out; `None` is the operator's
/// command line.
fn may_take(actor: Option<&Actor>, tenant: TenantId) -> Result<(), AppError> {
    match actor {
        None => Ok(()),
        Some(a) if a.may(Duty::Team, tenant) && a.key_id.is_none() => Ok(()),
        Some(_) => Err(AppError::Forbidden("the tenant's owners")),
    }
}

/// Everything of `tenant` as one document.
pub async fn export(
    ports: &Ports,
    actor: Option<&Actor>,
    tenant: TenantId,
    now: Timestamp,
) -> Result<TenantData, AppError> {
    export_parts(ports, actor, tenant, now, None).await
}

/// What one CSV file of `tenant` needs of the document (the other kinds left empty): a
/// host with years of bookings downloads `rates.csv` without reading them.
pub async fn export_for_file(
    ports: &Ports,
    actor: Option<&Actor>,
    tenant: TenantId,
    now: Timestamp,
    file: &str,
) -> Result<TenantData, AppError> {
    export_parts(ports, actor, tenant, now, Some(file)).await
}

async fn export_parts(
    ports: &Ports,
    actor: Option<&Actor>,
    tenant: TenantId,
    now: Timestamp,
    file: Option<&str>,
) -> Result<TenantData, AppError> {
    let wants = |kinds: &[&str]| file.is_none_or(|f| kinds.contains(&f));
    may_take(actor, tenant)?;
    if ports.store.tenant_users(tenant).await?.is_empty() {
        return Err(AppError::NotFound { what: "tenant" });
    }
    let mut properties = Vec::new();
    while wants(&["properties.csv", "room-types.csv", "rates.csv"]) {
        let page = ports.store.list_properties(Some(tenant), 500, properties.len() as u32).await?;
        let done = page.len() < 500;
        properties.extend(page);
        if done || properties.len() >= MAX_ROWS {
            break;
        }
    }
    properties.sort_by_key(|p: &Property| p.id);
    let mut room_types = Vec::new();
    for p in properties.iter().filter(|_| wants(&["room-types.csv", "rates.csv"])) {
        room_types.extend(ports.store.room_types_of(p.id).await?);
    }
    room_types.sort_by_key(|rt: &RoomType| rt.id);
    let mut rates = Vec::new();
    for rt in room_types.iter().filter(|_| wants(&["rates.csv"])) {
        for (night, change) in ports.store.calendar_overrides(rt.id).await? {
            rates.push(RateRow { room_type_id: rt.id, night, change });
        }
    }
    let mut bookings = Vec::new();
    while wants(&["bookings.csv"]) {
        let filter = BookingFilter {
            tenant_id: Some(tenant),
            limit: 500,
            offset: bookings.len() as u32,
            ..BookingFilter::default()
        };
        let page = ports.store.list_bookings(&filter).await?;
        let done = page.len() < 500;
        bookings.extend(page);
        if done || bookings.len() >= MAX_ROWS {
            break;
        }
    }
    bookings.sort_by_key(|b: &Booking| b.id);
    Ok(TenantData {
        format: FORMAT.to_string(),
        version: VERSION,
        exported_at: now,
        tenant_id: tenant,
        properties,
        room_types,
        rates,
        bookings,
    })
}

/// Put a document's data into `owner`'s tenant, ids kept: all of it, or (an id already
/// here, a room type of a property not in the document, a night sold past its units, ...)
/// nothing.
pub async fn import(ports: &Ports, owner: &User, mut data: TenantData, now: Timestamp) -> Result<Imported, AppError> {
    if data.format != FORMAT || data.version != VERSION {
        return Err(AppError::invalid("format", "unknown_format", format!("a {FORMAT} document of version {VERSION}")));
    }
    let tenant = match (owner.role, owner.tenant_id) {
        (Role::Host, Some(t)) if owner.staff_role.is_none_or(|r| r == innkeep_core::StaffRole::Owner) => t,
        _ => return Err(AppError::Forbidden("a tenant's owner")),
    };
    let sizes = [data.properties.len(), data.room_types.len(), data.rates.len(), data.bookings.len()];
    if sizes.iter().any(|n| *n > MAX_ROWS) {
        return Err(AppError::invalid("document", "too_large", format!("at most {MAX_ROWS} of each kind")));
    }
    let properties: HashSet<_> = data.properties.iter().map(|p| p.id).collect();
    let room_types: HashSet<_> = data.room_types.iter().map(|rt| (rt.id, rt.property_id)).collect();
    let room_type_ids: HashSet<_> = room_types.iter().map(|(id, _)| *id).collect();
    if properties.len() != data.properties.len() || room_type_ids.len() != data.room_types.len() {
        return Err(AppError::invalid("document", "duplicate_id", "an id appears twice"));
    }
    for p in &mut data.properties {
        p.draft = p.draft.clone().validate()?;
        p.tenant_id = tenant;
    }
    for rt in &mut data.room_types {
        if !properties.contains(&rt.property_id) {
            return Err(AppError::invalid(
                "room_types",
                "unknown_property",
                format!("room type {}: no such property in the document", rt.id),
            ));
        }
        rt.draft = rt.draft.clone().validate()?;
        rt.tenant_id = tenant;
    }
    for r in &data.rates {
        if !room_type_ids.contains(&r.room_type_id) {
            return Err(AppError::invalid(
                "rates",
                "unknown_room_type",
                format!("a rate of {}: no such room type in the document", r.room_type_id),
            ));
        }
        r.change.validate()?;
    }
    for b in &mut data.bookings {
        if !room_types.contains(&(b.room_type_id, b.property_id)) {
            return Err(AppError::invalid(
                "bookings",
                "unknown_room_type",
                format!("booking {}: no such room type in the document", b.id),
            ));
        }
        if b.check_out <= b.check_in {
            return Err(AppError::invalid(
                "bookings",
                "range_empty",
                format!("booking {}: check-out before check-in", b.id),
            ));
        }
        let party = innkeep_core::Party::new(b.adults, b.children).in_rooms(b.rooms).with_ages(b.child_ages);
        if let Err(e) = party.check() {
            return Err(AppError::invalid("bookings", "invalid_party", format!("booking {}: {e}", b.id)));
        }
        b.tenant_id = tenant;
        b.user_id = owner.id;
    }
    let imported = Imported {
        properties: data.properties.len(),
        room_types: data.room_types.len(),
        rates: data.rates.len(),
        bookings: data.bookings.len(),
    };
    let change = CatalogImported { properties: imported.properties, room_types: imported.room_types };
    let event = Event::new(&Change::CatalogImported(change), now, Some(tenant), tenant.0);
    match ports.store.import_tenant(&data, &event).await {
        Ok(()) => Ok(imported),
        Err(StoreError::Duplicate(what)) => {
            Err(AppError::Conflict(format!("{what} is here already: nothing was imported")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a booking holds its nights (and so counts as sold).
pub fn holds_nights(status: BookingStatus) -> bool {
    matches!(status, BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn)
}

/// A night of a room type and what a rates file sets there.
pub type RateSetting = (RoomTypeId, Date, NightOverride);

/// Set what a rates file (`rates.csv` read back) says, on the actor's tenant's room types:
/// every row checked before any is applied (the room types, the values, no night twice);
/// consecutive nights of a room type that set the same are one calendar change, applied in
/// order (a change the calendar refuses, such as units below what is sold, stops there, the
/// changes before it made). The number of rows taken.
pub async fn import_rates(
    ports: &Ports,
    actor: &Actor,
    rows: &[RateSetting],
    now: Timestamp,
) -> Result<usize, AppError> {
    let mut checked = HashSet::new();
    for (rt, _, change) in rows {
        change.validate()?;
        if checked.insert(*rt) {
            crate::catalog::managed_room_type(ports, actor, *rt, Duty::Rates).await?;
        }
    }
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|(rt, night, _)| (*rt, *night));
    let mut ranges: Vec<(RoomTypeId, Date, Date, NightOverride)> = Vec::new();
    for (rt, night, change) in sorted {
        let next = night.tomorrow().map_err(|_| AppError::invalid("night", "invalid_date", "a night too far"))?;
        let long = |from: Date, to: Date| (to - from).get_days() >= crate::catalog::MAX_CALENDAR_NIGHTS as i32;
        match ranges.last_mut() {
            Some(last) if last.0 == rt && last.2 == night && last.3 == change && !long(last.1, last.2) => last.2 = next,
            Some(last) if last.0 == rt && last.1 <= night && night < last.2 => {
                return Err(AppError::invalid("night", "duplicate_night", format!("{night} of {rt} appears twice")));
            }
            _ => ranges.push((rt, night, next, change)),
        }
    }
    for (rt, from, to, change) in ranges {
        crate::catalog::set_calendar(ports, actor, rt, from, to, change, now).await?;
    }
    Ok(rows.len())
}
