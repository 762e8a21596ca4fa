//! Stopping reminders from the link each reminder carries (`List-Unsubscribe`). The token
//! in the path is the whole authority, so the POST takes no CSRF token: a mail client's
//! one-click unsubscribe (RFC 8058) posts without the visitor's cookies.

use crate::page::{Ctx, PageError, PageResult, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, State};
use innkeep_app::AppError;
use innkeep_app::node::AppState;

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    ctx: Ctx,
    token: String,
    done: bool,
}

/// The longest token a link carries (48 hex characters are made).
const MAX_TOKEN: usize = 128;

fn checked(token: &str) -> Result<(), PageError> {
    if token.is_empty() || token.len() > MAX_TOKEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::NotFound);
    }
    Ok(())
}

/// GET /unsubscribe/{token}: ask before stopping (a link scanner's GET changes nothing).
pub async fn form(v: Visitor, Path(token): Path<String>) -> PageResult {
    checked(&token)?;
    Ok(render(&UnsubscribePage { ctx: v.ctx("Stop reminders"), token, done: false }))
}

/// POST /unsubscribe/{token}: stop the reminders of the user whose link this is.
pub async fn stop(State(s): State<AppState>, v: Visitor, Path(token): Path<String>) -> PageResult {
    checked(&token)?;
    if !s.ports.store.unsubscribe(&token).await.map_err(AppError::from)? {
        return Err(PageError::NotFound);
    }
    Ok(render(&UnsubscribePage { ctx: v.ctx("Reminders stopped"), token: String::new(), done: true }))
}
