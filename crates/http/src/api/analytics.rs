//! Analytics: operators' read-only SQL over the lake, and the reports (hosts over their own
//! tenant, operators over all), as JSON or CSV.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Params};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::analytics::{self, Report, Table};
use innkeep_core::TenantId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A query's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableView {
    /// The columns' names, in order.
    pub columns: Vec<String>,
    /// The rows: numbers, strings (dates and times as ISO 8601 text) and nulls, in the
    /// columns' order.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows matched than the limit (10,000) let through.
    pub truncated: bool,
}

/// An operator's query.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlBody {
    /// One read-only statement (SELECT, WITH, EXPLAIN) over the tables `events`,
    /// `booking_events`, `bookings`, `client_events`, `properties` and `lake`.
    pub query: String,
    /// `json` (the default) or `csv`
    pub format: Option<String>,
}

/// How to answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Only this tenant's properties (a host's is always its own; operators: any or all).
    pub tenant_id: Option<Uuid>,
    /// `json` (the default) or `csv`
    pub format: Option<String>,
}

fn answer(table: Table, format: Option<&str>) -> ApiResult<Response> {
    match format.unwrap_or("json") {
        "json" => {
            Ok(Json(TableView { columns: table.columns, rows: table.rows, truncated: table.truncated }).into_response())
        }
        "csv" => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], table.to_csv()).into_response()),
        _ => Err(ApiError::invalid("format", "invalid_format", "format is json or csv")),
    }
}

fn engine(s: &AppState) -> ApiResult<&dyn analytics::Analytics> {
    s.analytics
        .as_deref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "analytics are not enabled on this node"))
}

/// Run one read-only SQL query over the lake (operators), within 10 s and 10,000 rows.
#[utoipa::path(post, path = "/api/v1/analytics/sql", operation_id = "analytics_sql", tag = "analytics",
    security(("bearer" = [])), request_body = SqlBody,
    responses((status = 200, description = "the rows", content((TableView = "application/json"), (String = "text/csv"))),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 422, response = inline(UnprocessableEntity)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sql(State(s): State<AppState>, Auth(a): Auth, Body(b): Body<SqlBody>) -> ApiResult<Response> {
    let table = analytics::sql(engine(&s)?, &a, &b.query).await?;
    answer(table, b.format.as_deref())
}

/// A report: `occupancy`, `occupancy-by-city`, `occupancy-by-month` (occupancy, ADR,
/// RevPAR), `lead-time`, `length-of-stay`, `cancellations`, `top-destinations`; operators
/// also `funnel` and `revenue-per-tenant`.
#[utoipa::path(get, path = "/api/v1/analytics/reports/{name}", operation_id = "analytics_report", tag = "analytics",
    security(("bearer" = [])), params(("name" = String, Path, description = "the report"), ReportQuery),
    responses((status = 200, description = "the report's rows", content((TableView = "application/json"), (String = "text/csv"))),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn report(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(name): Path<String>,
    Params(q): Params<ReportQuery>,
) -> ApiResult<Response> {
    let report = Report::named(&name)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no report named {name:?}")))?;
    let table = analytics::report(engine(&s)?, &a, report, q.tenant_id.map(TenantId)).await?;
    answer(table, q.format.as_deref())
}
