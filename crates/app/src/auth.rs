//! Registration, sign-in and sessions. Passwords are hashed with argon2id; session
//! tokens are random and only their SHA-256 is stored.

use crate::event::{Change, SessionEnded, UserRegistered};
use crate::store::{NewUser, User};
use crate::{Actor, AppError, Event, Ports};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use innkeep_core::{Email, Password, Role, TenantId, UserId};
use jiff::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A registration request, as received.
#[derive(Debug, Clone)]
pub struct Register {
    pub email: String,
    pub password: String,
    pub name: String,
    pub role: Role,
    /// The language to write to the user in (from `Accept-Language` at sign-up).
    pub locale: innkeep_core::Locale,
}

/// Create a user; a host also gets a tenant of which it is the owner.
#[tracing::instrument(skip_all, fields(role = cmd.role.as_str()))]
pub async fn register(ports: &Ports, cmd: Register, now: Timestamp) -> Result<User, AppError> {
    let email = Email::parse(&cmd.email).map_err(|e| AppError::invalid("email", "invalid_email", e.to_string()))?;
    let password =
        Password::parse(&cmd.password).map_err(|e| AppError::invalid("password", "weak_password", e.to_string()))?;
    let name = checked_name(&cmd.name)?;
    let tenant_id = (cmd.role == Role::Host).then(|| TenantId::new_v7(now));
    let user = User {
        id: UserId::new_v7(now),
        email,
        name: name.clone(),
        role: cmd.role,
        tenant_id,
        staff_role: tenant_id.map(|_| innkeep_core::StaffRole::Owner),
        created_at: now,
        locale: cmd.locale,
        currency: None,
    };
    let password_hash = hash_password(password).await?;
    let new = NewUser { user: user.clone(), password_hash, tenant_name: tenant_id.map(|_| name) };
    let change = Change::UserRegistered(UserRegistered { user_id: user.id, role: user.role });
    let event = Event::new(&change, now, tenant_id, user.id.0);
    ports.store.create_user(&new, &event).await?;
    Ok(user)
}

/// The signed-in actor's account.
pub async fn user(ports: &Ports, actor: &Actor) -> Result<User, AppError> {
    ports.store.user(actor.person()?).await?.ok_or(AppError::Unauthenticated)
}

/// A person's name as accepted: trimmed, 1 to 120 characters.
pub(crate) fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::invalid("name", "invalid_name", "name must be between 1 and 120 characters"));
    }
    Ok(name)
}

/// Change the actor's name, the language their messages are written in and the currency
/// they prefer to see prices in (each if given).
pub async fn update_profile(
    ports: &Ports,
    actor: &Actor,
    name: Option<&str>,
    locale: Option<innkeep_core::Locale>,
    currency: Option<innkeep_core::Currency>,
) -> Result<(), AppError> {
    let name = name.map(checked_name).transpose()?;
    Ok(ports.store.update_profile(actor.person()?, name.as_deref(), locale, currency).await?)
}

/// A new session: the token to give the client and when it expires.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
    /// The user must set up two-factor sign-in first: the session may do no more than that
    /// (see `two_factor`).
    pub two_factor_setup_required: bool,
}

/// The key sign-in attempts are limited by: the address's normal form, so no spelling of
/// one address gets attempts of its own (the trimmed, lower-cased text when it is not an address).
pub fn sign_in_limit_key(email: &str) -> String {
    Email::parse(email).map(|e| e.as_str().to_string()).unwrap_or_else(|_| email.trim().to_lowercase())
}

/// Check a password (and, for a user with two-factor sign-in on, `code`: a code from the
/// authenticator app or a recovery code) and open a session.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    ports: &Ports,
    email: &str,
    password: &str,
    code: Option<&str>,
    now: Timestamp,
) -> Result<Session, AppError> {
    // Attempts are limited per address in its normal form, on every front end and (with
    // Redis) across every node.
    ports
        .limiter
        .take(&crate::limit::SIGN_IN, &sign_in_limit_key(email))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_attempts", wait })?;
    let email = Email::parse(email).map_err(|_| AppError::BadCredentials)?;
    let Some((user, hash)) = ports.store.user_credentials(&email).await? else {
        // Spend the same time as a real check so timing does not reveal which e-mails exist.
        let _ = verify_password(password.to_string(), DUMMY_HASH.to_string()).await;
        return Err(AppError::BadCredentials);
    };
    if !verify_password(password.to_string(), hash).await? {
        return Err(AppError::BadCredentials);
    }
    if ports.store.suspended(user.id).await? {
        return Err(AppError::Suspended);
    }
    // A wrong code is one more attempt of the same allowance, taken above.
    let factor = crate::two_factor::at_sign_in(ports, &user, code, now).await?;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires_at = now.checked_add(ports.settings.session_ttl).unwrap_or(now);
    let two_factor_setup_required = factor == crate::two_factor::SignInFactor::SetupRequired;
    if two_factor_setup_required {
        ports.store.create_setup_session(&token_hash(&token), user.id, expires_at).await?;
    } else {
        ports.store.create_session(&token_hash(&token), user.id, expires_at).await?;
    }
    // A suspension that committed between the check above and this session ended every
    // session but this one: look again, and end it.
    if ports.store.suspended(user.id).await? {
        sign_out(ports, &token, now).await?;
        return Err(AppError::Suspended);
    }
    Ok(Session { token, expires_at, user, two_factor_setup_required })
}

/// The actor behind a bearer token, if the session is valid.
pub async fn authenticate(ports: &Ports, token: &str, now: Timestamp) -> Result<Actor, AppError> {
    if crate::team::is_key(token) {
        return crate::team::key_actor(ports, token, now).await;
    }
    let user = session_user(ports, token, now).await?.ok_or(AppError::Unauthenticated)?;
    Ok(Actor::of(&user))
}

/// The user of a token's live session (through the cache; see `cache::session_user`).
pub async fn session_user(ports: &Ports, token: &str, now: Timestamp) -> Result<Option<User>, AppError> {
    crate::cache::session_user(ports, &token_hash(token), now).await
}

/// End the session of a token: it stops working at once on this node, and on the others
/// as soon as their cache invalidation sees the `session.ended` event.
#[tracing::instrument(skip_all)]
pub async fn sign_out(ports: &Ports, token: &str, now: Timestamp) -> Result<(), AppError> {
    let Some(user) = session_user(ports, token, now).await? else { return Ok(()) };
    let hash = token_hash(token);
    let change = Change::SessionEnded(SessionEnded { token_hash: hash.clone() });
    let event = Event::new(&change, now, user.tenant_id, user.id.0);
    ports.store.delete_session(&hash, &event).await?;
    crate::cache::invalidate_after(ports, &event).await;
    Ok(())
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

// An argon2id hash of a random password, used when the e-mail is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mlrM9Bm4Z1fQgk0ByZ2Zz2e1qS4HXhV0LBWm+7Kq3s";

pub(crate) async fn hash_password(password: Password) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        let salt = SaltString::encode_b64(&raw)
            .map_err(|e| AppError::Store(crate::StoreError::Database(format!("salt failed: {e}"))))?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Store(crate::StoreError::Database(format!("hashing failed: {e}"))))
    })
    .await
    .map_err(|e| AppError::Store(crate::StoreError::Database(format!("hashing task failed: {e}"))))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .map_err(|e| AppError::Store(crate::StoreError::Database(format!("verify task failed: {e}"))))
}
