//! What operators do with accounts: find users and tenants, suspend and restore them.
//!
//! Suspending a user ends their sessions in the same transaction (a `session.ended` event
//! each, which every node's cache acts on), refuses their sign-ins and the API keys they
//! made; suspending a tenant does the same for every member and every key of the tenant.
//! Keys are read from the primary on every request, so a suspended tenant's key is refused
//! by the next request on any node.

use crate::store::StoreError;
use crate::{Actor, AppError, Event, Ports};
use async_trait::async_trait;
use innkeep_core::{Email, Role, StaffRole, TenantId, UserId};
use jiff::Timestamp;
use serde::Serialize;

/// Most rows a search answers.
pub const MAX_FOUND: u32 = 50;

/// A user as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEntry {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub tenant_id: Option<TenantId>,
    pub staff_role: Option<StaffRole>,
    pub created_at: Timestamp,
    pub suspended_at: Option<Timestamp>,
}

/// A tenant as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantEntry {
    pub tenant_id: TenantId,
    pub name: String,
    pub members: i64,
    pub created_at: Timestamp,
    pub suspended_at: Option<Timestamp>,
}

/// The store's directory role.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Users whose e-mail or name contains `q` (case-insensitive; all when empty), newest
    /// first, at most `limit`.
    async fn find_users(&self, q: &str, limit: u32) -> Result<Vec<UserEntry>, StoreError>;
    /// Tenants whose name contains `q`, or whose id is `q`, newest first.
    async fn find_tenants(&self, q: &str, limit: u32) -> Result<Vec<TenantEntry>, StoreError>;
    /// Suspend (`Some(at)`) or restore (`None`) a user; a suspension ends their sessions in
    /// the same transaction. `None` if there is no such user; else the events written.
    async fn set_user_suspended(
        &self,
        user: UserId,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError>;
    /// The same for a tenant and the sessions of all its members.
    async fn set_tenant_suspended(
        &self,
        tenant: TenantId,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError>;
    /// Whether the user, or their tenant, is suspended (read from the primary).
    async fn suspended(&self, user: UserId) -> Result<bool, StoreError>;
}

fn operator(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin && actor.key_id.is_none() { Ok(()) } else { Err(AppError::Forbidden("operators")) }
}

/// Trimmed, at most 100 characters.
fn query(q: &str) -> Result<String, AppError> {
    let q = q.trim();
    if q.chars().count() > 100 {
        return Err(AppError::invalid("q", "query_too_long", "a search is at most 100 characters"));
    }
    Ok(q.to_string())
}

/// Find users (operators).
pub async fn find_users(ports: &Ports, actor: &Actor, q: &str) -> Result<Vec<UserEntry>, AppError> {
    operator(actor)?;
    Ok(ports.store.find_users(&query(q)?, MAX_FOUND).await?)
}

/// Find tenants (operators).
pub async fn find_tenants(ports: &Ports, actor: &Actor, q: &str) -> Result<Vec<TenantEntry>, AppError> {
    operator(actor)?;
    Ok(ports.store.find_tenants(&query(q)?, MAX_FOUND).await?)
}

/// Suspend or restore a user (operators; not themselves).
#[tracing::instrument(skip_all, fields(operator = %actor.user_id, user = %user, suspend))]
pub async fn suspend_user(
    ports: &Ports,
    actor: &Actor,
    user: UserId,
    suspend: bool,
    now: Timestamp,
) -> Result<(), AppError> {
    operator(actor)?;
    if user == actor.user_id {
        return Err(AppError::Conflict("operators do not suspend themselves".into()));
    }
    let events = ports
        .store
        .set_user_suspended(user, suspend.then_some(now), now)
        .await?
        .ok_or(AppError::NotFound { what: "user" })?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    tracing::warn!(ended = events.len(), "user {}", if suspend { "suspended" } else { "restored" });
    Ok(())
}

/// Suspend or restore a tenant (operators).
#[tracing::instrument(skip_all, fields(operator = %actor.user_id, tenant = %tenant, suspend))]
pub async fn suspend_tenant(
    ports: &Ports,
    actor: &Actor,
    tenant: TenantId,
    suspend: bool,
    now: Timestamp,
) -> Result<(), AppError> {
    operator(actor)?;
    let events = ports
        .store
        .set_tenant_suspended(tenant, suspend.then_some(now), now)
        .await?
        .ok_or(AppError::NotFound { what: "tenant" })?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    tracing::warn!(ended = events.len(), "tenant {}", if suspend { "suspended" } else { "restored" });
    Ok(())
}
