//! The audit log (a tenant's owners their tenant's, operators everything) and the
//! unauthorized-access bursts this node sees now (operators only).

use crate::AppState;
use crate::api::problems::{BadRequest, Forbidden, ServiceUnavailable, Unauthorized};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Params};
use axum::Json;
use axum::extract::State;
use innkeep_app::audit::{self, AuditFilter, Entry};
use innkeep_app::intrusion::{self, Burst};
use innkeep_core::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<TenantId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor_user_id: Option<UserId>,
    /// The API key the request was made with, if it was.
    pub actor_key_id: Option<String>,
    /// What was done (`sign_in`, `sign_in_failed`, `calendar_changed`, `booking_cancelled`, ...).
    pub action: String,
    /// The request's path, or the e-mail address a sign-in named.
    pub target: String,
    pub method: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The client's IP address.
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl From<Entry> for AuditEntryView {
    fn from(e: Entry) -> Self {
        AuditEntryView {
            id: e.id,
            at: e.at,
            tenant_id: e.tenant_id,
            actor_user_id: e.actor_user_id,
            actor_key_id: e.actor_key_id,
            action: e.action,
            target: e.target,
            method: e.method,
            status: e.status,
            address: e.address,
            user_agent: e.user_agent,
        }
    }
}

/// Which entries of the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this tenant's (a host's is always its own).
    pub tenant_id: Option<Uuid>,
    /// Only what this user did.
    pub actor_user_id: Option<Uuid>,
    /// Only this action (`sign_in_failed`, ...).
    pub action: Option<String>,
    /// The next page: entries older than this id (the last of the page before).
    pub before: Option<Uuid>,
    /// At most this many (1 to 200; 50 if not given).
    pub limit: Option<u32>,
}

/// The audit log, newest first: who did what, when and from where (a host its tenant's,
/// an admin every tenant's and the entries of none, such as failed sign-ins).
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "list_audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, description = "the entries", body = Vec<AuditEntryView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntryView>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=audit::MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", "invalid_limit", "limit is between 1 and 200"));
    }
    let filter = AuditFilter {
        tenant_id: q.tenant_id.map(TenantId),
        actor_user_id: q.actor_user_id.map(UserId),
        action: q.action,
        before: q.before,
        limit,
    };
    let entries = audit::list(&s.ports, &a, filter).await?;
    Ok(Json(entries.into_iter().map(AuditEntryView::from).collect()))
}

/// An address, account or tenant over an unauthorized-access threshold now.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurstView {
    /// `address`, `account` or `tenant`
    pub scope: String,
    /// The IP address, the account (an e-mail address or a user id) or the tenant id.
    pub key: String,
    /// `failed_sign_in`, `refused` (401/403) or `throttled` (429)
    pub signal: String,
    /// How many in the last 5 minutes (for a tenant, of every kind).
    pub count: u32,
    pub threshold: u32,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: jiff::Timestamp,
}

impl From<Burst> for BurstView {
    fn from(b: Burst) -> Self {
        let signal = serde_json::to_value(b.signal).ok().and_then(|v| v.as_str().map(str::to_string));
        BurstView {
            scope: b.scope.as_str().to_string(),
            key: b.key,
            signal: signal.unwrap_or_default(),
            count: b.count,
            threshold: b.threshold,
            last_seen: b.last_seen,
        }
    }
}

/// The unauthorized-access bursts this node sees now: failed sign-ins, 401/403 and 429
/// answers per address, account and tenant over their thresholds (operators only).
#[utoipa::path(get, path = "/api/v1/ops/access-bursts", operation_id = "access_bursts", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "the bursts, per scope, largest first", body = Vec<BurstView>),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden))))]
pub async fn bursts(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Vec<BurstView>>> {
    let bursts = intrusion::bursts_for(&a, &s.access, s.ports.clock.now())?;
    Ok(Json(bursts.into_iter().map(BurstView::from).collect()))
}
