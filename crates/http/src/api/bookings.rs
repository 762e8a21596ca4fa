//! Bookings: place (hold), confirm, cancel, check in, complete, no-show, read and list.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::api::{schemas, waiting};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use innkeep_app::booking::{self, Action, PlaceBooking};
use innkeep_app::store::{Booking, BookingFilter, GuestContact};
use innkeep_core::{BookingId, BookingStatus, Money, Party, PropertyId, RoomTypeId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Who stays and how to reach them.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// A booking request.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    #[schema(value_type = String, format = Uuid)]
    pub room_type_id: RoomTypeId,
    #[schema(value_type = String, format = Date)]
    pub check_in: Date,
    #[schema(value_type = String, format = Date)]
    pub check_out: Date,
    pub adults: u16,
    #[serde(default)]
    pub children: u16,
    /// Units of the room type, 1 to 30 (default 1): the party is shared between them, an
    /// adult in each
    #[serde(default = "innkeep_core::one_room")]
    pub rooms: u16,
    /// Each child's age (0 to 17), one for each child; needed where the room type's price
    /// depends on it (its `rate_plan.child_rates`)
    #[serde(default)]
    #[schema(value_type = Vec<u8>)]
    pub child_ages: Vec<u8>,
    pub guest: GuestBody,
}

/// Hold a room type for a stay. The same Idempotency-Key with the same body returns the
/// same booking; with another body it is a 422.
#[utoipa::path(post, path = "/api/v1/bookings", operation_id = "place_booking", tag = "bookings", security(("bearer" = [])),
    request_body = BookingBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe: the same key with the same body answers the same booking")),
    responses((status = 201, description = "held until `hold_expires_at`", body = schemas::Booking),
        (status = 200, description = "a replay of the same request (same Idempotency-Key and body)", body = schemas::Booking),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 422, response = inline(UnprocessableEntity)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn place(
    State(s): State<AppState>,
    Auth(a): Auth,
    headers: HeaderMap,
    Body(b): Body<BookingBody>,
) -> ApiResult<(StatusCode, Json<Booking>)> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::invalid(
                        "Idempotency-Key",
                        "invalid_idempotency_key",
                        "Idempotency-Key must be visible ASCII",
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let cmd = PlaceBooking {
        room_type_id: b.room_type_id,
        check_in: b.check_in,
        check_out: b.check_out,
        party: Party::new(b.adults, b.children).in_rooms(b.rooms).with_ages(super::child_ages(&b.child_ages)?),
        guest: GuestContact { name: b.guest.name, email: b.guest.email, phone: b.guest.phone },
        idempotency_key: key,
    };
    let placed = booking::place_booking(&s.ports, &a, cmd, s.ports.clock.now()).await?;
    let status = if placed.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(placed.booking)))
}

/// A booking the caller may see. With `If-None-Match` and `Prefer: wait=N`, answered once
/// the booking changes (confirmed by its payment, say) or 304 after N seconds.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", operation_id = "get_booking", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag of the booking the client has: 304 while it is current"),
        ("Prefer" = Option<String>, Header, description = "`wait=N` (seconds, at most 20) with If-None-Match: answer when the booking changes, or 304 after N seconds")),
    responses((status = 200, description = "the booking", body = schemas::Booking,
            headers(("ETag" = String, description = "the booking's current tag"))),
        (status = 304, description = "the client's copy is current (after the wait it asked for, if any)"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<BookingId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    waiting::read_or_wait(&headers, &s.ports.changes, id.0, || async {
        Ok(booking::visible_booking(&s.ports, &a, id).await?)
    })
    .await
}

/// The result of an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub status: String,
    /// For a cancellation: the refund the policy gives ({minor, currency}).
    #[schema(value_type = Option<schemas::Money>)]
    pub refund: Option<Money>,
    #[schema(value_type = schemas::Booking)]
    pub booking: Booking,
}

async fn act(s: AppState, a: innkeep_app::Actor, id: BookingId, action: Action) -> ApiResult<Json<ActionView>> {
    let b = booking::act(&s.ports, &a, id, action, s.ports.clock.now()).await?;
    Ok(Json(ActionView { status: b.status.as_str().to_string(), refund: b.refund, booking: b }))
}

/// Confirm a held booking (pay at the property).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/confirm", operation_id = "confirm_booking", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the booking's new status", body = ActionView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn confirm(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<BookingId>) -> ApiResult<Json<ActionView>> {
    act(s, a, id, Action::Confirm).await
}

/// Cancel a held or confirmed booking; the answer carries the refund.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", operation_id = "cancel_booking", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the booking's new status", body = ActionView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn cancel(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<BookingId>) -> ApiResult<Json<ActionView>> {
    act(s, a, id, Action::Cancel).await
}

/// Check a guest in (hosts).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/check-in", operation_id = "check_in_booking", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the booking's new status", body = ActionView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn check_in(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<BookingId>) -> ApiResult<Json<ActionView>> {
    act(s, a, id, Action::CheckIn).await
}

/// Complete a stay (hosts).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/complete", operation_id = "complete_booking", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the booking's new status", body = ActionView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn complete(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<BookingId>) -> ApiResult<Json<ActionView>> {
    act(s, a, id, Action::Complete).await
}

/// Record a no-show (hosts).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/no-show", operation_id = "record_no_show", tag = "bookings", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the booking's new status", body = ActionView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn no_show(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<BookingId>) -> ApiResult<Json<ActionView>> {
    act(s, a, id, Action::NoShow).await
}

/// Filters of the bookings list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BookingQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub property_id: Option<PropertyId>,
    /// held, confirmed, checked_in, completed, expired, cancelled, no_show
    pub status: Option<String>,
    /// Bookings with a night on or after this date
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Bookings with a night before this date
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    /// 1 to 200, default 50
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// A guest's own bookings, a host's tenant's, or all for an admin; newest first.
#[utoipa::path(get, path = "/api/v1/bookings", operation_id = "list_bookings", tag = "bookings", security(("bearer" = [])),
    params(BookingQuery),
    responses((status = 200, description = "bookings, newest first", body = [schemas::Booking]),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(q): Params<BookingQuery>,
) -> ApiResult<Json<Vec<Booking>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(v) => Some(
            BookingStatus::parse(v)
                .ok_or_else(|| ApiError::invalid("status", "invalid_query", format!("unknown status {v:?}")))?,
        ),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_query", "limit must be between 1 and 200"));
    }
    let filter = BookingFilter {
        property_id: q.property_id,
        status,
        from: q.from,
        to: q.to,
        limit,
        offset: q.offset.unwrap_or(0),
        ..BookingFilter::default()
    };
    Ok(Json(booking::list_bookings(&s.ports, &a, filter).await?))
}
