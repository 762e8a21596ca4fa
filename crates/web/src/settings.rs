//! The account page: name, language and preferred currency; password change; the live
//! sessions and signing out everywhere; a download of everything kept about the person;
//! deleting the account. Two-factor sign-in has its own page (`security`).

use crate::i18n::t;
use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, render, render_status};
use crate::session::{SESSION_COOKIE, Visitor, set_cookie};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use innkeep_app::node::AppState;
use innkeep_app::{auth, credentials, data_rights};
use innkeep_core::{Currency, Locale};

/// A live session as the page lists it.
struct SessionRow {
    started: String,
    ends: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    email: String,
    name: String,
    locale: String,
    currency: String,
    locales: Vec<(String, String)>,
    currencies: Vec<String>,
    sessions: Vec<SessionRow>,
    flash: String,
    errors: FormErrors,
}

fn minute(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

async fn page(s: &AppState, v: &Visitor) -> Result<AccountPage, PageError> {
    let a = v.actor()?;
    let user = auth::user(&s.ports, &a).await?;
    let token = v.token.clone().unwrap_or_default();
    let sessions = credentials::sessions(&s.ports, &a, &token, s.ports.clock.now()).await?;
    Ok(AccountPage {
        ctx: v.ctx("Your account"),
        email: user.email.as_str().to_string(),
        name: user.name.clone(),
        locale: user.locale.as_str().to_string(),
        currency: user.currency.map(|c| c.code().to_string()).unwrap_or_default(),
        locales: Locale::ALL.iter().map(|l| (l.as_str().to_string(), crate::i18n::name(*l).to_string())).collect(),
        currencies: Currency::all().map(|c| c.code().to_string()).collect(),
        sessions: sessions
            .into_iter()
            .map(|x| SessionRow { started: minute(x.created_at), ends: minute(x.expires_at), current: x.current })
            .collect(),
        flash: String::new(),
        errors: FormErrors::default(),
    })
}

/// The page again with a message, or with the errors of a form (422 for a wrong field).
async fn again(s: &AppState, v: &Visitor, outcome: Result<&str, (innkeep_app::AppError, &[&str])>) -> PageResult {
    match outcome {
        Ok(flash) => {
            let mut p = page(s, v).await?;
            p.flash = flash.to_string();
            Ok(render(&p))
        }
        Err((e, fields)) => {
            let status = crate::page::form_status(&e);
            let mut p = page(s, v).await?;
            p.errors = FormErrors::from_app(e, fields)?;
            Ok(render_status(status, &p))
        }
    }
}

/// GET /account
pub async fn show(State(s): State<AppState>, v: Visitor) -> PageResult {
    Ok(render(&page(&s, &v).await?))
}

/// POST /account/profile: name, language, preferred currency.
pub async fn profile(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = v.actor()?;
    let locale = Locale::parse(&f.get("locale"))
        .ok_or_else(|| PageError::Message(StatusCode::BAD_REQUEST, t("Choose a language from the list.").into()))?;
    let currency =
        match f.get("currency").as_str() {
            "" => None,
            code => Some(Currency::parse(code).map_err(|_| {
                PageError::Message(StatusCode::BAD_REQUEST, t("Choose a currency from the list.").into())
            })?),
        };
    let done = auth::update_profile(&s.ports, &a, Some(&f.get("name")), Some(locale), currency).await;
    if done.is_err() {
        return again(&s, &v, done.map(|()| "").map_err(|e| (e, &["name"][..]))).await;
    }
    // The pages follow the language chosen for the messages, from this answer on.
    let mut r = crate::i18n::within(locale, async { again(&s, &v, Ok(t("Saved."))).await }).await?;
    crate::i18n::remember(&mut r, locale, v.web.config.secure_cookies);
    Ok(r)
}

/// POST /account/password: the current password and a new one; the other sessions end.
pub async fn password(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = v.actor()?;
    let token = v.token.clone().unwrap_or_default();
    let now = s.ports.clock.now();
    let done =
        credentials::change_password(&s.ports, &a, &token, &f.raw("current_password"), &f.raw("new_password"), now)
            .await;
    let fields: &[&str] = &["current_password", "new_password"];
    again(
        &s,
        &v,
        done.map(|()| t("Your password is changed; your other sessions are signed out.")).map_err(|e| (e, fields)),
    )
    .await
}

/// POST /account/sessions/end: sign out everywhere, here too.
pub async fn end_sessions(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = v.actor()?;
    credentials::sign_out_everywhere(&s.ports, &a, s.ports.clock.now()).await?;
    Ok(signed_out(&v, "/signin"))
}

/// GET /account/export: everything kept about the person, as a JSON file.
pub async fn export(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = v.actor()?;
    let data = data_rights::export(&s.ports, &a).await?;
    let disposition = format!("attachment; filename=\"innkeep-data-{}.json\"", a.user_id);
    Ok((
        [(header::CONTENT_DISPOSITION, disposition), (header::CACHE_CONTROL, "no-store".to_string())],
        axum::Json(data),
    )
        .into_response())
}

/// POST /account/delete: with the password, the account is erased and the browser signed out.
pub async fn delete(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = v.actor()?;
    if f.get("confirm") != "delete" {
        let mut p = page(&s, &v).await?;
        p.errors.set("confirm", t("Tick the box to say you mean it."));
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    match data_rights::erase(&s.ports, &a, &f.raw("delete_password")).await {
        Ok(()) => Ok(signed_out(&v, "/")),
        Err(innkeep_app::AppError::Invalid { message, .. }) => {
            let mut p = page(&s, &v).await?;
            p.errors.set("delete_password", message);
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => again(&s, &v, Err((e, &[][..]))).await,
    }
}

/// A redirect to `to` that drops the session cookie.
pub(crate) fn signed_out(v: &Visitor, to: &str) -> axum::response::Response {
    let mut r = crate::redirect::to(to);
    if let Ok(h) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", v.web.config.secure_cookies, Some(0))) {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    r
}
