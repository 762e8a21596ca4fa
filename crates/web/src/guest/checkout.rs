//! Checkout: the guest's details, the hold, and confirming it.

use super::*;

/// The checkout form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckoutForm {
    pub room_type: String,
    pub check_in: String,
    pub check_out: String,
    pub adults: String,
    pub children: String,
    pub guest_name: String,
    pub guest_email: String,
    pub guest_phone: String,
}

impl CheckoutForm {
    fn from_fields(f: &Fields) -> CheckoutForm {
        CheckoutForm {
            room_type: f.get("room_type"),
            check_in: f.get("check_in"),
            check_out: f.get("check_out"),
            adults: f.get("adults"),
            children: f.get("children"),
            guest_name: f.get("guest_name"),
            guest_email: f.get("guest_email"),
            guest_phone: f.get("guest_phone"),
        }
    }

    fn search(&self) -> SearchForm {
        SearchForm {
            check_in: self.check_in.clone(),
            check_out: self.check_out.clone(),
            adults: self.adults.clone(),
            children: self.children.clone(),
            ..SearchForm::default()
        }
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
pub(super) struct CheckoutPage {
    ctx: Ctx,
    form: CheckoutForm,
    errors: FormErrors,
    idempotency_key: String,
    property: String,
    room: String,
    dates: String,
    party: String,
    lines: Vec<(String, String)>,
    total: String,
}

/// Build the checkout page for a room type and stay; the quote comes from availability.
pub(super) async fn checkout_page(
    ports: &Ports,
    v: &Visitor,
    form: CheckoutForm,
    errors: FormErrors,
    idempotency_key: String,
) -> Result<CheckoutPage, PageError> {
    let now = ports.clock.now();
    let rt_id: RoomTypeId = form.room_type.parse().map_err(|_| PageError::NotFound)?;
    let rt = innkeep_app::catalog::room_type(ports, rt_id).await?;
    let p = innkeep_app::catalog::property(ports, rt.property_id).await?;
    let search = form.search();
    let (ci, co, party) = search.stay().map_err(|m| PageError::Message(axum::http::StatusCode::BAD_REQUEST, m))?;
    let offers = innkeep_app::availability::availability(ports, p.id, ci, co, party, now).await?;
    let mut errors = errors;
    let (lines, total) = match offers.iter().find(|o| o.room_type.id == rt_id) {
        Some(o) => (quote_lines(&o.quote), money(o.quote.total)),
        None => {
            if errors.general.is_empty() {
                errors.general = "This room is no longer available for these dates and this party.".into();
            }
            (Vec::new(), "—".into())
        }
    };
    Ok(CheckoutPage {
        ctx: v.ctx(format!("Book {}", p.draft.name)),
        property: p.draft.name.clone(),
        room: rt.draft.name.clone(),
        dates: format!("{} → {}", day(ci), day(co)),
        party: search.party_label(),
        form,
        errors,
        idempotency_key,
        lines,
        total,
    })
}

/// GET /checkout
pub async fn checkout_form(State(s): State<AppState>, v: Visitor, Query(mut form): Query<CheckoutForm>) -> PageResult {
    let (_, user) = v.signed_in()?;
    if form.guest_name.is_empty() {
        form.guest_name = user.name.clone();
    }
    if form.guest_email.is_empty() {
        form.guest_email = user.email.as_str().to_string();
    }
    let page = checkout_page(&s.ports, &v, form, FormErrors::default(), uuid::Uuid::new_v4().to_string()).await?;
    Ok(render(&page))
}

/// POST /checkout: place the hold, then show it.
pub async fn checkout_place(State(s): State<AppState>, v: Visitor, fields: Fields) -> PageResult {
    let actor = v.actor()?;
    let form = CheckoutForm::from_fields(&fields);
    let key = fields.get("idempotency_key");
    let rt_id: RoomTypeId = form.room_type.parse().map_err(|_| PageError::NotFound)?;
    let (ci, co, party) =
        form.search().stay().map_err(|m| PageError::Message(axum::http::StatusCode::BAD_REQUEST, m))?;
    let phone = (!form.guest_phone.is_empty()).then(|| form.guest_phone.clone());
    let cmd = PlaceBooking {
        room_type_id: rt_id,
        check_in: ci,
        check_out: co,
        party,
        guest: GuestContact { name: form.guest_name.clone(), email: form.guest_email.clone(), phone },
        idempotency_key: (!key.is_empty()).then(|| format!("web:{key}")),
    };
    match place_booking(&s.ports, &actor, cmd, s.ports.clock.now()).await {
        Ok(placed) => Ok(crate::redirect::to(&format!("/checkout/{}", placed.booking.id))),
        Err(e) => {
            // The API's status (409 sold out, 422 a reused key); 422 for a wrong field.
            let status = crate::page::form_status(&e);
            let errors = FormErrors::from_app(e, &["guest.name", "guest.email", "guest.phone"])?;
            // A fresh key: the failed attempt's key must not replay the failure's request.
            let page = checkout_page(&s.ports, &v, form, errors, uuid::Uuid::new_v4().to_string()).await?;
            Ok(crate::page::render_status(status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "hold.html")]
pub(super) struct HoldPage {
    ctx: Ctx,
    id: String,
    held: bool,
    status: String,
    property: String,
    room: String,
    dates: String,
    party: String,
    expires_at: String,
    expires_label: String,
    lines: Vec<(String, String)>,
    total: String,
    error: String,
}

pub(super) async fn hold_page(ports: &Ports, v: &Visitor, b: &Booking, error: String) -> Result<HoldPage, PageError> {
    let p = innkeep_app::catalog::property(ports, b.property_id).await?;
    let rt = innkeep_app::catalog::room_type(ports, b.room_type_id).await?;
    let held = b.status == BookingStatus::Held;
    let expires = b.hold_expires_at;
    Ok(HoldPage {
        ctx: v.ctx("Your booking"),
        id: b.id.to_string(),
        held,
        status: status_label(b.status),
        property: p.draft.name,
        room: rt.draft.name,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        party: party_label(b.adults, b.children),
        expires_at: expires.map(|t| t.to_string()).unwrap_or_default(),
        expires_label: expires
            .map(|t| t.to_zoned_datetime(p.draft.time_zone.zone()).strftime("%H:%M %Z").to_string())
            .unwrap_or_default(),
        lines: quote_lines(&b.quote),
        total: money(b.total),
        error,
    })
}

pub(super) fn status_label(s: BookingStatus) -> String {
    s.as_str().replace('_', " ")
}

/// GET /checkout/{id}
pub async fn checkout_hold(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let b = visible_booking(&s.ports, &actor, id).await?;
    Ok(render(&hold_page(&s.ports, &v, &b, String::new()).await?))
}

/// POST /checkout/{id}/confirm
pub async fn checkout_confirm(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    match act(&s.ports, &actor, id, Action::Confirm, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to(&format!("/trips?confirmed={id}"))),
        Err(e @ (AppError::Conflict(_) | AppError::Transition(_) | AppError::Concurrent)) => {
            let b = visible_booking(&s.ports, &actor, id).await?;
            let page = hold_page(&s.ports, &v, &b, e.to_string()).await?;
            Ok(crate::page::render_status(axum::http::StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}
