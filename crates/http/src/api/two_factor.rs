//! Two-factor sign-in: enrol (a secret shown once), confirm with a code (recovery codes
//! shown once), see whether it is on, turn it off; and the gate that keeps a session which
//! must set it up first to the few requests that do that.

use crate::AppState;
use crate::api::accounts::Token;
use crate::api::problems::{
    BadRequest, Conflict, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use innkeep_app::{Actor, AppError, two_factor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A started enrolment; the secret is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentView {
    /// The secret in base32, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/Innkeep:{email}?secret=...&issuer=Innkeep&algorithm=SHA1&digits=6&period=30`,
    /// to show as a QR code.
    pub otpauth_uri: String,
}

/// A code from the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// 6 digits.
    pub code: String,
}

/// The recovery codes, shown once: each signs in once in place of a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesView {
    pub recovery_codes: Vec<String>,
}

/// The current password, to turn two-factor sign-in off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub password: String,
}

/// Whether two-factor sign-in is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorView {
    pub enabled: bool,
    /// Recovery codes not used yet (0 when off).
    pub recovery_codes_left: u32,
    /// Whether the user's role requires it (operators; host owners when the operator says so).
    pub required: bool,
}

/// Start enrolment: a new secret (replacing an unconfirmed one); 409 when it is on already.
#[utoipa::path(post, path = "/api/v1/me/two-factor", operation_id = "start_two_factor", tag = "accounts", security(("bearer" = [])),
    responses((status = 201, description = "the secret, shown once; confirm it with a code", body = EnrolmentView),
        (status = 401, response = inline(Unauthorized)), (status = 409, response = inline(Conflict)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn start(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<(StatusCode, Json<EnrolmentView>)> {
    let e = two_factor::start(&s.ports, &a, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(EnrolmentView { secret: e.secret, otpauth_uri: e.otpauth_uri })))
}

/// Confirm enrolment with a code from the app: two-factor sign-in is on from now, and the
/// answer holds the recovery codes (shown only now). A wrong code is 400 `bad_code`.
#[utoipa::path(post, path = "/api/v1/me/two-factor/confirm", operation_id = "confirm_two_factor", tag = "accounts", security(("bearer" = [])),
    request_body = CodeBody,
    responses((status = 200, description = "on; the recovery codes, shown once", body = RecoveryCodesView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 429, response = inline(TooManyRequests)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn confirm(
    State(s): State<AppState>,
    Auth(a): Auth,
    Token(t): Token,
    Body(b): Body<CodeBody>,
) -> ApiResult<Json<RecoveryCodesView>> {
    let recovery_codes = two_factor::confirm(&s.ports, &a, &t, &b.code, s.ports.clock.now()).await?;
    Ok(Json(RecoveryCodesView { recovery_codes }))
}

/// Turn two-factor sign-in off (or drop an unconfirmed enrolment); asks the current password.
#[utoipa::path(delete, path = "/api/v1/me/two-factor", operation_id = "disable_two_factor", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordBody,
    responses((status = 204, description = "off"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn disable(State(s): State<AppState>, Auth(a): Auth, Body(b): Body<PasswordBody>) -> ApiResult<StatusCode> {
    two_factor::disable(&s.ports, &a, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether two-factor sign-in is on, and how many recovery codes are left.
#[utoipa::path(get, path = "/api/v1/me/two-factor", operation_id = "two_factor_status", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the state", body = TwoFactorView),
        (status = 401, response = inline(Unauthorized)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn status(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<TwoFactorView>> {
    let st = two_factor::status(&s.ports, &a).await?;
    Ok(Json(TwoFactorView { enabled: st.enabled, recovery_codes_left: st.recovery_codes_left, required: st.required }))
}

/// A sign-in's refusal: a missing or wrong second factor is a 401 (`two_factor_required`,
/// `bad_code`), like a wrong password.
pub fn sign_in_problem(e: AppError) -> ApiError {
    match e {
        AppError::Invalid { field, code, message }
            if field == "code" && (code == two_factor::REQUIRED || code == two_factor::BAD_CODE) =>
        {
            ApiError::new(StatusCode::UNAUTHORIZED, code, message).field(field)
        }
        other => other.into(),
    }
}

/// Requests a session that must set up two-factor sign-in may make: enrolling, reading the
/// account, signing out.
fn allowed_while_pending(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(
        (method, path),
        (_, "/me/two-factor")
            | (&Method::POST, "/me/two-factor/confirm")
            | (&Method::GET, "/me")
            | (&Method::DELETE, "/sessions/current")
    )
}

/// Refuse (403 `two_factor_setup_required`) a request of a session that must set up
/// two-factor sign-in first, unless it is one of the few that do that. Called by the `Auth`
/// extractor after the token was authenticated; guests are never asked to, so their
/// requests cost no lookup.
pub async fn gate(state: &AppState, parts: &Parts, actor: &Actor, token: &str) -> Result<(), ApiError> {
    // Only those who may be required to have it can hold a set-up-first session: the
    // others' requests (every guest's, most hosts', every key's) skip the lookup.
    let owner = actor.duties.contains(innkeep_core::Duty::Team);
    let may_be_required = actor.key_id.is_none() && two_factor::required(&state.ports.settings, actor.role, owner);
    if !may_be_required || allowed_while_pending(&parts.method, parts.uri.path()) {
        return Ok(());
    }
    if two_factor::setup_pending(&state.ports, &innkeep_app::auth::token_hash(token)).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            two_factor::SETUP_REQUIRED,
            "set up two-factor sign-in first: POST /api/v1/me/two-factor, then POST /api/v1/me/two-factor/confirm",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_session_may_enrol_read_its_account_and_sign_out_only() {
        for (m, p) in [
            (Method::POST, "/me/two-factor"),
            (Method::GET, "/me/two-factor"),
            (Method::DELETE, "/me/two-factor"),
            (Method::POST, "/me/two-factor/confirm"),
            (Method::GET, "/api/v1/me"),
            (Method::DELETE, "/sessions/current"),
        ] {
            assert!(allowed_while_pending(&m, p), "{m} {p}");
        }
        for (m, p) in [
            (Method::PATCH, "/me"),
            (Method::POST, "/me/password"),
            (Method::GET, "/bookings"),
            (Method::POST, "/properties"),
            (Method::GET, "/me/two-factor/other"),
        ] {
            assert!(!allowed_while_pending(&m, p), "{m} {p}");
        }
    }

    #[test]
    fn a_missing_or_wrong_code_at_sign_in_is_a_401() {
        let e = sign_in_problem(AppError::invalid("code", two_factor::REQUIRED, "send a code"));
        assert_eq!((e.status, e.code), (StatusCode::UNAUTHORIZED, "two_factor_required"));
        let e = sign_in_problem(AppError::invalid("code", two_factor::BAD_CODE, "wrong"));
        assert_eq!((e.status, e.code), (StatusCode::UNAUTHORIZED, "bad_code"));
        let e = sign_in_problem(AppError::BadCredentials);
        assert_eq!((e.status, e.code), (StatusCode::UNAUTHORIZED, "bad_credentials"));
        let e = sign_in_problem(AppError::invalid("email", "invalid_email", "no"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
