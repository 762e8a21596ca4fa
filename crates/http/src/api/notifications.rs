//! Notifications: integrators' webhooks (a host, for its tenant) and the delivery log of
//! every message sent (a host its tenant's, an admin all).

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::notify::{self, Channel, Delivery, DeliveryFilter, DeliveryStatus, NewWebhook, Webhook};
use innkeep_core::{BookingId, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A webhook to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where to POST the events: https (http only to a loopback address where the node
    /// allows it); never a private or link-local address.
    pub url: String,
    /// The event kinds to send (`booking.confirmed`, `payment.succeeded`, ...).
    pub events: Vec<String>,
    /// The tenant (only an admin names one; a host's is its own).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<TenantId>,
}

/// A webhook. Its `secret` is shown only in the answer that made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub tenant_id: TenantId,
    pub url: String,
    pub events: Vec<String>,
    /// The key of the `Innkeep-Signature` header: HMAC-SHA256 of `"{t}.{body}"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl WebhookView {
    fn of(w: Webhook, with_secret: bool) -> WebhookView {
        WebhookView {
            id: w.id,
            tenant_id: w.tenant_id,
            url: w.url,
            events: w.events.iter().map(|k| k.as_str().to_string()).collect(),
            secret: with_secret.then_some(w.secret),
            created_at: w.created_at,
        }
    }
}

/// A message in the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// `email`, `sms`, `webhook`, `slack` or `pagerduty`
    pub channel: String,
    /// The address, phone number or URL.
    pub recipient: String,
    /// Which message (`booking.confirmed`, `reminder`, an event kind for a webhook, ...).
    pub template: String,
    pub subject: String,
    /// `pending`, `sent`, `parked` (given up; replayable) or `cancelled`
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub event_id: Option<innkeep_core::EventId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub booking_id: Option<BookingId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub webhook_id: Option<Uuid>,
    /// When it is (next) due.
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<jiff::Timestamp>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            channel: d.channel.as_str().to_string(),
            recipient: d.recipient,
            template: d.template,
            subject: d.content.subject,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            last_error: d.last_error,
            event_id: d.event_id,
            booking_id: d.booking_id,
            webhook_id: d.webhook_id,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            sent_at: d.sent_at,
        }
    }
}

/// Which messages of the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// `pending`, `sent`, `parked` or `cancelled`
    pub status: Option<String>,
    /// `email`, `sms`, `webhook`, `slack` or `pagerduty`
    pub channel: Option<String>,
    /// Only this booking's messages.
    pub booking_id: Option<Uuid>,
    /// The next page: messages older than this id (the last of the page before).
    pub before: Option<Uuid>,
    /// At most this many (1 to 200; 50 if not given).
    pub limit: Option<u32>,
}

impl LogQuery {
    fn filter(self) -> Result<DeliveryFilter, ApiError> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::invalid("status", "invalid_status", "status is pending, sent, parked or cancelled")
            })?),
        };
        let channel = match self.channel.as_deref() {
            None => None,
            Some(c) => Some(Channel::parse(c).ok_or_else(|| {
                ApiError::invalid("channel", "invalid_channel", "channel is email, sms, webhook, slack or pagerduty")
            })?),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid("limit", "invalid_limit", "limit is between 1 and 200"));
        }
        Ok(DeliveryFilter {
            status,
            channel,
            booking_id: self.booking_id.map(BookingId),
            before: self.before,
            limit,
            ..DeliveryFilter::default()
        })
    }
}

fn urls(s: &AppState) -> Result<&notify::UrlCheck, ApiError> {
    s.webhook_urls
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "webhooks are not enabled on this node"))
}

/// Subscribe a URL to events of the caller's tenant (a host; an admin names the tenant).
/// Each delivery is a POST of the event's JSON signed in `Innkeep-Signature`.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "notifications", security(("bearer" = [])),
    request_body = WebhookBody,
    responses((status = 201, description = "the webhook, with its secret (shown this once)", body = WebhookView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<WebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let check = urls(&s)?;
    // Someone else's tenant is refused by the use case (403), as is a guest.
    let tenant_id = b.tenant_id.or(a.tenant_id).ok_or_else(|| match a.role {
        innkeep_core::Role::Admin => {
            ApiError::invalid("tenant_id", "tenant_required", "an admin names the tenant of the webhook")
        }
        _ => ApiError::from(innkeep_app::AppError::Forbidden("hosts")),
    })?;
    let cmd = NewWebhook { tenant_id, url: b.url, events: b.events };
    let w = notify::create_webhook(&s.ports, &a, cmd, check, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::of(w, true))))
}

/// The webhooks of the caller's tenant (an admin: every tenant's).
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "the webhooks, without their secrets", body = Vec<WebhookView>),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Vec<WebhookView>>> {
    urls(&s)?;
    let tenant = match a.role {
        innkeep_core::Role::Admin => None,
        innkeep_core::Role::Host => Some(a.host_tenant(innkeep_core::Duty::Team)?),
        innkeep_core::Role::Guest => return Err(innkeep_app::AppError::Forbidden("hosts and admins").into()),
    };
    let hooks = s.ports.store.webhooks(tenant).await.map_err(innkeep_app::AppError::from)?;
    Ok(Json(hooks.into_iter().map(|w| WebhookView::of(w, false)).collect()))
}

/// One webhook (its tenant's hosts, admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "get_webhook", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the webhook")),
    responses((status = 200, description = "the webhook, without its secret", body = WebhookView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<Json<WebhookView>> {
    urls(&s)?;
    Ok(Json(WebhookView::of(notify::webhook_of(&s.ports, &a, id).await?, false)))
}

/// Stop sending to a webhook (its deliveries stay in the log).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the webhook")),
    responses((status = 204, description = "deleted"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn delete(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    urls(&s)?;
    notify::delete_webhook(&s.ports, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the webhook"), LogQuery),
    responses((status = 200, description = "the deliveries", body = Vec<DeliveryView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn deliveries(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<Uuid>,
    Params(q): Params<LogQuery>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    urls(&s)?;
    let w = notify::webhook_of(&s.ports, &a, id).await?;
    let filter = DeliveryFilter { webhook_id: Some(w.id), ..q.filter()? };
    let log = notify::deliveries(&s.ports, &a, filter).await?;
    Ok(Json(log.into_iter().map(DeliveryView::from).collect()))
}

/// The delivery log: every message sent or to send (a host its tenant's, an admin all),
/// newest first.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "notifications", security(("bearer" = [])),
    params(LogQuery),
    responses((status = 200, description = "the messages", body = Vec<DeliveryView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn log(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(q): Params<LogQuery>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let log = notify::deliveries(&s.ports, &a, q.filter()?).await?;
    Ok(Json(log.into_iter().map(DeliveryView::from).collect()))
}
