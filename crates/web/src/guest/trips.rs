//! My trips, the refund preview and cancelling.

use super::*;
use crate::i18n::{t, tf};
use innkeep_app::payment::Payment;

pub(super) struct TripView {
    id: String,
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
    /// The booking just confirmed (highlighted).
    new: bool,
    /// The trips are listed in this order: upcoming by arrival, the rest newest stay first.
    check_in: Date,
}

/// What a guest paid for a booking, what came back, and what an open transfer still needs.
fn payments_line(payments: &[&Payment], b: &innkeep_app::store::Booking) -> Result<String, PageError> {
    let mut parts = Vec::new();
    let (received, refunded) = received_and_refunded(payments.iter().copied(), b)?;
    if received.minor > 0 {
        parts.push(tf("paid {}", &[&money(received)]));
    }
    if refunded.minor > 0 {
        parts.push(tf("refunded {}", &[&money(refunded)]));
    }
    for p in payments.iter().filter(|p| p.status.is_open()) {
        let left = p.amount.checked_sub(p.received).map_err(AppError::from)?;
        match &p.reference {
            Some(reference) => parts.push(tf("awaiting a bank transfer of {} quoting {}", &[&money(left), reference])),
            None => parts.push(tf("card payment of {} in progress", &[&money(left)])),
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
            tf("Booking cancelled. Refund: {}.", &[&money(b.refund.unwrap_or(Money::zero(b.total.currency)))])
        }
        BookingStatus::Confirmed if !cancelled => t("Booking confirmed. Have a good trip!").to_string(),
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
    // The booking just made: the one confirmed a moment ago, else the guest's newest if it
    // was made within the hour. It comes first, marked.
    let just_made = match q.confirmed.parse::<BookingId>() {
        Ok(id) => Some(id),
        Err(_) => bookings
            .iter()
            .filter(|b| b.user_id == actor.user_id)
            .max_by_key(|b| b.created_at)
            .filter(|b| now.duration_since(b.created_at) < jiff::SignedDuration::from_hours(1))
            .map(|b| b.id),
    };
    let (mut upcoming, mut past) = (Vec::new(), Vec::new());
    for b in bookings.into_iter().filter(|b| b.user_id == actor.user_id) {
        let active = matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn);
        let t = TripView {
            id: b.id.to_string(),
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
            new: just_made == Some(b.id),
            check_in: b.check_in,
        };
        if active && b.check_out >= today { upcoming.push(t) } else { past.push(t) }
    }
    // The booking just made first, then the next stay; past and cancelled ones the latest first.
    upcoming.sort_by_key(|t| (!t.new, t.check_in));
    past.sort_by_key(|t| std::cmp::Reverse(t.check_in));
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
    /// Only held, never confirmed: cancelling it costs nothing.
    hold: bool,
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
    let (received, _) = received_and_refunded(&payments, b)?;
    Ok(CancelPage {
        ctx: v.ctx("Cancel booking"),
        id: b.id.to_string(),
        property: p.draft.name.clone(),
        room: rt.draft.name,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        total: money(b.total),
        paid: if received.minor > 0 { money(received) } else { String::new() },
        fee: match b.total.checked_sub(refund) {
            Ok(fee) if fee.minor > 0 && b.status != BookingStatus::Held => money(fee),
            _ => String::new(),
        },
        hold: b.status == BookingStatus::Held,
        policy: crate::guest::policy_label(p.draft.cancellation_policy),
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
            let page = cancel_page(&s.ports, &v, &b, crate::page::words(&e)).await?;
            Ok(crate::page::render_status(axum::http::StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a booking's payments received and refunded, in the booking's currency.
pub(crate) fn received_and_refunded<'a>(
    payments: impl IntoIterator<Item = &'a Payment>,
    b: &Booking,
) -> Result<(Money, Money), PageError> {
    let zero = Money::zero(b.total.currency);
    payments
        .into_iter()
        .try_fold((zero, zero), |(r, f), p| Ok((r.checked_add(p.received)?, f.checked_add(p.refunded)?)))
        .map_err(|e: innkeep_core::MoneyError| AppError::from(e).into())
}

/// A trip of the signed-in guest, with its property, room type name and payments.
async fn trip_parts(
    s: &AppState,
    v: &Visitor,
    id: &str,
) -> Result<(Booking, Property, String, Vec<Payment>), PageError> {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let b = visible_booking(&s.ports, &actor, id).await?;
    // A trip is its guest's own: the property's staff have the booking on their pages.
    if b.user_id != actor.user_id {
        return Err(PageError::NotFound);
    }
    let p = innkeep_app::catalog::property(&s.ports, b.property_id).await?;
    let room = innkeep_app::catalog::room_type(&s.ports, b.room_type_id).await?.draft.name;
    // Their own booking: its payments as the guest sees them (read once, not re-checked).
    let payments = s.ports.store.payments_of_booking(id).await.map_err(AppError::from)?;
    Ok((b, p, room, payments))
}

#[derive(Template)]
#[template(path = "trip_page.html")]
pub(super) struct TripPage {
    ctx: Ctx,
    id: String,
    property_id: String,
    property: String,
    address: String,
    room: String,
    arrive: String,
    leave: String,
    party: String,
    status: String,
    status_label: String,
    lines: Vec<(String, String)>,
    total: String,
    payments: String,
    policy: String,
    terms: Vec<String>,
    refund: String,
    held: bool,
    cancellable: bool,
    /// The stay is still to come (its calendar entry is offered).
    upcoming: bool,
    /// The guest's review of the stay, once written.
    review: Option<ReviewLine>,
    /// The stay is over and not reviewed yet, within the window: the form is shown.
    may_review: bool,
    /// (key, label) of each scored aspect.
    aspects: Vec<(String, String)>,
    review_form: Fields,
    review_errors: FormErrors,
    flash: String,
}

/// GET /trips/{id}: the stay, its price, what was paid, the cancellation terms, what can
/// be done, and (once the stay is over) the guest's review or the form to write it.
pub async fn trip(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<TripQuery>,
) -> PageResult {
    let mut page = trip_page(&s, &v, &id, Fields::default(), FormErrors::default()).await?;
    if !q.reviewed.is_empty() && page.review.is_some() {
        page.flash = t("Thank you: your review is published.").into();
    }
    let mut r = render(&page);
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `?reviewed=1` after a review is written (the words are the site's own).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TripQuery {
    reviewed: String,
}

async fn trip_page(
    s: &AppState,
    v: &Visitor,
    id: &str,
    review_form: Fields,
    review_errors: FormErrors,
) -> Result<TripPage, PageError> {
    let (b, p, room, payments) = trip_parts(s, v, id).await?;
    let now = s.ports.clock.now();
    let live = matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn);
    let refs: Vec<&Payment> = payments.iter().collect();
    let review = s.ports.store.review_of_booking(b.id).await.map_err(AppError::from)?;
    let may_review = review.is_none()
        && innkeep_core::review::may_review(b.status, b.check_out, p.draft.time_zone.today(now)).is_ok();
    Ok(TripPage {
        ctx: v.ctx(tf("Your stay at {}", &[&p.draft.name])),
        id: b.id.to_string(),
        property_id: p.id.to_string(),
        property: p.draft.name.clone(),
        address: p.draft.address.one_line(),
        room,
        arrive: tf("{}, from {}", &[&day(b.check_in), &p.draft.check_in_time.strftime("%H:%M")]),
        leave: tf("{}, by {}", &[&day(b.check_out), &p.draft.check_out_time.strftime("%H:%M")]),
        party: party_label(b.adults, b.children, b.rooms),
        status: b.status.as_str().to_string(),
        status_label: status_label(b.status),
        lines: quote_lines(&b.quote),
        total: money(b.total),
        payments: payments_line(&refs, &b)?,
        policy: crate::guest::policy_label(p.draft.cancellation_policy),
        terms: refund_terms(&p, b.check_in, b.total)?,
        refund: b.refund.map(money).unwrap_or_default(),
        held: b.status == BookingStatus::Held && b.hold_expires_at.is_some_and(|t| t > now),
        cancellable: matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed),
        upcoming: live && b.check_out >= utc_today(now),
        review: review.as_ref().map(ReviewLine::of),
        may_review,
        aspects: innkeep_core::Scores::ASPECTS.iter().map(|a| (a.to_string(), aspect_label(a))).collect(),
        review_form,
        review_errors,
        flash: String::new(),
    })
}

/// POST /trips/{id}/review: the guest reviews the stay (scores 1 to 10 per aspect, words).
pub async fn trip_review(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let actor = v.actor()?;
    let booking: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let mut errors = FormErrors::default();
    let mut score = |aspect: &str| -> u8 {
        match f.get(aspect).parse::<u8>() {
            Ok(n) if (1..=10).contains(&n) => n,
            _ => {
                let label = aspect_label(aspect);
                // German writes nouns with a capital letter, English and Portuguese do not.
                let label = if crate::i18n::lang() == innkeep_core::Locale::De { label } else { label.to_lowercase() };
                errors.set(aspect, tf("Choose a score for {} from 1 to 10.", &[&label]));
                0
            }
        }
    };
    let scores = innkeep_core::Scores {
        cleanliness: score("cleanliness"),
        location: score("location"),
        value: score("value"),
        staff: score("staff"),
        comfort: score("comfort"),
    };
    if f.get("text").chars().count() > innkeep_core::review::MAX_REVIEW_TEXT {
        errors.set("text", tf("A review is at most {} characters.", &[&innkeep_core::review::MAX_REVIEW_TEXT]));
    }
    if errors.fields.is_empty() {
        let new = innkeep_app::review::NewReview { scores, text: f.get("text") };
        match innkeep_app::review::write_review(&s.ports, &actor, booking, new, s.ports.clock.now()).await {
            Ok(_) => return Ok(crate::redirect::to(&format!("/trips/{booking}?reviewed=1"))),
            Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => errors.general = crate::page::words(&e),
            Err(e) => return Err(e.into()),
        }
    }
    let page = trip_page(&s, &v, &id, f, errors).await?;
    Ok(crate::page::render_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// GET /trips/{id}/calendar.ics: the stay for the guest's calendar (the same entry, and
/// the same UID, as the confirmation e-mail's attachment).
pub async fn trip_calendar(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let (b, p, room, _) = trip_parts(&s, &v, &id).await?;
    if !matches!(
        b.status,
        BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn | BookingStatus::Completed
    ) {
        return Err(PageError::Message(
            axum::http::StatusCode::CONFLICT,
            t("This booking is not going ahead, so there is no stay to put in a calendar.").into(),
        ));
    }
    let link = format!("{}/trips/{}", super::checkout::origin(&headers, &v), b.id);
    let uid = format!("{}@innkeep", b.id);
    let address = p.draft.address.one_line();
    let entry = innkeep_app::ics::StayEntry {
        uid: &uid,
        summary: &p.draft.name,
        location: &address,
        room: &room,
        link: &link,
        check_in: b.check_in,
        check_out: b.check_out,
        check_in_time: p.draft.check_in_time,
        check_out_time: p.draft.check_out_time,
        time_zone: p.draft.time_zone.as_str(),
    };
    let body = innkeep_app::ics::stay(&entry, s.ports.clock.now());
    let disposition = format!("attachment; filename=\"stay-{}.ics\"", b.id);
    use axum::http::header;
    use axum::response::IntoResponse;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub(super) struct ReceiptPage {
    ctx: Ctx,
    id: String,
    issued: String,
    guest: String,
    email: String,
    property: String,
    address: String,
    room: String,
    dates: String,
    party: String,
    status_label: String,
    lines: Vec<(String, String)>,
    total: String,
    paid: String,
    refunded: String,
    /// What is still owed for a stay going ahead ("" when nothing is), and to whom.
    due: String,
    due_label: String,
}

/// GET /trips/{id}/receipt: a printable receipt of the booking and what was paid.
pub async fn trip_receipt(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let (b, p, room, payments) = trip_parts(&s, &v, &id).await?;
    let (received, refunded) = received_and_refunded(&payments, &b)?;
    let going_ahead = matches!(
        b.status,
        BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn | BookingStatus::Completed
    );
    let owed = b.total.checked_sub(received).map_err(AppError::from)?;
    let (due, due_label) = if going_ahead && owed.minor > 0 {
        let label = match p.draft.payment_timing {
            innkeep_core::PaymentTiming::AtProperty => t("To pay at the property"),
            innkeep_core::PaymentTiming::Prepay => t("Still to pay"),
        };
        (money(owed), label.to_string())
    } else {
        (String::new(), String::new())
    };
    let page = ReceiptPage {
        ctx: v.ctx(tf("Receipt {}", &[&b.id])),
        id: b.id.to_string(),
        issued: day(utc_today(s.ports.clock.now())),
        guest: b.guest.name.clone(),
        email: b.guest.email.clone(),
        property: p.draft.name.clone(),
        address: p.draft.address.one_line(),
        room,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        party: party_label(b.adults, b.children, b.rooms),
        status_label: status_label(b.status),
        lines: quote_lines(&b.quote),
        total: money(b.total),
        paid: money(received),
        refunded: if refunded.minor > 0 { money(refunded) } else { String::new() },
        due,
        due_label,
    };
    let mut r = render(&page);
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}
