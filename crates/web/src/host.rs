//! Host pages: properties, room types, the rates and availability calendar, bookings
//! with actions, a CSV export, and photo upload (a multipart form; the bytes go to the
//! object-storage port).

use crate::guest::Names;
use crate::page::{
    Ctx, Fields, FormErrors, PageError, PageResult, amount, day, money, parse_amount, render, render_status,
};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use innkeep_app::booking::{Action, act, list_bookings};
use innkeep_app::catalog::{
    calendar as read_calendar, create_property, create_room_type, managed_property, set_calendar,
};
use innkeep_app::node::AppState;
use innkeep_app::store::BookingFilter;
use innkeep_app::{Actor, AppError};
use innkeep_core::{
    Address, Amenity, BookingId, BookingStatus, CancellationPolicy, Charge, ChargeKind, CountryCode, Currency,
    NightOverride, Occupancy, PropertyDraft, PropertyId, PropertyType, RatePlan, Role, RoomTypeDraft, RoomTypeId,
    TimeZoneName,
};
use jiff::civil::{Date, Time};
use serde::Deserialize;

fn host(v: &Visitor) -> Result<Actor, PageError> {
    let a = v.actor()?;
    if a.role != Role::Host {
        return Err(PageError::Forbidden("Only hosts can see this page. Sign up as a host to list a property.".into()));
    }
    Ok(a)
}

struct PropertyRow {
    id: String,
    initial: String,
    name: String,
    city: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "host_dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    properties: Vec<PropertyRow>,
}

/// GET /host
pub async fn dashboard(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = host(&v)?;
    let list = s.ports.store.list_properties(a.tenant_id, 200, 0).await.map_err(AppError::from)?;
    let properties = list
        .iter()
        .map(|p| PropertyRow {
            id: p.id.to_string(),
            initial: p.draft.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default(),
            name: p.draft.name.clone(),
            city: p.draft.address.city.clone(),
            kind: p.draft.property_type.as_str().replace('_', " "),
        })
        .collect();
    Ok(render(&Dashboard { ctx: v.ctx("My properties"), properties }))
}

#[derive(Template)]
#[template(path = "host_property_form.html")]
struct PropertyForm {
    ctx: Ctx,
    f: Fields,
    errors: FormErrors,
    types: Vec<(String, String)>,
    policies: Vec<String>,
    amenities: Vec<(String, String, bool)>,
}

fn property_form_page(v: &Visitor, f: Fields, errors: FormErrors) -> PropertyForm {
    let chosen = f.all("amenities");
    PropertyForm {
        ctx: v.ctx("New property"),
        types: PropertyType::ALL.iter().map(|t| (t.as_str().to_string(), t.as_str().replace('_', " "))).collect(),
        policies: ["flexible", "moderate", "strict", "non_refundable"].iter().map(|p| p.to_string()).collect(),
        amenities: Amenity::ALL
            .iter()
            .map(|a| {
                let key = amenity_key(*a);
                let on = chosen.contains(&key);
                (key.clone(), key.replace('_', " "), on)
            })
            .collect(),
        f,
        errors,
    }
}

fn amenity_key(a: Amenity) -> String {
    // The serde name is the stable snake_case key.
    let debug = format!("{a:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// GET /host/properties/new
pub async fn property_form(v: Visitor) -> PageResult {
    host(&v)?;
    let defaults = Fields(vec![
        ("property_type".into(), "guesthouse".into()),
        ("time_zone".into(), "Europe/Lisbon".into()),
        ("currency".into(), "EUR".into()),
        ("country".into(), "PT".into()),
        ("check_in_time".into(), "15:00".into()),
        ("check_out_time".into(), "11:00".into()),
        ("cancellation_policy".into(), "flexible".into()),
    ]);
    Ok(render(&property_form_page(&v, defaults, FormErrors::default())))
}

fn parse_property(f: &Fields) -> Result<PropertyDraft, FormErrors> {
    let mut e = FormErrors::default();
    let property_type = PropertyType::parse(&f.get("property_type"));
    if property_type.is_none() {
        e.set("property_type", "Choose a property type.");
    }
    let country = CountryCode::parse(&f.get("country").to_uppercase());
    if country.is_err() {
        e.set("country", "Use a two-letter ISO country code such as PT.");
    }
    let tz = TimeZoneName::parse(&f.get("time_zone"));
    if tz.is_err() {
        e.set("time_zone", "Use an IANA time zone such as Europe/Lisbon.");
    }
    let currency = Currency::parse(&f.get("currency").to_uppercase());
    if currency.is_err() {
        e.set("currency", "Use an ISO 4217 currency code such as EUR.");
    }
    let lat = f.get("latitude").parse::<f64>();
    if lat.is_err() {
        e.set("latitude", "Latitude is a number between -90 and 90.");
    }
    let lon = f.get("longitude").parse::<f64>();
    if lon.is_err() {
        e.set("longitude", "Longitude is a number between -180 and 180.");
    }
    let cin = f.get("check_in_time").parse::<Time>();
    if cin.is_err() {
        e.set("check_in_time", "Use a time such as 15:00.");
    }
    let cout = f.get("check_out_time").parse::<Time>();
    if cout.is_err() {
        e.set("check_out_time", "Use a time such as 11:00.");
    }
    let policy = CancellationPolicy::parse(&f.get("cancellation_policy"));
    if policy.is_none() {
        e.set("cancellation_policy", "Choose a cancellation policy.");
    }
    let amenities: Vec<Amenity> =
        Amenity::ALL.into_iter().filter(|a| f.all("amenities").contains(&amenity_key(*a))).collect();
    match (property_type, country, tz, currency, lat, lon, cin, cout, policy) {
        (Some(t), Ok(country), Ok(tz), Ok(currency), Ok(lat), Ok(lon), Ok(cin), Ok(cout), Some(policy))
            if e.fields.is_empty() =>
        {
            let line = f.get("address_line");
            let opt = |k: &str| Some(f.get(k)).filter(|v| !v.is_empty());
            Ok(PropertyDraft {
                name: f.get("name"),
                description: f.get("description"),
                property_type: t,
                address: Address {
                    lines: if line.is_empty() { Vec::new() } else { vec![line] },
                    city: f.get("city"),
                    region: None,
                    postal_code: opt("postal_code"),
                    country,
                },
                latitude: lat,
                longitude: lon,
                time_zone: tz,
                currency,
                check_in_time: cin,
                check_out_time: cout,
                amenities,
                cancellation_policy: policy,
            })
        }
        _ => Err(e),
    }
}

/// Map a core field name to the form's input name.
fn form_field(field: &str) -> &str {
    match field {
        "address.lines" => "address_line",
        "address.city" => "city",
        "address.postal_code" => "postal_code",
        "address.country" => "country",
        other => other,
    }
}

/// POST /host/properties/new
pub async fn property_create(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = host(&v)?;
    let draft = match parse_property(&f) {
        Ok(d) => d,
        Err(errors) => return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_form_page(&v, f, errors))),
    };
    match create_property(&s.ports, &a, draft, s.ports.clock.now()).await {
        Ok(p) => Ok(crate::redirect::to(&format!("/host/properties/{}", p.id))),
        Err(AppError::Invalid { field, message, .. }) => {
            let mut errors = FormErrors::default();
            errors.set(form_field(field), message);
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_form_page(&v, f, errors)))
        }
        Err(e) => Err(e.into()),
    }
}

struct RoomRow {
    id: String,
    name: String,
    units: u32,
    rate: String,
    occupancy: String,
}

#[derive(Template)]
#[template(path = "host_property.html")]
struct PropertyPage {
    ctx: Ctx,
    id: String,
    name: String,
    city: String,
    currency: String,
    rooms: Vec<RoomRow>,
    f: Fields,
    errors: FormErrors,
    photos: Vec<PhotoView>,
    photo_error: String,
    photo_flash: String,
    uploads: bool,
}

/// A photo as a page shows it.
pub struct PhotoView {
    pub url: String,
    pub alt: String,
}

impl PhotoView {
    /// The page's view of a stored photo.
    pub fn of(p: &innkeep_app::store::Photo) -> PhotoView {
        PhotoView { url: format!("/photos/{}", p.id), alt: p.alt.clone() }
    }
}

async fn property_page_of(
    s: &AppState,
    v: &Visitor,
    a: &Actor,
    id: PropertyId,
    f: Fields,
    errors: FormErrors,
) -> Result<PropertyPage, PageError> {
    let p = managed_property(&s.ports, a, id).await?;
    let rooms = s
        .ports
        .store
        .room_types_of(id)
        .await
        .map_err(AppError::from)?
        .iter()
        .map(|r| RoomRow {
            id: r.id.to_string(),
            name: r.draft.name.clone(),
            units: r.draft.units,
            rate: money(innkeep_core::Money::new(r.draft.base_rate_minor, p.draft.currency)),
            occupancy: format!(
                "{} adults, {} children, {} in total",
                r.draft.occupancy.max_adults, r.draft.occupancy.max_children, r.draft.occupancy.max_total
            ),
        })
        .collect();
    let photos = s.ports.store.photos_of(id).await.map_err(AppError::from)?.iter().map(PhotoView::of).collect();
    Ok(PropertyPage {
        ctx: v.ctx(p.draft.name.clone()),
        id: p.id.to_string(),
        name: p.draft.name.clone(),
        city: p.draft.address.city.clone(),
        currency: p.draft.currency.code().to_string(),
        rooms,
        f,
        errors,
        photos,
        photo_error: String::new(),
        photo_flash: String::new(),
        uploads: s.objects.is_some(),
    })
}

/// The new room type form's starting values.
fn room_defaults() -> Fields {
    Fields(vec![
        ("units".into(), "5".into()),
        ("max_adults".into(), "2".into()),
        ("max_children".into(), "1".into()),
        ("max_total".into(), "3".into()),
        ("min_stay".into(), "1".into()),
        ("max_stay".into(), "30".into()),
        ("beds".into(), "1 double bed".into()),
    ])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PropertyQuery {
    photo: String,
}

/// GET /host/properties/{id}
pub async fn property_page(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<PropertyQuery>,
) -> PageResult {
    let a = host(&v)?;
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    let mut page = property_page_of(&s, &v, &a, id, room_defaults(), FormErrors::default()).await?;
    if q.photo == "added" {
        page.photo_flash = "Photo added.".into();
    }
    Ok(render(&page))
}

/// POST /host/properties/{id}/photos: a multipart form with `photo` (the file) and `alt`.
pub async fn photo_upload(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> PageResult {
    let a = host(&v)?;
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    managed_property(&s.ports, &a, id).await?;
    let Some(objects) = s.objects.clone() else { return Err(PageError::NotFound) };
    let bytes = axum::body::to_bytes(body, crate::session::UPLOAD_LIMIT).await.map_err(|_| PageError::TooLarge)?;
    let boundary = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(crate::multipart::boundary);
    let parts = match boundary {
        Some(b) => crate::multipart::parts(&bytes, &b).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let alt = field("alt").map(|p| String::from_utf8_lossy(&p.bytes).into_owned()).unwrap_or_default();
    let (status, message) = match field("photo").filter(|p| !p.bytes.is_empty()) {
        None => (StatusCode::UNPROCESSABLE_ENTITY, "Choose a photo to upload.".to_string()),
        Some(photo) => {
            let new = innkeep_app::photo::NewPhoto { bytes: photo.bytes.clone(), alt };
            match innkeep_app::photo::add_photo(&s.ports, objects.as_ref(), &a, id, new, s.ports.clock.now()).await {
                Ok(_) => return Ok(crate::redirect::to(&format!("/host/properties/{id}?photo=added#photos"))),
                Err(AppError::Invalid { code: "photo_too_large", message, .. }) => {
                    (StatusCode::PAYLOAD_TOO_LARGE, format!("That photo is too large: {message}."))
                }
                Err(AppError::Invalid { code: "unsupported_media_type", .. }) => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "That file is not a photo we can show: use a JPEG, PNG or WebP image.".to_string(),
                ),
                Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, message)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let mut page = property_page_of(&s, &v, &a, id, room_defaults(), FormErrors::default()).await?;
    page.photo_error = message;
    Ok(render_status(status, &page))
}

fn num<T: std::str::FromStr>(f: &Fields, e: &mut FormErrors, key: &str, label: &str) -> Option<T> {
    match f.get(key).parse::<T>() {
        Ok(v) => Some(v),
        Err(_) => {
            e.set(key, format!("{label} must be a whole number."));
            None
        }
    }
}

/// POST /host/properties/{id}: add a room type.
pub async fn room_type_create(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    let p = managed_property(&s.ports, &a, id).await?;
    let mut e = FormErrors::default();
    let units = num::<u32>(&f, &mut e, "units", "Units");
    let max_adults = num::<u16>(&f, &mut e, "max_adults", "Adults");
    let max_children = num::<u16>(&f, &mut e, "max_children", "Children");
    let max_total = num::<u16>(&f, &mut e, "max_total", "Guests in total");
    let min_stay = num::<u16>(&f, &mut e, "min_stay", "Minimum stay");
    let max_stay = num::<u16>(&f, &mut e, "max_stay", "Maximum stay");
    let rate = parse_amount(&f.get("base_rate"), p.draft.currency);
    if rate.is_none() {
        e.set("base_rate", format!("Enter the nightly rate in {}, such as 120.00.", p.draft.currency.code()));
    }
    let vat = f.get("vat_percent");
    let vat_bp = if vat.is_empty() {
        Some(None)
    } else {
        match vat.parse::<f64>() {
            Ok(x) if (0.0..=100.0).contains(&x) => Some(Some((x * 100.0).round() as i64)),
            _ => {
                e.set("vat_percent", "VAT is a percentage between 0 and 100.");
                None
            }
        }
    };
    let (
        Some(units),
        Some(max_adults),
        Some(max_children),
        Some(max_total),
        Some(min_stay),
        Some(max_stay),
        Some(rate),
        Some(vat_bp),
    ) = (units, max_adults, max_children, max_total, min_stay, max_stay, rate, vat_bp)
    else {
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_page_of(&s, &v, &a, id, f, e).await?));
    };
    let charges = vat_bp
        .map(|bp| vec![Charge { name: "VAT".into(), kind: ChargeKind::Percent, amount: bp, tax: true }])
        .unwrap_or_default();
    let draft = RoomTypeDraft {
        name: f.get("name"),
        description: f.get("description"),
        occupancy: Occupancy { max_adults, max_children, max_total },
        beds: f.get("beds"),
        units,
        base_rate_minor: rate,
        min_stay,
        max_stay,
        rate_plan: RatePlan { charges, ..RatePlan::default() },
    };
    match create_room_type(&s.ports, &a, id, draft, s.ports.clock.now()).await {
        Ok(rt) => Ok(crate::redirect::to(&format!("/host/room-types/{}/calendar", rt.id))),
        Err(AppError::Invalid { message, .. }) => {
            let e = FormErrors { general: message, ..FormErrors::default() };
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_page_of(&s, &v, &a, id, f, e).await?))
        }
        Err(err) => Err(err.into()),
    }
}

struct DayCell {
    date: String,
    label: String,
    price: String,
    available: u32,
    units: u32,
    closed: bool,
    past: bool,
}

#[derive(Template)]
#[template(path = "host_calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    id: String,
    property_id: String,
    property: String,
    room: String,
    month_label: String,
    month: String,
    prev: String,
    next: String,
    currency: String,
    weeks: Vec<Vec<Option<DayCell>>>,
    f: Fields,
    errors: FormErrors,
    flash: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
    saved: String,
}

/// The first day of a month written `YYYY-MM`.
fn month_start(month: &str) -> Option<Date> {
    format!("{month}-01").parse::<Date>().ok().map(|d| d.first_of_month())
}

#[allow(clippy::too_many_arguments)]
async fn calendar_page(
    s: &AppState,
    v: &Visitor,
    a: &Actor,
    id: RoomTypeId,
    month: &str,
    f: Fields,
    errors: FormErrors,
    flash: String,
) -> Result<CalendarPage, PageError> {
    let rt = innkeep_app::catalog::managed_room_type(&s.ports, a, id).await?;
    let p = innkeep_app::catalog::property(&s.ports, rt.property_id).await?;
    let today = p.draft.time_zone.today(s.ports.clock.now());
    let first = month_start(month).unwrap_or(today.first_of_month());
    let next = first.checked_add(jiff::Span::new().months(1)).unwrap_or(first);
    let prev = first.checked_sub(jiff::Span::new().months(1)).unwrap_or(first);
    let nights = read_calendar(&s.ports, a, id, first, next).await?;
    let mut weeks: Vec<Vec<Option<DayCell>>> = Vec::new();
    let mut week: Vec<Option<DayCell>> = (1..first.weekday().to_monday_one_offset()).map(|_| None).collect();
    for n in nights {
        week.push(Some(DayCell {
            date: n.date.to_string(),
            label: n.date.day().to_string(),
            price: amount(n.price_minor, p.draft.currency),
            available: n.available,
            units: n.units,
            closed: n.closed,
            past: n.date < today,
        }));
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
    }
    if !week.is_empty() {
        while week.len() < 7 {
            week.push(None);
        }
        weeks.push(week);
    }
    Ok(CalendarPage {
        ctx: v.ctx(format!("Calendar · {}", rt.draft.name)),
        id: rt.id.to_string(),
        property_id: p.id.to_string(),
        property: p.draft.name.clone(),
        room: rt.draft.name.clone(),
        month_label: first.strftime("%B %Y").to_string(),
        month: first.strftime("%Y-%m").to_string(),
        prev: prev.strftime("%Y-%m").to_string(),
        next: next.strftime("%Y-%m").to_string(),
        currency: p.draft.currency.code().to_string(),
        weeks,
        f,
        errors,
        flash,
    })
}

/// GET /host/room-types/{id}/calendar
pub async fn calendar(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let a = host(&v)?;
    let id: RoomTypeId = id.parse().map_err(|_| PageError::NotFound)?;
    let flash = if q.saved.is_empty() { String::new() } else { "Calendar updated.".to_string() };
    let page = calendar_page(&s, &v, &a, id, &q.month, Fields::default(), FormErrors::default(), flash).await?;
    Ok(render(&page))
}

/// POST /host/room-types/{id}/calendar: set price, closed, min stay or units on a range.
pub async fn calendar_set(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: RoomTypeId = id.parse().map_err(|_| PageError::NotFound)?;
    let rt = innkeep_app::catalog::managed_room_type(&s.ports, &a, id).await?;
    let p = innkeep_app::catalog::property(&s.ports, rt.property_id).await?;
    // The month to show next goes into the redirect: checked before anything changes.
    let month = match f.raw("month").as_str() {
        "" => None,
        m => Some(month_start(m).ok_or_else(|| PageError::Message(StatusCode::BAD_REQUEST, "Not a month.".into()))?),
    };
    let mut e = FormErrors::default();
    let from = f.get("from").parse::<Date>().map_err(|_| e.set("from", "Enter a date.")).ok();
    // The form's `to` is the last night, inclusive, as hosts think of it.
    let to = f.get("to").parse::<Date>().map_err(|_| e.set("to", "Enter a date.")).ok();
    let mut change = NightOverride::default();
    let price = f.get("price");
    if !price.is_empty() {
        match parse_amount(&price, p.draft.currency) {
            Some(m) => change.price_minor = Some(m),
            None => e.set("price", format!("Enter a price in {}, such as 120.00.", p.draft.currency.code())),
        }
    }
    match f.get("closed").as_str() {
        "closed" => change.closed = Some(true),
        "open" => change.closed = Some(false),
        _ => {}
    }
    let min_stay = f.get("min_stay");
    if !min_stay.is_empty() {
        match min_stay.parse() {
            Ok(m) => change.min_stay = Some(m),
            Err(_) => e.set("min_stay", "Minimum stay is a whole number of nights."),
        }
    }
    let units = f.get("units");
    if !units.is_empty() {
        match units.parse() {
            Ok(u) => change.units = Some(u),
            Err(_) => e.set("units", "Units is a whole number."),
        }
    }
    if let (Some(from), Some(to), true) = (from, to, e.fields.is_empty()) {
        let to_exclusive = to.tomorrow().unwrap_or(to);
        match set_calendar(&s.ports, &a, id, from, to_exclusive, change, s.ports.clock.now()).await {
            Ok(()) => {
                let m = month.unwrap_or(from).strftime("%Y-%m");
                return Ok(crate::redirect::to(&format!("/host/room-types/{id}/calendar?month={m}&saved=1")));
            }
            Err(AppError::Invalid { field: "to", message, .. }) => e.set("to", message),
            Err(AppError::Invalid { message, .. }) => e.general = message,
            Err(AppError::Conflict(m)) => e.general = m,
            Err(err) => return Err(err.into()),
        }
    }
    let month = month.map(|m| m.strftime("%Y-%m").to_string()).unwrap_or_default();
    let page = calendar_page(&s, &v, &a, id, &month, f, e, String::new()).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BookingsQuery {
    property: String,
    status: String,
    done: String,
}

struct BookingRow {
    id: String,
    property: String,
    room: String,
    guest: String,
    dates: String,
    status: String,
    total: String,
    actions: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "host_bookings.html")]
struct BookingsPage {
    ctx: Ctx,
    properties: Vec<(String, String, bool)>,
    statuses: Vec<(String, bool)>,
    rows: Vec<BookingRow>,
    flash: String,
    query: String,
}

fn actions_for(s: BookingStatus) -> Vec<(String, String)> {
    let list: &[(&str, &str)] = match s {
        BookingStatus::Held => &[("confirm", "Confirm"), ("cancel", "Cancel")],
        BookingStatus::Confirmed => &[("check-in", "Check in"), ("no-show", "No-show"), ("cancel", "Cancel")],
        BookingStatus::CheckedIn => &[("complete", "Complete")],
        _ => &[],
    };
    list.iter().map(|(a, l)| (a.to_string(), l.to_string())).collect()
}

async fn host_bookings(
    s: &AppState,
    a: &Actor,
    q: &BookingsQuery,
) -> Result<Vec<innkeep_app::store::Booking>, PageError> {
    let filter = BookingFilter {
        property_id: q.property.parse().ok(),
        status: BookingStatus::parse(&q.status),
        limit: 200,
        ..BookingFilter::default()
    };
    Ok(list_bookings(&s.ports, a, filter).await?)
}

/// GET /host/bookings
pub async fn bookings(State(s): State<AppState>, v: Visitor, Query(q): Query<BookingsQuery>) -> PageResult {
    let a = host(&v)?;
    let list = host_bookings(&s, &a, &q).await?;
    let mut names = Names::default();
    let mut rows = Vec::new();
    for b in &list {
        rows.push(BookingRow {
            id: b.id.to_string(),
            property: names.property(&s.ports, b.property_id).await?,
            room: names.room(&s.ports, b.room_type_id).await?,
            guest: b.guest.name.clone(),
            dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
            status: b.status.as_str().replace('_', " "),
            total: money(b.total),
            actions: actions_for(b.status),
        });
    }
    let props = s.ports.store.list_properties(a.tenant_id, 200, 0).await.map_err(AppError::from)?;
    let properties =
        props.iter().map(|p| (p.id.to_string(), p.draft.name.clone(), p.id.to_string() == q.property)).collect();
    let statuses = BookingStatus::ALL.iter().map(|st| (st.as_str().to_string(), st.as_str() == q.status)).collect();
    let flash = if q.done.is_empty() { String::new() } else { "Booking updated.".to_string() };
    let query = format!(
        "property={}&status={}",
        crate::session::url_encode(&q.property),
        crate::session::url_encode(&q.status)
    );
    Ok(render(&BookingsPage { ctx: v.ctx("Bookings"), properties, statuses, rows, flash, query }))
}

/// A CSV field, quoted, with spreadsheet formulas defused.
fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// GET /host/bookings.csv
pub async fn bookings_csv(State(s): State<AppState>, v: Visitor, Query(q): Query<BookingsQuery>) -> PageResult {
    let a = host(&v)?;
    let list = host_bookings(&s, &a, &q).await?;
    let mut names = Names::default();
    let mut out = String::from(
        "id,status,property,room_type,check_in,check_out,adults,children,guest_name,guest_email,total,currency,created_at\r\n",
    );
    for b in &list {
        let cur = b.total.currency;
        let row = [
            b.id.to_string(),
            b.status.as_str().to_string(),
            names.property(&s.ports, b.property_id).await?,
            names.room(&s.ports, b.room_type_id).await?,
            b.check_in.to_string(),
            b.check_out.to_string(),
            b.adults.to_string(),
            b.children.to_string(),
            b.guest.name.clone(),
            b.guest.email.clone(),
            amount(b.total.minor, cur).replace(',', ""),
            cur.code().to_string(),
            b.created_at.to_string(),
        ];
        out.push_str(&row.iter().map(|f| csv(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let mut r = out.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"bookings.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// POST /host/bookings/{id}/{action}
pub async fn booking_act(
    State(s): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
    f: Fields,
) -> PageResult {
    let a = host(&v)?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let action = match action.as_str() {
        "confirm" => Action::Confirm,
        "cancel" => Action::Cancel,
        "check-in" => Action::CheckIn,
        "complete" => Action::Complete,
        "no-show" => Action::NoShow,
        _ => return Err(PageError::NotFound),
    };
    // The list to return to goes into the redirect: checked before the booking changes.
    let back = bookings_back(&f.raw("back"))?;
    act(&s.ports, &a, id, action, s.ports.clock.now()).await?;
    Ok(crate::redirect::to(&format!("/host/bookings?{back}done=1")))
}

/// The bookings list's filter as its action forms carry it (`property=ID&status=STATUS`),
/// written again as a query prefix ending in `&` ("" for none); anything else is a 400.
fn bookings_back(back: &str) -> Result<String, PageError> {
    let mut query = String::new();
    for (k, v) in crate::session::form_pairs(back.as_bytes()) {
        let known = match k.as_str() {
            "property" => v.is_empty() || v.parse::<PropertyId>().is_ok(),
            "status" => v.is_empty() || BookingStatus::parse(&v).is_some(),
            _ => false,
        };
        if !known {
            return Err(PageError::Message(StatusCode::BAD_REQUEST, "The list to return to is not valid.".into()));
        }
        query.push_str(&format!("{k}={}&", crate::session::url_encode(&v)));
    }
    Ok(query)
}
