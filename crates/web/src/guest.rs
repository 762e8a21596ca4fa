//! Guest pages: search, results with a map, a property, checkout, and my trips.

use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, amount, day, money, render};
use crate::seams::{StayQuery, destinations, find_stays};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, Query, State};
use innkeep_app::booking::{Action, PlaceBooking, act, list_bookings, place_booking, visible_booking};
use innkeep_app::node::AppState;
use innkeep_app::store::{Booking, BookingFilter, GuestContact, Property};
use innkeep_app::{Actor, AppError, Ports};
use innkeep_core::{BookingId, BookingStatus, Money, Party, PropertyId, PropertyType, Quote, RoomTypeId, Stay};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

/// The search as typed (strings, so any input re-renders rather than failing).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub city: String,
    pub check_in: String,
    pub check_out: String,
    pub adults: String,
    pub children: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_price: String,
    pub sort: String,
}

fn utc_today(now: Timestamp) -> Date {
    now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

fn plus_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

impl SearchForm {
    /// Fill empty dates and party with sensible defaults (a month from now, 3 nights, 2 adults).
    fn with_defaults(mut self, now: Timestamp) -> SearchForm {
        let today = utc_today(now);
        if self.check_in.is_empty() {
            self.check_in = plus_days(today, 30).to_string();
        }
        if self.check_out.is_empty() {
            let ci = self.check_in.parse::<Date>().unwrap_or(plus_days(today, 30));
            self.check_out = plus_days(ci, 3).to_string();
        }
        if self.adults.is_empty() {
            self.adults = "2".into();
        }
        if self.children.is_empty() {
            self.children = "0".into();
        }
        self
    }

    /// The dates and party, or a message saying what is wrong.
    fn stay(&self) -> Result<(Date, Date, Party), String> {
        let ci: Date = self.check_in.parse().map_err(|_| "Check-in is not a valid date.".to_string())?;
        let co: Date = self.check_out.parse().map_err(|_| "Check-out is not a valid date.".to_string())?;
        if co <= ci {
            return Err("Check-out must be after check-in.".into());
        }
        let adults: u16 = self.adults.parse().map_err(|_| "Adults must be a number.".to_string())?;
        let children: u16 = if self.children.is_empty() {
            0
        } else {
            self.children.parse().map_err(|_| "Children must be a number.")?
        };
        if adults == 0 {
            return Err("A party needs at least one adult.".into());
        }
        Ok((ci, co, Party { adults, children }))
    }

    fn party_label(&self) -> String {
        let a = self.adults.parse::<u16>().unwrap_or(0);
        let c = self.children.parse::<u16>().unwrap_or(0);
        party_label(a, c)
    }
}

fn party_label(adults: u16, children: u16) -> String {
    let mut s = format!("{adults} adult{}", if adults == 1 { "" } else { "s" });
    if children > 0 {
        s.push_str(&format!(", {children} child{}", if children == 1 { "" } else { "ren" }));
    }
    s
}

fn nights_between(a: Date, b: Date) -> i64 {
    Stay::range(a, b).map(|s| i64::from(s.nights())).unwrap_or(0)
}

fn type_label(t: PropertyType) -> String {
    let s = t.as_str().replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default()
}

/// The price lines of a quote: nights, discount, taxes and fees.
pub fn quote_lines(q: &Quote) -> Vec<(String, String)> {
    let n = q.nights.len();
    let mut lines = vec![(format!("{n} night{}", if n == 1 { "" } else { "s" }), money(q.subtotal))];
    if q.discount.minor != 0 {
        lines.push(("Length-of-stay discount".into(), format!("−{}", money(q.discount))));
    }
    for c in &q.charges {
        lines.push((c.name.clone(), money(c.amount)));
    }
    lines
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    form: SearchForm,
    destinations: Vec<String>,
    /// The signed-in guest's recent searches, to run again.
    recent: Vec<Link>,
    /// Destinations other guests booked lately.
    popular: Vec<Link>,
}

struct Link {
    label: String,
    href: String,
}

/// Searches and suggestions shown on the home page.
const HOME_LINKS: usize = 5;

/// GET /
pub async fn home(State(s): State<AppState>, v: Visitor) -> PageResult {
    let now = s.ports.clock.now();
    let destinations = destinations(&s.ports, &v.web.destinations, now).await?;
    let form = SearchForm::default().with_defaults(now);
    let viewer = v.user.as_ref().map(|(a, _)| a.user_id);
    let mut recent = Vec::new();
    if let Some(user) = viewer {
        for r in s.ports.store.recent_searches(user, HOME_LINKS as u32 * 2).await.map_err(AppError::from)? {
            if let Some(href) = stays_href(&r.query)
                && !recent.iter().any(|l: &Link| l.href == href)
                && recent.len() < HOME_LINKS
            {
                recent.push(Link { label: r.summary, href });
            }
        }
    }
    let popular = innkeep_app::suggest::popular_destinations(&s.ports, viewer, HOME_LINKS)
        .await?
        .into_iter()
        .map(|d| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("city", &d.city)
                .append_pair("check_in", &form.check_in)
                .append_pair("check_out", &form.check_out)
                .append_pair("adults", &form.adults)
                .finish();
            let label = format!("{} ({} recent bookings)", d.city, d.bookings);
            Link { label, href: format!("/stays?{query}") }
        })
        .collect();
    Ok(render(&HomePage { ctx: v.ctx("Find a stay"), form, destinations, recent, popular }))
}

/// The results page for a recorded search (`destination=..&check_in=..` as the API takes
/// it), or `None` if it has no destination (map and point searches have no page here).
fn stays_href(recorded: &str) -> Option<String> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut has_city = false;
    for (k, v) in form_urlencoded::parse(recorded.as_bytes()) {
        let key = match k.as_ref() {
            "destination" => {
                has_city = !v.trim().is_empty();
                "city"
            }
            "check_in" | "check_out" | "adults" | "children" => k.as_ref(),
            _ => continue,
        };
        out.append_pair(key, &v);
    }
    has_city.then(|| format!("/stays?{}", out.finish()))
}

/// Remember a signed-in guest's search in the form the API takes, so "search again" works
/// from both; a failure to remember must not fail the search.
async fn remember_search(s: &AppState, v: &Visitor, form: &SearchForm, ci: Date, co: Date, party: Party) {
    let Some((actor, _)) = &v.user else { return };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("destination", form.city.trim())
        .append_pair("check_in", &ci.to_string())
        .append_pair("check_out", &co.to_string())
        .append_pair("adults", &party.adults.to_string())
        .append_pair("children", &party.children.to_string())
        .finish();
    let now = s.ports.clock.now();
    let asked =
        innkeep_app::search::Asked { query: &query, place: form.city.trim(), check_in: ci, check_out: co, party };
    innkeep_app::search::remember(&s.ports, actor.user_id, asked, now).await;
}

struct Card {
    name: String,
    href: String,
    city: String,
    kind: String,
    room: String,
    units_left: u32,
    total: String,
    per_night: String,
    lat: f64,
    lon: f64,
    initial: String,
    photo: Option<crate::host::PhotoView>,
}

struct Marker {
    x: String,
    y: String,
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "stays.html")]
struct StaysPage {
    ctx: Ctx,
    form: SearchForm,
    destinations: Vec<String>,
    types: Vec<(String, String, bool)>,
    cards: Vec<Card>,
    markers: Vec<Marker>,
    nights: i64,
    error: String,
}

/// Project markers into a 400x300 box around them (the map without JavaScript).
fn markers(cards: &[Card]) -> Vec<Marker> {
    if cards.is_empty() {
        return Vec::new();
    }
    let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for c in cards {
        min_lat = min_lat.min(c.lat);
        max_lat = max_lat.max(c.lat);
        min_lon = min_lon.min(c.lon);
        max_lon = max_lon.max(c.lon);
    }
    let span_lat = (max_lat - min_lat).max(0.01);
    let span_lon = (max_lon - min_lon).max(0.01);
    cards
        .iter()
        .map(|c| Marker {
            x: format!("{:.1}", 20.0 + 360.0 * (c.lon - min_lon) / span_lon),
            y: format!("{:.1}", 280.0 - 260.0 * (c.lat - min_lat) / span_lat),
            name: c.name.clone(),
            href: c.href.clone(),
        })
        .collect()
}

/// GET /stays
pub async fn stays(State(s): State<AppState>, v: Visitor, Query(form): Query<SearchForm>) -> PageResult {
    let now = s.ports.clock.now();
    let form = form.with_defaults(now);
    let destinations = destinations(&s.ports, &v.web.destinations, now).await?;
    let kind = PropertyType::parse(&form.kind);
    let types = PropertyType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), type_label(*t), Some(*t) == kind))
        .collect::<Vec<_>>();
    let mut page = StaysPage {
        ctx: v.ctx(format!("Stays in {}", form.city)),
        form: form.clone(),
        destinations,
        types,
        cards: Vec::new(),
        markers: Vec::new(),
        nights: 0,
        error: String::new(),
    };
    let (ci, co, party) = match form.stay() {
        Ok(x) => x,
        Err(m) => {
            page.error = m;
            return Ok(render(&page));
        }
    };
    if ci < plus_days(utc_today(now), -1) {
        page.error = "Check-in is in the past.".into();
        return Ok(render(&page));
    }
    page.nights = nights_between(ci, co);
    if !form.city.trim().is_empty() {
        remember_search(&s, &v, &form, ci, co, party).await;
    }
    // Max price is per night, in each property's own currency (major units).
    let max_per_night: Option<f64> = form.max_price.trim().parse::<f64>().ok().filter(|p| *p > 0.0);
    let q = StayQuery {
        city: form.city.clone(),
        check_in: ci,
        check_out: co,
        party,
        property_type: kind,
        max_total_minor: None,
    };
    let mut found = find_stays(&s.ports, &q, now).await?;
    if let Some(max) = max_per_night {
        found.retain(|m| {
            let cur = m.cheapest.quote.currency;
            let per_night_major =
                m.cheapest.quote.total.minor as f64 / 10f64.powi(i32::from(cur.exponent())) / page.nights as f64;
            per_night_major <= max
        });
    }
    if form.sort == "name" {
        found.sort_by_key(|m| m.property.draft.name.to_lowercase());
    } else {
        found.sort_by_key(|m| m.cheapest.quote.total.minor);
    }
    let ids: Vec<PropertyId> = found.iter().map(|m| m.property.id).collect();
    let covers = s.ports.store.cover_photos(&ids).await.map_err(AppError::from)?;
    page.cards = found
        .iter()
        .map(|m| {
            let total = m.cheapest.quote.total;
            let per_night = Money::new(total.minor / page.nights.max(1), total.currency);
            Card {
                name: m.property.draft.name.clone(),
                href: format!(
                    "/properties/{}?check_in={}&check_out={}&adults={}&children={}",
                    m.property.id, ci, co, party.adults, party.children
                ),
                city: m.property.draft.address.city.clone(),
                kind: type_label(m.property.draft.property_type),
                room: m.cheapest.room_type.draft.name.clone(),
                units_left: m.cheapest.units_left,
                total: money(total),
                per_night: money(per_night),
                lat: m.property.draft.latitude,
                lon: m.property.draft.longitude,
                initial: initial(&m.property.draft.name),
                photo: covers.iter().find(|c| c.property_id == m.property.id).map(crate::host::PhotoView::of),
            }
        })
        .collect();
    page.markers = markers(&page.cards);
    Ok(render(&page))
}

struct PropertyView {
    id: String,
    name: String,
    kind: String,
    address: String,
    policy: String,
    description: String,
    amenities: Vec<String>,
    initial: String,
}

fn property_view(p: &Property) -> PropertyView {
    let d = &p.draft;
    let mut address = d.address.lines.join(", ");
    address.push_str(&format!(", {}, {}", d.address.city, d.address.country.as_str()));
    PropertyView {
        id: p.id.to_string(),
        name: d.name.clone(),
        kind: type_label(d.property_type),
        address,
        policy: d.cancellation_policy.as_str().replace('_', "-"),
        description: d.description.clone(),
        amenities: d.amenities.iter().map(|a| format!("{a:?}")).collect(),
        initial: initial(&d.name),
    }
}

struct OfferView {
    room_type_id: String,
    name: String,
    beds: String,
    max_total: u16,
    units_left: u32,
    lines: Vec<(String, String)>,
    total: String,
}

struct StripCell {
    open: bool,
    price: String,
}

#[derive(Template)]
#[template(path = "property.html")]
struct PropertyPage {
    ctx: Ctx,
    p: PropertyView,
    form: SearchForm,
    offers: Vec<OfferView>,
    nights: i64,
    error: String,
    strip_days: Vec<String>,
    strip: Vec<(String, Vec<StripCell>)>,
    photos: Vec<crate::host::PhotoView>,
}

/// GET /properties/{id}
pub async fn property(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    let now = s.ports.clock.now();
    let p = innkeep_app::cache::property(&s.ports, id).await?;
    let form = form.with_defaults(now);
    let mut page = PropertyPage {
        ctx: v.ctx(p.draft.name.clone()),
        p: property_view(&p),
        form: form.clone(),
        offers: Vec::new(),
        nights: 0,
        error: String::new(),
        strip_days: Vec::new(),
        strip: Vec::new(),
        photos: s
            .ports
            .store
            .photos_of(id)
            .await
            .map_err(AppError::from)?
            .iter()
            .map(crate::host::PhotoView::of)
            .collect(),
    };
    match form.stay() {
        Ok((ci, co, party)) => {
            page.nights = nights_between(ci, co);
            match innkeep_app::availability::availability(&s.ports, id, ci, co, party, now).await {
                Ok(offers) => {
                    page.offers = offers
                        .iter()
                        .map(|o| OfferView {
                            room_type_id: o.room_type.id.to_string(),
                            name: o.room_type.draft.name.clone(),
                            beds: o.room_type.draft.beds.clone(),
                            max_total: o.room_type.draft.occupancy.max_total,
                            units_left: o.units_left,
                            lines: quote_lines(&o.quote),
                            total: money(o.quote.total),
                        })
                        .collect()
                }
                Err(AppError::Invalid { message, .. }) => page.error = message,
                Err(e) => return Err(e.into()),
            }
        }
        Err(m) => page.error = m,
    }
    // The strip starts at the chosen check-in (or today) and shows 14 nights per room type.
    let today = p.draft.time_zone.today(now);
    let start = form.check_in.parse::<Date>().ok().filter(|d| *d >= today).unwrap_or(today);
    if let Ok(range) = Stay::range(start, plus_days(start, 14)) {
        page.strip_days = range.each_night().map(|d| d.strftime("%a %-d").to_string()).collect();
        for rt in innkeep_app::cache::room_types(&s.ports, id).await? {
            let rows = innkeep_app::cache::nights(&s.ports, rt.id, &range).await?;
            let cells = innkeep_app::catalog::effective_nights(&rt, &range, &rows)
                .iter()
                .map(|n| StripCell {
                    open: !n.closed && n.available > 0,
                    price: amount(n.price_minor, p.draft.currency),
                })
                .collect();
            page.strip.push((rt.draft.name.clone(), cells));
        }
    }
    Ok(render(&page))
}

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
struct CheckoutPage {
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
async fn checkout_page(
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
struct HoldPage {
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

async fn hold_page(ports: &Ports, v: &Visitor, b: &Booking, error: String) -> Result<HoldPage, PageError> {
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

fn status_label(s: BookingStatus) -> String {
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

struct TripView {
    id: String,
    property_id: String,
    property: String,
    room: String,
    dates: String,
    status: String,
    status_label: String,
    total: String,
    refund: String,
    held: bool,
    cancellable: bool,
}

#[derive(Template)]
#[template(path = "trips.html")]
struct TripsPage {
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
async fn trips_flash(ports: &Ports, actor: &Actor, q: &TripsQuery) -> Result<String, PageError> {
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
struct CancelPage {
    ctx: Ctx,
    id: String,
    property: String,
    room: String,
    dates: String,
    total: String,
    policy: String,
    refund: String,
    error: String,
}

async fn cancel_page(ports: &Ports, v: &Visitor, b: &Booking, error: String) -> Result<CancelPage, PageError> {
    let p = innkeep_app::catalog::property(ports, b.property_id).await?;
    let rt = innkeep_app::catalog::room_type(ports, b.room_type_id).await?;
    let refund = innkeep_app::booking::refund_if_cancelled(b, &p, ports.clock.now())?;
    Ok(CancelPage {
        ctx: v.ctx("Cancel booking"),
        id: b.id.to_string(),
        property: p.draft.name.clone(),
        room: rt.draft.name,
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        total: if b.status == BookingStatus::Held { money(Money::zero(b.total.currency)) } else { money(b.total) },
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
