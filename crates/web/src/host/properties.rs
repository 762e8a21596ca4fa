//! A host's properties: the new-property form, a property's page, photos and room types.

use super::*;

#[derive(Template)]
#[template(path = "host_property_form.html")]
pub(super) struct PropertyForm {
    ctx: Ctx,
    f: Fields,
    errors: FormErrors,
    types: Vec<(String, String)>,
    policies: Vec<String>,
    amenities: Vec<(String, String, bool)>,
    /// What "Find the city" found ("" before).
    located: String,
}

pub(super) fn property_form_page(v: &Visitor, f: Fields, errors: FormErrors) -> PropertyForm {
    let chosen = f.all("amenities");
    PropertyForm {
        ctx: v.ctx("New property"),
        types: PropertyType::ALL.iter().map(|t| (t.as_str().to_string(), t.as_str().replace('_', " "))).collect(),
        policies: ["flexible", "moderate", "strict", "non_refundable"].iter().map(|p| p.to_string()).collect(),
        amenities: Amenity::ALL
            .iter()
            .map(|a| {
                let key = a.as_str().to_string();
                let on = chosen.contains(&key);
                (key, crate::i18n::t(a.label()).to_string(), on)
            })
            .collect(),
        f,
        errors,
        located: String::new(),
    }
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
        ("payment_timing".into(), "at_property".into()),
    ]);
    Ok(render(&property_form_page(&v, defaults, FormErrors::default())))
}

pub(super) fn parse_property(f: &Fields) -> Result<PropertyDraft, FormErrors> {
    let mut e = FormErrors::default();
    let property_type = PropertyType::parse(&f.get("property_type"));
    if property_type.is_none() {
        e.set("property_type", crate::i18n::t("Choose a property type."));
    }
    let country = CountryCode::parse(&f.get("country").to_uppercase());
    if country.is_err() {
        e.set("country", crate::i18n::t("Use a two-letter ISO country code such as PT."));
    }
    let tz = TimeZoneName::parse(&f.get("time_zone"));
    if tz.is_err() {
        e.set("time_zone", crate::i18n::t("Use an IANA time zone such as Europe/Lisbon."));
    }
    let currency = Currency::parse(&f.get("currency").to_uppercase());
    if currency.is_err() {
        e.set("currency", crate::i18n::t("Use an ISO 4217 currency code such as EUR."));
    }
    let lat = f.get("latitude").parse::<f64>();
    if lat.is_err() {
        e.set("latitude", crate::i18n::t("Latitude is a number between -90 and 90."));
    }
    let lon = f.get("longitude").parse::<f64>();
    if lon.is_err() {
        e.set("longitude", crate::i18n::t("Longitude is a number between -180 and 180."));
    }
    let cin = f.get("check_in_time").parse::<Time>();
    if cin.is_err() {
        e.set("check_in_time", crate::i18n::t("Use a time such as 15:00."));
    }
    let cout = f.get("check_out_time").parse::<Time>();
    if cout.is_err() {
        e.set("check_out_time", crate::i18n::t("Use a time such as 11:00."));
    }
    let policy = CancellationPolicy::parse(&f.get("cancellation_policy"));
    if policy.is_none() {
        e.set("cancellation_policy", crate::i18n::t("Choose a cancellation policy."));
    }
    let amenities: Vec<Amenity> =
        Amenity::ALL.into_iter().filter(|a| f.all("amenities").iter().any(|k| k == a.as_str())).collect();
    // The draft as typed, with a stand-in for each value that did not parse, so that the
    // core's own checks (lengths, address, coordinates) are reported with the rest: every
    // error of the form at once. It is returned only when nothing was wrong.
    let (Ok(stand_in_country), Ok(stand_in_zone), Ok(stand_in_currency)) =
        (CountryCode::parse("PT"), TimeZoneName::parse("UTC"), Currency::parse("EUR"))
    else {
        return Err(e);
    };
    let line = f.get("address_line");
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.is_empty());
    let draft = PropertyDraft {
        name: f.get("name"),
        description: f.get("description"),
        property_type: property_type.unwrap_or(PropertyType::ALL[0]),
        address: Address {
            lines: if line.is_empty() { Vec::new() } else { vec![line] },
            city: f.get("city"),
            region: None,
            postal_code: opt("postal_code"),
            country: country.clone().unwrap_or(stand_in_country),
        },
        latitude: lat.clone().unwrap_or(0.0),
        longitude: lon.clone().unwrap_or(0.0),
        time_zone: tz.clone().unwrap_or(stand_in_zone),
        currency: currency.clone().unwrap_or(stand_in_currency),
        check_in_time: cin.unwrap_or(Time::midnight()),
        check_out_time: cout.unwrap_or(Time::midnight()),
        amenities,
        cancellation_policy: policy.unwrap_or(CancellationPolicy::Flexible),
        payment_timing: if f.get("payment_timing") == "prepay" {
            innkeep_core::PaymentTiming::Prepay
        } else {
            innkeep_core::PaymentTiming::AtProperty
        },
    };
    for problem in draft.problems() {
        let (field, words) = match &problem {
            innkeep_core::PropertyError::Length { field, max, .. } => (form_field(field), length_words(field, *max)),
            innkeep_core::PropertyError::AddressLines => {
                ("address_line", crate::i18n::t("Enter the street address.").to_string())
            }
            innkeep_core::PropertyError::Coordinates if lat.is_ok() && lon.is_ok() => {
                ("latitude", crate::i18n::t("Latitude is -90 to 90 and longitude -180 to 180.").to_string())
            }
            _ => continue,
        };
        if !e.has(field) {
            e.set(field, words);
        }
    }
    if e.fields.is_empty() { Ok(draft) } else { Err(e) }
}

/// What a field too long (or empty) must be, in words.
fn length_words(field: &str, max: usize) -> String {
    match field {
        "name" => crate::i18n::tf("Enter a name for the property (at most {} characters).", &[&max]),
        "address.city" => crate::i18n::tf("Enter the city (at most {} characters).", &[&max]),
        "address.lines" => crate::i18n::tf("Enter the street address (at most {} characters).", &[&max]),
        "description" => crate::i18n::tf("The description is at most {} characters.", &[&max]),
        "address.postal_code" => crate::i18n::tf("The postal code is at most {} characters.", &[&max]),
        other => format!("{other} is at most {max} characters."),
    }
}

/// Map a core field name to the form's input name.
pub(super) fn form_field(field: &str) -> &str {
    match field {
        "address.lines" => "address_line",
        "address.city" => "city",
        "address.postal_code" => "postal_code",
        "address.country" => "country",
        other => other,
    }
}

/// "Find the city": the form again with the coordinates (and, where empty, the time zone
/// and country) of the biggest place of that name in the gazetteer, in the country typed.
/// POST /host/properties/locate (the new-property form's "Find the city" button): nothing
/// is saved.
pub async fn property_locate(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    host(&v)?;
    locate(&s, &v, f)
}

fn locate(s: &AppState, v: &Visitor, mut f: Fields) -> PageResult {
    let city = f.get("city");
    let country = f.get("country").to_uppercase();
    let mut errors = FormErrors::default();
    let found = if city.is_empty() {
        None
    } else {
        s.ports.places.autocomplete(&city, 20).into_iter().find(|p| country.is_empty() || p.country == country)
    };
    let located = match found {
        Some(p) => {
            f.set("latitude", format!("{:.5}", p.latitude));
            f.set("longitude", format!("{:.5}", p.longitude));
            if f.get("time_zone").is_empty() {
                f.set("time_zone", p.time_zone.clone());
            }
            if country.is_empty() {
                f.set("country", p.country.clone());
            }
            crate::i18n::tf(
                "Found {}, {}: the coordinates are the city’s centre. Move them to the door of the property if you can.",
                &[&p.name, &p.country],
            )
        }
        None if city.is_empty() => {
            errors.set("city", crate::i18n::t("Type the city first, then find it."));
            String::new()
        }
        None => {
            let said = if country.is_empty() {
                crate::i18n::t("No city of that name was found: check the spelling, or type the coordinates.")
                    .to_string()
            } else {
                crate::i18n::tf(
                    "No city of that name was found in {}: check the spelling, or type the coordinates.",
                    &[&country],
                )
            };
            errors.set("city", said);
            String::new()
        }
    };
    let status = if errors.fields.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut page = property_form_page(v, f, errors);
    page.located = located;
    Ok(render_status(status, &page))
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
        Err(e @ AppError::Invalid { field, .. }) => {
            let mut errors = FormErrors::default();
            errors.set(form_field(field), crate::page::words(&e));
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_form_page(&v, f, errors)))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) struct RoomRow {
    id: String,
    name: String,
    units: u32,
    rate: String,
    occupancy: String,
    /// Its children's rates ("to age 2: free; to age 11: €15.00"), empty when none.
    children: String,
}

#[derive(Template)]
#[template(path = "host_property.html")]
pub(super) struct PropertyPage {
    ctx: Ctx,
    id: String,
    name: String,
    city: String,
    currency: String,
    rooms: Vec<RoomRow>,
    child_bands: Vec<ChildBandRow>,
    f: Fields,
    errors: FormErrors,
    photos: Vec<PhotoView>,
    photo_error: String,
    photo_flash: String,
    uploads: bool,
    /// The property's reviews (hidden ones too), newest first, and whether this member
    /// may answer them.
    reviews: Vec<crate::guest::ReviewLine>,
    may_reply: bool,
    review_flash: String,
    review_error: String,
}

/// A photo as a page shows it.
pub struct PhotoView {
    pub url: String,
    pub alt: String,
    /// `srcset`'s candidates (`/photos/ID?w=320 320w, ...`), empty for a photo kept as
    /// uploaded; the page's `sizes` says how wide it is shown.
    pub srcset: String,
}

impl PhotoView {
    /// The page's view of a stored photo.
    pub fn of(p: &innkeep_app::store::Photo) -> PhotoView {
        let url = format!("/photos/{}", p.id);
        let widths = innkeep_app::photo::full_width(p).map(innkeep_app::photo::widths_of).unwrap_or_default();
        let srcset = widths.iter().map(|w| format!("{url}?w={w} {w}w")).collect::<Vec<_>>().join(", ");
        PhotoView { url, alt: p.alt.clone(), srcset }
    }
}

pub(super) async fn property_page_of(
    s: &AppState,
    v: &Visitor,
    a: &Actor,
    id: PropertyId,
    f: Fields,
    errors: FormErrors,
) -> Result<PropertyPage, PageError> {
    let p = managed_property(&s.ports, a, id, innkeep_core::Duty::SeeTenant).await?;
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
            occupancy: [
                crate::i18n::tf("{} adults", &[&r.draft.occupancy.max_adults]),
                crate::i18n::tf("{} children", &[&r.draft.occupancy.max_children]),
                crate::i18n::tf("{} in total", &[&r.draft.occupancy.max_total]),
            ]
            .join(", "),
            children: child_rates_line(&r.draft.rate_plan, p.draft.currency),
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
        child_bands: child_band_rows(&f, &errors),
        f,
        errors,
        photos,
        photo_error: String::new(),
        photo_flash: String::new(),
        uploads: s.objects.is_some(),
        reviews: s
            .ports
            .store
            .reviews_of(id, true, 50, 0)
            .await
            .map_err(AppError::from)?
            .iter()
            .map(crate::guest::ReviewLine::of)
            .collect(),
        may_reply: a.may(innkeep_core::Duty::Listings, p.tenant_id),
        review_flash: String::new(),
        review_error: String::new(),
    })
}

/// POST /host/reviews/{id}/reply: the property's answer to a review (once).
pub async fn review_reply(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: innkeep_core::ReviewId = id.parse().map_err(|_| PageError::NotFound)?;
    let review = innkeep_app::review::visible_review(&s.ports, Some(&a), id).await?;
    match innkeep_app::review::reply(&s.ports, &a, id, &f.get("text"), s.ports.clock.now()).await {
        Ok(r) => Ok(crate::redirect::to(&format!("/host/properties/{}?answered=1#reviews", r.property_id))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let mut page =
                property_page_of(&s, &v, &a, review.property_id, room_defaults(), FormErrors::default()).await?;
            page.review_error = crate::page::words(&e);
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// The new room type form's starting values.
pub(super) fn room_defaults() -> Fields {
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
    answered: String,
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
        page.photo_flash = crate::i18n::t("Photo added.").into();
    }
    if !q.answered.is_empty() {
        page.review_flash = crate::i18n::t("Your answer is published under the review.").into();
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
    managed_property(&s.ports, &a, id, innkeep_core::Duty::Listings).await?;
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
        None => (StatusCode::UNPROCESSABLE_ENTITY, crate::i18n::t("Choose a photo to upload.").to_string()),
        Some(photo) => {
            let new = innkeep_app::photo::NewPhoto { bytes: photo.bytes.clone(), alt };
            match innkeep_app::photo::add_photo(&s.ports, objects.as_ref(), &a, id, new, s.ports.clock.now()).await {
                Ok(_) => return Ok(crate::redirect::to(&format!("/host/properties/{id}?photo=added#photos"))),
                Err(AppError::Invalid { code: "photo_too_large", message, .. }) => {
                    (StatusCode::PAYLOAD_TOO_LARGE, crate::i18n::tf("That photo is too large: {}.", &[&message]))
                }
                Err(AppError::Invalid { code: "unsupported_media_type", .. }) => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    crate::i18n::t("That file is not a photo we can show: use a JPEG, PNG or WebP image.").to_string(),
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

/// How many rows of children's rates the room type form offers (the API takes up to six).
const CHILD_BANDS: usize = 3;

/// The room type form's children's rates: up to [`CHILD_BANDS`] rows of "children up to age A
/// pay P a night on top of the room", a row left empty being no band; `None` (with the
/// rows' messages in `e`) when a row is half filled, out of range or not older than the row
/// above.
fn child_bands(f: &Fields, e: &mut FormErrors, currency: Currency) -> Option<Vec<ChildRate>> {
    let mut bands: Vec<ChildRate> = Vec::new();
    let mut ok = true;
    for row in 1..=CHILD_BANDS {
        let (age_key, rate_key) = (format!("child_age_{row}"), format!("child_rate_{row}"));
        let (age, rate) = (f.get(&age_key), f.get(&rate_key));
        if age.is_empty() && rate.is_empty() {
            continue;
        }
        let age = match age.parse::<u8>() {
            Ok(a) if a <= innkeep_core::MAX_CHILD_AGE => Some(a),
            _ => {
                e.set(&age_key, crate::i18n::t("Enter an age from 0 to 17."));
                None
            }
        };
        let price = parse_amount(&rate, currency);
        if price.is_none() {
            e.set(
                &rate_key,
                crate::i18n::tf("Enter the price per night in {}, such as 15.00 (0 is free).", &[&currency.code()]),
            );
        }
        let (Some(max_age), Some(per_night_minor)) = (age, price) else {
            ok = false;
            continue;
        };
        if bands.last().is_some_and(|b| b.max_age >= max_age) {
            e.set(&age_key, crate::i18n::t("Each row is for older children than the row above."));
            ok = false;
        }
        bands.push(ChildRate { max_age, per_night_minor });
    }
    ok.then_some(bands)
}

/// One row of the room type form's children's rates.
pub(super) struct ChildBandRow {
    n: usize,
    age: String,
    rate: String,
    age_error: String,
    rate_error: String,
}

fn child_band_rows(f: &Fields, errors: &FormErrors) -> Vec<ChildBandRow> {
    (1..=CHILD_BANDS)
        .map(|n| {
            let (age_key, rate_key) = (format!("child_age_{n}"), format!("child_rate_{n}"));
            let error = |k: &str| errors.fields.get(k).cloned().unwrap_or_default();
            ChildBandRow {
                n,
                age: f.get(&age_key),
                rate: f.get(&rate_key),
                age_error: error(&age_key),
                rate_error: error(&rate_key),
            }
        })
        .collect()
}

/// A room type's children's rates in a line ("to age 2: free; to age 11: €15.00"), empty
/// when it prices none.
fn child_rates_line(plan: &RatePlan, currency: Currency) -> String {
    plan.child_rates
        .iter()
        .map(|b| {
            let price = if b.per_night_minor == 0 {
                crate::i18n::t("free").to_string()
            } else {
                money(innkeep_core::Money::new(b.per_night_minor, currency))
            };
            crate::i18n::tf("to age {}: {}", &[&b.max_age, &price])
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn num<T: std::str::FromStr>(f: &Fields, e: &mut FormErrors, key: &str, label: &str) -> Option<T> {
    match f.get(key).parse::<T>() {
        Ok(v) => Some(v),
        Err(_) => {
            e.set(key, crate::i18n::tf("{}: enter a whole number.", &[&crate::i18n::t(label)]));
            None
        }
    }
}

/// POST /host/properties/{id}: add a room type.
pub async fn room_type_create(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = host(&v)?;
    let id: PropertyId = id.parse().map_err(|_| PageError::NotFound)?;
    let p = managed_property(&s.ports, &a, id, innkeep_core::Duty::Listings).await?;
    let mut e = FormErrors::default();
    let units = num::<u32>(&f, &mut e, "units", crate::i18n::t("Units"));
    let max_adults = num::<u16>(&f, &mut e, "max_adults", crate::i18n::t("Adults"));
    let max_children = num::<u16>(&f, &mut e, "max_children", crate::i18n::t("Children"));
    let max_total = num::<u16>(&f, &mut e, "max_total", crate::i18n::t("Guests in total"));
    let min_stay = num::<u16>(&f, &mut e, "min_stay", crate::i18n::t("Minimum stay"));
    let max_stay = num::<u16>(&f, &mut e, "max_stay", crate::i18n::t("Maximum stay"));
    let rate = parse_amount(&f.get("base_rate"), p.draft.currency);
    if rate.is_none() {
        e.set(
            "base_rate",
            crate::i18n::tf("Enter the nightly rate in {}, such as 120.00.", &[&p.draft.currency.code()]),
        );
    }
    let vat = f.get("vat_percent");
    let vat_bp = if vat.is_empty() {
        Some(None)
    } else {
        match vat.parse::<f64>() {
            Ok(x) if (0.0..=100.0).contains(&x) => Some(Some((x * 100.0).round() as i64)),
            _ => {
                e.set("vat_percent", crate::i18n::t("VAT is a percentage between 0 and 100."));
                None
            }
        }
    };
    let child_rates = child_bands(&f, &mut e, p.draft.currency);
    let (
        Some(units),
        Some(max_adults),
        Some(max_children),
        Some(max_total),
        Some(min_stay),
        Some(max_stay),
        Some(rate),
        Some(vat_bp),
        Some(child_rates),
    ) = (units, max_adults, max_children, max_total, min_stay, max_stay, rate, vat_bp, child_rates)
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
        rate_plan: RatePlan { charges, child_rates, ..RatePlan::default() },
    };
    match create_room_type(&s.ports, &a, id, draft, s.ports.clock.now()).await {
        Ok(rt) => Ok(crate::redirect::to(&format!("/host/room-types/{}/calendar", rt.id))),
        Err(err @ AppError::Invalid { .. }) => {
            let e = FormErrors { general: crate::page::words(&err), ..FormErrors::default() };
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &property_page_of(&s, &v, &a, id, f, e).await?))
        }
        Err(err) => Err(err.into()),
    }
}
