//! Placing, confirming, cancelling and expiring bookings.

use crate::availability::parse_stay;
use crate::event::Change;
use crate::store::{Booking, BookingFilter, GuestContact, HoldOutcome, NewHold, NightRow, Property, Transition};
use crate::{Actor, AppError, Event, Ports};
use innkeep_core::night;
use innkeep_core::{BookingId, BookingStatus, Duty, Email, Money, Party, Role, RoomTypeId};
use jiff::Timestamp;
use jiff::civil::Date;
use tracing::info;

/// A booking request, as parsed from the client.
#[derive(Debug, Clone)]
pub struct PlaceBooking {
    pub room_type_id: RoomTypeId,
    pub check_in: Date,
    pub check_out: Date,
    pub party: Party,
    pub guest: GuestContact,
    pub idempotency_key: Option<String>,
}

/// The digest that tells a replay (same key, same request) from a reused key (same key,
/// another request): the stay, the party and the guest as checked, whichever front end
/// sent them.
fn fingerprint(cmd: &PlaceBooking, guest: &GuestContact) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!([
        cmd.room_type_id,
        cmd.check_in,
        cmd.check_out,
        cmd.party.adults,
        cmd.party.children,
        guest.name,
        guest.email,
        guest.phone,
    ]);
    // One room and no ages digest as before they were asked for, so keys stored then replay.
    let mut canonical = match cmd.party.rooms {
        1 => canonical.to_string(),
        rooms => format!("{canonical}/rooms={rooms}"),
    };
    if !cmd.party.ages.is_empty() {
        canonical.push_str(&format!("/ages={:?}", cmd.party.ages.as_slice()));
    }
    hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
}

/// The result of placing a booking: the booking, and whether it was a replay.
#[derive(Debug, Clone)]
pub struct Placed {
    pub booking: Booking,
    pub replayed: bool,
}

fn check_guest(g: &GuestContact) -> Result<GuestContact, AppError> {
    let name = g.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::invalid("guest.name", "invalid_name", "guest.name must be between 1 and 120 characters"));
    }
    let email = Email::parse(&g.email).map_err(|e| AppError::invalid("guest.email", "invalid_email", e.to_string()))?;
    let phone = g.phone.as_ref().map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(p) = &phone
        && (p.chars().count() > 32 || !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)))
    {
        return Err(AppError::invalid(
            "guest.phone",
            "invalid_phone",
            "guest.phone may hold up to 32 digits, spaces and + - ( ) .",
        ));
    }
    Ok(GuestContact { name, email: email.as_str().to_string(), phone })
}

/// Hold the party's number of units of a room type for a stay; `SoldOut` if any night has
/// fewer left. Counted
/// in `innkeep_bookings_total{outcome}` (placed or refused), from every front end.
#[tracing::instrument(skip_all, fields(room_type_id = %cmd.room_type_id, user_id = %actor.user_id))]
pub async fn place_booking(
    ports: &Ports,
    actor: &Actor,
    cmd: PlaceBooking,
    now: Timestamp,
) -> Result<Placed, AppError> {
    actor.person()?;
    place(ports, actor, cmd, now).await
}

/// Hold a stay a channel sold (an OpenTravel reservation): as [`place_booking`], by a key
/// with the channel's duties on the room type's tenant rather than a person; the booking is
/// the key's creator's, for the guest the channel names.
pub async fn place_channel_booking(
    ports: &Ports,
    actor: &Actor,
    cmd: PlaceBooking,
    now: Timestamp,
) -> Result<Placed, AppError> {
    let rt = ports.store.room_type(cmd.room_type_id).await?.ok_or(AppError::NotFound { what: "room type" })?;
    if !actor.may(Duty::ChangeBookings, rt.tenant_id) {
        return Err(AppError::NotFound { what: "room type" });
    }
    place(ports, actor, cmd, now).await
}

/// Hold the stay, counted in `innkeep_bookings_total{outcome}` whichever front end asks.
async fn place(ports: &Ports, actor: &Actor, cmd: PlaceBooking, now: Timestamp) -> Result<Placed, AppError> {
    let placed = hold(ports, actor, cmd, now).await;
    match &placed {
        Ok(p) if !p.replayed => metrics::counter!("innkeep_bookings_total", "outcome" => "placed").increment(1),
        Err(AppError::SoldOut { .. }) => {
            metrics::counter!("innkeep_bookings_total", "outcome" => "refused").increment(1)
        }
        _ => {}
    }
    placed
}

async fn hold(ports: &Ports, actor: &Actor, cmd: PlaceBooking, now: Timestamp) -> Result<Placed, AppError> {
    if let Some(key) = &cmd.idempotency_key
        && (key.is_empty() || key.len() > 255)
    {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 characters",
        ));
    }
    let guest = check_guest(&cmd.guest)?;
    let (rt, property, nights) = ports
        .store
        .room_type_for_hold(cmd.room_type_id, cmd.check_in, cmd.check_out)
        .await?
        .ok_or(AppError::NotFound { what: "room type" })?;
    let stay = parse_stay(ports, &property, cmd.check_in, cmd.check_out, now)?;
    rt.draft.occupancy.admits(cmd.party)?;
    // The price comes from the nights the hold's own transaction takes: no change to a
    // night between reading its price and selling it goes unseen.
    let price = |rows: &[NightRow]| {
        let nights = night::effective_nights(&rt.draft, &stay, rows);
        night::check_stay(&rt.draft, &stay, cmd.party, &nights)?;
        let quote = night::quote_nights(&rt.draft, property.draft.currency, &stay, cmd.party, &nights)?;
        let booking = Booking {
            id: BookingId::new_v7(now),
            status: BookingStatus::Held,
            tenant_id: rt.tenant_id,
            property_id: rt.property_id,
            room_type_id: rt.id,
            user_id: actor.user_id,
            check_in: stay.check_in(),
            check_out: stay.check_out(),
            adults: cmd.party.adults,
            children: cmd.party.children,
            rooms: cmd.party.rooms,
            child_ages: cmd.party.ages,
            guest: guest.clone(),
            total: quote.total,
            quote,
            refund: None,
            hold_expires_at: now.checked_add(ports.settings.hold_ttl).ok(),
            created_at: now,
            updated_at: now,
        };
        let event = Event::new(&Change::Booking(booking.clone()), now, Some(booking.tenant_id), booking.id.0);
        Ok((booking, event))
    };
    let hold = NewHold {
        room_type_id: rt.id,
        user_id: actor.user_id,
        stay,
        rooms: cmd.party.rooms,
        idempotency_key: cmd.idempotency_key.clone(),
        request_hash: fingerprint(&cmd, &guest),
        nights,
    };
    match ports.store.hold(&hold, &price).await? {
        HoldOutcome::Created(b, event) => {
            crate::cache::invalidate_after(ports, &event).await;
            info!(booking_id = %b.id, nights = stay.nights(), "booking held");
            Ok(Placed { booking: b, replayed: false })
        }
        HoldOutcome::Replayed(b) => Ok(Placed { booking: b, replayed: true }),
        HoldOutcome::KeyReused => Err(AppError::IdempotencyMismatch),
        HoldOutcome::Refused(e) => Err(e),
    }
}

/// A booking the actor may see: their own, their tenant's, or any for an admin.
pub async fn visible_booking(ports: &Ports, actor: &Actor, id: BookingId) -> Result<Booking, AppError> {
    let b = ports.store.booking(id).await?.ok_or(AppError::NotFound { what: "booking" })?;
    if b.user_id != actor.user_id {
        actor.check(Duty::SeeBookings, b.tenant_id, "booking")?;
    }
    Ok(b)
}

/// A status change a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Confirm,
    Cancel,
    CheckIn,
    Complete,
    NoShow,
}

impl Action {
    fn target(self) -> BookingStatus {
        match self {
            Action::Confirm => BookingStatus::Confirmed,
            Action::Cancel => BookingStatus::Cancelled,
            Action::CheckIn => BookingStatus::CheckedIn,
            Action::Complete => BookingStatus::Completed,
            Action::NoShow => BookingStatus::NoShow,
        }
    }
}

/// Apply an action to a booking the actor may see. Guests may confirm and cancel their
/// own bookings; the tenant's hosts may do everything.
#[tracing::instrument(skip_all, fields(booking_id = %id, action = ?action, user_id = %actor.user_id))]
pub async fn act(
    ports: &Ports,
    actor: &Actor,
    id: BookingId,
    action: Action,
    now: Timestamp,
) -> Result<Booking, AppError> {
    act_as(ports, actor, id, action, false, now).await
}

/// Confirm a hold a channel sold: as [`act`] with `Confirm`, but a prepaying property's
/// hold is confirmed too (the channel took the guest's money, or the guest pays there).
pub async fn confirm_channel_booking(
    ports: &Ports,
    actor: &Actor,
    id: BookingId,
    now: Timestamp,
) -> Result<Booking, AppError> {
    act_as(ports, actor, id, Action::Confirm, true, now).await
}

async fn act_as(
    ports: &Ports,
    actor: &Actor,
    id: BookingId,
    action: Action,
    paid_elsewhere: bool,
    now: Timestamp,
) -> Result<Booking, AppError> {
    let mut b = visible_booking(ports, actor, id).await?;
    // A guest confirms and cancels their own booking; the tenant's staff act by duty.
    let own = b.user_id == actor.user_id && matches!(action, Action::Confirm | Action::Cancel);
    if !own {
        let duty = match action {
            Action::Confirm | Action::Cancel => Duty::ChangeBookings,
            Action::CheckIn | Action::Complete | Action::NoShow => Duty::FrontDesk,
        };
        if !actor.may(duty, b.tenant_id) {
            return Err(AppError::Forbidden("the property's staff whose role allows it"));
        }
    }
    let from = b.status;
    let to = from.transition(action.target())?;
    if from == BookingStatus::Held && to == BookingStatus::Confirmed && b.hold_expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::Conflict("the hold has expired; place the booking again".into()));
    }
    if from == BookingStatus::Held && to == BookingStatus::Confirmed && !paid_elsewhere {
        let property = ports.store.property(b.property_id).await?.ok_or(AppError::NotFound { what: "property" })?;
        if property.draft.payment_timing == innkeep_core::PaymentTiming::Prepay {
            // Paying confirms it (the statement import does, in the payment's transaction).
            return Err(AppError::PaymentRequired);
        }
    }
    if to == BookingStatus::Cancelled {
        b.refund = Some(refund_for(ports, &b, now).await?);
    }
    b.status = to;
    b.updated_at = now;
    if to != BookingStatus::Held {
        b.hold_expires_at = None;
    }
    transition(ports, b, from, now).await
}

async fn refund_for(ports: &Ports, b: &Booking, now: Timestamp) -> Result<Money, AppError> {
    if b.status == BookingStatus::Held {
        return Ok(Money::zero(b.total.currency));
    }
    let property = ports.store.property(b.property_id).await?.ok_or(AppError::NotFound { what: "property" })?;
    refund_if_cancelled(b, &property, now)
}

/// What cancelling `b` (of `property`) at `now` refunds under the property's policy: the
/// figure the cancellation records and every preview shows. Nothing is charged while a
/// booking is held, so nothing is refunded then.
pub fn refund_if_cancelled(b: &Booking, property: &Property, now: Timestamp) -> Result<Money, AppError> {
    if b.status == BookingStatus::Held {
        return Ok(Money::zero(b.total.currency));
    }
    Ok(property.draft.cancellation_policy.refund(b.total, check_in_at(property, b.check_in)?, now)?)
}

/// The instant a stay at `property` starting on `check_in` begins: its check-in time
/// there, in its time zone (what the cancellation deadlines count back from).
pub fn check_in_at(property: &Property, check_in: Date) -> Result<Timestamp, AppError> {
    check_in
        .to_datetime(property.draft.check_in_time)
        .to_zoned_datetime(property.draft.time_zone.zone())
        .map(|z| z.timestamp())
        .map_err(|e| AppError::Conflict(format!("check-in time does not exist in the zone: {e}")))
}

/// What cancelling a stay of `total` at `property` from `check_in` refunds, period by
/// period (see `CancellationPolicy::schedule`): shown before booking and on the trip.
pub fn refund_schedule(
    property: &Property,
    check_in: Date,
    total: Money,
) -> Result<Vec<(Option<Timestamp>, Money)>, AppError> {
    Ok(property.draft.cancellation_policy.schedule(total, check_in_at(property, check_in)?)?)
}

async fn transition(ports: &Ports, b: Booking, from: BookingStatus, now: Timestamp) -> Result<Booking, AppError> {
    let release = matches!(b.status, BookingStatus::Cancelled | BookingStatus::Expired);
    let event = Event::new(&Change::Booking(b.clone()), now, Some(b.tenant_id), b.id.0);
    ports.store.transition(&Transition { booking: b.clone(), from, release }, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    info!(booking_id = %b.id, status = b.status.as_str(), "booking changed");
    Ok(b)
}

/// Expire the holds past their time every `every`, until `stop` turns true.
pub async fn sweep_holds(ports: Ports, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match expire_holds(&ports, ports.clock.now()).await {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!("innkeep_holds_expired_total").increment(n as u64);
                info!(expired = n, "holds expired");
            }
            Err(e) => tracing::error!(error = %e, "hold sweep failed"),
        }
    }
}

/// Expire holds past their expiry; returns how many expired.
#[tracing::instrument(skip_all)]
pub async fn expire_holds(ports: &Ports, now: Timestamp) -> Result<usize, AppError> {
    let mut expired = 0;
    for id in ports.store.expired_holds(now, 500).await? {
        let Some(mut b) = ports.store.booking(id).await? else { continue };
        let from = b.status;
        if from != BookingStatus::Held {
            continue;
        }
        b.status = BookingStatus::Expired;
        b.hold_expires_at = None;
        b.updated_at = now;
        match transition(ports, b, from, now).await {
            Ok(_) => expired += 1,
            // Confirmed or cancelled meanwhile: nothing to expire.
            Err(AppError::Concurrent) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}

/// Bookings the actor may see, filtered: a guest's own, a host's tenant's, or all for an admin.
#[tracing::instrument(level = "debug", skip_all, fields(user_id = %actor.user_id))]
pub async fn list_bookings(ports: &Ports, actor: &Actor, mut filter: BookingFilter) -> Result<Vec<Booking>, AppError> {
    match actor.role {
        Role::Guest => filter.user_id = Some(actor.user_id),
        Role::Host => filter.tenant_id = Some(actor.host_tenant(Duty::SeeBookings)?),
        Role::Admin => {}
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to <= from
    {
        return Err(AppError::invalid("to", "range_empty", "`to` must be after `from`"));
    }
    filter.limit = filter.limit.clamp(1, 200);
    Ok(ports.store.list_bookings(&filter).await?)
}
