//! Credentials: changing a password, the sessions of an account, and the single-use tokens
//! mailed for a forgotten password and to verify an e-mail address.
//!
//! A token is 32 random bytes; only its SHA-256 is kept, it works once, and not after its
//! time (30 minutes for a reset, a day for a verification). A reset, and a password change,
//! end the account's other sessions at once on every node (a `session.ended` event each).
//! A reset request is answered 202 the same way whether the address has an account or not,
//! after the same work: the lookup and the mail happen after the answer.

use crate::auth::{hash_password, token_hash, verify_password};
use crate::notify::{Channel, Content, NewMessage};
use crate::store::{AccountToken, TokenPurpose, User};
use crate::{Actor, AppError, Ports};
use innkeep_core::{Email, Password};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;

/// How long a password reset link works.
pub const RESET_TTL: SignedDuration = SignedDuration::from_mins(30);
/// How long an e-mail verification link works.
pub const VERIFY_TTL: SignedDuration = SignedDuration::from_hours(24);

/// Renders the account e-mails (in the user's language, with the link to the site).
pub trait AccountMail: Send + Sync {
    /// The e-mail with the link that sets a new password (`token` is its secret).
    fn password_reset(&self, user: &User, token: &str, expires_at: Timestamp) -> Content;
    /// The e-mail with the link that verifies the address.
    fn email_verification(&self, user: &User, token: &str, expires_at: Timestamp) -> Content;
    /// The e-mail with the link that joins `inviter`'s team.
    fn invitation(&self, invitation: &crate::team::Invitation, inviter: &User, token: &str) -> Content;
}

/// A live session as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionView {
    /// The first characters of the token's hash: names the session, reveals nothing.
    pub id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whether it is the session of this request.
    pub current: bool,
}

/// The actor's live sessions, newest first.
pub async fn sessions(ports: &Ports, actor: &Actor, token: &str, now: Timestamp) -> Result<Vec<SessionView>, AppError> {
    let mine = token_hash(token);
    Ok(ports
        .store
        .sessions_of(actor.person()?, now)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.token_hash.chars().take(16).collect(),
            created_at: s.created_at,
            expires_at: s.expires_at,
            current: s.token_hash == mine,
        })
        .collect())
}

/// End every session of the actor, this one too ("sign out everywhere").
pub async fn sign_out_everywhere(ports: &Ports, actor: &Actor, now: Timestamp) -> Result<usize, AppError> {
    let events = ports.store.end_sessions(actor.person()?, None, None, now).await?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    Ok(events.len())
}

/// Change the actor's password: the current one must be right; every other session ends.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    ports: &Ports,
    actor: &Actor,
    token: &str,
    current: &str,
    new: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    actor.person()?;
    let new = Password::parse(new).map_err(|e| AppError::invalid("new_password", "weak_password", e.to_string()))?;
    check_password(ports, actor.user_id, "current_password", current).await?;
    let new_hash = hash_password(new).await?;
    let events = ports.store.end_sessions(actor.user_id, Some(&token_hash(token)), Some(&new_hash), now).await?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    tracing::info!(user_id = %actor.user_id, ended = events.len(), "password changed");
    Ok(())
}

/// Check a signed-in person's current password before a change that needs it (`field`
/// names it in the error); the attempts count against the sign-in allowance.
pub(crate) async fn check_password(
    ports: &Ports,
    user: innkeep_core::UserId,
    field: &'static str,
    password: &str,
) -> Result<(), AppError> {
    ports
        .limiter
        .take(&crate::limit::SIGN_IN, &format!("password:{user}"))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_attempts", wait })?;
    let hash = ports.store.password_hash(user).await?.ok_or(AppError::Unauthenticated)?;
    if !verify_password(password.to_string(), hash).await? {
        return Err(AppError::invalid(field, "wrong_password", "the current password is not right"));
    }
    Ok(())
}

/// Ask for a password reset link for `email`. Limited per address (whether it has an
/// account or not, so the limit tells nothing either); the answer is the same for every
/// address, and the lookup and the mail happen after it.
pub async fn request_password_reset(
    ports: &Ports,
    mail: std::sync::Arc<dyn AccountMail>,
    email: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(|e| AppError::invalid("email", "invalid_email", e.to_string()))?;
    ports
        .limiter
        .take(&crate::limit::ACCOUNT_MAIL, &format!("reset:{}", email.as_str()))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_attempts", wait })?;
    let ports = ports.clone();
    tokio::spawn(async move {
        let found = match ports.store.user_credentials(&email).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "password reset lookup failed");
                return;
            }
        };
        if let Some((user, _)) = found {
            let sent = mail_token(&ports, mail.as_ref(), &user, TokenPurpose::PasswordReset, RESET_TTL, now).await;
            if let Err(e) = sent {
                tracing::warn!(user_id = %user.id, error = %e, "password reset not written");
            }
        }
    });
    Ok(())
}

/// Set a new password with a reset token: once, before it expires; every session ends.
#[tracing::instrument(skip_all)]
pub async fn reset_password(ports: &Ports, token: &str, new: &str, now: Timestamp) -> Result<(), AppError> {
    // A weak password is refused before the token is spent.
    let new = Password::parse(new).map_err(|e| AppError::invalid("password", "weak_password", e.to_string()))?;
    let user = used(ports, token, TokenPurpose::PasswordReset, now).await?;
    let new_hash = hash_password(new).await?;
    let events = ports.store.end_sessions(user, None, Some(&new_hash), now).await?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    tracing::info!(user_id = %user, ended = events.len(), "password reset");
    Ok(())
}

/// Mail the actor a link that verifies their address (nothing if it is verified).
pub async fn request_email_verification(
    ports: &Ports,
    mail: &dyn AccountMail,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), AppError> {
    if ports.store.email_verified_at(actor.person()?).await?.is_some() {
        return Ok(());
    }
    ports
        .limiter
        .take(&crate::limit::ACCOUNT_MAIL, &format!("verify:{}", actor.user_id))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_attempts", wait })?;
    let user = ports.store.user(actor.user_id).await?.ok_or(AppError::Unauthenticated)?;
    mail_token(ports, mail, &user, TokenPurpose::EmailVerification, VERIFY_TTL, now).await
}

/// Verify an address with its token.
pub async fn verify_email(ports: &Ports, token: &str, now: Timestamp) -> Result<(), AppError> {
    let user = used(ports, token, TokenPurpose::EmailVerification, now).await?;
    ports.store.set_email_verified(user, now).await?;
    Ok(())
}

/// When the actor's address was verified.
pub async fn email_verified_at(ports: &Ports, actor: &Actor) -> Result<Option<Timestamp>, AppError> {
    Ok(ports.store.email_verified_at(actor.person()?).await?)
}

async fn used(
    ports: &Ports,
    token: &str,
    purpose: TokenPurpose,
    now: Timestamp,
) -> Result<innkeep_core::UserId, AppError> {
    let refused = || AppError::invalid("token", "invalid_token", "this link is unknown, used or expired");
    if token.is_empty() || token.len() > 128 {
        return Err(refused());
    }
    ports.store.use_account_token(&token_hash(token), purpose, now).await?.ok_or_else(refused)
}

/// Make a token, keep its hash, and write its e-mail to the delivery log; the link in the
/// e-mail is removed from the log once it is sent (`Content::secret`).
async fn mail_token(
    ports: &Ports,
    mail: &dyn AccountMail,
    user: &User,
    purpose: TokenPurpose,
    ttl: SignedDuration,
    now: Timestamp,
) -> Result<(), AppError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let hash = token_hash(&token);
    let expires_at = now.checked_add(ttl).unwrap_or(now);
    ports
        .store
        .add_account_token(&AccountToken {
            token_hash: hash.clone(),
            user_id: user.id,
            purpose,
            expires_at,
            created_at: now,
        })
        .await?;
    let mut content = match purpose {
        TokenPurpose::PasswordReset => mail.password_reset(user, &token, expires_at),
        TokenPurpose::EmailVerification => mail.email_verification(user, &token, expires_at),
    };
    content.secret = true;
    content.transactional = true;
    let message = NewMessage {
        id: uuid::Uuid::now_v7(),
        dedup_key: format!("account/{hash}"),
        event_id: None,
        // The user's own mail: not in their tenant's log.
        tenant_id: None,
        booking_id: None,
        webhook_id: None,
        template: format!("account.{}", purpose.as_str()),
        channel: Channel::Email,
        recipient: user.email.as_str().to_string(),
        content,
        not_before: now,
        created_at: now,
    };
    ports.store.enqueue(&[message]).await?;
    Ok(())
}
