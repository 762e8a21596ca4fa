//! Billing hosts: commission rates (admins set, hosts read), monthly commission invoices,
//! where payouts go, the payouts made, and a payout batch's bank files (admins).

use crate::AppState;
use crate::api::problems::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::billing::{self, Invoice, Payout, PayoutAccount};
use innkeep_app::payment::BankAccount;
use innkeep_core::{Role, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A tenant's commission rate.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    /// Basis points: 1500 is 15%.
    pub rate_bp: i64,
}

/// A tenant's commission rate, as set (or the default, 15%).
#[derive(Debug, Serialize, ToSchema)]
pub struct Rate {
    #[schema(format = Uuid)]
    pub tenant_id: String,
    pub rate_bp: i64,
}

/// Set a tenant's commission rate (admins).
#[utoipa::path(put, path = "/api/v1/tenants/{id}/commission", operation_id = "set_commission_rate", tag = "billing", security(("bearer" = [])),
    request_body = RateBody, params(("id" = uuid::Uuid, Path, description = "the tenant")),
    responses((status = 200, description = "the rate", body = Rate),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 422, response = inline(UnprocessableEntity)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn set_rate(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<TenantId>,
    Body(b): Body<RateBody>,
) -> ApiResult<Json<Rate>> {
    billing::set_rate(&s.ports, &a, id, b.rate_bp).await?;
    Ok(Json(Rate { tenant_id: id.to_string(), rate_bp: b.rate_bp }))
}

/// A tenant's commission rate (its hosts, admins).
#[utoipa::path(get, path = "/api/v1/tenants/{id}/commission", operation_id = "get_commission_rate", tag = "billing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the tenant")),
    responses((status = 200, description = "the rate", body = Rate),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get_rate(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<TenantId>) -> ApiResult<Json<Rate>> {
    let rate_bp = billing::rate(&s.ports, &a, id).await?;
    Ok(Json(Rate { tenant_id: id.to_string(), rate_bp }))
}

/// The commission invoices the caller may see (a host its tenant's, an admin all), newest
/// first, without their lines.
#[utoipa::path(get, path = "/api/v1/invoices", operation_id = "list_invoices", tag = "billing", security(("bearer" = [])),
    responses((status = 200, description = "the invoices", body = Vec<schemas::Invoice>),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn invoices(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Vec<Invoice>>> {
    Ok(Json(billing::invoices(&s.ports, &a).await?))
}

/// One invoice with a line per stay (its tenant's hosts, admins).
#[utoipa::path(get, path = "/api/v1/invoices/{id}", operation_id = "get_invoice", tag = "billing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the invoice")),
    responses((status = 200, description = "the invoice", body = schemas::Invoice),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn invoice(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<Json<Invoice>> {
    Ok(Json(billing::invoice(&s.ports, &a, id).await?))
}

/// Where a host's payouts go.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// The account holder.
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
}

/// Set where the caller's tenant is paid (hosts).
#[utoipa::path(put, path = "/api/v1/payouts/account", operation_id = "set_payout_account", tag = "billing", security(("bearer" = [])),
    request_body = AccountBody,
    responses((status = 200, description = "the account", body = schemas::PayoutAccount),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn set_account(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<AccountBody>,
) -> ApiResult<Json<PayoutAccount>> {
    Ok(Json(billing::set_payout_account(&s.ports, &a, &b.name, &b.iban, b.bic.as_deref()).await?))
}

/// The payouts the caller may see (a host its tenant's, an admin all), newest first.
#[utoipa::path(get, path = "/api/v1/payouts", operation_id = "list_payouts", tag = "billing", security(("bearer" = [])),
    responses((status = 200, description = "the payouts", body = Vec<schemas::Payout>),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn payouts(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Vec<Payout>>> {
    Ok(Json(billing::payouts(&s.ports, &a).await?))
}

/// Which file of a batch.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `pain001` (ISO 20022 pain.001.001.03 XML, for the bank) or `csv`
    pub format: String,
}

/// A payout batch as a bank file: pain.001.001.03 from the platform's account, or CSV.
pub fn batch_file(bank: &BankAccount, batch: Uuid, payouts: &[Payout], format: &str) -> Result<String, ApiError> {
    use innkeep_payments::pain001::{CreditTransfer, Party, PaymentBatch};
    let Some(first) = payouts.first() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such payout batch"));
    };
    let batch = PaymentBatch {
        message_id: format!("IK-{}", &batch.simple().to_string()[..28]),
        created_at: first.created_at,
        execution_date: first.created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
        debtor: Party { name: bank.beneficiary.clone(), iban: bank.iban.clone(), bic: Some(bank.bic.clone()) },
        transfers: payouts
            .iter()
            .map(|p| CreditTransfer {
                end_to_end_id: p.id.simple().to_string()[..32].to_string(),
                amount: p.amount,
                creditor: Party { name: p.name.clone(), iban: p.iban.clone(), bic: p.bic.clone() },
                remittance: format!("Innkeep payout {}", p.id),
            })
            .collect(),
    };
    match format {
        "pain001" => innkeep_payments::pain001::pain001(&batch)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_batch", e.to_string())),
        "csv" => Ok(innkeep_payments::pain001::payouts_csv(&batch)),
        _ => Err(ApiError::invalid("format", "invalid_format", "format is pain001 or csv")),
    }
}

/// A payout batch as a file for the bank (admins): `?format=pain001` or `csv`.
#[utoipa::path(get, path = "/api/v1/payouts/batches/{id}", operation_id = "get_payout_batch", tag = "billing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the batch"), FileQuery),
    responses((status = 200, description = "the file", content((String = "application/xml"), (String = "text/csv"))),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn batch(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
    Params(q): Params<FileQuery>,
) -> ApiResult<Response> {
    if a.role != Role::Admin {
        return Err(innkeep_app::AppError::Forbidden("admins").into());
    }
    let payouts = s.ports.store.payouts(None, Some(id)).await.map_err(innkeep_app::AppError::from)?;
    let body = batch_file(&s.ports.settings.payments.bank, id, &payouts, &q.format)?;
    let kind = if q.format == "csv" { "text/csv; charset=utf-8" } else { "application/xml; charset=utf-8" };
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}

/// Mirrors of the answers, for the OpenAPI document.
pub mod schemas {
    use crate::api::schemas::Money;
    use utoipa::ToSchema;

    /// A completed stay's commission: one line of an invoice.
    #[derive(ToSchema)]
    pub struct Commission {
        #[schema(format = Uuid)]
        pub booking_id: String,
        #[schema(format = Uuid)]
        pub tenant_id: String,
        /// `2027-01`: the month of the check-out
        pub month: String,
        #[schema(format = Date)]
        pub check_in: String,
        #[schema(format = Date)]
        pub check_out: String,
        /// What the stay cost the guest.
        pub base: Money,
        pub rate_bp: i64,
        pub net: Money,
        pub tax: Money,
        #[schema(format = Uuid)]
        pub invoice_id: Option<String>,
        #[schema(format = DateTime)]
        pub created_at: String,
    }

    /// A monthly commission invoice.
    #[derive(ToSchema)]
    pub struct Invoice {
        #[schema(format = Uuid)]
        pub id: String,
        #[schema(format = Uuid)]
        pub tenant_id: String,
        /// `2027-000001`: gap-free per tenant and year
        pub number: String,
        pub year: i32,
        pub seq: i64,
        pub month: String,
        #[schema(example = "EUR")]
        pub currency: String,
        pub net: Money,
        pub tax: Money,
        pub total: Money,
        pub vat_bp: i64,
        /// One line per stay (empty in lists).
        pub lines: Vec<Commission>,
        #[schema(format = DateTime)]
        pub issued_at: String,
    }

    /// Where a host's payouts go.
    #[derive(ToSchema)]
    pub struct PayoutAccount {
        #[schema(format = Uuid)]
        pub tenant_id: String,
        pub name: String,
        pub iban: String,
        pub bic: Option<String>,
        #[schema(format = DateTime)]
        pub updated_at: String,
    }

    /// Money paid out to a host.
    #[derive(ToSchema)]
    pub struct Payout {
        #[schema(format = Uuid)]
        pub id: String,
        #[schema(format = Uuid)]
        pub batch_id: String,
        #[schema(format = Uuid)]
        pub tenant_id: String,
        pub amount: Money,
        pub name: String,
        pub iban: String,
        pub bic: Option<String>,
        #[schema(format = DateTime)]
        pub created_at: String,
    }
}
