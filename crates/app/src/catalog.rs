//! Properties, room types and their calendars, as hosts manage them.

use crate::event::{CalendarUpdated, Change};
use crate::store::{Property, RoomType};
use crate::{Actor, AppError, Event, Ports};
use innkeep_core::{Duty, NightOverride, PropertyDraft, PropertyId, RoomTypeDraft, RoomTypeId, Stay};
use jiff::Timestamp;
use jiff::civil::Date;

/// Most nights one calendar read or write may span.
pub const MAX_CALENDAR_NIGHTS: u32 = 731;

/// Create a property for the actor's tenant.
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id))]
pub async fn create_property(
    ports: &Ports,
    actor: &Actor,
    draft: PropertyDraft,
    now: Timestamp,
) -> Result<Property, AppError> {
    let tenant_id = actor.host_tenant(Duty::Listings)?;
    let draft = draft.validate()?;
    let property = Property { id: PropertyId::new_v7(now), tenant_id, draft, created_at: now, updated_at: now };
    let event = Event::new(&Change::PropertyCreated(property.clone()), now, Some(tenant_id), property.id.0);
    ports.store.insert_property(&property, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(property)
}

/// A property anyone may see.
pub async fn property(ports: &Ports, id: PropertyId) -> Result<Property, AppError> {
    ports.store.property(id).await?.ok_or(AppError::NotFound { what: "property" })
}

/// A property of the actor's tenant, for `duty`; someone else's answers NotFound so ids do
/// not leak.
pub async fn managed_property(ports: &Ports, actor: &Actor, id: PropertyId, duty: Duty) -> Result<Property, AppError> {
    let p = property(ports, id).await?;
    actor.check(duty, p.tenant_id, "property")?;
    Ok(p)
}

/// Replace a managed property's fields (the handler merges a PATCH into the current draft).
#[tracing::instrument(skip_all, fields(property_id = %property.id))]
pub async fn update_property(
    ports: &Ports,
    actor: &Actor,
    mut property: Property,
    draft: PropertyDraft,
    now: Timestamp,
) -> Result<Property, AppError> {
    actor.check(Duty::Listings, property.tenant_id, "property")?;
    property.draft = draft.validate()?;
    property.updated_at = now;
    let event = Event::new(&Change::PropertyUpdated(property.clone()), now, Some(property.tenant_id), property.id.0);
    ports.store.update_property(&property, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(property)
}

/// Add a room type to a managed property.
#[tracing::instrument(skip_all, fields(property_id = %property_id))]
pub async fn create_room_type(
    ports: &Ports,
    actor: &Actor,
    property_id: PropertyId,
    draft: RoomTypeDraft,
    now: Timestamp,
) -> Result<RoomType, AppError> {
    let property = managed_property(ports, actor, property_id, Duty::Listings).await?;
    let draft = draft.validate()?;
    let rt = RoomType {
        id: RoomTypeId::new_v7(now),
        property_id,
        tenant_id: property.tenant_id,
        draft,
        created_at: now,
        updated_at: now,
    };
    let event = Event::new(&Change::RoomTypeCreated(rt.clone()), now, Some(rt.tenant_id), rt.id.0);
    ports.store.insert_room_type(&rt, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(rt)
}

/// A room type anyone may see.
pub async fn room_type(ports: &Ports, id: RoomTypeId) -> Result<RoomType, AppError> {
    ports.store.room_type(id).await?.ok_or(AppError::NotFound { what: "room type" })
}

/// A room type of the actor's tenant, for `duty`.
pub async fn managed_room_type(ports: &Ports, actor: &Actor, id: RoomTypeId, duty: Duty) -> Result<RoomType, AppError> {
    let rt = room_type(ports, id).await?;
    actor.check(duty, rt.tenant_id, "room type")?;
    Ok(rt)
}

/// Replace a managed room type's fields.
#[tracing::instrument(skip_all, fields(room_type_id = %rt.id))]
pub async fn update_room_type(
    ports: &Ports,
    actor: &Actor,
    mut rt: RoomType,
    draft: RoomTypeDraft,
    now: Timestamp,
) -> Result<RoomType, AppError> {
    actor.check(Duty::Listings, rt.tenant_id, "room type")?;
    let property = property(ports, rt.property_id).await?;
    rt.draft = draft.validate()?;
    rt.updated_at = now;
    let today = property.draft.time_zone.today(now);
    let event = Event::new(&Change::RoomTypeUpdated(rt.clone()), now, Some(rt.tenant_id), rt.id.0);
    ports.store.update_room_type(&rt, today, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(rt)
}

fn calendar_range(from: Date, to: Date) -> Result<Stay, AppError> {
    let range =
        Stay::range(from, to).map_err(|_| AppError::invalid("to", "range_empty", "`to` must be after `from`"))?;
    if range.nights() > MAX_CALENDAR_NIGHTS {
        return Err(AppError::invalid(
            "to",
            "range_too_long",
            format!("a calendar range spans at most {MAX_CALENDAR_NIGHTS} nights"),
        ));
    }
    Ok(range)
}

/// Set price, closed, min stay or units over the nights `[from, to)` of a managed room type.
#[tracing::instrument(skip_all, fields(room_type_id = %id))]
pub async fn set_calendar(
    ports: &Ports,
    actor: &Actor,
    id: RoomTypeId,
    from: Date,
    to: Date,
    change: NightOverride,
    now: Timestamp,
) -> Result<(), AppError> {
    let rt = managed_room_type(ports, actor, id, Duty::Rates).await?;
    let range = calendar_range(from, to)?;
    change.validate()?;
    let payload = CalendarUpdated { room_type_id: id, property_id: rt.property_id, from, to, change };
    let event = Event::new(&Change::CalendarUpdated(payload), now, Some(rt.tenant_id), id.0);
    ports.store.set_nights(id, &range, &change, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(())
}

pub use innkeep_core::night::CalendarNight;

/// The calendar of a managed room type over `[from, to)`.
pub async fn calendar(
    ports: &Ports,
    actor: &Actor,
    id: RoomTypeId,
    from: Date,
    to: Date,
) -> Result<Vec<CalendarNight>, AppError> {
    let rt = managed_room_type(ports, actor, id, Duty::SeeTenant).await?;
    let range = calendar_range(from, to)?;
    let rows = ports.store.nights(id, &range).await?;
    Ok(innkeep_core::night::effective_nights(&rt.draft, &range, &rows))
}
