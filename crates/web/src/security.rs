//! The two-factor sign-in page: see whether it is on, set it up (the secret to type or the
//! `otpauth://` URI, then a code to confirm; the recovery codes are shown once), or turn it
//! off with the password. One who must have it (operators; owners when it is switched on)
//! is sent here until it is on.

use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, render, render_status};
use crate::session::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::node::AppState;
use innkeep_app::two_factor;

/// Where the page is.
pub const PATH: &str = "/account/two-factor";

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    ctx: Ctx,
    enabled: bool,
    required: bool,
    codes_left: u32,
    /// A started enrolment: the secret and its URI.
    secret: String,
    uri: String,
    /// Shown once, right after confirming.
    recovery_codes: Vec<String>,
    flash: String,
    errors: FormErrors,
}

async fn page(s: &AppState, v: &Visitor) -> Result<TwoFactorPage, PageError> {
    let a = v.actor()?;
    let st = two_factor::status(&s.ports, &a).await?;
    Ok(TwoFactorPage {
        ctx: v.ctx("Two-factor sign-in"),
        enabled: st.enabled,
        required: st.required,
        codes_left: st.recovery_codes_left,
        secret: String::new(),
        uri: String::new(),
        recovery_codes: Vec::new(),
        flash: String::new(),
        errors: FormErrors::default(),
    })
}

/// GET /account/two-factor
pub async fn show(State(s): State<AppState>, v: Visitor) -> PageResult {
    Ok(render(&page(&s, &v).await?))
}

/// POST /account/two-factor/start: a new secret to put in the app.
pub async fn start(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = v.actor()?;
    let mut p = page(&s, &v).await?;
    let e = two_factor::start(&s.ports, &a, s.ports.clock.now()).await?;
    p.secret = e.secret;
    p.uri = e.otpauth_uri;
    let mut r = render(&p);
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// POST /account/two-factor/confirm: the app's code turns it on; the recovery codes once.
pub async fn confirm(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = v.actor()?;
    let token = v.token.clone().unwrap_or_default();
    match two_factor::confirm(&s.ports, &a, &token, &f.raw("code"), s.ports.clock.now()).await {
        Ok(codes) => {
            let mut p = page(&s, &v).await?;
            p.recovery_codes = codes;
            p.flash = crate::i18n::t("Two-factor sign-in is on.").into();
            let mut r = render(&p);
            r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => {
            let mut p = page(&s, &v).await?;
            p.errors = FormErrors::from_app(e, &["code"])?;
            if p.errors.general.is_empty() && !p.errors.has("code") {
                p.errors.general = crate::i18n::t("That did not work; start again.").into();
            }
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
    }
}

/// POST /account/two-factor/disable: the password turns it off.
pub async fn disable(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = v.actor()?;
    match two_factor::disable(&s.ports, &a, &f.raw("password")).await {
        Ok(()) => {
            let mut p = page(&s, &v).await?;
            p.flash = crate::i18n::t("Two-factor sign-in is off.").into();
            Ok(render(&p))
        }
        Err(e) => {
            let mut p = page(&s, &v).await?;
            p.errors = FormErrors::from_app(e, &["password"])?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
    }
}
