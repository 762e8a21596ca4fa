//! Sign up, sign in and sign out, with the session in an HttpOnly cookie.

use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, render, render_status};
use crate::redirect;
use crate::session::{SESSION_COOKIE, Visitor, set_cookie};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use innkeep_app::AppError;
use innkeep_app::auth::{Register, register, sign_in, sign_out};
use innkeep_app::node::AppState;
use innkeep_app::two_factor;
use innkeep_core::Role;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// Only local paths (see `redirect::local_path`) other than the sign-in page may be a
/// destination after signing in; "" means the role's landing page.
fn safe_next(next: &str) -> String {
    match redirect::local_path(next) {
        Some(path) if !path.starts_with("/signin") => path.to_string(),
        _ => String::new(),
    }
}

/// The `next` a form sent, checked before the form acts (400 for a control character).
fn requested_next(f: &Fields) -> Result<String, PageError> {
    Ok(safe_next(&redirect::requested(&f.raw("next"))?))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    ctx: Ctx,
    email: String,
    next: String,
    /// Show the "Authentication code" field (the account has two-factor sign-in on).
    ask_code: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    ctx: Ctx,
    email: String,
    name: String,
    role: String,
    next: String,
    errors: FormErrors,
}

/// GET /signin
pub async fn signin_form(v: Visitor, Query(q): Query<NextQuery>) -> PageResult {
    let page = SignInPage {
        ctx: v.ctx("Sign in"),
        email: String::new(),
        next: safe_next(&q.next),
        ask_code: false,
        errors: FormErrors::default(),
    };
    Ok(render(&page))
}

fn with_session(to: &str, token: &str, secure: bool, max_age: i64) -> Response {
    let mut r = redirect::to(to);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, token, secure, Some(max_age))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn landing(role: Role, next: &str) -> String {
    if !next.is_empty() {
        return next.to_string();
    }
    match role {
        Role::Host => "/host".into(),
        Role::Admin => "/ops".into(),
        Role::Guest => "/".into(),
    }
}

/// POST /signin
pub async fn signin(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let next = requested_next(&f)?;
    let email = f.get("email");
    let code = f.get("code");
    let mut page = SignInPage {
        ctx: v.ctx("Sign in"),
        email: email.clone(),
        next: next.clone(),
        ask_code: !code.is_empty(),
        errors: FormErrors::default(),
    };
    // As the API (the same use case counts the attempt): the password is never trimmed.
    let now = s.ports.clock.now();
    let code = Some(code.as_str()).filter(|c| !c.is_empty());
    match sign_in(&s.ports, &email, &f.raw("password"), code, now).await {
        Ok(session) => {
            let max_age = session.expires_at.duration_since(now).as_secs().max(0);
            Ok(with_session(&landing(session.user.role, &next), &session.token, v.web.config.secure_cookies, max_age))
        }
        Err(AppError::RateLimited { wait, .. }) => {
            page.errors.general =
                crate::i18n::t("Too many attempts for this e-mail. Wait a minute and try again.").into();
            let mut r = render_status(StatusCode::TOO_MANY_REQUESTS, &page);
            let secs = innkeep_app::limit::retry_after_secs(wait);
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            Ok(r)
        }
        Err(AppError::Invalid { code, .. }) if code == two_factor::REQUIRED || code == two_factor::BAD_CODE => {
            // The password was right: ask for it again with the code (it is never sent back).
            page.ask_code = true;
            let message = if code == two_factor::REQUIRED {
                crate::i18n::t("Enter the 6-digit code from your authenticator app, or a recovery code.")
            } else {
                crate::i18n::t("That code is not right, or it was used already. Enter a new one.")
            };
            page.errors.set("code", message);
            // Asking for the code is the sign-in's second step, not a failure; a wrong code is.
            let status = if code == two_factor::REQUIRED { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
            Ok(render_status(status, &page))
        }
        Err(e) => {
            page.errors = FormErrors::from_app(e, &["email", "password"])?;
            Ok(render_status(StatusCode::UNAUTHORIZED, &page))
        }
    }
}

/// GET /signup
pub async fn signup_form(v: Visitor, Query(q): Query<NextQuery>) -> PageResult {
    let page = SignUpPage {
        ctx: v.ctx("Create an account"),
        email: String::new(),
        name: String::new(),
        role: "guest".into(),
        next: safe_next(&q.next),
        errors: FormErrors::default(),
    };
    Ok(render(&page))
}

/// POST /signup: register, then sign in.
pub async fn signup(State(s): State<AppState>, headers: axum::http::HeaderMap, v: Visitor, f: Fields) -> PageResult {
    let next = requested_next(&f)?;
    let role = if f.get("role") == "host" { Role::Host } else { Role::Guest };
    let mut page = SignUpPage {
        ctx: v.ctx("Create an account"),
        email: f.get("email"),
        name: f.get("name"),
        role: role.as_str().to_string(),
        next,
        errors: FormErrors::default(),
    };
    let password = f.raw("password");
    if password != f.raw("password_again") {
        page.errors.set("password_again", crate::i18n::t("The two passwords differ."));
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let now = s.ports.clock.now();
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|h| h.to_str().ok()).unwrap_or("");
    let locale = innkeep_core::Locale::negotiate(accept);
    let cmd = Register { email: page.email.clone(), password: password.clone(), name: page.name.clone(), role, locale };
    if let Err(e) = register(&s.ports, cmd, now).await {
        page.errors = FormErrors::from_app(e, &["email", "password", "name"])?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let session = sign_in(&s.ports, &page.email, &password, None, now).await?;
    let max_age = session.expires_at.duration_since(now).as_secs().max(0);
    Ok(with_session(&landing(role, &page.next), &session.token, v.web.config.secure_cookies, max_age))
}

/// POST /signout
pub async fn signout(State(s): State<AppState>, v: Visitor) -> PageResult {
    if let Some(t) = &v.token {
        sign_out(&s.ports, t, s.ports.clock.now()).await?;
    }
    Ok(crate::settings::signed_out(&v, "/"))
}
