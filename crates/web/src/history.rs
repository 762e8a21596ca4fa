//! Finding bookings across the whole history (`/ops/history`, operators): by the guest's
//! name or e-mail, a reference (booking id or bank-transfer reference), the stay's dates
//! and status; the same search as `GET /api/v1/history/bookings`.

use crate::page::{Ctx, PageError, PageResult, day, money, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Query, State};
use innkeep_app::AppError;
use innkeep_app::history::{self, HistoryAnswer, HistorySearch};
use innkeep_app::node::AppState;
use innkeep_core::{BookingStatus, Role};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryForm {
    q: String,
    reference: String,
    from: String,
    to: String,
    status: String,
}

struct BookingRow {
    id: String,
    guest: String,
    email: String,
    property: String,
    stay: String,
    status: String,
    total: String,
    booked: String,
}

struct GuestRow {
    name: String,
    email: String,
    bookings: u64,
    last: String,
}

#[derive(Template)]
#[template(path = "ops_history.html")]
struct HistoryPage {
    ctx: Ctx,
    form: HistoryForm,
    statuses: Vec<&'static str>,
    asked: bool,
    error: String,
    total: u64,
    bookings: Vec<BookingRow>,
    guests: Vec<GuestRow>,
}

fn when(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M").to_string()
}

/// A date field: empty is none; anything else must be a date (`said` says so when it is not).
fn date_field(said: &str, text: &str) -> Result<Option<jiff::civil::Date>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| said.to_string())
}

fn ask(f: &HistoryForm) -> Result<HistorySearch, String> {
    let status = match f.status.trim() {
        "" => None,
        s => Some(
            BookingStatus::parse(s).ok_or_else(|| crate::i18n::tf("There is no booking status called “{}”.", &[&s]))?,
        ),
    };
    Ok(HistorySearch {
        text: Some(f.q.clone()),
        reference: Some(f.reference.clone()),
        status,
        from: date_field(crate::i18n::t("The “from” date is not a date: write it as 2027-03-14."), &f.from)?,
        to: date_field(crate::i18n::t("The “to” date is not a date: write it as 2027-03-14."), &f.to)?,
        limit: Some(50),
        ..HistorySearch::default()
    })
}

/// GET /ops/history?q=&reference=&from=&to=&status=
pub async fn history(State(s): State<AppState>, v: Visitor, Query(form): Query<HistoryForm>) -> PageResult {
    let a = v.actor()?;
    if a.role != Role::Admin {
        return Err(PageError::Forbidden(crate::i18n::t("Only operators can see this page.").into()));
    }
    let index = s.history.as_deref().ok_or(PageError::NotFound)?;
    let asked = [&form.q, &form.reference, &form.from, &form.to, &form.status].iter().any(|f| !f.trim().is_empty());
    let (mut error, mut found) = (String::new(), HistoryAnswer::default());
    if asked {
        match ask(&form) {
            Err(e) => error = e,
            Ok(search) => match history::search(&s.ports, index, &a, &search).await {
                Ok(answer) => found = answer,
                Err(AppError::Invalid { message, .. }) => error = message,
                Err(e) => return Err(e.into()),
            },
        }
    }
    Ok(render(&HistoryPage {
        ctx: v.ctx("Find bookings"),
        statuses: BookingStatus::ALL.iter().map(|s| s.as_str()).collect(),
        asked,
        error,
        total: found.total,
        bookings: found
            .bookings
            .into_iter()
            .map(|b| BookingRow {
                id: b.booking_id.to_string(),
                guest: b.guest_name,
                email: b.guest_email,
                property: b.property_name,
                stay: format!("{} – {}", day(b.check_in), day(b.check_out)),
                status: b.status.as_str().replace('_', " "),
                total: money(b.total),
                booked: when(b.created_at),
            })
            .collect(),
        guests: found
            .guests
            .into_iter()
            .map(|g| GuestRow { name: g.name, email: g.email, bookings: g.bookings, last: when(g.last_booked_at) })
            .collect(),
        form,
    }))
}
