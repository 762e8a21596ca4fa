//! My trips, the refund preview and cancelling.

use super::*;
use innkeep_app::payment::Payment;

pub(super) struct TripView {
    id: String,
    property_id: String,
    property: String,
    room: String,
    dates: String,
    status: String,
    status_label: String,
    total: String,
    refund: String,
    /// What was paid and refunded, and an open transfer's reference ("" without payments).
    payments: String,
    held: bool,
    cancellable: bool,
}

/// What a guest paid for a booking, what came back, and what an open transfer still needs.
fn payments_line(payments: &[&Payment], b: &innkeep_app::store::Booking) -> Result<String, PageError> {
    let mut parts = Vec::new();
    let zero = Money::zero(b.total.currency);
    let received = payments.iter().try_fold(zero, |a, p| a.checked_add(p.received)).map_err(AppError::from)?;
    let refunded = payments.iter().try_fold(zero, |a, p| a.checked_add(p.refunded)).map_err(AppError::from)?;
    if received.minor > 0 {
        parts.push(format!("paid {}", money(received)));
    }
    if refunded.minor > 0 {
        parts.push(format!("refunded {}", money(refunded)));
    }
    for p in payments.iter().filter(|p| p.status.is_open()) {
        let left = p.amount.checked_sub(p.received).map_err(AppError::from)?;
        match &p.reference {
            Some(reference) => parts.push(format!("awaiting a bank transfer of {} quoting {reference}", money(left))),
            None => parts.push(format!("card payment of {} {}", money(left), p.status.as_str().replace('_', " "))),
        }
    }
    Ok(parts.join(" · "))
}

#[derive(Template)]
#[template(path = "trips.html")]
pub(super) struct TripsPage {
    ctx: Ctx,
    flash: String,
    upcoming: Vec<TripView>,
    past: Vec<TripView>,
}

/// Which booking was just confirmed or cancelled: an id, never a message (see `trips_flash`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TripsQuery {
    confirmed: String,
    cancelled: String,
}

/// The message after confirming or cancelling, made from the booking as stored: a link can
/// name a booking, but the words and the refund shown are always the site's own.
pub(super) async fn trips_flash(ports: &Ports, actor: &Actor, q: &TripsQuery) -> Result<String, PageError> {
    let (id, cancelled) = match (q.confirmed.as_str(), q.cancelled.as_str()) {
        (_, id) if !id.is_empty() => (id, true),
        (id, _) if !id.is_empty() => (id, false),
        _ => return Ok(String::new()),
    };
    let Ok(id) = id.parse::<BookingId>() else { return Ok(String::new()) };
    let b = match visible_booking(ports, actor, id).await {
        Ok(b) if b.user_id == actor.user_id => b,
        Ok(_) | Err(AppError::NotFound { .. }) => return Ok(String::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(match b.status {
        BookingStatus::Cancelled if cancelled => {
            format!("Booking cancelled. Refund: {}.", money(b.refund.unwrap_or(Money::zero(b.total.currency))))
        }
        BookingStatus::Confirmed if !cancelled => "Booking confirmed. Have a good trip!".to_string(),
        _ => String::new(),
    })
}

/// Names of properties and room types, looked up once each.
#[derive(Default)]
pub struct Names {
    properties: std::collections::HashMap<PropertyId, String>,
    rooms: std::collections::HashMap<RoomTypeId, String>,
}

impl Names {
    /// A property's name ("(removed)" if gone).
    pub async fn property(&mut self, ports: &Ports, id: PropertyId) -> Result<String, PageError> {
        if let Some(n) = self.properties.get(&id) {
            return Ok(n.clone());
        }
        let n = ports.store.property(id).await.map_err(AppError::from)?.map(|p| p.draft.name).unwrap_or_default();
        self.properties.insert(id, n.clone());
        Ok(n)
    }

    /// A room type's name.
    pub async fn room(&mut self, ports: &Ports, id: RoomTypeId) -> Result<String, PageError> {
        if let Some(n) = self.rooms.get(&id) {
            return Ok(n.clone());
        }
        let n = ports.store.room_type(id).await.map_err(AppError::from)?.map(|r| r.draft.name).unwrap_or_default();
        self.rooms.insert(id, n.clone());
        Ok(n)
    }
}

/// GET /trips
pub async fn trips(State(s): State<AppState>, v: Visitor, Query(q): Query<TripsQuery>) -> PageResult {
    let actor = v.actor()?;
    let now = s.ports.clock.now();
    let mut filter = BookingFilter { limit: 200, ..BookingFilter::default() };
    // Hosts and admins see their own trips here, not their tenant's bookings.
    filter.user_id = Some(actor.user_id);
    let bookings = list_bookings(&s.ports, &actor, filter).await?;
    let today = utc_today(now);
    let mut names = Names::default();
    // The guest's payments in one read, by booking.
    let payments = s.ports.store.payments_of_user(actor.user_id).await.map_err(AppError::from)?;
    let mut paid: std::collections::HashMap<BookingId, Vec<&Payment>> = std::collections::HashMap::new();
    for p in &payments {
        paid.entry(p.booking_id).or_default().push(p);
    }
    let (mut upcoming, mut past) = (Vec::new(), Vec::new());
    for b in bookings.into_iter().filter(|b| b.user_id == actor.user_id) {
        let active = matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn);
        let t = TripView {
            id: b.id.to_string(),
            property_id: b.property_id.to_string(),
            property: names.property(&s.ports, b.property_id).await?,
            room: names.room(&s.ports, b.room_type_id).await?,
            dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
            status: b.status.as_str().to_string(),
            status_label: status_label(b.status),
            total: money(b.total),
            refund: b.refund.map(money).unwrap_or_default(),
            payments: payments_line(paid.get(&b.id).map(Vec::as_slice).unwrap_or_default(), &b)?,
            held: b.status == BookingStatus::Held && b.hold_expires_at.is_some_and(|t| t > now),
            cancellable: matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed),
        };
        if active && b.check_out >= today { upcoming.push(t) } else { past.push(t) }
    }
    upcoming.reverse();
    let flash = trips_flash(&s.ports, &actor, &q).await?;
    Ok(render(&TripsPage { ctx: v.ctx("My trips"), flash, upcoming, past }))
}

#[derive(Template)]
#[template(path = "cancel.html")]
pub(super) struct CancelPage {
    ctx: Ctx,
    id: String,
    property: String,
    room: String,
    dates: String,
    total: String,
    /// What the guest has paid ("" when nothing was).
    paid: String,
    /// What an unpaid stay would still cost when cancelled now ("" for nothing).
    fee: String,
    policy: String,
    refund: String,
    error: String,
}

pub(super) async fn cancel_page(
    ports: &Ports,
    v: &Visitor,
    b: &Booking,
    error: String,
) -> Result<CancelPage, PageError> {
    let p = innkeep_app::catalog::property(ports, b.property_id).await?;
    let rt = innkeep_app::catalog::room_type(ports, b.room_type_id).await?;
    let refund = innkeep_app::booking::refund_if_cancelled(b, &p, ports.clock.now())?;
    let payments = ports.store.payments_of_booking(b.id).await.map_err(AppError::from)?;
    let received = payments
        .iter()
        .try_fold(Money::zero(b.total.currency), |a, p| a.checked_add(p.received))
        .map_err(AppError::from)?;
    Ok(CancelPage {
        ctx: v.ctx("Cancel booking"),
        id: b.id.to_string(),
        property: p.draft.name.clone(),
        room: rt.draft.name,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        total: money(b.total),
        paid: if received.minor > 0 { money(received) } else { String::new() },
        fee: match b.total.checked_sub(refund) {
            Ok(fee) if fee.minor > 0 => money(fee),
            _ => String::new(),
        },
        policy: p.draft.cancellation_policy.as_str().replace('_', "-"),
        refund: money(refund),
        error,
    })
}

/// GET /trips/{id}/cancel: the refund first, then a confirm form.
pub async fn cancel_preview(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let b = visible_booking(&s.ports, &actor, id).await?;
    Ok(render(&cancel_page(&s.ports, &v, &b, String::new()).await?))
}

/// POST /trips/{id}/cancel
pub async fn cancel(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    match act(&s.ports, &actor, id, Action::Cancel, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to(&format!("/trips?cancelled={id}"))),
        Err(e @ (AppError::Conflict(_) | AppError::Transition(_) | AppError::Concurrent)) => {
            let b = visible_booking(&s.ports, &actor, id).await?;
            let page = cancel_page(&s.ports, &v, &b, e.to_string()).await?;
            Ok(crate::page::render_status(axum::http::StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}
