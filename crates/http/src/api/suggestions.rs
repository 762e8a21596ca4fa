//! Suggestions: stays recommended for the signed-in guest (popular ones for anyone else),
//! stays like a property ("guests who stayed here also stayed at"), and what trends now.

use crate::AppState;
use crate::api::problems::{BadRequest, NotFound, ServiceUnavailable, Unauthorized};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, MaybeAuth, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::AppError;
use innkeep_app::recommend::{self, Recommender, Suggested};
use innkeep_app::trending::{Trending, Window};
use innkeep_core::{PropertyId, Role};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Suggestions answered at most.
const MAX_K: usize = 50;

/// A suggested stay.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    #[schema(value_type = String, format = Uuid)]
    pub property_id: PropertyId,
    pub name: String,
    pub city: String,
    /// ISO 3166-1 alpha-2
    pub country: String,
    /// Why: `also_stayed` (guests who stayed where you did, or here, also stayed there),
    /// `similar` (place, type, price, amenities), `searched_city`, `popular`
    pub reason: String,
    /// The blended score (higher first); comparable within one answer only.
    pub score: f32,
}

impl From<Suggested> for SuggestionView {
    fn from(s: Suggested) -> Self {
        let reason = serde_json::to_value(s.reason).ok().and_then(|v| v.as_str().map(String::from));
        SuggestionView {
            property_id: s.property.id,
            name: s.property.draft.name,
            city: s.property.draft.address.city,
            country: s.property.draft.address.country.as_str().to_string(),
            reason: reason.unwrap_or_default(),
            score: s.score,
        }
    }
}

/// How many.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CountQuery {
    /// 1 to 50; 10 if not given.
    pub k: Option<usize>,
}

fn count(k: Option<usize>) -> ApiResult<usize> {
    match k.unwrap_or(10) {
        k @ 1..=MAX_K => Ok(k),
        _ => Err(ApiError::invalid("k", "invalid_k", "k is between 1 and 50")),
    }
}

fn model(s: &AppState) -> ApiResult<&Arc<Recommender>> {
    s.recommender
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "suggestions are not enabled on this node"))
}

/// Stays for the signed-in guest, from their bookings (never a stay they booked already);
/// signed out, or with no history, the stays booked most lately. Only bookable stays.
#[utoipa::path(get, path = "/api/v1/recommendations", operation_id = "recommendations", tag = "suggestions",
    params(CountQuery),
    responses((status = 200, description = "the suggestions, best first", body = Vec<SuggestionView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn recommendations(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    Params(q): Params<CountQuery>,
) -> ApiResult<Json<Vec<SuggestionView>>> {
    let k = count(q.k)?;
    let model = model(&s)?.model();
    // A guest's own history; a host's or an operator's taste is not a traveller's.
    let user = a.filter(|a| a.role == Role::Guest && a.key_id.is_none()).map(|a| a.user_id);
    let found = recommend::recommendations(&s.ports, &model, user, &[], &[], k).await?;
    Ok(Json(found.into_iter().map(SuggestionView::from).collect()))
}

/// Bookable stays like this one: where its guests also stayed, then alike in place, type,
/// price and amenities.
#[utoipa::path(get, path = "/api/v1/properties/{id}/similar", operation_id = "similar_properties", tag = "suggestions",
    params(("id" = uuid::Uuid, Path, description = "the property"), CountQuery),
    responses((status = 200, description = "the stays, most alike first", body = Vec<SuggestionView>),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn similar(
    State(s): State<AppState>,
    Id(id): Id<PropertyId>,
    Params(q): Params<CountQuery>,
) -> ApiResult<Json<Vec<SuggestionView>>> {
    let k = count(q.k)?;
    let model = model(&s)?.model();
    if s.ports.store.property(id).await.map_err(AppError::from)?.is_none() {
        return Err(AppError::NotFound { what: "property" }.into());
    }
    let found = recommend::similar(&s.ports, &model, id, k).await?;
    Ok(Json(found.into_iter().map(SuggestionView::from).collect()))
}

/// Which window.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendingQuery {
    /// `hour` (the default) or `day`
    pub window: Option<String>,
}

/// A place or a stay and its weighted count (a hold counts 5, a view or a search 1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendView {
    pub key: String,
    pub count: u64,
}

/// What trends on this node.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendingView {
    pub window: String,
    pub cities: Vec<TrendView>,
    /// Property ids.
    pub properties: Vec<TrendView>,
}

/// The destinations and stays held and looked at most over the last hour or day, as this
/// node counts them from the event stream.
#[utoipa::path(get, path = "/api/v1/trending", operation_id = "trending", tag = "suggestions",
    params(TrendingQuery),
    responses((status = 200, description = "the ten of each counted most", body = TrendingView),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound))))]
pub async fn trending(State(s): State<AppState>, Params(q): Params<TrendingQuery>) -> ApiResult<Json<TrendingView>> {
    let window = match q.window.as_deref() {
        None => Window::Hour,
        Some(w) => {
            Window::parse(w).ok_or_else(|| ApiError::invalid("window", "invalid_window", "window is hour or day"))?
        }
    };
    let t: &Arc<Trending> = s
        .trending
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "trending is not enabled on this node"))?;
    let now = s.ports.clock.now();
    Ok(Json(TrendingView {
        window: window.as_str().to_string(),
        cities: t.top_cities(window, 10, now).into_iter().map(|c| TrendView { key: c.key, count: c.count }).collect(),
        properties: t
            .top_properties(window, 10, now)
            .into_iter()
            .map(|p| TrendView { key: p.key.0.to_string(), count: p.count })
            .collect(),
    }))
}
