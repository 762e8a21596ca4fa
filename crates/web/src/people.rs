//! The operators' page of people: find users and tenants, suspend and restore them, and
//! the newest entries of the audit log.

use crate::page::{Ctx, PageError, PageResult, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, Query, State};
use innkeep_app::audit::AuditFilter;
use innkeep_app::node::AppState;
use innkeep_app::{Actor, operator};
use innkeep_core::{Role, TenantId, UserId};
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeopleQuery {
    q: String,
    done: String,
}

struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    tenant: String,
    created: String,
    suspended: String,
}

struct TenantRow {
    id: String,
    name: String,
    members: i64,
    created: String,
    suspended: String,
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    status: u16,
    address: String,
}

#[derive(Template)]
#[template(path = "ops_people.html")]
struct PeoplePage {
    ctx: Ctx,
    q: String,
    flash: String,
    users: Vec<UserRow>,
    tenants: Vec<TenantRow>,
    audit: Vec<AuditRow>,
}

fn when(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M").to_string()
}

pub(crate) fn operator_of(v: &Visitor) -> Result<Actor, PageError> {
    let a = v.actor()?;
    if a.role != Role::Admin {
        return Err(PageError::Forbidden(crate::i18n::t("Only operators can see this page.").into()));
    }
    Ok(a)
}

/// GET /ops/people?q=
pub async fn people(State(s): State<AppState>, v: Visitor, Query(q): Query<PeopleQuery>) -> PageResult {
    let a = operator_of(&v)?;
    let users = operator::find_users(&s.ports, &a, &q.q).await?;
    let tenants = operator::find_tenants(&s.ports, &a, &q.q).await?;
    let filter = AuditFilter { tenant_id: None, actor_user_id: None, action: None, before: None, limit: 50 };
    let audit = innkeep_app::audit::list(&s.ports, &a, filter).await?;
    let flash = match q.done.as_str() {
        "suspended" => crate::i18n::t("Suspended: their sessions have ended and their sign-ins and keys are refused."),
        "restored" => crate::i18n::t("Restored."),
        _ => "",
    };
    Ok(render(&PeoplePage {
        ctx: v.ctx("People"),
        q: q.q.clone(),
        flash: flash.into(),
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.user_id.to_string(),
                email: u.email.as_str().to_string(),
                name: u.name,
                role: match u.staff_role {
                    Some(r) => format!("{} ({})", u.role.as_str(), r.as_str().replace('_', " ")),
                    None => u.role.as_str().to_string(),
                },
                tenant: u.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                created: when(u.created_at),
                suspended: u.suspended_at.map(when).unwrap_or_default(),
            })
            .collect(),
        tenants: tenants
            .into_iter()
            .map(|t| TenantRow {
                id: t.tenant_id.to_string(),
                name: t.name,
                members: t.members,
                created: when(t.created_at),
                suspended: t.suspended_at.map(when).unwrap_or_default(),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|e| AuditRow {
                at: when(e.at),
                actor: e
                    .actor_user_id
                    .map(|u| u.to_string())
                    .or(e.actor_key_id.map(|k| format!("key {k}")))
                    .unwrap_or_default(),
                action: e.action,
                target: e.target,
                status: e.status,
                address: e.address.unwrap_or_default(),
            })
            .collect(),
    }))
}

fn suspend(action: &str) -> Result<bool, PageError> {
    match action {
        "suspend" => Ok(true),
        "restore" => Ok(false),
        _ => Err(PageError::NotFound),
    }
}

fn done(suspended: bool) -> axum::response::Response {
    crate::redirect::to(if suspended { "/ops/people?done=suspended" } else { "/ops/people?done=restored" })
}

/// POST /ops/people/users/{id}/{suspend|restore}
pub async fn user_action(
    State(s): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
) -> PageResult {
    let a = operator_of(&v)?;
    let id: UserId = id.parse().map_err(|_| PageError::NotFound)?;
    let suspended = suspend(&action)?;
    operator::suspend_user(&s.ports, &a, id, suspended, s.ports.clock.now()).await?;
    Ok(done(suspended))
}

/// POST /ops/people/tenants/{id}/{suspend|restore}
pub async fn tenant_action(
    State(s): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
) -> PageResult {
    let a = operator_of(&v)?;
    let id: TenantId = id.parse().map_err(|_| PageError::NotFound)?;
    let suspended = suspend(&action)?;
    operator::suspend_tenant(&s.ports, &a, id, suspended, s.ports.clock.now()).await?;
    Ok(done(suspended))
}
