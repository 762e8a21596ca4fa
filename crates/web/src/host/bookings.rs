//! The host's bookings: the list, the CSV export, and acting on a booking.

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BookingsQuery {
    property: String,
    status: String,
    done: String,
}

pub(super) struct BookingRow {
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
pub(super) struct BookingsPage {
    ctx: Ctx,
    properties: Vec<(String, String, bool)>,
    statuses: Vec<(String, bool)>,
    rows: Vec<BookingRow>,
    flash: String,
    query: String,
    /// `query` as one query parameter's value (the cancel question's `back`).
    query_param: String,
}

pub(super) fn actions_for(s: BookingStatus) -> Vec<(String, String)> {
    let list: &[(&str, &str)] = match s {
        BookingStatus::Held => &[("confirm", crate::i18n::t("Confirm")), ("cancel", crate::i18n::t("Cancel"))],
        BookingStatus::Confirmed => &[
            ("check-in", crate::i18n::t("Check in")),
            ("no-show", crate::i18n::t("No-show")),
            ("cancel", crate::i18n::t("Cancel")),
        ],
        BookingStatus::CheckedIn => &[("complete", crate::i18n::t("Complete"))],
        _ => &[],
    };
    list.iter().map(|(a, l)| (a.to_string(), l.to_string())).collect()
}

pub(super) async fn host_bookings(
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
            room: rooms_of(names.room(&s.ports, b.room_type_id).await?, b.rooms),
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
    let flash = if q.done.is_empty() { String::new() } else { crate::i18n::t("Booking updated.").to_string() };
    let query = format!(
        "property={}&status={}",
        crate::session::url_encode(&q.property),
        crate::session::url_encode(&q.status)
    );
    let query_param = crate::session::url_encode(&query);
    Ok(render(&BookingsPage { ctx: v.ctx("Bookings"), properties, statuses, rows, flash, query, query_param }))
}

/// A CSV field, quoted, with spreadsheet formulas defused.
pub(super) fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A room type's name with how many of its rooms a booking takes, when more than one.
fn rooms_of(name: String, rooms: u16) -> String {
    if rooms > 1 { format!("{name} × {rooms}") } else { name }
}

/// GET /host/bookings.csv
pub async fn bookings_csv(State(s): State<AppState>, v: Visitor, Query(q): Query<BookingsQuery>) -> PageResult {
    let a = host(&v)?;
    let list = host_bookings(&s, &a, &q).await?;
    let mut names = Names::default();
    let mut out = String::from(
        "id,status,property,room_type,check_in,check_out,adults,children,guest_name,guest_email,total,currency,created_at,rooms\r\n",
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
            b.rooms.to_string(),
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

/// Which list the cancel question returns to (the bookings list's own query).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BackQuery {
    back: String,
}

#[derive(Template)]
#[template(path = "host_cancel.html")]
pub(super) struct CancelQuestion {
    ctx: Ctx,
    id: String,
    guest: String,
    property: String,
    room: String,
    dates: String,
    total: String,
    paid: String,
    policy: String,
    refund: String,
    back: String,
    /// Only held, never confirmed.
    hold: bool,
}

/// GET /host/bookings/{id}/cancel: what cancelling the guest's booking does, asked before it is done.
pub async fn booking_cancel_question(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<BackQuery>,
) -> PageResult {
    let a = host(&v)?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let back = bookings_back(&q.back)?;
    let b = innkeep_app::booking::visible_booking(&s.ports, &a, id).await?;
    if !a.may(innkeep_core::Duty::ChangeBookings, b.tenant_id) {
        return Err(AppError::Forbidden("the property's staff whose role allows it").into());
    }
    if !matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed) {
        return Ok(crate::redirect::to(&format!("/host/bookings?{back}")));
    }
    let p = innkeep_app::catalog::property(&s.ports, b.property_id).await?;
    let mut names = Names::default();
    let refund = innkeep_app::booking::refund_if_cancelled(&b, &p, s.ports.clock.now())?;
    let payments = s.ports.store.payments_of_booking(b.id).await.map_err(AppError::from)?;
    let (received, _) = crate::guest::received_and_refunded(&payments, &b)?;
    let page = CancelQuestion {
        ctx: v.ctx("Cancel this booking?"),
        id: b.id.to_string(),
        guest: b.guest.name.clone(),
        property: p.draft.name.clone(),
        room: rooms_of(names.room(&s.ports, b.room_type_id).await?, b.rooms),
        dates: format!("{} → {}", day(b.check_in), day(b.check_out)),
        total: money(b.total),
        paid: if received.minor > 0 { money(received) } else { String::new() },
        policy: crate::guest::policy_label(p.draft.cancellation_policy),
        refund: money(refund),
        back: back.trim_end_matches('&').to_string(),
        hold: b.status == BookingStatus::Held,
    };
    let mut r = render(&page);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// POST /host/bookings/{id}/cancel: cancels only with the question's `confirm=yes`; without
/// it, the question is asked first.
pub async fn booking_cancel(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: BookingId = id.parse().map_err(|_| PageError::NotFound)?;
    let back = bookings_back(&f.raw("back"))?;
    if f.get("confirm") != "yes" {
        let back = crate::session::url_encode(back.trim_end_matches('&'));
        return Ok(crate::redirect::to(&format!("/host/bookings/{id}/cancel?back={back}")));
    }
    act(&s.ports, &a, id, Action::Cancel, s.ports.clock.now()).await?;
    Ok(crate::redirect::to(&format!("/host/bookings?{back}done=1")))
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
pub(super) fn bookings_back(back: &str) -> Result<String, PageError> {
    let mut query = String::new();
    for (k, v) in crate::session::form_pairs(back.as_bytes()) {
        let known = match k.as_str() {
            "property" => v.is_empty() || v.parse::<PropertyId>().is_ok(),
            "status" => v.is_empty() || BookingStatus::parse(&v).is_some(),
            _ => false,
        };
        if !known {
            return Err(PageError::Message(
                StatusCode::BAD_REQUEST,
                crate::i18n::t("The list to return to is not valid.").into(),
            ));
        }
        query.push_str(&format!("{k}={}&", crate::session::url_encode(&v)));
    }
    Ok(query)
}
