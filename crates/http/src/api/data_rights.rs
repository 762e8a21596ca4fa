//! A person's data rights: download everything kept about them, delete their account.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::data_rights::{self, PersonalData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Everything Innkeep keeps about the signed-in person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDataView {
    /// When this copy was made (RFC 3339).
    pub exported_at: String,
    /// The account: e-mail, name, role, tenant and staff role, language, preferred
    /// currency, when it was made and its e-mail verified, whether reminders are sent and
    /// two-factor sign-in is on.
    #[schema(value_type = Object)]
    pub account: serde_json::Value,
    /// Live sessions: when each began and ends (never their tokens).
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<serde_json::Value>,
    /// Their bookings as a guest, as the API returns them.
    #[schema(value_type = Vec<Object>)]
    pub bookings: Vec<serde_json::Value>,
    /// The payments of those bookings.
    #[schema(value_type = Vec<Object>)]
    pub payments: Vec<serde_json::Value>,
    /// Recent searches.
    #[schema(value_type = Vec<Object>)]
    pub searches: Vec<serde_json::Value>,
    /// Messages sent (or to be sent) to them, with their subject and text.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<serde_json::Value>,
    /// What the audit log recorded of them (newest first).
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<serde_json::Value>,
    /// API keys they made (never the secrets).
    #[schema(value_type = Vec<Object>)]
    pub api_keys: Vec<serde_json::Value>,
    /// Reviews they wrote.
    #[schema(value_type = Vec<Object>)]
    pub reviews: Vec<serde_json::Value>,
}

fn values<T: Serialize>(items: &[T]) -> Result<Vec<serde_json::Value>, serde_json::Error> {
    items.iter().map(serde_json::to_value).collect()
}

impl PersonalDataView {
    fn of(d: &PersonalData) -> Result<Self, serde_json::Error> {
        Ok(PersonalDataView {
            exported_at: d.exported_at.to_string(),
            account: serde_json::to_value(&d.account)?,
            sessions: values(&d.sessions)?,
            bookings: values(&d.bookings)?,
            payments: values(&d.payments)?,
            searches: values(&d.searches)?,
            messages: values(&d.messages)?,
            audit: values(&d.audit)?,
            api_keys: values(&d.api_keys)?,
            reviews: values(&d.reviews)?,
        })
    }
}

/// Deleting an account asks for its password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    pub password: String,
}

/// Download everything Innkeep keeps about the signed-in person, as one JSON document.
#[utoipa::path(get, path = "/api/v1/me/export", operation_id = "export_my_data", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the person's data (sent as an attachment)", body = PersonalDataView),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn export(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Response> {
    let data = data_rights::export(&s.ports, &a).await?;
    let view = PersonalDataView::of(&data)
        .map_err(|e| ApiError::from(innkeep_app::AppError::Store(innkeep_app::StoreError::Corrupt(e.to_string()))))?;
    let disposition = format!("attachment; filename=\"innkeep-data-{}.json\"", a.user_id);
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(view)).into_response())
}

/// Delete the signed-in person's account: every session ends and their personal details
/// are erased; bookings and payments are kept for accounting without them. Refused (409)
/// while a stay of theirs is not over, or for the last owner of a tenant still in use.
#[utoipa::path(delete, path = "/api/v1/me", operation_id = "delete_me", tag = "accounts", security(("bearer" = [])),
    request_body = EraseBody,
    responses((status = 204, description = "the account is erased"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn erase(State(s): State<AppState>, Auth(a): Auth, Body(b): Body<EraseBody>) -> ApiResult<StatusCode> {
    data_rights::erase(&s.ports, &a, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
