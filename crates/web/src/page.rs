//! What every page shares: the layout context, rendering, error pages, form fields
//! and the display of money and dates.

use crate::i18n::{t, tf};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use innkeep_app::AppError;
use innkeep_core::{Currency, Money};
use std::collections::BTreeMap;

/// The signed-in user, as the layout shows them.
#[derive(Debug, Clone)]
pub struct UserView {
    pub name: String,
    pub host: bool,
    pub admin: bool,
    /// A host member's links, by what its role may do.
    pub money: bool,
    pub messages: bool,
    pub team: bool,
}

/// The layout's context: title, user, CSRF token for forms, asset version.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub title: String,
    pub csrf: String,
    pub user: Option<UserView>,
    pub asset_version: String,
    pub tile_url: String,
    /// The language the page is written in.
    pub lang: innkeep_core::Locale,
    /// The page's path and query, for the language switch to come back to.
    pub here: String,
}

impl Ctx {
    /// A context for pages shown without a visitor (error pages).
    pub fn bare(title: &str) -> Ctx {
        Ctx {
            title: title.to_string(),
            csrf: String::new(),
            user: None,
            asset_version: crate::assets::version().to_string(),
            tile_url: String::new(),
            lang: crate::i18n::lang(),
            here: "/".into(),
        }
    }

    /// A phrase in the page's language.
    pub fn t<'a>(&self, en: &'a str) -> &'a str {
        crate::i18n::words(en, self.lang)
    }

    /// A phrase with one value in the page's language.
    pub fn t1(&self, en: &str, a: impl std::fmt::Display) -> String {
        crate::i18n::tf(en, &[&a])
    }

    /// A phrase with two values in the page's language.
    pub fn t2(&self, en: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        crate::i18n::tf(en, &[&a, &b])
    }

    /// A phrase with values as HTML (see [`crate::i18n::html`]); shown with `|safe`.
    pub fn h1(&self, en: &str, a: impl std::fmt::Display) -> String {
        crate::i18n::html(en, &[&a])
    }

    /// A phrase with two values as HTML.
    pub fn h2(&self, en: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        crate::i18n::html(en, &[&a, &b])
    }

    /// A phrase with three values as HTML.
    pub fn h3(
        &self,
        en: &str,
        a: impl std::fmt::Display,
        b: impl std::fmt::Display,
        c: impl std::fmt::Display,
    ) -> String {
        crate::i18n::html(en, &[&a, &b, &c])
    }

    /// The words the page's script writes, as JSON for `<body data-words>`.
    pub fn script_words(&self) -> &'static str {
        crate::i18n::script_words(self.lang)
    }

    /// The language switch: (tag, name, link) for each language but the page's own.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, String)> {
        let back = crate::session::url_encode(&self.here);
        crate::i18n::choices()
            .into_iter()
            .filter(|(tag, _)| *tag != self.lang.as_str())
            .map(|(tag, name)| (tag, name, format!("/language?to={tag}&back={back}")))
            .collect()
    }
}

/// Render a template to a page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            PageError::Internal.into_response()
        }
    }
}

/// Render a template with a status.
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// A page that could not be shown.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    SignIn(String),
    /// Signed in, but two-factor sign-in must be set up before anything else.
    TwoFactorSetup,
    Forbidden(String),
    Csrf,
    TooLarge,
    Message(StatusCode, String),
    /// Nothing was saved; the storage may take it again soon (503 with Retry-After).
    Unavailable {
        code: &'static str,
        wait: std::time::Duration,
    },
    Internal,
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        if let Some((code, wait)) = e.unavailable() {
            tracing::warn!(error = %e, code, "refused: a part is unavailable");
            return PageError::Unavailable { code, wait };
        }
        match e {
            AppError::NotFound { .. } => PageError::NotFound,
            AppError::Unauthenticated => PageError::SignIn("/".into()),
            AppError::Forbidden(_) => PageError::Forbidden(e.to_string()),
            AppError::Store(ref inner) => {
                tracing::error!(error = %inner, "store failed");
                PageError::Internal
            }
            other => PageError::Message(status_of(&other), words(&other)),
        }
    }
}

/// An application error as a sentence for a person: what is wrong and what to do, in the
/// site's words rather than the API's field names. Errors with no sentence of their own
/// keep their message, with a capital letter and a full stop.
pub fn words(e: &AppError) -> String {
    let numbers = |m: &str| -> Vec<u64> {
        m.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).filter_map(|t| t.parse().ok()).collect()
    };
    match e {
        AppError::Invalid { code, field, message } => match (*code, *field) {
            ("invalid_name", "guest.name") => t("Enter the full name of the guest (at most 120 characters).").into(),
            ("invalid_name", "name") if message.contains("120") => {
                t("Enter your name (at most 120 characters).").into()
            }
            ("invalid_email", _) => t("Enter an e-mail address such as ana@example.com.").into(),
            ("weak_password", _) => t("Choose a password of at least 12 characters.").into(),
            ("stay_empty", _) => t("Check-out must be after check-in: choose a later check-out date.").into(),
            ("stay_in_past", _) => t("Check-in is in the past: choose today or a later date.").into(),
            ("stay_beyond_window", _) => match numbers(message).last() {
                Some(days) => tf("Bookings open {} days ahead: choose an earlier check-in date.", &[days]),
                None => t("Check-in is too far ahead: choose an earlier date.").into(),
            },
            ("stay_too_short", _) => match numbers(message).as_slice() {
                [.., min] => tf("This place takes stays of at least {} nights: choose a later check-out date.", &[min]),
                [] => t("This stay is too short for this place: choose a later check-out date.").into(),
            },
            ("stay_too_long", _) => match numbers(message).as_slice() {
                [.., max] => {
                    tf("This place takes stays of at most {} nights: choose an earlier check-out date.", &[max])
                }
                [] => t("This stay is too long for this place: choose an earlier check-out date.").into(),
            },
            ("no_adult", _) => t("A party needs at least one adult.").into(),
            ("party_too_large", _) => {
                t("This room does not take that many guests: choose fewer guests or another room.").into()
            }
            ("adult_per_room", _) => t("Each room needs an adult: choose fewer rooms or add adults.").into(),
            ("invalid_rooms", _) => tf("Rooms must be a number from 1 to {}.", &[&innkeep_core::MAX_ROOMS]),
            _ => sentence(message),
        },
        AppError::Transition(m) if m.from == m.to => tf("This booking is already {}.", &[&status_words(m.from)]),
        AppError::Transition(m) => {
            tf("This booking is {} now, so it cannot be {}.", &[&status_words(m.from), &status_words(m.to)])
        }
        AppError::Concurrent => t("This booking changed a moment ago. Reload the page and try again.").into(),
        AppError::SoldOut { night } => tf(
            "Sorry, this room was just taken for the night of {}. Choose other dates or another room.",
            &[&day(*night)],
        ),
        AppError::BadCredentials => t("The e-mail address or the password is wrong. Check both and try again.").into(),
        AppError::Suspended => t("This account is suspended. Write to us if you think this is a mistake.").into(),
        AppError::EmailTaken => t("An account with this e-mail address exists already: sign in instead.").into(),
        AppError::RateLimited { wait, .. } => {
            tf("Too many attempts. Wait {} seconds and try again.", &[&innkeep_app::limit::retry_after_secs(*wait)])
        }
        AppError::PaymentRequired => t("This place takes payment first: pay below to confirm the booking.").into(),
        AppError::IdempotencyMismatch => {
            t("This form was already sent with other details. Reload the page and try again.").into()
        }
        other => sentence(&other.to_string()),
    }
}

/// A booking status as words in a sentence ("checked in", "a no-show").
fn status_words(s: innkeep_core::BookingStatus) -> &'static str {
    use innkeep_core::BookingStatus as S;
    match s {
        S::Held => t("held"),
        S::Confirmed => t("confirmed"),
        S::CheckedIn => t("checked in"),
        S::Completed => t("completed"),
        S::Expired => t("expired"),
        S::Cancelled => t("cancelled"),
        S::NoShow => t("marked as a no-show"),
    }
}

/// A message as a sentence: a capital first letter and a full stop.
fn sentence(m: &str) -> String {
    let mut c = m.trim().chars();
    let mut out = match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The status a page answers an application error with: the API's, from app's one table.
pub fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.code_and_status().1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The status of a form shown again with the error's message: 422 when a field is wrong
/// (the corrected form is the answer, as browsers and form libraries expect), otherwise
/// the API's status for the error.
pub fn form_status(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        other => status_of(other),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    heading: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            PageError::Unavailable { wait, .. } => Some(innkeep_app::limit::retry_after_secs(*wait)),
            _ => None,
        };
        let (status, heading, message) = match self {
            PageError::SignIn(next) => {
                let next = crate::redirect::local_path(&next).unwrap_or(crate::redirect::DEFAULT);
                return crate::redirect::to(&format!("/signin?next={}", crate::session::url_encode(next)));
            }
            PageError::TwoFactorSetup => return crate::redirect::to(crate::security::PATH),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                t("Not found"),
                t("There is nothing here. It may have been removed.").to_string(),
            ),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, t("Not allowed"), m),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                t("Form expired"),
                t("This form could not be verified. Go back, reload the page and send it again.").to_string(),
            ),
            PageError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                t("Too large"),
                t("The form is too large. A photo may be at most 10 MiB.").to_string(),
            ),
            PageError::Message(s, m) => (s, t("That did not work"), m),
            PageError::Unavailable { code, .. } => {
                let message = match code {
                    "storage_full" => t(
                        "We cannot save anything right now: our storage is full. Nothing was changed. Please try again in a few minutes.",
                    ),
                    "search_unavailable" => t("Search is not answering right now. Please try again in a moment."),
                    _ => t("We cannot save anything right now. Nothing was changed. Please try again in a moment."),
                };
                (StatusCode::SERVICE_UNAVAILABLE, t("Try again soon"), message.to_string())
            }
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                t("Something went wrong"),
                t("Something went wrong on our side. Please try again in a moment.").to_string(),
            ),
        };
        let page = ErrorPage { ctx: Ctx::bare(heading), heading: heading.to_string(), message };
        let mut r = render_status(status, &page);
        r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        if let Some(secs) = retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        r
    }
}

/// A result of a page handler.
pub type PageResult = Result<Response, PageError>;

/// Fields of a submitted form (repeated names keep every value).
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Replace a field's values with one (a form shown again with a value filled in).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.into()));
    }

    /// The first value of a field, trimmed ("" if absent).
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    }

    /// The first value of a field as sent ("" if absent): for passwords, whose spaces count,
    /// and for values that must be checked whole.
    pub fn raw(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).collect()
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024).await.map_err(|_| PageError::TooLarge)?;
        Ok(Fields(crate::session::form_pairs(&bytes)))
    }
}

/// Field messages shown next to the inputs of a re-rendered form.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    pub fields: BTreeMap<String, String>,
    pub general: String,
}

impl FormErrors {
    /// The message for a field ("" if none).
    pub fn of(&self, field: &str) -> String {
        self.fields.get(field).cloned().unwrap_or_default()
    }

    /// Whether a field has a message (for aria-invalid).
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// Add a field's message.
    pub fn set(&mut self, field: &str, message: impl Into<String>) {
        self.fields.insert(field.to_string(), message.into());
    }

    /// An application error as form messages: the field's if it names one, else general.
    pub fn from_app(e: AppError, known: &[&str]) -> Result<FormErrors, PageError> {
        let mut errors = FormErrors::default();
        match e {
            AppError::Invalid { field, .. } if known.contains(&field) => errors.set(field, words(&e)),
            AppError::Invalid { .. } => errors.general = words(&e),
            AppError::EmailTaken if known.contains(&"email") => {
                errors.set("email", t("An account with this e-mail address exists already: sign in instead."))
            }
            AppError::Store(_) | AppError::NotFound { .. } | AppError::Unauthenticated => return Err(e.into()),
            other => errors.general = words(&other),
        }
        Ok(errors)
    }
}

/// Money as people of the page's language read it: "EUR 1,234.50", "1.234,50 €".
pub fn money(m: Money) -> String {
    crate::i18n::money(m)
}

/// An amount of minor units in major units with grouping: "1,234.50".
pub fn amount(minor: i64, currency: Currency) -> String {
    let exp = u32::from(currency.exponent());
    let div = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = abs / div.unsigned_abs();
    let frac = abs % div.unsigned_abs();
    let digits = major.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if exp == 0 { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac:0width$}", width = exp as usize) }
}

/// Parse an amount in major units ("120", "120.5") into minor units of a currency.
pub fn parse_amount(s: &str, currency: Currency) -> Option<i64> {
    let s = s.trim().replace(',', "");
    let exp = usize::from(currency.exponent());
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > exp {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac_val: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<exp$}").parse().ok()? };
    whole.checked_mul(10i64.pow(exp as u32))?.checked_add(frac_val)
}

/// A date as "Mon 4 Jan 2027" (in the page's language).
pub fn day(d: jiff::civil::Date) -> String {
    crate::i18n::day(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn amounts_round_trip() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(amount(123_456, eur), "1,234.56");
        assert_eq!(amount(5, eur), "0.05");
        assert_eq!(amount(1_000_000, jpy), "1,000,000");
        assert_eq!(parse_amount("120.5", eur), Some(12_050));
        assert_eq!(parse_amount("120", jpy), Some(120));
        assert_eq!(parse_amount("1.234", eur), None);
        assert_eq!(parse_amount("abc", eur), None);
    }
}
