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
        policy: d.cancellation_policy.as_str().replace('_', "-"),
        description: d.description.clone(),
        amenities: d.amenities.iter().map(|a| a.label().to_string()).collect(),
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
    // The strip starts at the chosen check-in (or today) and shows 14 nights per room type.
    let today = p.draft.time_zone.today(now);
    let start = form.check_in.parse::<Date>().ok().filter(|d| *d >= today).unwrap_or(today);
    if let Ok(range) = Stay::range(start, plus_days(start, 14)) {
        page.strip_days = range.each_night().map(|d| d.strftime("%a %-d").to_string()).collect();
        for rt in innkeep_app::cache::room_types(&s.ports, id).await? {
            let rows = innkeep_app::cache::nights(&s.ports, rt.id, &range).await?;
            let cells = innkeep_core::night::effective_nights(&rt.draft, &range, &rows)
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
