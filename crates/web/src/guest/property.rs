//! A property's page: its room types, prices for the stay, and the availability strip.

use super::*;

pub(super) struct PropertyView {
    id: String,
    name: String,
    kind: String,
    address: String,
    policy: String,
    description: String,
    amenities: Vec<String>,
    initial: String,
}

pub(super) fn property_view(p: &Property) -> PropertyView {
    let d = &p.draft;
    PropertyView {
        id: p.id.to_string(),
        name: d.name.clone(),
        kind: type_label(d.property_type),
        address: d.address.one_line(),
        policy: crate::guest::policy_label(d.cancellation_policy),
        description: d.description.clone(),
        amenities: d.amenities.iter().map(|a| crate::i18n::t(a.label()).to_string()).collect(),
        initial: initial(&d.name),
    }
}

pub(super) struct OfferView {
    room_type_id: String,
    name: String,
    beds: String,
    max_total: u16,
    units_left: u32,
    lines: Vec<(String, String)>,
    total: String,
    /// The total in the guest's preferred currency, approximately ("" for none).
    approx: String,
}

/// A day of the date picker: a link that chooses it (as check-in, or as check-out once a
/// check-in is chosen), with the lowest price of a night that night where one is free.
pub(super) struct PickDay {
    day: i8,
    /// "Mon 4 Jan 2027, from EUR 95" for screen readers.
    label: String,
    /// The lowest nightly price of a room that fits the party ("" when none is free).
    price: String,
    /// Where choosing this day goes ("" when it cannot be chosen: past, or nothing free as check-in).
    href: String,
    /// "check-in", "check-out", "in-range" or "".
    state: &'static str,
    past: bool,
}

/// The date range picker: a month of days, links to the months around it, and what to do next.
pub(super) struct Picker {
    month: String,
    prev: String,
    next: String,
    weeks: Vec<Vec<Option<PickDay>>>,
    /// What the next choice sets.
    hint: String,
    currency: String,
}

pub(super) struct StripCell {
    open: bool,
    price: String,
}

#[derive(Template)]
#[template(path = "property.html")]
pub(super) struct PropertyPage {
    ctx: Ctx,
    p: PropertyView,
    form: SearchForm,
    offers: Vec<OfferView>,
    nights: i64,
    error: String,
    strip_days: Vec<String>,
    strip: Vec<(String, Vec<StripCell>)>,
    picker: Option<Picker>,
    photos: Vec<crate::host::PhotoView>,
    /// "8.6 · 12 reviews" ("" before the first review).
    rating: String,
    reviews: Vec<ReviewLine>,
    /// Stays its guests also stayed at, or like it: (name and city, link).
    similar: Vec<(String, String)>,
}

/// GET /properties/{id}
pub async fn property(
    State(s): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(form): Query<SearchForm>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> PageResult {
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    let now = s.ports.clock.now();
    let p = innkeep_app::cache::property(&s.ports, id).await?;
    let form = form.with_defaults(now).with_ages(raw.as_deref());
    let mut page = PropertyPage {
        ctx: v.ctx(p.draft.name.clone()),
        p: property_view(&p),
        form: form.clone(),
        offers: Vec::new(),
        nights: 0,
        error: String::new(),
        strip_days: Vec::new(),
        strip: Vec::new(),
        picker: None,
        photos: s
            .ports
            .store
            .photos_of(id)
            .await
            .map_err(AppError::from)?
            .iter()
            .map(crate::host::PhotoView::of)
            .collect(),
        rating: String::new(),
        reviews: Vec::new(),
        similar: Vec::new(),
    };
    crate::seen::record(&s, &v, "view", Some(id), serde_json::json!({}));
    if let Some(model) = &s.recommender {
        for sug in innkeep_app::recommend::similar(&s.ports, &model.model(), id, 5).await? {
            let d = &sug.property.draft;
            page.similar.push((format!("{}, {}", d.name, d.address.city), format!("/properties/{}", sug.property.id)));
        }
    }
    let (rating, reviews) = innkeep_app::review::property_reviews(&s.ports, id, 10, 0).await?;
    page.rating = rating_label(rating.as_ref());
    page.reviews = reviews.iter().map(ReviewLine::of).collect();
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
                            approx: approx(&v, o.quote.total),
                        })
                        .collect()
                }
                Err(e @ AppError::Invalid { .. }) => page.error = crate::page::words(&e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(m) => page.error = m,
    }
    let today = p.draft.time_zone.today(now);
    page.picker = Some(picker(&s.ports, &p, &form, today).await?);
    // The strip starts at the chosen check-in (or today) and shows 14 nights per room type.
    let start = form.check_in.parse::<Date>().ok().filter(|d| *d >= today).unwrap_or(today);
    if let Ok(range) = Stay::range(start, plus_days(start, 14)) {
        page.strip_days = range
            .each_night()
            .map(|d| format!("{} {}", innkeep_core::format::weekday_short(d.weekday(), crate::i18n::lang()), d.day()))
            .collect();
        for rt in innkeep_app::cache::room_types(&s.ports, id).await? {
            let rows = innkeep_app::cache::nights(&s.ports, rt.id, &range).await?;
            let cells = innkeep_core::night::effective_nights(&rt.draft, &range, &rows)
                .iter()
                .map(|n| StripCell {
                    open: !n.closed && n.available > 0,
                    price: crate::i18n::amount(Money::new(n.price_minor, p.draft.currency)),
                })
                .collect();
            page.strip.push((rt.draft.name.clone(), cells));
        }
    }
    Ok(render(&page))
}

/// The link of the property page with other dates (and the party, the month shown, and
/// whether the next day chosen is the check-out), back at the picker.
fn pick_href(
    p: &Property,
    form: &SearchForm,
    check_in: Date,
    check_out: Date,
    choosing_out: bool,
    month: &str,
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("check_in", &check_in.to_string())
        .append_pair("check_out", &check_out.to_string())
        .append_pair("adults", &form.adults)
        .append_pair("children", &form.children);
    if !matches!(form.rooms.trim(), "" | "1") {
        q.append_pair("rooms", &form.rooms);
    }
    for age in &form.ages {
        q.append_pair("age", age);
    }
    if choosing_out {
        q.append_pair("pick", "out");
    }
    q.append_pair("month", month);
    format!("/properties/{}?{}#dates", p.id, q.finish())
}

/// The date range picker for a month: the month asked for, else the check-in's, else this
/// one. Each night shows the lowest price of a room that fits the party and is free.
async fn picker(ports: &Ports, p: &Property, form: &SearchForm, today: Date) -> Result<Picker, PageError> {
    let check_in = form.check_in.parse::<Date>().ok();
    let check_out = form.check_out.parse::<Date>().ok();
    let first = crate::host::month_start(&form.month)
        .or(check_in.map(|d| d.first_of_month()))
        .unwrap_or(today.first_of_month())
        .max(today.first_of_month());
    let next = first.checked_add(jiff::Span::new().months(1)).unwrap_or(first);
    let prev = first.checked_sub(jiff::Span::new().months(1)).unwrap_or(first);
    let month_of = |d: Date| d.strftime("%Y-%m").to_string();
    let adults = form.adults.parse::<u16>().unwrap_or(1).max(1);
    let rooms = form.room_count().unwrap_or(1);
    let party = Party::new(adults, form.children.parse::<u16>().unwrap_or(0)).in_rooms(rooms);
    // The lowest free price of each night of the month, over the room types that fit.
    let mut lowest: std::collections::BTreeMap<Date, i64> = std::collections::BTreeMap::new();
    if let Ok(range) = Stay::range(first, next) {
        for rt in innkeep_app::cache::room_types(ports, p.id).await? {
            if rt.draft.occupancy.admits(party).is_err() {
                continue;
            }
            let rows = innkeep_app::cache::nights(ports, rt.id, &range).await?;
            for n in innkeep_core::night::effective_nights(&rt.draft, &range, &rows) {
                if !n.closed && n.available >= u32::from(rooms) {
                    let e = lowest.entry(n.date).or_insert(n.price_minor);
                    *e = (*e).min(n.price_minor);
                }
            }
        }
    }
    // Choosing the check-out: a day after the check-in ends the stay; any other starts a new one.
    let choosing_out = form.pick == "out" && check_in.is_some();
    let mut weeks: Vec<Vec<Option<PickDay>>> = Vec::new();
    let mut week: Vec<Option<PickDay>> = (1..first.weekday().to_monday_one_offset()).map(|_| None).collect();
    let mut d = first;
    while d < next {
        let price = lowest.get(&d).map(|m| short_amount(*m, p.draft.currency)).unwrap_or_default();
        let href = match check_in {
            Some(ci) if choosing_out && d > ci => pick_href(p, form, ci, d, false, &month_of(first)),
            _ if d < today || price.is_empty() => String::new(),
            _ => pick_href(p, form, d, plus_days(d, 1), true, &month_of(first)),
        };
        let state = match (check_in, check_out) {
            (Some(ci), _) if d == ci => "check-in",
            (Some(_), Some(co)) if d == co && !choosing_out => "check-out",
            (Some(ci), Some(co)) if d > ci && d < co && !choosing_out => "in-range",
            _ => "",
        };
        let label = if price.is_empty() {
            crate::page::day(d)
        } else {
            format!(
                "{}, {}",
                crate::page::day(d),
                crate::i18n::tf("from {}", &[&money(Money::new(lowest[&d], p.draft.currency))])
            )
        };
        week.push(Some(PickDay { day: d.day(), label, price, href, state, past: d < today }));
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
        d = plus_days(d, 1);
    }
    if !week.is_empty() {
        while week.len() < 7 {
            week.push(None);
        }
        weeks.push(week);
    }
    let stay = |ci: Date, co: Date| (ci.to_string(), co.to_string());
    let (ci_s, co_s) = match (check_in, check_out) {
        (Some(ci), Some(co)) => stay(ci, co),
        _ => stay(today, plus_days(today, 1)),
    };
    let nav = |m: Date| {
        let mut f = form.clone();
        f.month = month_of(m);
        let (ci, co) = (ci_s.parse::<Date>().unwrap_or(today), co_s.parse::<Date>().unwrap_or(today));
        pick_href(p, &f, ci, co, choosing_out, &f.month)
    };
    Ok(Picker {
        month: innkeep_core::format::month_year(first.year(), first.month(), crate::i18n::lang()),
        prev: if first > today.first_of_month() { nav(prev) } else { String::new() },
        next: nav(next),
        weeks,
        hint: if choosing_out {
            crate::i18n::t("Now choose your check-out day.").to_string()
        } else {
            crate::i18n::t("Choose your check-in day: prices are per night for the cheapest room that fits your party.")
                .to_string()
        },
        currency: p.draft.currency.code().to_string(),
    })
}

/// An amount without the cents when they are zero ("95", "95,50"), for a day of the picker.
fn short_amount(minor: i64, currency: innkeep_core::Currency) -> String {
    let full = crate::i18n::amount(Money::new(minor, currency));
    match full.strip_suffix(".00").or_else(|| full.strip_suffix(",00")) {
        Some(whole) => whole.to_string(),
        None => full,
    }
}
