//! The rates and availability calendar of a room type, a month at a time.

use super::*;

pub(super) struct DayCell {
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
pub(super) struct CalendarPage {
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
    /// Calendar sync with other channels, where the node does it.
    channels: Option<ChannelsPanel>,
}

/// The room type's export link and the feeds it imports.
pub(super) struct ChannelsPanel {
    export_url: String,
    can_change: bool,
    feeds: Vec<FeedRow>,
}

pub(super) struct FeedRow {
    id: String,
    name: String,
    url: String,
    status: String,
    error: String,
    held: usize,
    conflicts: Vec<String>,
}

async fn channels_panel(
    s: &AppState,
    a: &Actor,
    rt: &innkeep_app::store::RoomType,
) -> Result<Option<ChannelsPanel>, PageError> {
    let Some(settings) = &s.channels else { return Ok(None) };
    let export = innkeep_app::channels::export_of(&s.ports, a, rt.id).await?;
    let export_url = export
        .map(|e| format!("{}/ical/{}.ics", settings.public_url.trim_end_matches('/'), e.token))
        .unwrap_or_default();
    let mut feeds = Vec::new();
    for f in innkeep_app::channels::feeds(&s.ports, a, rt.id).await? {
        let (f, nights) = innkeep_app::channels::feed_of(&s.ports, a, f.id).await?;
        let status = match (f.last_status, f.last_sync_at) {
            (None, _) | (_, None) => crate::i18n::t("Not fetched yet").to_string(),
            (Some(innkeep_app::channels::SyncStatus::Error), Some(at)) => {
                crate::i18n::tf("Failed at {}", &[&at.strftime("%Y-%m-%d %H:%M UTC")])
            }
            (Some(_), Some(at)) => crate::i18n::tf("Fetched at {}", &[&at.strftime("%Y-%m-%d %H:%M UTC")]),
        };
        feeds.push(FeedRow {
            id: f.id.to_string(),
            name: f.name,
            url: f.url,
            status,
            error: f.last_error.unwrap_or_default(),
            held: nights.iter().filter(|n| n.applied).count(),
            conflicts: nights.iter().filter(|n| !n.applied).map(|n| n.night.to_string()).collect(),
        });
    }
    Ok(Some(ChannelsPanel { export_url, can_change: a.may(innkeep_core::Duty::Rates, rt.tenant_id), feeds }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
    saved: String,
    channels: String,
}

/// The first day of a month written `YYYY-MM`.
pub(crate) fn month_start(month: &str) -> Option<Date> {
    format!("{month}-01").parse::<Date>().ok().map(|d| d.first_of_month())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn calendar_page(
    s: &AppState,
    v: &Visitor,
    a: &Actor,
    id: RoomTypeId,
    month: &str,
    f: Fields,
    errors: FormErrors,
    flash: String,
) -> Result<CalendarPage, PageError> {
    let rt = innkeep_app::catalog::managed_room_type(&s.ports, a, id, innkeep_core::Duty::SeeTenant).await?;
    let p = innkeep_app::catalog::property(&s.ports, rt.property_id).await?;
    let today = p.draft.time_zone.today(s.ports.clock.now());
    let first = month_start(month).unwrap_or(today.first_of_month());
    let next = first.checked_add(jiff::Span::new().months(1)).unwrap_or(first);
    let prev = first.checked_sub(jiff::Span::new().months(1)).unwrap_or(first);
    let nights = read_calendar(&s.ports, a, id, first, next).await?;
    let channels = channels_panel(s, a, &rt).await?;
    let mut weeks: Vec<Vec<Option<DayCell>>> = Vec::new();
    let mut week: Vec<Option<DayCell>> = (1..first.weekday().to_monday_one_offset()).map(|_| None).collect();
    for n in nights {
        week.push(Some(DayCell {
            date: n.date.to_string(),
            label: n.date.day().to_string(),
            price: crate::i18n::amount(innkeep_core::Money::new(n.price_minor, p.draft.currency)),
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
        ctx: v.ctx(crate::i18n::tf("Calendar · {}", &[&rt.draft.name])),
        id: rt.id.to_string(),
        property_id: p.id.to_string(),
        property: p.draft.name.clone(),
        room: rt.draft.name.clone(),
        month_label: innkeep_core::format::month_year(first.year(), first.month(), crate::i18n::lang()),
        month: first.strftime("%Y-%m").to_string(),
        prev: prev.strftime("%Y-%m").to_string(),
        next: next.strftime("%Y-%m").to_string(),
        currency: p.draft.currency.code().to_string(),
        weeks,
        f,
        errors,
        flash,
        channels,
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
    let flash = match (q.saved.as_str(), q.channels.as_str()) {
        (_, "shared") => crate::i18n::t("Your calendar's link is ready: give it to the other channel."),
        (_, "stopped") => crate::i18n::t("The calendar is no longer shared; its old link stops working."),
        (_, "added") => crate::i18n::t("The calendar was added; it is fetched within seconds."),
        (_, "fetching") => crate::i18n::t("The calendar is fetched again within seconds."),
        (_, "removed") => crate::i18n::t("The calendar was removed and its nights reopened."),
        ("", _) => "",
        _ => crate::i18n::t("Calendar updated."),
    }
    .to_string();
    let page = calendar_page(&s, &v, &a, id, &q.month, Fields::default(), FormErrors::default(), flash).await?;
    Ok(render(&page))
}

/// POST /host/room-types/{id}/calendar: set price, closed, min stay or units on a range.
pub async fn calendar_set(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: RoomTypeId = id.parse().map_err(|_| PageError::NotFound)?;
    let rt = innkeep_app::catalog::managed_room_type(&s.ports, &a, id, innkeep_core::Duty::Rates).await?;
    let p = innkeep_app::catalog::property(&s.ports, rt.property_id).await?;
    // The month to show next goes into the redirect: checked before anything changes.
    let month = match f.raw("month").as_str() {
        "" => None,
        m => Some(
            month_start(m)
                .ok_or_else(|| PageError::Message(StatusCode::BAD_REQUEST, crate::i18n::t("Not a month.").into()))?,
        ),
    };
    let mut e = FormErrors::default();
    let from = f.get("from").parse::<Date>().map_err(|_| e.set("from", crate::i18n::t("Enter a date."))).ok();
    // The form's `to` is the last night, inclusive, as hosts think of it.
    let to = f.get("to").parse::<Date>().map_err(|_| e.set("to", crate::i18n::t("Enter a date."))).ok();
    let mut change = NightOverride::default();
    let price = f.get("price");
    if !price.is_empty() {
        match parse_amount(&price, p.draft.currency) {
            Some(m) => change.price_minor = Some(m),
            None => {
                e.set("price", crate::i18n::tf("Enter a price in {}, such as 120.00.", &[&p.draft.currency.code()]))
            }
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
            Err(_) => e.set("min_stay", crate::i18n::t("Minimum stay is a whole number of nights.")),
        }
    }
    let units = f.get("units");
    if !units.is_empty() {
        match units.parse() {
            Ok(u) => change.units = Some(u),
            Err(_) => e.set("units", crate::i18n::t("Units is a whole number.")),
        }
    }
    if let (Some(from), Some(to), true) = (from, to, e.fields.is_empty()) {
        let to_exclusive = to.tomorrow().unwrap_or(to);
        match set_calendar(&s.ports, &a, id, from, to_exclusive, change, s.ports.clock.now()).await {
            Ok(()) => {
                let m = month.unwrap_or(from).strftime("%Y-%m");
                return Ok(crate::redirect::to(&format!("/host/room-types/{id}/calendar?month={m}&saved=1")));
            }
            Err(err @ AppError::Invalid { field: "to", .. }) => e.set("to", crate::page::words(&err)),
            Err(err @ AppError::Invalid { .. }) => e.general = crate::page::words(&err),
            Err(AppError::Conflict(m)) => e.general = m,
            Err(err) => return Err(err.into()),
        }
    }
    let month = month.map(|m| m.strftime("%Y-%m").to_string()).unwrap_or_default();
    let page = calendar_page(&s, &v, &a, id, &month, f, e, String::new()).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST /host/room-types/{id}/ical-export: share the calendar (a new link replaces the old
/// one) or stop sharing it (`action=stop`).
pub async fn export_set(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: RoomTypeId = id.parse().map_err(|_| PageError::NotFound)?;
    let now = s.ports.clock.now();
    let flash = match f.get("action").as_str() {
        "stop" => {
            innkeep_app::channels::revoke_export(&s.ports, &a, id).await?;
            "stopped"
        }
        _ => {
            innkeep_app::channels::new_export(&s.ports, &a, id, now).await?;
            "shared"
        }
    };
    Ok(crate::redirect::to(&format!("/host/room-types/{id}/calendar?channels={flash}#channels")))
}

/// POST /host/room-types/{id}/ical-feeds: import another channel's feed.
pub async fn feed_add(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: RoomTypeId = id.parse().map_err(|_| PageError::NotFound)?;
    let Some(settings) = &s.channels else { return Err(PageError::NotFound) };
    let cmd = innkeep_app::channels::NewFeed { name: f.get("name"), url: f.get("url") };
    let mut e = FormErrors::default();
    match innkeep_app::channels::add_feed(&s.ports, &a, id, cmd, &settings.feed_urls, s.ports.clock.now()).await {
        Ok(_) => return Ok(crate::redirect::to(&format!("/host/room-types/{id}/calendar?channels=added#channels"))),
        Err(err @ AppError::Invalid { field: "name", .. }) => e.set("feed_name", crate::page::words(&err)),
        Err(err @ AppError::Invalid { field: "url", .. }) => e.set("feed_url", crate::page::words(&err)),
        Err(AppError::Conflict(m)) => e.general = m,
        Err(err) => return Err(err.into()),
    }
    let page = calendar_page(&s, &v, &a, id, "", f, e, String::new()).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST /host/ical-feeds/{id}/{action}: fetch a feed now (`sync`) or stop importing it
/// (`remove`, its nights reopen).
pub async fn feed_act(
    State(s): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
    _f: Fields,
) -> PageResult {
    let a = host(&v)?;
    let id: uuid::Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    let (feed, _) = innkeep_app::channels::feed_of(&s.ports, &a, id).await?;
    let now = s.ports.clock.now();
    let flash = match action.as_str() {
        "sync" => {
            innkeep_app::channels::sync_now(&s.ports, &a, id, now).await?;
            "fetching"
        }
        "remove" => {
            innkeep_app::channels::delete_feed(&s.ports, &a, id, now).await?;
            "removed"
        }
        _ => return Err(PageError::NotFound),
    };
    Ok(crate::redirect::to(&format!("/host/room-types/{}/calendar?channels={flash}#channels", feed.room_type_id)))
}
