//! Payments: start paying a held booking, read payments, and (admins) import bank
//! statements that pay them.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::api::schemas;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use innkeep_app::payment::{self, BankAccount, Payment};
use innkeep_core::{BookingId, PaymentMethod};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// How to pay.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// `bank_transfer` (or `card`, where a payment provider is configured)
    #[schema(value_type = String, example = "bank_transfer")]
    pub method: PaymentMethod,
}

/// A payment, with the instructions of an open bank transfer.
#[derive(Debug, Serialize)]
pub struct PaymentView {
    #[serde(flatten)]
    pub payment: Payment,
    pub instructions: Option<serde_json::Value>,
}

fn view(p: Payment, bank: &BankAccount) -> PaymentView {
    let instructions = match (&p.reference, p.status) {
        (Some(reference), innkeep_core::PaymentStatus::RequiresAction) => Some(serde_json::json!({
            "beneficiary": bank.beneficiary,
            "iban": bank.iban,
            "bic": bank.bic,
            "reference": reference,
            "amount": p.amount.checked_sub(p.received).unwrap_or(p.amount),
        })),
        _ => None,
    };
    PaymentView { payment: p, instructions }
}

/// The Idempotency-Key every payment POST must carry.
pub(crate) fn required_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "idempotency_key_required",
            "payments need an Idempotency-Key header, so that a retry never pays twice",
        ));
    };
    let key = v.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255).ok_or_else(|| {
        ApiError::invalid(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
    })?;
    Ok(key.to_string())
}

/// Start paying a held booking (its guest). A bank transfer answers the reference to quote.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/payments", operation_id = "create_payment", tag = "payments", security(("bearer" = [])),
    request_body = PaymentBody,
    params(("id" = uuid::Uuid, Path, description = "the booking"),
        ("Idempotency-Key" = String, Header, description = "required: the same key with the same body answers the same payment")),
    responses((status = 201, description = "the payment, with transfer instructions", body = schemas::Payment),
        (status = 200, description = "a replay of the same request", body = schemas::Payment),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<BookingId>,
    headers: HeaderMap,
    Body(b): Body<PaymentBody>,
) -> ApiResult<(StatusCode, Json<PaymentView>)> {
    let key = required_key(&headers)?;
    let (p, replayed) = payment::pay(&s.ports, &a, id, b.method, &key, s.ports.clock.now()).await?;
    let status = if replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(view(p, &s.ports.settings.payments.bank))))
}

/// A payment (its guest, the property's hosts, admins).
#[utoipa::path(get, path = "/api/v1/payments/{id}", operation_id = "get_payment", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the payment")),
    responses((status = 200, description = "the payment", body = schemas::Payment),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<Json<PaymentView>> {
    let p = payment::payment(&s.ports, &a, id).await?;
    Ok(Json(view(p, &s.ports.settings.payments.bank)))
}

/// The payments of a booking the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/payments", operation_id = "list_booking_payments", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the booking")),
    responses((status = 200, description = "the payments", body = Vec<schemas::Payment>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn of_booking(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<BookingId>,
) -> ApiResult<Json<Vec<PaymentView>>> {
    let ps = payment::payments_of_booking(&s.ports, &a, id).await?;
    Ok(Json(ps.into_iter().map(|p| view(p, &s.ports.settings.payments.bank)).collect()))
}
