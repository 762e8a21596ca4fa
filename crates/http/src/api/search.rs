//! Stay search and places (the gazetteer).

use crate::AppState;
use crate::api::problems::{BadRequest, NotFound, ServiceUnavailable, Unauthorized};
use crate::api::schemas;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, MaybeAuth, Params};
use axum::Json;
use axum::extract::RawQuery;
use axum::extract::State;
use innkeep_app::search::{PlaceView, SearchPage, SortBy, StaySearch, search_stays};
use innkeep_core::{Amenity, Party, PropertyType};
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

/// A stay search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Place name, e.g. "Lisbon" (the best gazetteer match is used)
    pub destination: Option<String>,
    /// A place id from /api/v1/places
    pub place_id: Option<u32>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Radius around the point or place, default 25
    pub radius_km: Option<f64>,
    /// Map view: south,west,north,east
    pub bbox: Option<String>,
    #[param(value_type = String, format = Date)]
    pub check_in: Date,
    #[param(value_type = String, format = Date)]
    pub check_out: Date,
    /// default 2
    pub adults: Option<u16>,
    pub children: Option<u16>,
    /// Units of one room type the party shares, an adult in each (1 to 30, default 1)
    pub rooms: Option<u16>,
    /// Each child's age, comma separated (`4,9`): one for each child, where prices depend on it
    pub child_ages: Option<String>,
    /// Price per night in minor units
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only stays rated at least this many points of 10 (1 to 10)
    pub min_rating: Option<u16>,
    /// Comma-separated amenities, all required
    pub amenities: Option<String>,
    /// Comma-separated property types, any of
    pub property_types: Option<String>,
    /// Free text
    pub q: Option<String>,
    /// relevance (default), price, distance or rating
    pub sort: Option<String>,
    /// From 1
    pub page: Option<u32>,
    /// 1 to 50, default 20
    pub per_page: Option<u32>,
}

fn list<T: DeserializeOwned>(field: &'static str, raw: &Option<String>) -> ApiResult<Vec<T>> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.to_string()))
                .map_err(|_| ApiError::invalid(field, "invalid_search", format!("unknown value {s:?} in {field}")))
        })
        .collect()
}

/// Bookable stays with the total price for the dates and party.
#[utoipa::path(get, path = "/api/v1/search", operation_id = "search_stays", tag = "search", params(SearchQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "a page of bookable stays (a signed-in user's search is remembered)", body = schemas::SearchPage),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn search(
    State(s): State<AppState>,
    MaybeAuth(actor): MaybeAuth,
    RawQuery(raw): RawQuery,
    Params(q): Params<SearchQuery>,
) -> ApiResult<Json<SearchPage>> {
    let point = match (q.lat, q.lon) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (None, None) => None,
        _ => return Err(ApiError::invalid("lat", "invalid_search", "give both lat and lon")),
    };
    let bbox = match &q.bbox {
        None => None,
        Some(raw) => {
            let v: Vec<f64> =
                raw.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
                    ApiError::invalid("bbox", "invalid_search", "bbox is four numbers: south,west,north,east")
                })?;
            match v.as_slice() {
                [s, w, n, e] => Some((*s, *w, *n, *e)),
                _ => {
                    return Err(ApiError::invalid(
                        "bbox",
                        "invalid_search",
                        "bbox is four numbers: south,west,north,east",
                    ));
                }
            }
        }
    };
    let sort = match q.sort.as_deref().unwrap_or("relevance") {
        "relevance" => SortBy::Relevance,
        "price" => SortBy::Price,
        "distance" => SortBy::Distance,
        "rating" => SortBy::Rating,
        other => {
            return Err(ApiError::invalid(
                "sort",
                "invalid_search",
                format!("sort is relevance, price, distance or rating, not {other:?}"),
            ));
        }
    };
    let amenities: Vec<Amenity> = list("amenities", &q.amenities)?;
    let property_types: Vec<PropertyType> = list("property_types", &q.property_types)?;
    let cmd = StaySearch {
        destination: q.destination,
        place_id: q.place_id,
        point,
        radius_km: q.radius_km,
        bbox,
        check_in: q.check_in,
        check_out: q.check_out,
        party: Party::new(q.adults.unwrap_or(2), q.children.unwrap_or(0))
            .in_rooms(q.rooms.unwrap_or(1))
            .with_ages(super::child_ages_listed(q.child_ages.as_deref())?),
        min_price_minor: q.min_price,
        max_price_minor: q.max_price,
        min_rating: q.min_rating,
        amenities,
        property_types,
        text: q.q,
        sort,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(20),
    };
    let place = q_summary(&cmd);
    let (check_in, check_out, party) = (cmd.check_in, cmd.check_out, cmd.party);
    let now = s.ports.clock.now();
    let page = search_stays(&s.ports, cmd, now).await?;
    // A person's searches are remembered for them; an API key's are not anyone's.
    if let Some(a) = actor.filter(|a| a.key_id.is_none()) {
        let query = raw.as_deref().unwrap_or("");
        let asked = innkeep_app::search::Asked { query, place: &place, check_in, check_out, party };
        innkeep_app::search::remember(&s.ports, a.user_id, asked, now).await;
    }
    Ok(Json(page))
}

fn q_summary(c: &StaySearch) -> String {
    match (&c.destination, c.place_id, c.point, c.bbox, &c.text) {
        (Some(d), ..) => d.clone(),
        (None, Some(id), ..) => format!("place {id}"),
        (None, None, Some((lat, lon)), ..) => format!("near {lat:.3},{lon:.3}"),
        (None, None, None, Some(_), _) => "map area".into(),
        (.., Some(t)) => format!("\"{t}\""),
        _ => "anywhere".into(),
    }
}

/// A signed-in user's recent searches, newest first; `query` runs the search again.
#[utoipa::path(get, path = "/api/v1/me/searches", operation_id = "recent_searches", tag = "search", security(("bearer" = [])),
    responses((status = 200, description = "recent searches, newest first", body = [schemas::RecentSearch]),
        (status = 401, response = inline(Unauthorized)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn recent(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> ApiResult<Json<Vec<innkeep_app::store::RecentSearch>>> {
    Ok(Json(s.ports.store.recent_searches(a.person()?, 20).await.map_err(innkeep_app::AppError::from)?))
}

/// Place autocomplete.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlacesQuery {
    pub q: String,
    /// 1 to 20, default 8
    pub limit: Option<usize>,
}

/// Places whose names start like `q` (typo-tolerant), largest first.
#[utoipa::path(get, path = "/api/v1/places", operation_id = "places", tag = "search", params(PlacesQuery),
    responses((status = 200, description = "places, largest first", body = [schemas::Place]),
        (status = 400, response = inline(BadRequest))))]
pub async fn places(State(s): State<AppState>, Params(q): Params<PlacesQuery>) -> ApiResult<Json<Vec<PlaceView>>> {
    let limit = q.limit.unwrap_or(8);
    if !(1..=20).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_query", "limit must be between 1 and 20"));
    }
    if q.q.trim().is_empty() || q.q.chars().count() > 100 {
        return Err(ApiError::invalid("q", "invalid_query", "q must be 1 to 100 characters"));
    }
    Ok(Json(s.ports.places.autocomplete(&q.q, limit)))
}

/// A point.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PointQuery {
    pub lat: f64,
    pub lon: f64,
}

/// The nearest place to a point.
#[utoipa::path(get, path = "/api/v1/places/reverse", operation_id = "reverse_place", tag = "search", params(PointQuery),
    responses((status = 200, description = "the nearest place", body = schemas::Place),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound))))]
pub async fn reverse(State(s): State<AppState>, Params(q): Params<PointQuery>) -> ApiResult<Json<PlaceView>> {
    if !(-90.0..=90.0).contains(&q.lat) || !(-180.0..=180.0).contains(&q.lon) {
        return Err(ApiError::invalid("lat", "invalid_query", "lat must be within -90..90 and lon within -180..180"));
    }
    s.ports.places.reverse(q.lat, q.lon).map(Json).ok_or_else(|| ApiError::not_found("place"))
}
