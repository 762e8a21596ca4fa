//! Properties, room types, calendars and availability.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnsupportedMediaType,
};
use crate::api::schemas;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id, MaybeAuth, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::availability::Offer;
use innkeep_app::catalog::{self, CalendarNight};
use innkeep_app::store::{Property, RoomType};
use innkeep_core::{
    Address, Amenity, CancellationPolicy, Currency, NightOverride, Occupancy, Party, PropertyDraft, PropertyId,
    PropertyType, RatePlan, Role, RoomTypeDraft, RoomTypeId, TimeZoneName,
};
use jiff::civil::{Date, Time};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A property as created (POST) or merged into (PATCH, JSON Merge Patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// hotel, apartment, house, guesthouse, hostel, bed_and_breakfast, villa, cabin, resort
    #[schema(value_type = String, example = "hotel")]
    pub property_type: PropertyType,
    /// {lines: [..], city, region?, postal_code?, country: ISO 3166-1 alpha-2}
    #[schema(value_type = Object)]
    pub address: Address,
    pub latitude: f64,
    pub longitude: f64,
    /// IANA time zone, e.g. Europe/Lisbon
    #[schema(value_type = String, example = "Europe/Lisbon")]
    pub time_zone: TimeZoneName,
    /// ISO 4217 code
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    #[serde(default = "default_check_in")]
    #[schema(value_type = String, example = "15:00")]
    pub check_in_time: Time,
    #[serde(default = "default_check_out")]
    #[schema(value_type = String, example = "11:00")]
    pub check_out_time: Time,
    /// From the fixed vocabulary: wifi, parking, pool, breakfast, air_conditioning, ...
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub amenities: Vec<Amenity>,
    /// flexible, moderate, strict or non_refundable
    #[serde(default = "default_policy")]
    #[schema(value_type = String, example = "moderate")]
    pub cancellation_policy: CancellationPolicy,
    /// at_property (the default: the guest pays the property) or prepay (a hold is
    /// confirmed only by a successful payment)
    #[serde(default)]
    #[schema(value_type = String, example = "at_property")]
    pub payment_timing: innkeep_core::PaymentTiming,
}

fn default_check_in() -> Time {
    Time::constant(15, 0, 0, 0)
}
fn default_check_out() -> Time {
    Time::constant(11, 0, 0, 0)
}
fn default_policy() -> CancellationPolicy {
    CancellationPolicy::Moderate
}

impl From<PropertyBody> for PropertyDraft {
    fn from(b: PropertyBody) -> Self {
        PropertyDraft {
            name: b.name,
            description: b.description,
            property_type: b.property_type,
            address: b.address,
            latitude: b.latitude,
            longitude: b.longitude,
            time_zone: b.time_zone,
            currency: b.currency,
            check_in_time: b.check_in_time,
            check_out_time: b.check_out_time,
            amenities: b.amenities,
            cancellation_policy: b.cancellation_policy,
            payment_timing: b.payment_timing,
        }
    }
}

/// Apply a JSON Merge Patch (RFC 7396) to a document.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// The current document with a patch applied, read back as a body.
fn patched<T: DeserializeOwned>(current: &impl Serialize, patch: &serde_json::Value) -> ApiResult<T> {
    if !patch.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "a PATCH body is a JSON object of the fields to change",
        ));
    }
    let mut doc = serde_json::to_value(current)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    merge_patch(&mut doc, patch);
    serde_json::from_value(doc).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("the body does not match the schema: {e}"))
    })
}

/// Create a property for the host's tenant.
#[utoipa::path(post, path = "/api/v1/properties", operation_id = "create_property", tag = "catalog", security(("bearer" = [])),
    request_body = PropertyBody,
    responses((status = 201, description = "the property", body = schemas::Property),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_property(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<PropertyBody>,
) -> ApiResult<(StatusCode, Json<Property>)> {
    let p = catalog::create_property(&s.ports, &a, b.into(), s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 100, default 20
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Hosts: only my tenant's (default true for hosts)
    pub mine: Option<bool>,
}

/// Properties: a host's own, or every property for anyone else.
#[utoipa::path(get, path = "/api/v1/properties", operation_id = "list_properties", tag = "catalog", params(ListQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "properties, newest first", body = [schemas::Property]),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list_properties(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Vec<Property>>> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_query", "limit must be between 1 and 100"));
    }
    let tenant = match a {
        Some(a) if a.role == Role::Host && q.mine.unwrap_or(true) => a.tenant_id,
        _ => None,
    };
    Ok(Json(
        s.ports
            .store
            .list_properties(tenant, limit, q.offset.unwrap_or(0))
            .await
            .map_err(innkeep_app::AppError::from)?,
    ))
}

/// A property.
#[utoipa::path(get, path = "/api/v1/properties/{id}", operation_id = "get_property", tag = "catalog", params(("id" = uuid::Uuid, Path, description = "the property")),
    responses((status = 200, description = "the property", body = schemas::Property),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_property(State(s): State<AppState>, Id(id): Id<PropertyId>) -> ApiResult<Json<Property>> {
    Ok(Json(innkeep_app::cache::property(&s.ports, id).await?))
}

/// Change a property (JSON Merge Patch).
#[utoipa::path(patch, path = "/api/v1/properties/{id}", operation_id = "patch_property", tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the property")),
    request_body(content = Object, description = "the fields to change, as a JSON Merge Patch (RFC 7396)"),
    responses((status = 200, description = "the property", body = schemas::Property),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn patch_property(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<PropertyId>,
    Body(patch): Body<serde_json::Value>,
) -> ApiResult<Json<Property>> {
    let current = catalog::managed_property(&s.ports, &a, id, innkeep_core::Duty::Listings).await?;
    let body: PropertyBody = patched(&current.draft, &patch)?;
    Ok(Json(catalog::update_property(&s.ports, &a, current, body.into(), s.ports.clock.now()).await?))
}

/// A room type as created (POST) or merged into (PATCH).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomTypeBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// {max_adults, max_children, max_total}
    #[schema(value_type = Object)]
    pub occupancy: Occupancy,
    #[serde(default)]
    pub beds: String,
    pub units: u32,
    /// Nightly rate in minor units of the property's currency.
    pub base_rate_minor: i64,
    #[serde(default = "one")]
    pub min_stay: u16,
    #[serde(default = "thirty")]
    pub max_stay: u16,
    /// {weekend: {nights: [5, 6], adjust_bp}, seasons: [{name, from, to, adjust_bp}],
    /// los_discounts: [{min_nights, percent_bp}], charges: [{name, kind, amount, tax}]}
    #[serde(default)]
    #[schema(value_type = Object)]
    pub rate_plan: RatePlan,
}

fn one() -> u16 {
    1
}
fn thirty() -> u16 {
    30
}

impl From<RoomTypeBody> for RoomTypeDraft {
    fn from(b: RoomTypeBody) -> Self {
        RoomTypeDraft {
            name: b.name,
            description: b.description,
            occupancy: b.occupancy,
            beds: b.beds,
            units: b.units,
            base_rate_minor: b.base_rate_minor,
            min_stay: b.min_stay,
            max_stay: b.max_stay,
            rate_plan: b.rate_plan,
        }
    }
}

/// Add a room type to a property.
#[utoipa::path(post, path = "/api/v1/properties/{id}/room-types", operation_id = "create_room_type", tag = "catalog",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the property")), request_body = RoomTypeBody,
    responses((status = 201, description = "the room type", body = schemas::RoomType),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_room_type(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<PropertyId>,
    Body(b): Body<RoomTypeBody>,
) -> ApiResult<(StatusCode, Json<RoomType>)> {
    let rt = catalog::create_room_type(&s.ports, &a, id, b.into(), s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(rt)))
}

/// The room types of a property.
#[utoipa::path(get, path = "/api/v1/properties/{id}/room-types", operation_id = "list_room_types", tag = "catalog", params(("id" = uuid::Uuid, Path, description = "the property")),
    responses((status = 200, description = "room types", body = [schemas::RoomType]),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list_room_types(State(s): State<AppState>, Id(id): Id<PropertyId>) -> ApiResult<Json<Vec<RoomType>>> {
    innkeep_app::cache::property(&s.ports, id).await?;
    Ok(Json(innkeep_app::cache::room_types(&s.ports, id).await?))
}

/// A room type.
#[utoipa::path(get, path = "/api/v1/room-types/{id}", operation_id = "get_room_type", tag = "catalog", params(("id" = uuid::Uuid, Path, description = "the room type")),
    responses((status = 200, description = "the room type", body = schemas::RoomType),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_room_type(State(s): State<AppState>, Id(id): Id<RoomTypeId>) -> ApiResult<Json<RoomType>> {
    Ok(Json(catalog::room_type(&s.ports, id).await?))
}

/// Change a room type (JSON Merge Patch).
#[utoipa::path(patch, path = "/api/v1/room-types/{id}", operation_id = "patch_room_type", tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    request_body(content = Object, description = "the fields to change, as a JSON Merge Patch (RFC 7396)"),
    responses((status = 200, description = "the room type", body = schemas::RoomType),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn patch_room_type(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
    Body(patch): Body<serde_json::Value>,
) -> ApiResult<Json<RoomType>> {
    let current = catalog::managed_room_type(&s.ports, &a, id, innkeep_core::Duty::Listings).await?;
    let body: RoomTypeBody = patched(&current.draft, &patch)?;
    Ok(Json(catalog::update_room_type(&s.ports, &a, current, body.into(), s.ports.clock.now()).await?))
}

/// A change to the nights `[from, to)`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// Nightly price in minor units.
    pub price: Option<i64>,
    pub closed: Option<bool>,
    pub min_stay: Option<u16>,
    pub units: Option<u32>,
}

/// Set price, closed, min stay or units over a range of nights.
#[utoipa::path(put, path = "/api/v1/room-types/{id}/calendar", operation_id = "put_calendar", tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")), request_body = CalendarBody,
    responses((status = 204, description = "changed"), (status = 400, response = inline(BadRequest)),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 404, response = inline(NotFound)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn put_calendar(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
    Body(b): Body<CalendarBody>,
) -> ApiResult<StatusCode> {
    let change = NightOverride { price_minor: b.price, closed: b.closed, min_stay: b.min_stay, units: b.units };
    catalog::set_calendar(&s.ports, &a, id, b.from, b.to, change, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A range of nights.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    #[param(value_type = String, format = Date)]
    pub from: Date,
    #[param(value_type = String, format = Date)]
    pub to: Date,
}

/// A room type's calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    #[schema(value_type = String, format = Uuid)]
    pub room_type_id: RoomTypeId,
    #[schema(value_type = String)]
    pub currency: Currency,
    #[schema(value_type = Vec<schemas::CalendarNight>)]
    pub nights: Vec<CalendarNight>,
}

/// The nights of `[from, to)` as the host sees them.
#[utoipa::path(get, path = "/api/v1/room-types/{id}/calendar", operation_id = "get_calendar", tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type"), RangeQuery),
    responses((status = 200, description = "the nights", body = CalendarView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_calendar(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
    Params(q): Params<RangeQuery>,
) -> ApiResult<Json<CalendarView>> {
    let nights = catalog::calendar(&s.ports, &a, id, q.from, q.to).await?;
    let rt = catalog::room_type(&s.ports, id).await?;
    let property = catalog::property(&s.ports, rt.property_id).await?;
    Ok(Json(CalendarView { room_type_id: id, currency: property.draft.currency, nights }))
}

/// A stay and a party to price.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    #[param(value_type = String, format = Uuid)]
    pub property_id: PropertyId,
    #[param(value_type = String, format = Date)]
    pub check_in: Date,
    #[param(value_type = String, format = Date)]
    pub check_out: Date,
    /// default 1
    pub adults: Option<u16>,
    /// default 0
    pub children: Option<u16>,
    /// Units of one room type the party shares, an adult in each (1 to 30, default 1)
    pub rooms: Option<u16>,
    /// Each child's age, comma separated (`4,9`): one for each child, where prices depend on it
    pub child_ages: Option<String>,
}

/// Bookable room types with full quotes.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    #[schema(value_type = String, format = Uuid)]
    pub property_id: PropertyId,
    #[schema(value_type = String, format = Date)]
    pub check_in: Date,
    #[schema(value_type = String, format = Date)]
    pub check_out: Date,
    pub adults: u16,
    pub children: u16,
    pub rooms: u16,
    /// Cheapest first.
    #[schema(value_type = Vec<schemas::Offer>)]
    pub offers: Vec<Offer>,
}

/// The room types of a property that can be booked for a stay, with the price of the stay.
#[utoipa::path(get, path = "/api/v1/availability", operation_id = "availability", tag = "catalog", params(AvailabilityQuery),
    responses((status = 200, description = "the bookable room types, each with its quote", body = AvailabilityView),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn availability(
    State(s): State<AppState>,
    Params(q): Params<AvailabilityQuery>,
) -> ApiResult<Json<AvailabilityView>> {
    let party = Party::new(q.adults.unwrap_or(1), q.children.unwrap_or(0))
        .in_rooms(q.rooms.unwrap_or(1))
        .with_ages(super::child_ages_listed(q.child_ages.as_deref())?);
    let offers = innkeep_app::availability::availability(
        &s.ports,
        q.property_id,
        q.check_in,
        q.check_out,
        party,
        s.ports.clock.now(),
    )
    .await?;
    Ok(Json(AvailabilityView {
        property_id: q.property_id,
        check_in: q.check_in,
        check_out: q.check_out,
        adults: party.adults,
        children: party.children,
        rooms: party.rooms,
        offers,
    }))
}
