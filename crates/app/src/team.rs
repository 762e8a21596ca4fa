//! A host tenant's team and its API keys.
//!
//! Owners invite colleagues by e-mail with a role (a single-use link, kept as its SHA-256,
//! for 7 days), change their roles and remove them; a change ends the member's sessions at
//! once on every node, so the new role applies to the next request. A tenant always keeps
//! an owner. API keys act for the tenant with scopes: the key is shown once, only its
//! SHA-256 is kept, and a revoked key is refused by the next request on any node (keys are
//! looked up in the database on every use, never cached).

use crate::auth::{hash_password, token_hash};
use crate::event::{Change, UserRegistered};
use crate::notify::{Channel, NewMessage};
use crate::store::{StoreError, User};
use crate::{Actor, AppError, Event, Ports};
use async_trait::async_trait;
use innkeep_core::{Duty, Email, Password, Role, Scope, StaffRole, TenantId, UserId};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

/// How long an invitation link works.
pub const INVITATION_TTL: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Keys a tenant may hold (revoked ones included: they stay listed).
pub const MAX_KEYS: usize = 100;
/// Open invitations a tenant may have at once.
pub const MAX_OPEN_INVITATIONS: usize = 50;
/// The text every API key starts with, so a leaked one is recognisable (secret scanners).
pub const KEY_PREFIX: &str = "ik_";
/// How often a key's last use is written (at most once a minute per key).
pub const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// An invitation to join a tenant (its token is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: StaffRole,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An API key as listed (its secret is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// What changing a member's role did.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Changed; the member's ended sessions, one event each.
    Changed(Vec<Event>),
    /// The user is not a member of the tenant.
    NotMember,
    /// It would leave the tenant without an owner.
    LastOwner,
}

/// The store's team role.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Keep an invitation with its token's hash.
    async fn add_invitation(&self, invitation: &Invitation, token_hash: &str) -> Result<(), StoreError>;
    /// A tenant's invitations not yet accepted nor expired, newest first.
    async fn open_invitations(&self, tenant: TenantId, now: Timestamp) -> Result<Vec<Invitation>, StoreError>;
    /// Withdraw an open invitation; whether there was one.
    async fn delete_invitation(&self, tenant: TenantId, id: Uuid) -> Result<bool, StoreError>;
    /// Accept an invitation: in one transaction, spend it (once, before it expires) and
    /// create the member it invites (the invitation's address, tenant and role), with its
    /// `user.registered` event (`joined_event`). `None` if the token is unknown, used or
    /// expired (nothing is written); `Duplicate("email")` if the address has an account.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        joining: &Joining,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
    /// Give a member another role, or (`None`) take them out of the tenant (they stay a
    /// guest); either way their sessions end, with a `session.ended` event each, in the same
    /// transaction. Refused if the tenant would have no owner left.
    async fn set_member_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Option<StaffRole>,
        now: Timestamp,
    ) -> Result<MemberChange, StoreError>;
    /// Keep a new key with its secret's hash.
    async fn add_api_key(&self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError>;
    /// A tenant's keys, newest first.
    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError>;
    /// Revoke a key of the tenant; whether it was live.
    async fn revoke_api_key(&self, tenant: TenantId, id: Uuid, now: Timestamp) -> Result<bool, StoreError>;
    /// The key with this secret hash, revoked or not, read from the primary.
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Note that a key was used (only if its last use is older than `TOUCH_EVERY`).
    async fn touch_api_key(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError>;
}

/// Who accepts an invitation: what they chose; the rest is the invitation's.
#[derive(Debug, Clone)]
pub struct Joining {
    pub id: UserId,
    pub name: String,
    pub password_hash: String,
    pub locale: innkeep_core::Locale,
}

/// A member as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub role: StaffRole,
    pub joined_at: Timestamp,
}

/// The actor's team: its members, oldest first, and the open invitations.
pub async fn team(ports: &Ports, actor: &Actor) -> Result<(Vec<Member>, Vec<Invitation>), AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    let members = ports
        .store
        .tenant_users(tenant)
        .await?
        .into_iter()
        .filter_map(|u| {
            Some(Member { user_id: u.id, name: u.name, email: u.email, role: u.staff_role?, joined_at: u.created_at })
        })
        .collect();
    Ok((members, ports.store.open_invitations(tenant, ports.clock.now()).await?))
}

/// Invite `email` to the actor's tenant with `role`, and mail them the link.
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id, role = role.as_str()))]
pub async fn invite(
    ports: &Ports,
    mail: &dyn crate::credentials::AccountMail,
    actor: &Actor,
    email: &str,
    role: StaffRole,
    now: Timestamp,
) -> Result<Invitation, AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    if actor.key_id.is_some() {
        return Err(AppError::Forbidden("people, not API keys"));
    }
    let email = Email::parse(email).map_err(|e| AppError::invalid("email", "invalid_email", e.to_string()))?;
    ports
        .limiter
        .take(&crate::limit::ACCOUNT_MAIL, &format!("invite:{tenant}"))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_invitations", wait })?;
    let open = ports.store.open_invitations(tenant, now).await?;
    if open.len() >= MAX_OPEN_INVITATIONS {
        return Err(AppError::Conflict(format!("at most {MAX_OPEN_INVITATIONS} invitations may be open at once")));
    }
    let inviter = ports.store.user(actor.user_id).await?.ok_or(AppError::Unauthenticated)?;
    let token = random_hex();
    let hash = token_hash(&token);
    let invitation = Invitation {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        email,
        role,
        invited_by: actor.user_id,
        created_at: now,
        expires_at: now.checked_add(INVITATION_TTL).unwrap_or(now),
    };
    ports.store.add_invitation(&invitation, &hash).await?;
    let mut content = mail.invitation(&invitation, &inviter, &token);
    content.secret = true;
    content.transactional = true;
    let message = NewMessage {
        id: Uuid::now_v7(),
        dedup_key: format!("invitation/{}", invitation.id),
        event_id: None,
        tenant_id: Some(tenant),
        booking_id: None,
        webhook_id: None,
        template: "account.invitation".into(),
        channel: Channel::Email,
        recipient: invitation.email.as_str().to_string(),
        content,
        not_before: now,
        created_at: now,
    };
    ports.store.enqueue(&[message]).await?;
    tracing::info!(invitation_id = %invitation.id, "member invited");
    Ok(invitation)
}

/// Withdraw an open invitation of the actor's tenant.
pub async fn withdraw(ports: &Ports, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    if !ports.store.delete_invitation(tenant, id).await? {
        return Err(AppError::NotFound { what: "invitation" });
    }
    Ok(())
}

/// Join a tenant with an invitation's token: creates the member's account (with the
/// invited address; its owner then signs in as usual).
#[tracing::instrument(skip_all)]
pub async fn accept(
    ports: &Ports,
    token: &str,
    name: &str,
    password: &str,
    locale: innkeep_core::Locale,
    now: Timestamp,
) -> Result<User, AppError> {
    let refused = || AppError::invalid("token", "invalid_token", "this invitation is unknown, used or expired");
    if token.is_empty() || token.len() > 128 {
        return Err(refused());
    }
    let name = crate::auth::checked_name(name)?;
    let password =
        Password::parse(password).map_err(|e| AppError::invalid("password", "weak_password", e.to_string()))?;
    let joining = Joining { id: UserId::new_v7(now), name, password_hash: hash_password(password).await?, locale };
    match ports.store.accept_invitation(&token_hash(token), &joining, now).await {
        Ok(Some(user)) => {
            tracing::info!(user_id = %user.id, "invitation accepted");
            Ok(user)
        }
        Ok(None) => Err(refused()),
        Err(StoreError::Duplicate(_)) => {
            Err(AppError::Conflict("this address already has an account; ask to be invited at another address".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The event of a member joining (written with the account).
pub fn joined_event(user: &User, now: Timestamp) -> Event {
    let change = Change::UserRegistered(UserRegistered { user_id: user.id, role: user.role });
    Event::new(&change, now, user.tenant_id, user.id.0)
}

/// Give a member of the actor's tenant another role (`None`: remove them from the team).
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id, member = %member))]
pub async fn set_role(
    ports: &Ports,
    actor: &Actor,
    member: UserId,
    role: Option<StaffRole>,
    now: Timestamp,
) -> Result<(), AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    if actor.key_id.is_some() {
        return Err(AppError::Forbidden("people, not API keys"));
    }
    match ports.store.set_member_role(tenant, member, role, now).await? {
        MemberChange::Changed(events) => {
            for e in &events {
                crate::cache::invalidate_after(ports, e).await;
            }
            tracing::info!(role = role.map(StaffRole::as_str).unwrap_or("removed"), "member changed");
            Ok(())
        }
        MemberChange::NotMember => Err(AppError::NotFound { what: "member" }),
        MemberChange::LastOwner => Err(AppError::Conflict("a team keeps at least one owner".into())),
    }
}

/// A new key: what it is, and the secret to give its user (shown once).
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Make an API key for the actor's tenant.
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id))]
pub async fn create_key(
    ports: &Ports,
    actor: &Actor,
    name: &str,
    scopes: &[Scope],
    now: Timestamp,
) -> Result<NewKey, AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    if actor.key_id.is_some() {
        return Err(AppError::Forbidden("people, not API keys"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::invalid("name", "invalid_name", "a key's name is 1 to 80 characters"));
    }
    if scopes.is_empty() {
        return Err(AppError::invalid("scopes", "scopes_required", "a key needs at least one scope"));
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    if ports.store.api_keys(tenant).await?.len() >= MAX_KEYS {
        return Err(AppError::Conflict(format!("a tenant holds at most {MAX_KEYS} keys")));
    }
    let secret = format!("{KEY_PREFIX}{}", random_hex());
    let key = ApiKey {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        name: name.to_string(),
        scopes,
        prefix: secret.chars().take(KEY_PREFIX.len() + 8).collect(),
        created_by: actor.user_id,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    ports.store.add_api_key(&key, &token_hash(&secret)).await?;
    tracing::info!(key_id = %key.id, "api key created");
    Ok(NewKey { key, secret })
}

/// The actor's tenant's keys.
pub async fn keys(ports: &Ports, actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    Ok(ports.store.api_keys(tenant).await?)
}

/// Revoke a key: the next request with it is refused, on every node.
pub async fn revoke_key(ports: &Ports, actor: &Actor, id: Uuid, now: Timestamp) -> Result<(), AppError> {
    let tenant = actor.host_tenant(Duty::Team)?;
    if !ports.store.revoke_api_key(tenant, id, now).await? {
        return Err(AppError::NotFound { what: "api key" });
    }
    tracing::info!(key_id = %id, "api key revoked");
    Ok(())
}

/// Whether a bearer token is an API key (rather than a session).
pub fn is_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// The actor of a live API key: the tenant's, with its scopes' duties.
pub async fn key_actor(ports: &Ports, secret: &str, now: Timestamp) -> Result<Actor, AppError> {
    let key = ports.store.api_key_by_hash(&token_hash(secret)).await?.ok_or(AppError::Unauthenticated)?;
    if key.revoked_at.is_some() {
        return Err(AppError::Unauthenticated);
    }
    if key.last_used_at.is_none_or(|t| now.duration_since(t) >= TOUCH_EVERY) {
        // Bookkeeping, not the request: a failure to note it is logged, not answered.
        if let Err(e) = ports.store.touch_api_key(key.id, now).await {
            tracing::warn!(key_id = %key.id, error = %e, "api key use not noted");
        }
    }
    Ok(Actor {
        user_id: key.created_by,
        role: Role::Host,
        tenant_id: Some(key.tenant_id),
        duties: Scope::duties_of(&key.scopes),
        key_id: Some(key.id),
    })
}

fn random_hex() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}
