//! Credentials: change a password, see and end one's sessions, reset a forgotten password
//! and verify an e-mail address by the single-use links mailed for them.

use crate::AppState;
use crate::api::accounts::Token;
use crate::api::problems::{
    BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::credentials::{self, AccountMail, SessionView};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A new password, with the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    /// 12 to 256 characters.
    pub new_password: String,
}

/// A live session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The first characters of the token's SHA-256 (names it, reveals nothing).
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
    /// The session of this request.
    pub current: bool,
}

impl From<SessionView> for Session {
    fn from(s: SessionView) -> Self {
        Session { id: s.id, created_at: s.created_at, expires_at: s.expires_at, current: s.current }
    }
}

/// Whose password to reset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    pub email: String,
}

/// A reset link's token and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub token: String,
    /// 12 to 256 characters.
    pub password: String,
}

/// A verification link's token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub token: String,
}

fn mail(s: &AppState) -> Result<Arc<dyn AccountMail>, ApiError> {
    s.account_mail.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "account e-mails are not enabled on this node")
    })
}

/// Change the password: the current one must be right; every other session ends.
#[utoipa::path(post, path = "/api/v1/me/password", operation_id = "change_password", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordBody,
    responses((status = 204, description = "changed; the other sessions are ended"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn change_password(
    State(s): State<AppState>,
    Auth(a): Auth,
    Token(t): Token,
    Body(b): Body<PasswordBody>,
) -> ApiResult<StatusCode> {
    credentials::change_password(&s.ports, &a, &t, &b.current_password, &b.new_password, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/me/sessions", operation_id = "list_sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the sessions", body = Vec<Session>),
        (status = 401, response = inline(Unauthorized)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sessions(State(s): State<AppState>, Auth(a): Auth, Token(t): Token) -> ApiResult<Json<Vec<Session>>> {
    let list = credentials::sessions(&s.ports, &a, &t, s.ports.clock.now()).await?;
    Ok(Json(list.into_iter().map(Session::from).collect()))
}

/// Sign out everywhere: every session of the user ends, this one too.
#[utoipa::path(delete, path = "/api/v1/me/sessions", operation_id = "sign_out_everywhere", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "every session ended"),
        (status = 401, response = inline(Unauthorized)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sign_out_everywhere(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<StatusCode> {
    credentials::sign_out_everywhere(&s.ports, &a, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password reset link. The answer is 202 whether or not the address has an
/// account; the e-mail (if it has) follows.
#[utoipa::path(post, path = "/api/v1/password-resets", operation_id = "request_password_reset", tag = "accounts",
    request_body = ResetRequestBody,
    responses((status = 202, description = "if the address has an account, a link is on its way"),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn request_reset(State(s): State<AppState>, Body(b): Body<ResetRequestBody>) -> ApiResult<StatusCode> {
    credentials::request_password_reset(&s.ports, mail(&s)?, &b.email, s.ports.clock.now()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset link's token (once, within 30 minutes); every session
/// of the account ends.
#[utoipa::path(post, path = "/api/v1/password-resets/confirm", operation_id = "reset_password", tag = "accounts",
    request_body = ResetBody,
    responses((status = 204, description = "the password is set; sign in with it"),
        (status = 400, response = inline(BadRequest)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn reset(State(s): State<AppState>, Body(b): Body<ResetBody>) -> ApiResult<StatusCode> {
    credentials::reset_password(&s.ports, &b.token, &b.password, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mail the signed-in user a link that verifies their address (nothing if it is verified).
#[utoipa::path(post, path = "/api/v1/me/email-verification", operation_id = "request_email_verification", tag = "accounts", security(("bearer" = [])),
    responses((status = 202, description = "a link is on its way (unless the address is verified)"),
        (status = 401, response = inline(Unauthorized)), (status = 404, response = inline(NotFound)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn request_verification(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<StatusCode> {
    let mail = mail(&s)?;
    credentials::request_email_verification(&s.ports, mail.as_ref(), &a, s.ports.clock.now()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Verify an address with its link's token.
#[utoipa::path(post, path = "/api/v1/email-verifications", operation_id = "verify_email", tag = "accounts",
    request_body = VerifyBody,
    responses((status = 204, description = "verified"),
        (status = 400, response = inline(BadRequest)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn verify(State(s): State<AppState>, Body(b): Body<VerifyBody>) -> ApiResult<StatusCode> {
    credentials::verify_email(&s.ports, &b.token, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
