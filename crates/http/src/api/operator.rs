//! Operators' tools for accounts: find users and tenants, suspend and restore them.

use crate::AppState;
use crate::api::problems::{BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized};
use crate::error::ApiResult;
use crate::extract::{Auth, Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::operator::{self, TenantEntry, UserEntry};
use innkeep_core::{StaffRole, TenantId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What to look for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct FindParams {
    /// Part of an e-mail address or name (of a tenant: its name, or its id); empty: the newest.
    pub q: String,
}

/// A user, as operators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserEntryView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<TenantId>,
    #[schema(value_type = Option<String>)]
    pub staff_role: Option<StaffRole>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub suspended_at: Option<jiff::Timestamp>,
}

impl From<UserEntry> for UserEntryView {
    fn from(u: UserEntry) -> Self {
        UserEntryView {
            user_id: u.user_id,
            email: u.email.as_str().to_string(),
            name: u.name,
            role: u.role.as_str().to_string(),
            tenant_id: u.tenant_id,
            staff_role: u.staff_role,
            created_at: u.created_at,
            suspended_at: u.suspended_at,
        }
    }
}

/// A tenant, as operators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantEntryView {
    #[schema(value_type = String, format = Uuid)]
    pub tenant_id: TenantId,
    pub name: String,
    pub members: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub suspended_at: Option<jiff::Timestamp>,
}

impl From<TenantEntry> for TenantEntryView {
    fn from(t: TenantEntry) -> Self {
        TenantEntryView {
            tenant_id: t.tenant_id,
            name: t.name,
            members: t.members,
            created_at: t.created_at,
            suspended_at: t.suspended_at,
        }
    }
}

/// Find users (operators): at most 50, newest first.
#[utoipa::path(get, path = "/api/v1/ops/users", operation_id = "find_users", tag = "operations", security(("bearer" = [])),
    params(FindParams),
    responses((status = 200, description = "the users found", body = Vec<UserEntryView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn users(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(p): Params<FindParams>,
) -> ApiResult<Json<Vec<UserEntryView>>> {
    Ok(Json(operator::find_users(&s.ports, &a, &p.q).await?.into_iter().map(UserEntryView::from).collect()))
}

/// Find tenants (operators): at most 50, newest first.
#[utoipa::path(get, path = "/api/v1/ops/tenants", operation_id = "find_tenants", tag = "operations", security(("bearer" = [])),
    params(FindParams),
    responses((status = 200, description = "the tenants found", body = Vec<TenantEntryView>),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn tenants(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(p): Params<FindParams>,
) -> ApiResult<Json<Vec<TenantEntryView>>> {
    Ok(Json(operator::find_tenants(&s.ports, &a, &p.q).await?.into_iter().map(TenantEntryView::from).collect()))
}

/// Suspend a user (operators): their sessions end at once on every node, their sign-ins
/// and the API keys they made are refused.
#[utoipa::path(put, path = "/api/v1/ops/users/{id}/suspension", operation_id = "suspend_user", tag = "operations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the user")),
    responses((status = 204, description = "suspended"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn suspend_user(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<UserId>) -> ApiResult<StatusCode> {
    operator::suspend_user(&s.ports, &a, id, true, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a suspended user (operators).
#[utoipa::path(delete, path = "/api/v1/ops/users/{id}/suspension", operation_id = "restore_user", tag = "operations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the user")),
    responses((status = 204, description = "restored"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn restore_user(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<UserId>) -> ApiResult<StatusCode> {
    operator::suspend_user(&s.ports, &a, id, false, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend a tenant (operators): every member's sessions end, their sign-ins and the
/// tenant's API keys are refused.
#[utoipa::path(put, path = "/api/v1/ops/tenants/{id}/suspension", operation_id = "suspend_tenant", tag = "operations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the tenant")),
    responses((status = 204, description = "suspended"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn suspend_tenant(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<TenantId>) -> ApiResult<StatusCode> {
    operator::suspend_tenant(&s.ports, &a, id, true, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a suspended tenant (operators).
#[utoipa::path(delete, path = "/api/v1/ops/tenants/{id}/suspension", operation_id = "restore_tenant", tag = "operations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the tenant")),
    responses((status = 204, description = "restored"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn restore_tenant(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<TenantId>) -> ApiResult<StatusCode> {
    operator::suspend_tenant(&s.ports, &a, id, false, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
