//! The pages behind the mailed links: ask for a password reset, set a new password with a
//! reset link, and verify an e-mail address. A link's GET only shows a form, so a mail
//! scanner following it spends nothing; the POST (with its CSRF token) acts.

use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, render, render_status};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use innkeep_app::AppError;
use innkeep_app::credentials;
use innkeep_app::node::AppState;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    ctx: Ctx,
    email: String,
    sent: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    ctx: Ctx,
    token: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyPage {
    ctx: Ctx,
    token: String,
    done: bool,
    errors: FormErrors,
}

/// GET /forgot-password
pub async fn forgot_form(v: Visitor) -> PageResult {
    Ok(render(&ForgotPage {
        ctx: v.ctx("Forgot your password?"),
        email: String::new(),
        sent: false,
        errors: FormErrors::default(),
    }))
}

/// POST /forgot-password: the same answer for every address.
pub async fn forgot(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let mail = s.account_mail.clone().ok_or(PageError::NotFound)?;
    let mut page = ForgotPage {
        ctx: v.ctx("Forgot your password?"),
        email: f.get("email"),
        sent: false,
        errors: FormErrors::default(),
    };
    match credentials::request_password_reset(&s.ports, mail, &page.email, s.ports.clock.now()).await {
        Ok(()) => {
            page.sent = true;
            Ok(render(&page))
        }
        Err(AppError::RateLimited { .. }) => {
            page.errors.general =
                crate::i18n::t("Too many requests for this address. Wait a quarter of an hour and try again.").into();
            Ok(render_status(StatusCode::TOO_MANY_REQUESTS, &page))
        }
        Err(e) => {
            page.errors = FormErrors::from_app(e, &["email"])?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// GET /reset-password?token=...
pub async fn reset_form(v: Visitor, Query(q): Query<TokenQuery>) -> PageResult {
    Ok(render(&ResetPage { ctx: v.ctx("Set a new password"), token: q.token, errors: FormErrors::default() }))
}

/// POST /reset-password: set the password, then sign in with it.
pub async fn reset(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let mut page = ResetPage { ctx: v.ctx("Set a new password"), token: f.get("token"), errors: FormErrors::default() };
    let password = f.raw("password");
    if password != f.raw("password_again") {
        page.errors.set("password_again", crate::i18n::t("The two passwords differ."));
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    match credentials::reset_password(&s.ports, &page.token, &password, s.ports.clock.now()).await {
        Ok(()) => Ok(crate::redirect::to("/signin?reset=1")),
        Err(e) => {
            page.errors = FormErrors::from_app(e, &["password"])?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// GET /verify-email?token=...
pub async fn verify_form(v: Visitor, Query(q): Query<TokenQuery>) -> PageResult {
    Ok(render(&VerifyPage {
        ctx: v.ctx("Confirm your address"),
        token: q.token,
        done: false,
        errors: FormErrors::default(),
    }))
}

/// POST /verify-email
pub async fn verify(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let mut page = VerifyPage {
        ctx: v.ctx("Confirm your address"),
        token: f.get("token"),
        done: false,
        errors: FormErrors::default(),
    };
    match credentials::verify_email(&s.ports, &page.token, s.ports.clock.now()).await {
        Ok(()) => {
            page.done = true;
            Ok(render(&page))
        }
        Err(e) => {
            page.errors = FormErrors::from_app(e, &[])?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
