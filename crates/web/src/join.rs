//! Joining a host's team with an invitation's link: the GET only shows the form (name and
//! password), so a mail scanner following the link spends nothing; the POST (with its CSRF
//! token) makes the account, and its owner then signs in as usual.

use crate::page::{Ctx, Fields, FormErrors, PageResult, form_status, render, render_status};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use innkeep_app::AppError;
use innkeep_app::node::AppState;
use innkeep_app::team;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JoinQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    ctx: Ctx,
    token: String,
    name: String,
    errors: FormErrors,
}

const TITLE: &str = "Join your team";

/// GET /join?token=...
pub async fn form(v: Visitor, Query(q): Query<JoinQuery>) -> PageResult {
    Ok(render(&JoinPage { ctx: v.ctx(TITLE), token: q.token, name: String::new(), errors: FormErrors::default() }))
}

/// POST /join: make the member's account, then sign in with it.
pub async fn join(State(s): State<AppState>, v: Visitor, headers: HeaderMap, f: Fields) -> PageResult {
    let mut page =
        JoinPage { ctx: v.ctx(TITLE), token: f.get("token"), name: f.get("name"), errors: FormErrors::default() };
    let password = f.raw("password");
    if password != f.raw("password_again") {
        page.errors.set("password_again", crate::i18n::t("The two passwords differ."));
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let locale = innkeep_core::Locale::negotiate(
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""),
    );
    match team::accept(&s.ports, &page.token, &page.name, &password, locale, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to("/signin?joined=1")),
        Err(e) => {
            let status = form_status(&e);
            page.errors = match e {
                AppError::Invalid { field: "token", .. } => FormErrors {
                    general: "This invitation link is unknown, already used or expired. \
                              Ask whoever invited you to send a new one."
                        .into(),
                    ..FormErrors::default()
                },
                e => FormErrors::from_app(e, &["name", "password"])?,
            };
            Ok(render_status(status, &page))
        }
    }
}
