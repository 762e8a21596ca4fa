//! Calendar sync with other channels: a room type's iCalendar export feed at a secret URL,
//! and the feeds of other channels it imports (see `innkeep_app::channels`).

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::channels::{self, FeedNight, IcalExport, IcalFeed, NewFeed};
use innkeep_app::node::ChannelSettings;
use innkeep_core::{RoomTypeId, TenantId};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use uuid::Uuid;

fn settings(s: &AppState) -> Result<&ChannelSettings, ApiError> {
    s.channels
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "calendar sync is not enabled on this node"))
}

/// A room type's export feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportView {
    #[schema(value_type = String, format = Uuid)]
    pub room_type_id: RoomTypeId,
    /// The feed's address: give it to the other channel (Airbnb, Booking.com, another
    /// Innkeep property). Anyone with it sees the busy nights (no guest details).
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl ExportView {
    fn of(e: IcalExport, base: &str) -> ExportView {
        ExportView {
            room_type_id: e.room_type_id,
            url: format!("{}/ical/{}.ics", base.trim_end_matches('/'), e.token),
            created_at: e.created_at,
        }
    }
}

/// A feed of another channel to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedBody {
    /// What the host calls it ("Airbnb").
    pub name: String,
    /// The feed's address: https (http only to a loopback address where the node allows
    /// it); never a private or link-local address.
    pub url: String,
}

/// A night an imported feed blocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedNightView {
    #[schema(value_type = String, format = Date)]
    pub night: jiff::civil::Date,
    /// The feed's event covering it.
    pub uid: String,
    /// `held` (it holds a unit) or `conflict` (no unit was left: a booking has it).
    pub state: String,
}

impl From<FeedNight> for FeedNightView {
    fn from(n: FeedNight) -> Self {
        FeedNightView { night: n.night, uid: n.uid, state: if n.applied { "held" } else { "conflict" }.to_string() }
    }
}

/// An imported feed and how its last fetch went.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub tenant_id: TenantId,
    #[schema(value_type = String, format = Uuid)]
    pub room_type_id: RoomTypeId,
    pub name: String,
    pub url: String,
    /// `ok`, `not_modified` or `error`; none before the first fetch.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub next_sync_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    /// The nights it blocks (on `GET /api/v1/ical-feeds/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nights: Option<Vec<FeedNightView>>,
}

impl FeedView {
    fn of(f: IcalFeed, nights: Option<Vec<FeedNight>>) -> FeedView {
        FeedView {
            id: f.id,
            tenant_id: f.tenant_id,
            room_type_id: f.room_type_id,
            name: f.name,
            url: f.url,
            last_status: f.last_status.map(|s| s.as_str().to_string()),
            last_error: f.last_error,
            last_sync_at: f.last_sync_at,
            next_sync_at: f.next_sync_at,
            created_at: f.created_at,
            nights: nights.map(|n| n.into_iter().map(FeedNightView::from).collect()),
        }
    }
}

/// Make a room type's export feed, or replace it (the old URL stops working at once).
#[utoipa::path(post, path = "/api/v1/room-types/{id}/ical-export", operation_id = "create_ical_export", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    responses((status = 201, description = "the export, with its URL", body = ExportView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_export(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
) -> ApiResult<(StatusCode, Json<ExportView>)> {
    let base = settings(&s)?.public_url.clone();
    let e = channels::new_export(&s.ports, &a, id, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(ExportView::of(e, &base))))
}

/// A room type's export feed.
#[utoipa::path(get, path = "/api/v1/room-types/{id}/ical-export", operation_id = "get_ical_export", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    responses((status = 200, description = "the export, with its URL", body = ExportView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_export(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
) -> ApiResult<Json<ExportView>> {
    let base = settings(&s)?.public_url.clone();
    let e = channels::export_of(&s.ports, &a, id).await?.ok_or_else(|| ApiError::not_found("export"))?;
    Ok(Json(ExportView::of(e, &base)))
}

/// Stop a room type's export feed: its URL answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/room-types/{id}/ical-export", operation_id = "delete_ical_export", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    responses((status = 204, description = "the export is gone"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn delete_export(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<RoomTypeId>) -> ApiResult<StatusCode> {
    settings(&s)?;
    channels::revoke_export(&s.ports, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Import another channel's feed into a room type: fetched at once, then on the schedule.
#[utoipa::path(post, path = "/api/v1/room-types/{id}/ical-feeds", operation_id = "create_ical_feed", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    request_body = FeedBody,
    responses((status = 201, description = "the feed, to be fetched", body = FeedView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_feed(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
    Body(b): Body<FeedBody>,
) -> ApiResult<(StatusCode, Json<FeedView>)> {
    let check = settings(&s)?.feed_urls.clone();
    let cmd = NewFeed { name: b.name, url: b.url };
    let f = channels::add_feed(&s.ports, &a, id, cmd, &check, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(FeedView::of(f, None))))
}

/// The feeds a room type imports.
#[utoipa::path(get, path = "/api/v1/room-types/{id}/ical-feeds", operation_id = "list_ical_feeds", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the room type")),
    responses((status = 200, description = "the feeds, oldest first", body = Vec<FeedView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list_feeds(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<RoomTypeId>,
) -> ApiResult<Json<Vec<FeedView>>> {
    settings(&s)?;
    let feeds = channels::feeds(&s.ports, &a, id).await?;
    Ok(Json(feeds.into_iter().map(|f| FeedView::of(f, None)).collect()))
}

/// One imported feed with the nights it blocks (held, or in conflict with a booking).
#[utoipa::path(get, path = "/api/v1/ical-feeds/{id}", operation_id = "get_ical_feed", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the feed")),
    responses((status = 200, description = "the feed and its nights", body = FeedView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_feed(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<Json<FeedView>> {
    settings(&s)?;
    let (f, nights) = channels::feed_of(&s.ports, &a, id).await?;
    Ok(Json(FeedView::of(f, Some(nights))))
}

/// Stop importing a feed: the nights it blocks are released.
#[utoipa::path(delete, path = "/api/v1/ical-feeds/{id}", operation_id = "delete_ical_feed", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the feed")),
    responses((status = 204, description = "the feed is gone and its nights released"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn delete_feed(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    settings(&s)?;
    channels::delete_feed(&s.ports, &a, id, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fetch a feed now (within seconds), not at its next scheduled time.
#[utoipa::path(post, path = "/api/v1/ical-feeds/{id}/sync", operation_id = "sync_ical_feed", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the feed")),
    responses((status = 202, description = "the feed, due now", body = FeedView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sync_feed(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
) -> ApiResult<(StatusCode, Json<FeedView>)> {
    settings(&s)?;
    let f = channels::sync_now(&s.ports, &a, id, s.ports.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(FeedView::of(f, None))))
}

/// The codes a channel manager names a property and its room types by in OTA messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtaCodesBody {
    /// The `HotelCode` (1 to 64 letters, digits, `-`, `_`, `.`; one property per code in a tenant).
    pub hotel_code: String,
    /// `InvTypeCode` -> room type id, for the property's room types that channels sell.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub room_types: std::collections::BTreeMap<String, RoomTypeId>,
}

/// Set the codes channel managers name a property and its room types by (replacing earlier ones).
#[utoipa::path(put, path = "/api/v1/properties/{id}/ota-codes", operation_id = "put_ota_codes", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the property")),
    request_body = OtaCodesBody,
    responses((status = 200, description = "the codes", body = OtaCodesBody),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn put_ota_codes(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<innkeep_core::PropertyId>,
    Body(b): Body<OtaCodesBody>,
) -> ApiResult<Json<OtaCodesBody>> {
    settings(&s)?;
    let c = innkeep_app::ota::set_codes(&s.ports, &a, id, b.hotel_code, b.room_types).await?;
    Ok(Json(OtaCodesBody { hotel_code: c.hotel_code, room_types: c.room_types }))
}

/// The codes channel managers name a property and its room types by.
#[utoipa::path(get, path = "/api/v1/properties/{id}/ota-codes", operation_id = "get_ota_codes", tag = "channels", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the property")),
    responses((status = 200, description = "the codes", body = OtaCodesBody),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_ota_codes(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<innkeep_core::PropertyId>,
) -> ApiResult<Json<OtaCodesBody>> {
    settings(&s)?;
    let c = innkeep_app::ota::codes_of(&s.ports, &a, id).await?.ok_or_else(|| ApiError::not_found("codes"))?;
    Ok(Json(OtaCodesBody { hotel_code: c.hotel_code, room_types: c.room_types }))
}

/// GET /ical/{token}.ics: a room type's busy nights as an iCalendar feed (RFC 5545), for
/// other channels to import. A strong ETag makes their frequent polls cheap (304).
pub async fn feed_file(State(s): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    settings(&s)?;
    let token = file.strip_suffix(".ics").ok_or_else(|| ApiError::not_found("calendar"))?;
    let now = s.ports.clock.now();
    let calendar = channels::export_feed(&s.ports, token, now).await?;
    let rt = calendar.room_type.id;
    let events: Vec<innkeep_channels::ExportEvent> = calendar
        .busy
        .iter()
        .map(|(start, end)| innkeep_channels::ExportEvent {
            uid: format!("{}-{rt}@innkeep", start.strftime("%Y%m%d")),
            start: *start,
            end: *end,
            summary: "Not available".to_string(),
        })
        .collect();
    // The tag is of the busy nights, not of the text (whose DTSTAMP changes every time).
    let mut hash = sha2::Sha256::new();
    hash.update(calendar.room_type.draft.name.as_bytes());
    for e in &events {
        hash.update(format!("{}/{};", e.start, e.end).as_bytes());
    }
    let etag = format!("\"{}\"", &hex::encode(hash.finalize())[..32]);
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag));
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let name = format!("{} – {}", calendar.property_name, calendar.room_type.draft.name);
        innkeep_channels::write_feed(&name, &events, now).into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(r)
}
