//! Checkout: the guest's details, the hold, and confirming it.

use super::*;
use crate::i18n::t;

/// The checkout form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckoutForm {
    pub room_type: String,
    pub check_in: String,
    pub check_out: String,
    pub adults: String,
    pub children: String,
    pub rooms: String,
    pub guest_name: String,
    pub guest_email: String,
    pub guest_phone: String,
    /// Each child's age (repeated `age` fields).
    #[serde(skip)]
    pub ages: Vec<String>,
}

impl CheckoutForm {
    fn from_fields(f: &Fields) -> CheckoutForm {
        CheckoutForm {
            room_type: f.get("room_type"),
            check_in: f.get("check_in"),
            check_out: f.get("check_out"),
            adults: f.get("adults"),
            children: f.get("children"),
            rooms: f.get("rooms"),
            guest_name: f.get("guest_name"),
            guest_email: f.get("guest_email"),
            guest_phone: f.get("guest_phone"),
            ages: f.all("age"),
        }
    }

    fn search(&self) -> SearchForm {
        SearchForm {
            check_in: self.check_in.clone(),
            check_out: self.check_out.clone(),
            adults: self.adults.clone(),
            children: self.children.clone(),
            rooms: self.rooms.clone(),
            ages: self.ages.clone(),
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
    policy: String,
    /// The refund schedule of this stay, before booking.
    terms: Vec<String>,
    /// The property's page for these dates (to choose others).
    property_href: String,
    /// The total in the guest's preferred currency, approximately, and what that means.
    approx: String,
    approx_note: String,
    /// The stay takes more than one room (the words of the button say so).
    several_rooms: bool,
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
    let mut errors = errors;
    let offers = match innkeep_app::availability::availability(ports, p.id, ci, co, party, now).await {
        Ok(offers) => offers,
        // Dates this place does not take: said in words on the page, with the way back to
        // the property's dates (the form is not a dead end).
        Err(e @ AppError::Invalid { .. }) => {
            errors.general = crate::page::words(&e);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let mut converted = String::new();
    let (lines, total, terms) = match offers.iter().find(|o| o.room_type.id == rt_id) {
        Some(o) => {
            converted = approx(v, o.quote.total);
            (quote_lines(&o.quote), money(o.quote.total), refund_terms(&p, ci, o.quote.total)?)
        }
        None => {
            if errors.general.is_empty() {
                let nights = nights_between(ci, co);
                let (min, max) = (i64::from(rt.draft.min_stay), i64::from(rt.draft.max_stay));
                errors.general = if nights > max {
                    crate::i18n::tf(
                        "This room takes stays of at most {} nights: choose an earlier check-out date.",
                        &[&max],
                    )
                } else if nights < min {
                    crate::i18n::tf(
                        "This room takes stays of at least {} nights: choose a later check-out date.",
                        &[&min],
                    )
                } else {
                    crate::i18n::t("This room is not available for these dates and this party: choose other dates.")
                        .into()
                };
            }
            (Vec::new(), "—".into(), Vec::new())
        }
    };
    Ok(CheckoutPage {
        ctx: v.ctx(crate::i18n::tf("Book {}", &[&p.draft.name])),
        property: p.draft.name.clone(),
        room: rt.draft.name.clone(),
        dates: format!("{} → {}", day(ci), day(co)),
        party: search.party_label(),
        several_rooms: party.rooms > 1,
        form,
        errors,
        idempotency_key,
        lines,
        total,
        policy: crate::guest::policy_label(p.draft.cancellation_policy),
        terms,
        approx_note: if converted.is_empty() { String::new() } else { approx_note(p.draft.currency) },
        approx: converted,
        property_href: format!(
            "/properties/{}?check_in={}&check_out={}&adults={}&children={}{}",
            p.id,
            ci,
            co,
            party.adults,
            party.children,
            search.rooms_and_ages_query()
        ),
    })
}

/// GET /checkout
pub async fn checkout_form(
    State(s): State<AppState>,
    v: Visitor,
    Query(mut form): Query<CheckoutForm>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> PageResult {
    let (_, user) = v.signed_in()?;
    form.ages = super::repeated(raw.as_deref(), "age");
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
    /// The property takes payment before confirming (else the guest confirms and pays there).
    prepay: bool,
    /// Card payments are offered (a provider is configured).
    card: bool,
    /// The booking's latest payment, as the guest sees it.
    pay: Option<PayView>,
    /// Look again in a moment (the provider is still working on the payment).
    refresh: bool,
    /// A payment is open (no second one is offered).
    paying: bool,
}

/// A payment on the hold page.
pub(super) struct PayView {
    /// "Card" or "Bank transfer" (what the page decides by), and as the guest reads it.
    method: String,
    method_label: String,
    status: String,
    open: bool,
    /// Where to enter the card (the provider's page), once the provider is ready.
    card_href: Option<String>,
    /// For an open bank transfer: (beneficiary, IBAN, BIC, reference, amount).
    transfer: Option<(String, String, String, String, String)>,
    failure: String,
}

fn pay_view(ports: &Ports, p: &innkeep_app::payment::Payment, return_to: &str) -> Result<PayView, PageError> {
    let bank = &ports.settings.payments.bank;
    let open = p.status.is_open();
    let card_href = innkeep_app::payment::checkout_url(&ports.settings.payments, p).map(|u| {
        let sep = if u.contains('?') { '&' } else { '?' };
        format!("{u}{sep}return_url={}", crate::session::url_encode(return_to))
    });
    let transfer = match (&p.reference, open) {
        (Some(r), true) => Some((
            bank.beneficiary.clone(),
            bank.iban.clone(),
            bank.bic.clone(),
            r.clone(),
            money(p.amount.checked_sub(p.received).map_err(AppError::from)?),
        )),
        _ => None,
    };
    Ok(PayView {
        method: if p.method == innkeep_core::PaymentMethod::Card { "Card".into() } else { "Bank transfer".into() },
        method_label: if p.method == innkeep_core::PaymentMethod::Card { t("Card") } else { t("Bank transfer") }.into(),
        status: match (p.method, p.status) {
            (innkeep_core::PaymentMethod::BankTransfer, innkeep_core::PaymentStatus::RequiresAction) => {
                t("waiting for your transfer")
            }
            (innkeep_core::PaymentMethod::Card, innkeep_core::PaymentStatus::RequiresAction) => {
                t("waiting for your card")
            }
            (_, s) => payment_status_words(s),
        }
        .into(),
        open,
        card_href,
        transfer,
        failure: p.failure.clone().unwrap_or_default(),
    })
}

pub(super) async fn hold_page(
    ports: &Ports,
    v: &Visitor,
    b: &Booking,
    error: String,
    origin: &str,
) -> Result<HoldPage, PageError> {
    let p = innkeep_app::catalog::property(ports, b.property_id).await?;
    let rt = innkeep_app::catalog::room_type(ports, b.room_type_id).await?;
    let held = b.status == BookingStatus::Held;
    let expires = b.hold_expires_at;
    let actor = v.actor()?;
    let payments = innkeep_app::payment::payments_of_booking(ports, &actor, b.id).await?;
    let latest = payments.last();
    let return_to = format!("{origin}/checkout/{}", b.id);
    let pay = latest.map(|p| pay_view(ports, p, &return_to)).transpose()?;
    // Look again soon while a card payment is being made, after the guest came back from
    // the provider, or when it succeeded and the booking (read just before) is being confirmed.
    let card = latest.filter(|p| p.method == innkeep_core::PaymentMethod::Card);
    let refresh = held
        && card.is_some_and(|p| {
            p.status == innkeep_core::PaymentStatus::Succeeded
                || (p.status.is_open() && (p.provider_id.is_none() || v.here.contains("redirect_status=")))
        });
    Ok(HoldPage {
        ctx: v.ctx("Your booking"),
        id: b.id.to_string(),
        held,
        status: status_label(b.status),
        property: p.draft.name,
        room: rt.draft.name,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        party: party_label(b.adults, b.children, b.rooms),
        expires_at: expires.map(|t| t.to_string()).unwrap_or_default(),
        expires_label: expires
            .map(|t| t.to_zoned_datetime(p.draft.time_zone.zone()).strftime("%H:%M %Z").to_string())
            .unwrap_or_default(),
        lines: quote_lines(&b.quote),
        total: money(b.total),
        error,
        prepay: p.draft.payment_timing == innkeep_core::PaymentTiming::Prepay,
        card: ports.settings.payments.card,
        paying: pay.as_ref().is_some_and(|p| p.open),
        pay,
        refresh,
    })
}

/// The site's own origin (for the provider to send the guest back to): `server.public_url`
/// where it is set, else as the browser reached it, from the Host header.
pub(super) fn origin(headers: &axum::http::HeaderMap, v: &Visitor) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
    site_origin(v.web.config.public_url.as_deref(), host, v.web.config.secure_cookies)
}

/// The configured public URL, else `scheme://host` from a Host header that is a plain host
/// name or address (anything else: `localhost`).
fn site_origin(public_url: Option<&str>, host: Option<&str>, secure: bool) -> String {
    if let Some(url) = public_url {
        return url.to_string();
    }
    let host = host
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .unwrap_or("localhost");
    format!("{}://{host}", if secure { "https" } else { "http" })
}

pub(super) fn status_label(s: BookingStatus) -> String {
    match s {
        BookingStatus::Held => t("held"),
        BookingStatus::Confirmed => t("confirmed"),
        BookingStatus::CheckedIn => t("checked in"),
        BookingStatus::Completed => t("completed"),
        BookingStatus::Expired => t("expired"),
        BookingStatus::Cancelled => t("cancelled"),
        BookingStatus::NoShow => t("no show"),
    }
    .to_string()
}

/// A payment's state in words.
fn payment_status_words(s: innkeep_core::PaymentStatus) -> &'static str {
    use innkeep_core::PaymentStatus as P;
    match s {
        P::RequiresAction => t("waiting for you"),
        P::Processing => t("processing"),
        P::Succeeded => t("succeeded"),
        P::Failed => t("failed"),
        P::Canceled => t("canceled"),
    }
}

/// GET /checkout/{id}
pub async fn checkout_hold(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let b = visible_booking(&s.ports, &actor, id).await?;
    let mut r = render(&hold_page(&s.ports, &v, &b, String::new(), &origin(&headers, &v)).await?);
    // The page follows the booking: after Back, the browser asks again rather than show a
    // stale hold that offers Confirm on a booking already confirmed.
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// POST /checkout/{id}/pay: start paying a held booking (`method`: `card` or
/// `bank_transfer`). Submitting twice makes one payment: the key names the booking, the
/// method and how many payments it had.
pub async fn checkout_pay(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    fields: Fields,
) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let method = match fields.get("method").as_str() {
        "card" => innkeep_core::PaymentMethod::Card,
        _ => innkeep_core::PaymentMethod::BankTransfer,
    };
    let earlier = innkeep_app::payment::payments_of_booking(&s.ports, &actor, id).await?;
    let key = format!("web-{id}-{}-{}", method.as_str(), earlier.len());
    match innkeep_app::payment::pay(&s.ports, &actor, id, method, &key, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to(&format!("/checkout/{id}"))),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid { .. } | AppError::IdempotencyMismatch)) => {
            let b = visible_booking(&s.ports, &actor, id).await?;
            let page = hold_page(&s.ports, &v, &b, crate::page::words(&e), &origin(&headers, &v)).await?;
            Ok(crate::page::render_status(axum::http::StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /checkout/{id}/confirm
pub async fn checkout_confirm(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let actor = v.actor()?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    match act(&s.ports, &actor, id, Action::Confirm, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to(&format!("/trips?confirmed={id}"))),
        Err(
            e @ (AppError::Conflict(_) | AppError::Transition(_) | AppError::Concurrent | AppError::PaymentRequired),
        ) => {
            let b = visible_booking(&s.ports, &actor, id).await?;
            let page = hold_page(&s.ports, &v, &b, crate::page::words(&e), &origin(&headers, &v)).await?;
            Ok(crate::page::render_status(axum::http::StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::site_origin;

    #[test]
    fn the_provider_sends_guests_back_to_the_configured_site() {
        assert_eq!(site_origin(Some("https://stays.example"), Some("evil.example"), true), "https://stays.example");
        assert_eq!(site_origin(None, Some("127.0.0.1:8080"), false), "http://127.0.0.1:8080");
        assert_eq!(site_origin(None, Some("evil.example/path?x"), true), "https://localhost");
        assert_eq!(site_origin(None, None, false), "http://localhost");
    }
}
