//! The home page and the search results (list and map).

use super::*;

#[derive(Template)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    ctx: Ctx,
    form: SearchForm,
    destinations: Vec<String>,
    /// The signed-in guest's recent searches, to run again.
    recent: Vec<Link>,
    /// Destinations other guests booked lately.
    popular: Vec<Link>,
    /// Stays suggested for the signed-in guest (from their bookings), or booked most.
    suggested: Vec<Link>,
    /// The cities held and looked at most over the last hour (or day).
    trending: Vec<Link>,
}

pub(super) struct Link {
    label: String,
    href: String,
}

/// Searches and suggestions shown on the home page.
pub(super) const HOME_LINKS: usize = 5;

/// GET /
pub async fn home(State(s): State<AppState>, v: Visitor) -> PageResult {
    let now = s.ports.clock.now();
    let destinations = v.web.destinations.get(now, || destinations(&s.ports)).await?.to_vec();
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
    let cities = v.web.recent_cities.get(now, || innkeep_app::suggest::recent_cities(&s.ports)).await?;
    let popular = innkeep_app::suggest::popular_destinations(&s.ports, &cities, viewer, HOME_LINKS)
        .await?
        .into_iter()
        .map(|d| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("city", &d.city)
                .append_pair("check_in", &form.check_in)
                .append_pair("check_out", &form.check_out)
                .append_pair("adults", &form.adults)
                .finish();
            let label = crate::i18n::tf("{} ({} recent bookings)", &[&d.city, &d.bookings]);
            Link { label, href: format!("/stays?{query}") }
        })
        .collect();
    let city_link = |city: &str| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("city", city)
            .append_pair("check_in", &form.check_in)
            .append_pair("check_out", &form.check_out)
            .append_pair("adults", &form.adults)
            .finish();
        format!("/stays?{query}")
    };
    let mut suggested = Vec::new();
    if let Some(model) = &s.recommender {
        let guest = v.user.as_ref().filter(|(a, _)| a.role == innkeep_core::Role::Guest).map(|(a, _)| a.user_id);
        let suggest = |guest| async move {
            let model = model.model();
            Ok(innkeep_app::recommend::recommendations(&s.ports, &model, guest, &[], &[], HOME_LINKS)
                .await?
                .into_iter()
                .map(|sug| {
                    let d = &sug.property.draft;
                    (format!("{}, {}", d.name, d.address.city), format!("/properties/{}", sug.property.id))
                })
                .collect::<Vec<_>>())
        };
        // A guest's own suggestions come from their bookings; everyone else sees the same.
        let links = match guest {
            Some(_) => std::sync::Arc::new(suggest(guest).await?),
            None => v.web.suggested.get(now, || suggest(None)).await?,
        };
        suggested = links.iter().map(|(label, href)| Link { label: label.clone(), href: href.clone() }).collect();
    }
    let mut trending = Vec::new();
    if let Some(t) = &s.trending {
        use innkeep_app::trending::Window;
        let mut top = t.top_cities(Window::Hour, HOME_LINKS, now);
        if top.is_empty() {
            top = t.top_cities(Window::Day, HOME_LINKS, now);
        }
        trending = top.into_iter().map(|c| Link { href: city_link(&c.key), label: c.key }).collect();
    }
    Ok(render(&HomePage { ctx: v.ctx("Find a stay"), form, destinations, recent, popular, suggested, trending }))
}

/// The results page for a recorded search (`destination=..&check_in=..` as the API takes
/// it), or `None` if it has no destination (map and point searches have no page here).
pub(super) fn stays_href(recorded: &str) -> Option<String> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut has_city = false;
    for (k, v) in form_urlencoded::parse(recorded.as_bytes()) {
        let key = match k.as_ref() {
            "destination" => {
                has_city = !v.trim().is_empty();
                "city"
            }
            "check_in" | "check_out" | "adults" | "children" | "rooms" | "age" => k.as_ref(),
            _ => continue,
        };
        out.append_pair(key, &v);
    }
    has_city.then(|| format!("/stays?{}", out.finish()))
}

/// Remember a signed-in guest's search in the form the API takes, so "search again" works
/// from both; a failure to remember must not fail the search.
pub(super) async fn remember_search(s: &AppState, v: &Visitor, form: &SearchForm, ci: Date, co: Date, party: Party) {
    let Some((actor, _)) = &v.user else { return };
    // (The serializer is not Send: it is gone before the first await.)
    let query = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("destination", form.city.trim())
            .append_pair("check_in", &ci.to_string())
            .append_pair("check_out", &co.to_string())
            .append_pair("adults", &party.adults.to_string())
            .append_pair("children", &party.children.to_string());
        if party.rooms != 1 {
            q.append_pair("rooms", &party.rooms.to_string());
        }
        for age in &form.ages {
            q.append_pair("age", age);
        }
        q.finish()
    };
    let now = s.ports.clock.now();
    let asked =
        innkeep_app::search::Asked { query: &query, place: form.city.trim(), check_in: ci, check_out: co, party };
    innkeep_app::search::remember(&s.ports, actor.user_id, asked, now).await;
}

pub(super) struct Card {
    name: String,
    href: String,
    city: String,
    kind: String,
    room: String,
    units_left: u32,
    total: String,
    /// The total in major units as a plain number, for the map to compare prices.
    amount: String,
    /// "total · €120.00 / night" (for all the rooms booked: "... / night for 2 rooms").
    per_night: String,
    lat: f64,
    lon: f64,
    initial: String,
    photo: Option<crate::host::PhotoView>,
    /// "8.6 · 12 reviews" ("" before the first review).
    rating: String,
    /// "1.2 km from the centre" of the place searched ("" when it has no point).
    distance: String,
    /// The total in the guest's preferred currency, approximately ("" for none).
    approx: String,
}

pub(super) struct Marker {
    x: String,
    y: String,
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "stays.html")]
pub(super) struct StaysPage {
    ctx: Ctx,
    /// "Stays in Lisbon" (the page's title and heading).
    heading: String,
    form: SearchForm,
    destinations: Vec<String>,
    types: Vec<(String, String, bool)>,
    /// (key, label, chosen) of every amenity.
    amenities: Vec<(String, String, bool)>,
    /// How many filters beyond the type are on (the "More filters" summary says so).
    more_filters: usize,
    cards: Vec<Card>,
    markers: Vec<Marker>,
    nights: i64,
    error: String,
}

/// Project markers into a 400x300 box around them (the map without JavaScript).
pub(super) fn markers(cards: &[Card]) -> Vec<Marker> {
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

/// The longest destination a search takes (the longest place name in the gazetteer is
/// far shorter); a longer one is refused before anything is searched or remembered.
const MAX_DESTINATION: usize = 100;

/// The words for a map view that cannot be searched.
fn map_view_words() -> String {
    crate::i18n::t("That map area cannot be searched: move the map and choose Search this area again.").to_string()
}

/// The map view a page asks for (`bbox=south,west,north,east`, the API's order): four
/// numbers, or none. Whether the box makes sense is the search's rule, checked there.
fn map_view(bbox: &str) -> Result<Option<(f64, f64, f64, f64)>, ()> {
    if bbox.trim().is_empty() {
        return Ok(None);
    }
    let n = bbox.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<Vec<_>, _>>().map_err(|_| ())?;
    match n[..] {
        [south, west, north, east] if n.iter().all(|x| x.is_finite()) => Ok(Some((south, west, north, east))),
        _ => Err(()),
    }
}

/// GET /stays
pub async fn stays(
    State(s): State<AppState>,
    v: Visitor,
    Query(form): Query<SearchForm>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> PageResult {
    let now = s.ports.clock.now();
    let form = form.with_defaults(now).with_ages(raw.as_deref());
    // Amenities come as repeated `amenity` parameters (one checkbox each).
    let wanted: Vec<innkeep_core::Amenity> = {
        let chosen: Vec<String> = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
            .filter(|(k, _)| k == "amenity")
            .map(|(_, v)| v.into_owned())
            .collect();
        innkeep_core::Amenity::ALL.into_iter().filter(|a| chosen.iter().any(|c| c == a.as_str())).collect()
    };
    let amenities = innkeep_core::Amenity::ALL
        .into_iter()
        .map(|a| (a.as_str().to_string(), crate::i18n::t(a.label()).to_string(), wanted.contains(&a)))
        .collect::<Vec<_>>();
    let destinations = v.web.destinations.get(now, || destinations(&s.ports)).await?.to_vec();
    let kind = PropertyType::parse(&form.kind);
    let types = PropertyType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), type_label(*t), Some(*t) == kind))
        .collect::<Vec<_>>();
    let heading = crate::i18n::tf("Stays in {}", &[&form.city]);
    let mut page = StaysPage {
        ctx: v.ctx(heading.clone()),
        heading,
        form: form.clone(),
        destinations,
        types,
        more_filters: wanted.len()
            + usize::from(!form.min_price.trim().is_empty())
            + usize::from(form.free_cancellation == "1"),
        amenities,
        cards: Vec::new(),
        markers: Vec::new(),
        nights: 0,
        error: String::new(),
    };
    if form.city.chars().count() > MAX_DESTINATION {
        page.ctx = v.ctx("Stays");
        page.heading = crate::i18n::t("Stays").into();
        page.error = crate::i18n::tf(
            "A destination is at most {} characters: type a city, region or country.",
            &[&MAX_DESTINATION],
        );
        return Ok(crate::page::render_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (ci, co, party) = match form.stay() {
        Ok(x) => x,
        Err(m) => {
            page.error = m;
            return Ok(render(&page));
        }
    };
    if ci < plus_days(utc_today(now), -1) {
        page.error = crate::i18n::t("Check-in is in the past: choose today or a later date.").into();
        return Ok(render(&page));
    }
    page.nights = nights_between(ci, co);
    if !form.city.trim().is_empty() {
        remember_search(&s, &v, &form, ci, co, party).await;
        let asked = serde_json::json!({"destination": form.city.trim(), "check_in": ci, "check_out": co});
        crate::seen::record(&s, &v, "search", None, asked);
    }
    // Max price is per night, in each property's own currency (major units).
    let max_per_night: Option<f64> = form.max_price.trim().parse::<f64>().ok().filter(|p| *p > 0.0);
    let Ok(bbox) = map_view(&form.bbox) else {
        page.error = map_view_words();
        return Ok(render(&page));
    };
    let q = StayQuery {
        bbox,
        city: form.city.clone(),
        check_in: ci,
        check_out: co,
        party,
        property_type: kind,
        max_total_minor: None,
        // The search keeps only stays rated this well, before it takes the cheapest.
        min_rating: form.min_rating.parse::<u16>().ok().filter(|m| (1..=10).contains(m)),
    };
    let mut found = match find_stays(&s.ports, &q, now).await {
        Err(AppError::Invalid { field: "bbox", .. }) => {
            page.error = map_view_words();
            return Ok(render(&page));
        }
        found => found?,
    };
    let min_per_night: Option<f64> = form.min_price.trim().parse::<f64>().ok().filter(|p| *p > 0.0);
    let nights = page.nights.max(1) as f64;
    let per_night = |m: &crate::seams::StayMatch| {
        let cur = m.cheapest.quote.currency;
        m.cheapest.quote.total.minor as f64 / 10f64.powi(i32::from(cur.exponent())) / nights
    };
    if let Some(max) = max_per_night {
        found.retain(|m| per_night(m) <= max);
    }
    if let Some(min) = min_per_night {
        found.retain(|m| per_night(m) >= min);
    }
    found.retain(|m| wanted.iter().all(|a| m.property.draft.amenities.contains(a)));
    if form.free_cancellation == "1" {
        found.retain(|m| {
            matches!(
                m.property.draft.cancellation_policy,
                innkeep_core::CancellationPolicy::Flexible | innkeep_core::CancellationPolicy::Moderate
            )
        });
    }
    if form.sort == "name" {
        found.sort_by_key(|m| m.property.draft.name.to_lowercase());
    } else {
        found.sort_by_key(|m| m.cheapest.quote.total.minor);
    }
    let ids: Vec<PropertyId> = found.iter().map(|m| m.property.id).collect();
    let covers = s.ports.store.cover_photos(&ids).await.map_err(AppError::from)?;
    let ratings = s.ports.store.ratings(&ids).await.map_err(AppError::from)?;
    let rating_of = |id: PropertyId| ratings.iter().find(|r| r.property_id == id);
    // The point distances are measured from: the middle of the map's box, or the place.
    let centre = match bbox {
        Some((south, west, north, east)) => Some(((south + north) / 2.0, (west + east) / 2.0)),
        None => s.ports.places.autocomplete(form.city.trim(), 1).first().map(|p| (p.latitude, p.longitude)),
    };
    let km = |m: &crate::seams::StayMatch| {
        centre.map(|(lat, lon)| {
            innkeep_core::geo::haversine_km(lat, lon, m.property.draft.latitude, m.property.draft.longitude)
        })
    };
    if form.sort == "distance" {
        found.sort_by(|a, b| km(a).unwrap_or(f64::MAX).total_cmp(&km(b).unwrap_or(f64::MAX)));
    }
    if form.sort == "rating" {
        // Best rated first; unrated last, cheapest first among equals (the order before).
        found.sort_by_key(|m| std::cmp::Reverse(rating_of(m.property.id).map_or(0, |r| r.average)));
    }
    page.cards = found
        .iter()
        .map(|m| {
            let total = m.cheapest.quote.total;
            let per_night = Money::new(total.minor / page.nights.max(1), total.currency);
            Card {
                name: m.property.draft.name.clone(),
                href: format!(
                    "/properties/{}?check_in={}&check_out={}&adults={}&children={}{}",
                    m.property.id,
                    ci,
                    co,
                    party.adults,
                    party.children,
                    form.rooms_and_ages_query()
                ),
                city: m.property.draft.address.city.clone(),
                kind: type_label(m.property.draft.property_type),
                room: m.cheapest.room_type.draft.name.clone(),
                units_left: m.cheapest.units_left,
                total: money(total),
                amount: crate::page::amount(total.minor, total.currency).replace(',', ""),
                per_night: if party.rooms > 1 {
                    crate::i18n::tf("total · {} / night for {} rooms", &[&money(per_night), &party.rooms])
                } else {
                    crate::i18n::tf("total · {} / night", &[&money(per_night)])
                },
                lat: m.property.draft.latitude,
                lon: m.property.draft.longitude,
                initial: initial(&m.property.draft.name),
                photo: covers.iter().find(|c| c.property_id == m.property.id).map(crate::host::PhotoView::of),
                rating: rating_label(rating_of(m.property.id)),
                distance: km(m)
                    .map(|d| crate::i18n::tf("{} km from the centre", &[&format!("{d:.1}")]))
                    .unwrap_or_default(),
                approx: approx(&v, total),
            }
        })
        .collect();
    page.markers = markers(&page.cards);
    Ok(render(&page))
}
