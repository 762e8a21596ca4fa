//! Payments: start paying a held booking, read payments, and (admins) import bank
//! statements that pay them.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::api::{schemas, waiting};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use innkeep_app::payment::{self, Payment, PaymentSettings};
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

/// A payment, with the instructions of an open bank transfer or where its guest confirms an
/// open card payment.
#[derive(Debug, Serialize)]
pub struct PaymentView {
    #[serde(flatten)]
    pub payment: Payment,
    pub instructions: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
}

fn view(p: Payment, settings: &PaymentSettings) -> PaymentView {
    let bank = &settings.bank;
    let checkout_url = payment::checkout_url(settings, &p);
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
    PaymentView { payment: p, instructions, checkout_url }
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
    Ok((status, Json(view(p, &s.ports.settings.payments))))
}

/// A payment (its guest, the property's hosts, admins). With `If-None-Match` and
/// `Prefer: wait=N`, answered once the payment changes (its client secret is there, it
/// succeeded or failed) or 304 after N seconds (see `waiting`).
#[utoipa::path(get, path = "/api/v1/payments/{id}", operation_id = "get_payment", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the payment"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag of the payment the client has: 304 while it is current"),
        ("Prefer" = Option<String>, Header, description = "`wait=N` (seconds, at most 20) with If-None-Match: answer when the payment changes, or 304 after N seconds")),
    responses((status = 200, description = "the payment", body = schemas::Payment,
            headers(("ETag" = String, description = "the payment's current tag"))),
        (status = 304, description = "the client's copy is current (after the wait it asked for, if any)"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    waiting::read_or_wait(&headers, &s.ports.changes, id, || async {
        let p = payment::payment(&s.ports, &a, id).await?;
        Ok(view(p, &s.ports.settings.payments))
    })
    .await
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
    Ok(Json(ps.into_iter().map(|p| view(p, &s.ports.settings.payments)).collect()))
}

/// A statement read from a file: its id, its lines, and why any line could not be read.
#[derive(Debug)]
pub struct ParsedStatement {
    pub id: String,
    pub lines: Vec<payment::StatementLine>,
    pub unreadable: Vec<String>,
}

/// Why a statement cannot be imported (nothing of it was).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidStatement(pub String);

/// The largest statement accepted (a month of a busy account in camt.053 is a few MiB).
pub const MAX_STATEMENT_BYTES: usize = 32 * 1024 * 1024;

/// A statement's lines as the use case takes them, and its id: camt.053 XML (each
/// statement's `Id`) or CSV (`date,amount,currency,reference`; the file's digest). Lines
/// whose amount cannot be read at all come back apart, to be reported (no money can be
/// booked for them).
pub fn statement_lines(bytes: &[u8]) -> Result<Vec<ParsedStatement>, InvalidStatement> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let convert = |lines: Vec<innkeep_payments::StatementLine>| {
        let mut ok = Vec::new();
        let mut unreadable = Vec::new();
        for l in lines {
            let Some(amount) = l.amount else {
                unreadable.push(l.problem.unwrap_or_else(|| "no amount".into()));
                continue;
            };
            let problem = l
                .problem
                .or_else(|| l.reversal.then(|| "a reversal of an earlier entry".to_string()))
                .or_else(|| l.status.filter(|s| s != "BOOK").map(|s| format!("status {s}: not booked yet")));
            ok.push(payment::StatementLine {
                booking_date: l.booking_date,
                amount,
                credit: l.credit,
                references: l.references,
                problem,
            });
        }
        (ok, unreadable)
    };
    if first == Some(b'<') {
        let statements = innkeep_payments::camt053::parse(bytes)
            .map_err(|e| InvalidStatement(format!("not a camt.053 statement: {e}")))?;
        Ok(statements
            .into_iter()
            .map(|s| {
                let (lines, unreadable) = convert(s.lines);
                ParsedStatement { id: s.id, lines, unreadable }
            })
            .collect())
    } else {
        let (lines, errors) = innkeep_payments::statement_csv::parse(bytes);
        if !errors.is_empty() {
            let listed: Vec<String> = errors.iter().take(10).map(|e| e.to_string()).collect();
            return Err(InvalidStatement(format!(
                "{} CSV rows could not be read (nothing was imported): {}",
                errors.len(),
                listed.join("; ")
            )));
        }
        use sha2::Digest;
        let id = format!("csv-{}", hex::encode(&sha2::Sha256::digest(bytes)[..12]));
        let (lines, unreadable) = convert(lines);
        Ok(vec![ParsedStatement { id, lines, unreadable }])
    }
}

/// What an import did, statement by statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementReport {
    pub statements: Vec<StatementImport>,
    /// Lines that paid a payment in full.
    pub paid: usize,
    /// Lines that need a person (unmatched, over- or under-paid, unreadable, ...).
    pub to_review: usize,
    /// Lines imported before (nothing changed).
    pub duplicates: usize,
}

/// One statement's lines and what became of each.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementImport {
    pub id: String,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<payment::ImportedLine>,
    /// Lines whose amount could not be read at all, with why: not imported.
    pub unreadable: Vec<String>,
}

/// Import a bank statement (admins): camt.053 XML (versions 001.02 to 001.08) or CSV
/// (`date,amount,currency,reference`). Credits quoting an open bank transfer's reference
/// pay it; every other line is reported. Importing the same statement again changes nothing.
#[utoipa::path(post, path = "/api/v1/payments/statements", operation_id = "import_statement", tag = "payments", security(("bearer" = [])),
    request_body(content = String, description = "the statement: camt.053 XML or CSV", content_type = "application/xml"),
    params(("Idempotency-Key" = String, Header, description = "required (an import is also idempotent by its lines)")),
    responses((status = 200, description = "what became of each line", body = StatementReport),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn import(
    State(s): State<AppState>,
    Auth(a): Auth,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<StatementReport>> {
    if a.role != innkeep_core::Role::Admin {
        return Err(innkeep_app::AppError::Forbidden("admins").into());
    }
    required_key(&headers)?;
    let mut report = StatementReport { statements: Vec::new(), paid: 0, to_review: 0, duplicates: 0 };
    let statements =
        statement_lines(&body).map_err(|e| ApiError::invalid("body", "invalid_statement", e.to_string()))?;
    for ParsedStatement { id, lines, unreadable } in statements {
        let r = payment::import_statement(&s.ports, &a, &id, &lines, s.ports.clock.now()).await?;
        report.paid += r.paid;
        report.to_review += r.to_review + unreadable.len();
        report.duplicates += r.duplicates;
        report.statements.push(StatementImport { id, lines: r.lines, unreadable });
    }
    Ok(Json(report))
}

/// A statement line as kept, with what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLineView {
    pub id: Uuid,
    pub statement_id: String,
    /// The day the bank booked it, when the statement says.
    pub booking_date: Option<String>,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    pub credit: bool,
    /// The reference that matched, or the line's references joined.
    pub reference: String,
    pub payment_id: Option<Uuid>,
    /// paid, overpaid, underpaid, not_open, wrong_currency, unmatched, debit or unreadable
    pub outcome: String,
    pub created_at: String,
}

impl From<&payment::StoredLine> for StatementLineView {
    fn from(l: &payment::StoredLine) -> Self {
        StatementLineView {
            id: l.id,
            statement_id: l.statement_id.clone(),
            booking_date: l.booking_date.map(|d| d.to_string()),
            amount: l.amount.minor,
            currency: l.amount.currency.code().to_string(),
            credit: l.credit,
            reference: l.reference.clone(),
            payment_id: l.payment_id,
            outcome: l.outcome.as_str().to_string(),
            created_at: l.created_at.to_string(),
        }
    }
}

/// Which statement lines to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct LinesQuery {
    /// Only lines with this outcome (`unmatched` for the ones waiting for a person).
    pub outcome: Option<String>,
    /// At most this many, newest first (1 to 500; 100 when absent).
    pub limit: Option<u32>,
}

/// Imported statement lines, newest first (admins).
#[utoipa::path(get, path = "/api/v1/payments/statement-lines", operation_id = "list_statement_lines", tag = "payments", security(("bearer" = [])),
    params(LinesQuery),
    responses((status = 200, description = "the lines", body = [StatementLineView]),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn statement_lines_list(
    State(s): State<AppState>,
    Auth(a): Auth,
    crate::extract::Params(q): crate::extract::Params<LinesQuery>,
) -> ApiResult<Json<Vec<StatementLineView>>> {
    if a.role != innkeep_core::Role::Admin {
        return Err(innkeep_app::AppError::Forbidden("admins").into());
    }
    let outcome = match q.outcome.as_deref() {
        None => None,
        Some(o) => Some(
            payment::LineOutcome::parse(o)
                .ok_or_else(|| ApiError::invalid("outcome", "invalid_outcome", format!("no outcome {o:?}")))?,
        ),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_limit", "limit is 1 to 500"));
    }
    let lines = s.ports.store.statement_lines(outcome, limit).await.map_err(innkeep_app::AppError::from)?;
    Ok(Json(lines.iter().map(StatementLineView::from).collect()))
}

/// Which payment a line pays.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchBody {
    pub payment_id: Uuid,
}

/// Match a statement line that matched nothing (a mistyped reference) to an open bank
/// transfer in its currency (admins): the money pays it as a line quoting its reference
/// would have, confirming a held booking. Matching it to the same payment again answers
/// the line as it is.
#[utoipa::path(post, path = "/api/v1/payments/statement-lines/{id}/match", operation_id = "match_statement_line", tag = "payments", security(("bearer" = [])),
    request_body = MatchBody,
    params(("id" = uuid::Uuid, Path, description = "the statement line"),
        ("Idempotency-Key" = String, Header, description = "required (a match is also idempotent by its line and payment)")),
    responses((status = 200, description = "the line as it became", body = StatementLineView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn match_statement_line(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(body): Body<MatchBody>,
) -> ApiResult<Json<StatementLineView>> {
    if a.role != innkeep_core::Role::Admin {
        return Err(innkeep_app::AppError::Forbidden("admins").into());
    }
    required_key(&headers)?;
    let line = payment::match_line(&s.ports, &a, id, body.payment_id, s.ports.clock.now()).await?;
    Ok(Json(StatementLineView::from(&line)))
}

/// How much to refund.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Minor units of the payment's currency; absent: everything not yet refunded.
    pub amount: Option<i64>,
}

/// Refund (part of) a succeeded payment (the property's hosts, admins): never more than
/// the payment received, in total.
#[utoipa::path(post, path = "/api/v1/payments/{id}/refunds", operation_id = "create_refund", tag = "payments", security(("bearer" = [])),
    request_body = RefundBody,
    params(("id" = uuid::Uuid, Path, description = "the payment"),
        ("Idempotency-Key" = String, Header, description = "required: the same key with the same body answers the same refund")),
    responses((status = 201, description = "the refund, owed to the guest", body = schemas::Refund),
        (status = 200, description = "a replay of the same request", body = schemas::Refund),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_refund(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(b): Body<RefundBody>,
) -> ApiResult<(StatusCode, Json<payment::Refund>)> {
    let key = required_key(&headers)?;
    let (r, replayed) = payment::refund(&s.ports, &a, id, b.amount, &key, s.ports.clock.now()).await?;
    Ok((if replayed { StatusCode::OK } else { StatusCode::CREATED }, Json(r)))
}

/// The refunds of a payment (its guest, the property's hosts, admins).
#[utoipa::path(get, path = "/api/v1/payments/{id}/refunds", operation_id = "list_refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the payment")),
    responses((status = 200, description = "the refunds, oldest first", body = Vec<schemas::Refund>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn refunds(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
) -> ApiResult<Json<Vec<payment::Refund>>> {
    Ok(Json(payment::refunds_of(&s.ports, &a, id).await?))
}

/// The largest provider event taken (Stripe's events are a few KiB).
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// What the webhook answers a provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub received: bool,
    /// Whether the event moved a payment on (false: seen before, late, or not ours).
    pub applied: bool,
}

/// The card provider's events (Stripe webhooks): the `Stripe-Signature` header is checked
/// against the exact body (timestamp tolerance, any of several v1 signatures); each event
/// is applied once and moves a payment forward only. A 2xx means the event is saved; on
/// any other answer the provider sends it again.
#[utoipa::path(post, path = "/api/v1/payments/webhooks/stripe", operation_id = "stripe_webhook", tag = "payments",
    request_body(content = Object, description = "a Stripe event, exactly as signed", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]")),
    responses((status = 200, description = "the event is saved (applied now or before)", body = WebhookAnswer),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn stripe_webhook(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    let Some(provider) = s.provider.clone() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no card payment provider is configured here"));
    };
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let applied = innkeep_app::card::provider_event(&s.ports, provider.as_ref(), signature, &body).await?;
    Ok(Json(WebhookAnswer { received: true, applied }))
}
