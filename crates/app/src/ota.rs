//! What a channel manager does through the OpenTravel (OTA) interface, format-free: the
//! codes it names hotels and room types by, availability and rates read and pushed, and
//! reservations made and cancelled, idempotent by the channel's own reference. The XML,
//! the SOAP envelope and the OTA error codes are the front end's (`innkeep_channels::ota`
//! and the `/ota` handler); every rule is the same one the JSON API uses.
//!
//! The actor is an API key of the tenant (WS-Security `UsernameToken`); a hotel code of
//! another tenant is not found, as any other tenant's object is.

use crate::availability::Offer;
use crate::booking::{PlaceBooking, confirm_channel_booking, place_channel_booking};
use crate::error::AppError;
use crate::store::{Booking, GuestContact, Property};
use crate::{Actor, Ports};
use innkeep_core::{BookingStatus, Duty, NightOverride, Party, PropertyId, RoomTypeId, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest hotel or room type code, and the most room types one hotel maps.
/// (OpenTravel's schemas allow 16 characters for `HotelCode` and `InvTypeCode`.)
pub const MAX_CODE_CHARS: usize = 16;
pub const MAX_ROOM_TYPE_CODES: usize = 200;

/// The codes of one property: its `HotelCode` and each room type's `InvTypeCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtaCodes {
    pub tenant_id: TenantId,
    pub property_id: PropertyId,
    pub hotel_code: String,
    pub room_types: BTreeMap<String, RoomTypeId>,
}

impl OtaCodes {
    /// The room type a code names, if this hotel maps it.
    pub fn room_type(&self, code: &str) -> Option<RoomTypeId> {
        self.room_types.get(code).copied()
    }

    /// The code of a room type, if it has one.
    pub fn code_of(&self, room_type: RoomTypeId) -> Option<&str> {
        self.room_types.iter().find(|(_, id)| **id == room_type).map(|(c, _)| c.as_str())
    }
}

fn check_code(field: &'static str, code: &str) -> Result<(), AppError> {
    let ok = !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "invalid_code",
            format!("a code is 1 to {MAX_CODE_CHARS} letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// Name a property and its room types for channel managers (replacing earlier codes).
pub async fn set_codes(
    ports: &Ports,
    actor: &Actor,
    property: PropertyId,
    hotel_code: String,
    room_types: BTreeMap<String, RoomTypeId>,
) -> Result<OtaCodes, AppError> {
    let p = crate::catalog::managed_property(ports, actor, property, Duty::Listings).await?;
    check_code("hotel_code", &hotel_code)?;
    if room_types.len() > MAX_ROOM_TYPE_CODES {
        return Err(AppError::invalid("room_types", "too_many", format!("at most {MAX_ROOM_TYPE_CODES} room types")));
    }
    let own: Vec<RoomTypeId> = ports.store.room_types_of(p.id).await?.iter().map(|rt| rt.id).collect();
    let mut seen = std::collections::HashSet::new();
    for (code, id) in &room_types {
        check_code("room_types", code)?;
        if !own.contains(id) {
            return Err(AppError::invalid(
                "room_types",
                "unknown_room_type",
                format!("{id} is not a room type of this property"),
            ));
        }
        if !seen.insert(*id) {
            return Err(AppError::invalid("room_types", "duplicate_room_type", format!("{id} has two codes")));
        }
    }
    let codes = OtaCodes { tenant_id: p.tenant_id, property_id: p.id, hotel_code, room_types };
    if !ports.store.put_ota_codes(&codes).await? {
        return Err(AppError::Conflict(format!("another property of this tenant has hotel code {}", codes.hotel_code)));
    }
    Ok(codes)
}

/// A property's codes, for its hosts.
pub async fn codes_of(ports: &Ports, actor: &Actor, property: PropertyId) -> Result<Option<OtaCodes>, AppError> {
    let p = crate::catalog::property(ports, property).await?;
    if !actor.may(Duty::SeeTenant, p.tenant_id) {
        return Err(AppError::NotFound { what: "property" });
    }
    Ok(ports.store.ota_codes(property).await?)
}

/// The hotel a channel manager names, with its property: the actor's tenant's only.
pub async fn hotel(ports: &Ports, actor: &Actor, hotel_code: &str) -> Result<(OtaCodes, Property), AppError> {
    let tenant = actor.tenant_id.ok_or(AppError::NotFound { what: "hotel" })?;
    if !actor.may(Duty::SeeTenant, tenant) {
        return Err(AppError::NotFound { what: "hotel" });
    }
    let codes = ports.store.ota_hotel(tenant, hotel_code).await?.ok_or(AppError::NotFound { what: "hotel" })?;
    let property = crate::catalog::property(ports, codes.property_id).await?;
    Ok((codes, property))
}

fn room_type_of(codes: &OtaCodes, code: &str) -> Result<RoomTypeId, AppError> {
    codes.room_type(code).ok_or(AppError::NotFound { what: "room type" })
}

/// What a channel manager asks a hotel for.
#[derive(Debug, Clone)]
pub struct AvailQuery {
    pub hotel_code: String,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
    /// Only these room types (by code), when it names some.
    pub only: Vec<String>,
}

/// What a hotel offers for a stay and party: each mapped room type bookable for it, with
/// its code and full quote, cheapest first.
pub async fn availability(
    ports: &Ports,
    actor: &Actor,
    q: &AvailQuery,
    now: Timestamp,
) -> Result<Vec<(String, Offer)>, AppError> {
    let (codes, property) = hotel(ports, actor, &q.hotel_code).await?;
    for code in &q.only {
        room_type_of(&codes, code)?;
    }
    let offers = crate::availability::offers(ports, &property, q.check_in, q.check_out, q.party, now).await?;
    Ok(offers
        .into_iter()
        .filter_map(|o| codes.code_of(o.room_type.id).map(|c| (c.to_string(), o)))
        .filter(|(c, _)| q.only.is_empty() || q.only.contains(c))
        .collect())
}

/// The most rooms one channel reservation books.
pub const MAX_ROOMS: usize = 20;

/// One room of a channel's reservation.
#[derive(Debug, Clone)]
pub struct ChannelRoom {
    pub room_type_code: String,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
}

/// A reservation a channel sold: one or more rooms for one guest.
#[derive(Debug, Clone)]
pub struct ChannelReservation {
    /// The channel's own reference: the same reference is the same reservation.
    pub channel_ref: String,
    pub hotel_code: String,
    pub rooms: Vec<ChannelRoom>,
    pub guest: GuestContact,
}

/// The longest channel reference (OpenTravel's `UniqueID@ID` holds 32 characters).
pub const MAX_REFERENCE_CHARS: usize = 32;

/// The Idempotency-Key of the `room`th room (from 0) of a channel's reservation.
fn reference_key(channel_ref: &str, room: usize) -> Result<String, AppError> {
    let r = channel_ref.trim();
    if r.is_empty() || r.chars().count() > MAX_REFERENCE_CHARS {
        return Err(AppError::invalid(
            "UniqueID",
            "invalid_reference",
            format!("a reservation reference of 1 to {MAX_REFERENCE_CHARS} characters"),
        ));
    }
    Ok(if room == 0 { format!("ota:{r}") } else { format!("ota:{r}/{room}") })
}

/// Book the rooms a channel sold, each confirmed at once (the channel took the guest's
/// payment, or the guest pays at the property): all of them or none (a room that cannot be
/// had cancels those already held). Sent again with the same reference, the same bookings
/// are answered; other stays under a used reference are refused. Never oversells: each
/// unit is taken as any booking's is.
pub async fn reserve(
    ports: &Ports,
    actor: &Actor,
    r: ChannelReservation,
    now: Timestamp,
) -> Result<Vec<Booking>, AppError> {
    let (codes, _) = hotel(ports, actor, &r.hotel_code).await?;
    if r.rooms.is_empty() || r.rooms.len() > MAX_ROOMS {
        return Err(AppError::invalid("RoomStays", "invalid_rooms", format!("1 to {MAX_ROOMS} rooms")));
    }
    let mut commands = Vec::with_capacity(r.rooms.len());
    for (i, room) in r.rooms.iter().enumerate() {
        commands.push(PlaceBooking {
            room_type_id: room_type_of(&codes, &room.room_type_code)?,
            check_in: room.check_in,
            check_out: room.check_out,
            party: room.party,
            guest: r.guest.clone(),
            idempotency_key: Some(reference_key(&r.channel_ref, i)?),
        });
    }
    let mut booked: Vec<Booking> = Vec::with_capacity(commands.len());
    let mut held_now: Vec<Booking> = Vec::new();
    for cmd in commands {
        let placed = match place_channel_booking(ports, actor, cmd, now).await {
            Ok(p) => p,
            Err(e) => {
                // All or none: what this request held is let go (a replayed room stays).
                for b in &held_now {
                    if let Err(undo) =
                        crate::booking::act(ports, actor, b.id, crate::booking::Action::Cancel, now).await
                    {
                        tracing::warn!(booking_id = %b.id, error = %undo, "a channel room could not be let go");
                    }
                }
                return Err(e);
            }
        };
        if !placed.replayed {
            held_now.push(placed.booking.clone());
        }
        let b = match placed.booking.status {
            BookingStatus::Held => confirm_channel_booking(ports, actor, placed.booking.id, now).await?,
            _ => placed.booking,
        };
        booked.push(b);
    }
    Ok(booked)
}

/// Cancel every room a channel booked under `channel_ref` (under the property's policy,
/// as any cancellation). Cancelled already: answered as they are.
pub async fn cancel(ports: &Ports, actor: &Actor, channel_ref: &str, now: Timestamp) -> Result<Vec<Booking>, AppError> {
    let mut out = Vec::new();
    for room in 0..MAX_ROOMS {
        let key = reference_key(channel_ref, room)?;
        let Some(id) = ports.store.booking_by_idempotency_key(actor.user_id, &key).await? else { break };
        let b = crate::booking::visible_booking(ports, actor, id).await?;
        out.push(match b.status {
            BookingStatus::Cancelled => b,
            _ => crate::booking::act(ports, actor, id, crate::booking::Action::Cancel, now).await?,
        });
    }
    if out.is_empty() {
        return Err(AppError::NotFound { what: "reservation" });
    }
    Ok(out)
}

/// One night range's change a channel manager pushes for a room type.
#[derive(Debug, Clone)]
pub struct Push {
    pub room_type_code: String,
    pub from: Date,
    /// Exclusive.
    pub to: Date,
    pub change: NightOverride,
}

/// Apply pushed availability, restrictions or rates to a hotel's room types, every range
/// checked before any is applied (a refused message changes nothing of what it checked).
pub async fn push(
    ports: &Ports,
    actor: &Actor,
    hotel_code: &str,
    pushes: &[Push],
    now: Timestamp,
) -> Result<(), AppError> {
    let (codes, _) = hotel(ports, actor, hotel_code).await?;
    let mut resolved = Vec::with_capacity(pushes.len());
    for p in pushes {
        let id = room_type_of(&codes, &p.room_type_code)?;
        crate::catalog::managed_room_type(ports, actor, id, Duty::Rates).await?;
        p.change.validate()?;
        if p.to <= p.from {
            return Err(AppError::invalid("End", "range_empty", "the end must be after the start"));
        }
        resolved.push((id, p));
    }
    for (id, p) in resolved {
        crate::catalog::set_calendar(ports, actor, id, p.from, p.to, p.change, now).await?;
    }
    Ok(())
}
