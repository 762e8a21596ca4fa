//! A host's data out and in (the owners of a tenant): the whole as one JSON document, each
//! kind as CSV for a spreadsheet, and a document imported into the caller's tenant (see
//! `innkeep_app::tenant_data`).

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::AppError;
use innkeep_app::tenant_data::{self, Imported, TenantData};
use serde::Serialize;
use utoipa::ToSchema;

/// The largest document taken.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

fn tenant_of(a: &innkeep_app::Actor) -> Result<innkeep_core::TenantId, ApiError> {
    a.tenant_id.ok_or_else(|| AppError::Forbidden("the tenant's owners").into())
}

/// What an import brought in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedView {
    pub properties: usize,
    pub room_types: usize,
    pub rates: usize,
    pub bookings: usize,
}

impl From<Imported> for ImportedView {
    fn from(i: Imported) -> Self {
        ImportedView { properties: i.properties, room_types: i.room_types, rates: i.rates, bookings: i.bookings }
    }
}

/// The caller's tenant's properties, room types, rates (the calendar's overrides, night by
/// night) and bookings as one JSON document (`format` `innkeep-tenant`, `version` 1), to keep
/// or to import elsewhere.
#[utoipa::path(get, path = "/api/v1/tenant-data", operation_id = "export_tenant_data", tag = "channels", security(("bearer" = [])),
    responses((status = 200, description = "the document, as an attachment", content_type = "application/json", body = serde_json::Value),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn export(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Response> {
    let tenant = tenant_of(&a)?;
    let data = tenant_data::export(&s.ports, Some(&a), tenant, s.ports.clock.now()).await?;
    let mut r = Json(data).into_response();
    attachment(&mut r, &format!("innkeep-tenant-{tenant}.json"));
    Ok(r)
}

fn attachment(r: &mut Response, name: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}

/// One kind of the caller's tenant's data as CSV (UTF-8, a header row):
/// `properties.csv`, `room-types.csv`, `rates.csv` or `bookings.csv`.
#[utoipa::path(get, path = "/api/v1/tenant-data/{file}", operation_id = "export_tenant_csv", tag = "channels", security(("bearer" = [])),
    params(("file" = String, Path, description = "properties.csv, room-types.csv, rates.csv or bookings.csv")),
    responses((status = 200, description = "the CSV, as an attachment", content_type = "text/csv", body = String),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn export_csv(State(s): State<AppState>, Auth(a): Auth, Path(file): Path<String>) -> ApiResult<Response> {
    let tenant = tenant_of(&a)?;
    if !tenant_data::CSV_FILES.contains(&file.as_str()) {
        return Err(ApiError::not_found("file"));
    }
    let data = tenant_data::export_for_file(&s.ports, Some(&a), tenant, s.ports.clock.now(), &file).await?;
    let text = tenant_data::to_csv(&data, &file)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    let mut r = text.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    attachment(&mut r, &file);
    Ok(r)
}

/// Put a document (`GET /api/v1/tenant-data`'s, from here or another Innkeep) into the
/// caller's tenant, ids kept: all of it or nothing.
#[utoipa::path(post, path = "/api/v1/tenant-data", operation_id = "import_tenant_data", tag = "channels", security(("bearer" = [])),
    request_body(content = serde_json::Value, description = "a document of format innkeep-tenant, version 1"),
    responses((status = 201, description = "what was imported", body = ImportedView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn import(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(data): Body<TenantData>,
) -> ApiResult<(StatusCode, Json<ImportedView>)> {
    let tenant = tenant_of(&a)?;
    a.person()?;
    if !a.may(innkeep_core::Duty::Team, tenant) {
        return Err(AppError::Forbidden("the tenant's owners").into());
    }
    let owner = s.ports.store.user(a.user_id).await.map_err(AppError::from)?.ok_or(AppError::Unauthenticated)?;
    let done = tenant_data::import(&s.ports, &owner, data, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(done.into())))
}

/// What a rates file set.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatesImportedView {
    /// Rows taken.
    pub rows: usize,
}

/// Upload `rates.csv` (as `GET /api/v1/tenant-data/rates.csv` writes it, edited): each row
/// sets a night of one of the caller's tenant's room types. Every row is checked first; a
/// problem is a 400 naming each line.
#[utoipa::path(post, path = "/api/v1/tenant-data/{file}", operation_id = "import_tenant_csv", tag = "channels", security(("bearer" = [])),
    params(("file" = String, Path, description = "rates.csv")),
    request_body(content = String, content_type = "text/csv", description = "room_type_id, night, price_minor, closed, min_stay, units"),
    responses((status = 200, description = "the rows taken", body = RatesImportedView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn import_csv(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(file): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<RatesImportedView>> {
    if file != "rates.csv" {
        return Err(ApiError::not_found("file"));
    }
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")));
    if !csv {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send text/csv"));
    }
    let rows = rate_settings(&body)?;
    let n = tenant_data::import_rates(&s.ports, &a, &rows, s.ports.clock.now()).await?;
    Ok(Json(RatesImportedView { rows: n }))
}

/// The rows of a rates file, or a 400 naming every problem.
pub fn rate_settings(body: &[u8]) -> Result<Vec<tenant_data::RateSetting>, ApiError> {
    let lines = innkeep_channels::rates_csv::read_rates(body).map_err(|problems| {
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        ApiError::invalid("file", "invalid_csv", said.join("; "))
    })?;
    Ok(lines.into_iter().map(|l| (l.room_type_id, l.night, l.change)).collect())
}
