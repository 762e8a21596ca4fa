//! Users and sessions.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, bearer};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use innkeep_app::auth::{self, Register};
use innkeep_app::store::User;
use innkeep_core::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    /// 12 to 256 characters.
    pub password: String,
    pub name: String,
    /// "guest" or "host"; a host registration also creates its tenant.
    pub role: String,
    /// The language of the messages Innkeep sends the user: "en", "de" or "pt". Without
    /// it, the best match of the request's `Accept-Language` (English when none matches).
    #[serde(default)]
    pub locale: Option<String>,
}

/// A user as others may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: innkeep_core::UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<innkeep_core::TenantId>,
    /// A host's role in its tenant: `owner`, `manager`, `front_desk` or `accountant`.
    pub staff_role: Option<String>,
    /// The language of the messages sent to the user ("en", "de" or "pt").
    pub locale: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            email: u.email.as_str().to_string(),
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            tenant_id: u.tenant_id,
            staff_role: u.staff_role.map(|r| r.as_str().to_string()),
            locale: u.locale.as_str().to_string(),
        }
    }
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/users", operation_id = "register", tag = "accounts", request_body = RegisterBody,
    responses((status = 201, description = "the new user", body = UserView),
        (status = 400, response = inline(BadRequest)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn register(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Body(b): Body<RegisterBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let locale = match &b.locale {
        Some(tag) => innkeep_core::Locale::parse(tag).ok_or_else(|| {
            ApiError::invalid(
                "locale",
                "invalid_locale",
                format!("locale must be \"en\", \"de\" or \"pt\", not {tag:?}"),
            )
        })?,
        None => innkeep_core::Locale::negotiate(
            headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""),
        ),
    };
    let role = match b.role.as_str() {
        "guest" => Role::Guest,
        "host" => Role::Host,
        other => {
            return Err(ApiError::invalid(
                "role",
                "invalid_role",
                format!("role must be \"guest\" or \"host\", not {other:?}"),
            ));
        }
    };
    let cmd = Register { email: b.email, password: b.password, name: b.name, role, locale };
    let user = auth::register(&s.ports, cmd, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Sign-in credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
    /// For a user with two-factor sign-in on: the code from the authenticator app, or a
    /// recovery code.
    #[serde(default)]
    pub code: Option<String>,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer TOKEN`.
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
    pub user: UserView,
    /// The user must set up two-factor sign-in (`POST /api/v1/me/two-factor`) before this
    /// session may do anything else (403 `two_factor_setup_required`).
    pub two_factor_setup_required: bool,
}

/// Sign in; attempts are limited per e-mail address. A user with two-factor sign-in on also
/// sends `code`: without it the answer is 401 `two_factor_required`, with a wrong or used
/// one 401 `bad_code` (each counts as an attempt).
#[utoipa::path(post, path = "/api/v1/sessions", operation_id = "sign_in", tag = "accounts", request_body = SignInBody,
    responses((status = 201, description = "the new session", body = SessionView),
        (status = 400, response = inline(BadRequest)),
        (status = 401, response = inline(Unauthorized)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 429, response = inline(TooManyRequests)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sign_in(
    State(s): State<AppState>,
    Body(b): Body<SignInBody>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let session = auth::sign_in(&s.ports, &b.email, &b.password, b.code.as_deref(), s.ports.clock.now())
        .await
        .map_err(crate::api::two_factor::sign_in_problem)?;
    let view = SessionView {
        token: session.token,
        expires_at: session.expires_at,
        user: UserView::from(&session.user),
        two_factor_setup_required: session.two_factor_setup_required,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// The bearer token of the request (for signing out).
pub struct Token(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        bearer(parts).map(|t| Token(t.to_string())).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "send `Authorization: Bearer TOKEN`")
        })
    }
}

/// Sign out: the token stops working.
#[utoipa::path(delete, path = "/api/v1/sessions/current", operation_id = "sign_out", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "signed out"), (status = 401, response = inline(Unauthorized)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn sign_out(State(s): State<AppState>, Auth(_): Auth, Token(t): Token) -> ApiResult<StatusCode> {
    auth::sign_out(&s.ports, &t, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in actor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: innkeep_core::UserId,
    pub role: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<innkeep_core::TenantId>,
    /// A host's role in its tenant: `owner`, `manager`, `front_desk` or `accountant`.
    pub staff_role: Option<String>,
    /// The language of the messages sent to the user ("en", "de" or "pt").
    pub locale: String,
    pub email: String,
    pub name: String,
    /// The currency the user prefers to see prices in (ISO 4217); none: each property's own.
    pub currency: Option<String>,
    /// Whether the e-mail address is verified (`POST /api/v1/me/email-verification`).
    pub email_verified: bool,
}

/// What a user may change of their account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeBody {
    /// "en", "de" or "pt"
    #[serde(default)]
    pub locale: Option<String>,
    /// 1 to 120 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// The currency to see prices in: an ISO 4217 code Innkeep knows ("EUR", "USD", ...).
    #[serde(default)]
    pub currency: Option<String>,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the signed-in actor", body = MeView),
        (status = 401, response = inline(Unauthorized)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn me(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<MeView>> {
    let user = auth::user(&s.ports, &a).await?;
    let verified = innkeep_app::credentials::email_verified_at(&s.ports, &a).await?.is_some();
    Ok(Json(me_view(&a, &user, verified)))
}

fn me_view(a: &innkeep_app::Actor, user: &User, email_verified: bool) -> MeView {
    MeView {
        user_id: a.user_id,
        role: a.role.as_str().to_string(),
        tenant_id: a.tenant_id,
        staff_role: user.staff_role.map(|r| r.as_str().to_string()),
        locale: user.locale.as_str().to_string(),
        email: user.email.as_str().to_string(),
        name: user.name.clone(),
        currency: user.currency.map(|c| c.code().to_string()),
        email_verified,
    }
}

/// Change the signed-in user's account: their name, the language of their messages, the
/// currency they prefer to see prices in.
#[utoipa::path(patch, path = "/api/v1/me", operation_id = "update_me", tag = "accounts", security(("bearer" = [])),
    request_body = MeBody,
    responses((status = 200, description = "the signed-in actor", body = MeView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn update_me(State(s): State<AppState>, Auth(a): Auth, Body(b): Body<MeBody>) -> ApiResult<Json<MeView>> {
    if b.locale.is_none() && b.name.is_none() && b.currency.is_none() {
        return Err(ApiError::invalid("locale", "nothing_to_change", "send `locale`, `name` or `currency`"));
    }
    let currency = match &b.currency {
        Some(code) => Some(innkeep_core::Currency::parse(&code.trim().to_ascii_uppercase()).map_err(|_| {
            ApiError::invalid(
                "currency",
                "invalid_currency",
                format!("currency must be an ISO 4217 code Innkeep knows (\"EUR\", \"USD\", ...), not {code:?}"),
            )
        })?),
        None => None,
    };
    let locale = match &b.locale {
        Some(tag) => Some(innkeep_core::Locale::parse(tag).filter(|_| tag.len() <= 35).ok_or_else(|| {
            ApiError::invalid(
                "locale",
                "invalid_locale",
                format!("locale must be \"en\", \"de\" or \"pt\", not {tag:?}"),
            )
        })?),
        None => None,
    };
    auth::update_profile(&s.ports, &a, b.name.as_deref(), locale, currency).await?;
    let user = auth::user(&s.ports, &a).await?;
    let verified = innkeep_app::credentials::email_verified_at(&s.ports, &a).await?.is_some();
    Ok(Json(me_view(&a, &user, verified)))
}
