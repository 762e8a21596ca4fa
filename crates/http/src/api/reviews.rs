//! Reviews of stays: a guest reviews a completed stay, the property's staff answer once,
//! anyone signed in reports abuse, operators hide or show a review; anyone reads them.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id, MaybeAuth, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::review::{self, NewReview, Rating, Review};
use innkeep_core::review::score_label;
use innkeep_core::{BookingId, PropertyId, ReviewId, Scores};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Scores from 1 to 10 per aspect.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoresBody {
    pub cleanliness: u8,
    pub location: u8,
    pub value: u8,
    pub staff: u8,
    pub comfort: u8,
}

impl From<ScoresBody> for Scores {
    fn from(s: ScoresBody) -> Scores {
        Scores { cleanliness: s.cleanliness, location: s.location, value: s.value, staff: s.staff, comfort: s.comfort }
    }
}

impl From<Scores> for ScoresBody {
    fn from(s: Scores) -> ScoresBody {
        ScoresBody {
            cleanliness: s.cleanliness,
            location: s.location,
            value: s.value,
            staff: s.staff,
            comfort: s.comfort,
        }
    }
}

/// A review to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub scores: ScoresBody,
    /// What the guest says (at most 5,000 characters).
    #[serde(default)]
    pub text: String,
}

/// A review as the API shows it (never the reviewer's account).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub booking_id: String,
    pub property_id: String,
    /// The guest's first name as booked.
    pub author: String,
    pub scores: ScoresBody,
    /// The mean of the scores, one decimal ("8.6").
    pub overall: String,
    pub text: String,
    pub created_at: String,
    /// The host's answer.
    pub reply: Option<String>,
    pub replied_at: Option<String>,
    /// Hidden by an operator (seen only by operators and the property's staff).
    pub hidden: bool,
    /// How many people reported it as abusive.
    pub reports: u32,
}

impl From<&Review> for ReviewView {
    fn from(r: &Review) -> Self {
        ReviewView {
            id: r.id.to_string(),
            booking_id: r.booking_id.to_string(),
            property_id: r.property_id.to_string(),
            author: r.author.clone(),
            scores: r.scores.into(),
            overall: score_label(r.overall),
            text: r.text.clone(),
            created_at: r.created_at.to_string(),
            reply: r.reply.clone(),
            replied_at: r.replied_at.map(|t| t.to_string()),
            hidden: r.hidden_at.is_some(),
            reports: r.reports,
        }
    }
}

/// A property's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// The mean overall score of its shown reviews, one decimal ("8.6").
    pub average: String,
    pub count: u32,
}

impl From<Rating> for RatingView {
    fn from(r: Rating) -> Self {
        RatingView { average: score_label(r.average), count: r.count }
    }
}

/// A property's reviews, newest first, with its rating (`null` before the first).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewsView {
    pub rating: Option<RatingView>,
    pub reviews: Vec<ReviewView>,
}

/// Paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewsQuery {
    /// 1 to 100, default 20
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The host's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// 1 to 2,000 characters
    pub text: String,
}

/// Why a review is reported.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReportBody {
    /// At most 500 characters are kept.
    pub reason: String,
}

/// Review a stay: the booking's guest, once, when the stay is completed and for 30 days
/// after check-out.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/review", operation_id = "review_booking", tag = "reviews",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the booking")), request_body = ReviewBody,
    responses((status = 201, description = "the review, published", body = ReviewView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<BookingId>,
    Body(b): Body<ReviewBody>,
) -> ApiResult<(StatusCode, Json<ReviewView>)> {
    let new = NewReview { scores: b.scores.into(), text: b.text };
    let r = review::write_review(&s.ports, &a, id, new, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(ReviewView::from(&r))))
}

/// A property's reviews, newest first, and its rating.
#[utoipa::path(get, path = "/api/v1/properties/{id}/reviews", operation_id = "list_reviews", tag = "reviews",
    params(("id" = uuid::Uuid, Path, description = "the property"), ReviewsQuery),
    responses((status = 200, description = "the rating and the reviews", body = ReviewsView),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list(
    State(s): State<AppState>,
    Id(id): Id<PropertyId>,
    Params(q): Params<ReviewsQuery>,
) -> ApiResult<Json<ReviewsView>> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_query", "limit must be between 1 and 100"));
    }
    let (rating, reviews) = review::property_reviews(&s.ports, id, limit, q.offset.unwrap_or(0)).await?;
    Ok(Json(ReviewsView {
        rating: rating.map(RatingView::from),
        reviews: reviews.iter().map(ReviewView::from).collect(),
    }))
}

/// One review (a hidden one only to operators and the property's staff).
#[utoipa::path(get, path = "/api/v1/reviews/{id}", operation_id = "get_review", tag = "reviews",
    security((), ("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the review")),
    responses((status = 200, description = "the review", body = ReviewView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    Id(id): Id<ReviewId>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(ReviewView::from(&review::visible_review(&s.ports, a.as_ref(), id).await?)))
}

/// Answer a review: the property's staff whose role changes listings, once.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reply", operation_id = "reply_review", tag = "reviews",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the review")), request_body = ReplyBody,
    responses((status = 200, description = "the review with its answer", body = ReviewView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn reply(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<ReviewId>,
    Body(b): Body<ReplyBody>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(ReviewView::from(&review::reply(&s.ports, &a, id, &b.text, s.ports.clock.now()).await?)))
}

/// Report a review as abusive (once per person; operators see the count).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reports", operation_id = "report_review", tag = "reviews",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the review")), request_body = ReportBody,
    responses((status = 204, description = "reported (again: nothing changes)"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn report(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<ReviewId>,
    Body(b): Body<ReportBody>,
) -> ApiResult<StatusCode> {
    review::report(&s.ports, &a, id, &b.reason, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hide a review (operators): it leaves the property's page and rating.
#[utoipa::path(put, path = "/api/v1/reviews/{id}/hidden", operation_id = "hide_review", tag = "reviews",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the review")),
    responses((status = 200, description = "the review, hidden", body = ReviewView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn hide(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<ReviewId>) -> ApiResult<Json<ReviewView>> {
    Ok(Json(ReviewView::from(&review::set_hidden(&s.ports, &a, id, true, s.ports.clock.now()).await?)))
}

/// Show a hidden review again (operators).
#[utoipa::path(delete, path = "/api/v1/reviews/{id}/hidden", operation_id = "show_review", tag = "reviews",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the review")),
    responses((status = 200, description = "the review, shown", body = ReviewView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn show(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<ReviewId>) -> ApiResult<Json<ReviewView>> {
    Ok(Json(ReviewView::from(&review::set_hidden(&s.ports, &a, id, false, s.ports.clock.now()).await?)))
}
