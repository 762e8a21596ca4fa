//! Innkeep's web pages: server-rendered HTML (askama) for guests, hosts and operators,
//! with cookie sessions, CSRF tokens on every form and a strict Content-Security-Policy.
//! Every page works with plain HTML forms; a little JavaScript adds the map and the
//! hold countdown.

mod account;
mod analytics;
mod assets;
mod chart;
mod cost;
mod credentials;
mod guest;
mod history;
mod host;
mod i18n;
mod join;
pub mod multipart;
mod ops;
mod page;
mod people;
mod redirect;
mod seams;
mod security;
mod seen;
mod session;
mod settings;
mod shared;
mod unsubscribe;

use axum::Router;
use axum::routing::{get, post};
use innkeep_app::node::AppState;
use std::sync::Arc;

/// Settings of the web pages.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// A map tile URL template such as `https://tile.example/{z}/{x}/{y}.png`; without one
    /// the map draws its markers on the Natural Earth country outlines shipped with the program.
    pub tile_url: Option<String>,
    /// Mark the session cookie `Secure` (set when served over https).
    pub secure_cookies: bool,
    /// Key for CSRF tokens; shared by every node of a deployment. Random per process when absent.
    pub csrf_key: Option<Vec<u8>>,
    /// Where the site is reached (`https://stays.example`), for links that leave it (the
    /// card provider sends the guest back here); absent: the request's Host.
    pub public_url: Option<String>,
}

/// What the page handlers share besides the application state.
pub(crate) struct Web {
    pub config: WebConfig,
    pub csrf_key: Vec<u8>,
    pub csp: String,
    /// The cities with properties (the home page's and the results page's list).
    pub destinations: shared::Shared<Vec<String>>,
    /// The cities of the newest bookings (the home page's popular destinations).
    pub recent_cities: shared::Shared<innkeep_app::suggest::RecentCities>,
    /// Suggested stays for visitors without bookings of their own: (label, link).
    pub suggested: shared::Shared<Vec<(String, String)>>,
    /// Units of every room type, and whether the count was capped (the operator's page).
    pub units: shared::Shared<(u64, bool)>,
}

/// How long the figures shared between visitors are kept.
const SHARED_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl Web {
    fn new(config: WebConfig) -> Web {
        let csrf_key = config.csrf_key.clone().unwrap_or_else(session::random_key);
        let tile_host = config.tile_url.as_deref().and_then(tile_origin).map(|o| format!(" {o}")).unwrap_or_default();
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tile_host}; \
             connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
             frame-ancestors 'none'"
        );
        Web {
            config,
            csrf_key,
            csp,
            destinations: shared::Shared::new(SHARED_TTL),
            recent_cities: shared::Shared::new(SHARED_TTL),
            suggested: shared::Shared::new(SHARED_TTL),
            units: shared::Shared::new(SHARED_TTL),
        }
    }
}

/// The scheme and host of a tile URL template, for the CSP.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains(['{', ' ', ';', '\'']) {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

/// The page routes with default settings, merged into the application by the binary.
pub fn routes() -> Router<AppState> {
    routes_with(WebConfig::default())
}

/// The page routes with explicit settings.
pub fn routes_with(config: WebConfig) -> Router<AppState> {
    let web = Arc::new(Web::new(config));
    Router::new()
        .route("/", get(guest::home))
        .route("/stays", get(guest::stays))
        .route("/properties/{id}", get(guest::property))
        .route("/checkout", get(guest::checkout_form).post(guest::checkout_place))
        .route("/checkout/{id}", get(guest::checkout_hold))
        .route("/checkout/{id}/confirm", post(guest::checkout_confirm))
        .route("/checkout/{id}/pay", post(guest::checkout_pay))
        .route("/trips", get(guest::trips))
        .route("/trips/{id}", get(guest::trip))
        .route("/trips/{id}/calendar.ics", get(guest::trip_calendar))
        .route("/trips/{id}/receipt", get(guest::trip_receipt))
        .route("/trips/{id}/review", post(guest::trip_review))
        .route("/trips/{id}/cancel", get(guest::cancel_preview).post(guest::cancel))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/signout", post(account::signout))
        .route("/forgot-password", get(credentials::forgot_form).post(credentials::forgot))
        .route("/reset-password", get(credentials::reset_form).post(credentials::reset))
        .route("/verify-email", get(credentials::verify_form).post(credentials::verify))
        .route("/join", get(join::form).post(join::join))
        .route("/host", get(host::dashboard))
        .route("/host/properties/new", get(host::property_form).post(host::property_create))
        .route("/host/properties/locate", post(host::property_locate))
        .route("/host/properties/{id}", get(host::property_page).post(host::room_type_create))
        .route("/host/properties/{id}/photos", post(host::photo_upload))
        .route("/host/room-types/{id}/calendar", get(host::calendar).post(host::calendar_set))
        .route("/host/room-types/{id}/ical-export", post(host::export_set))
        .route("/host/room-types/{id}/ical-feeds", post(host::feed_add))
        .route("/host/ical-feeds/{id}/{action}", post(host::feed_act))
        .route("/host/reviews/{id}/reply", post(host::review_reply))
        .route("/host/bookings", get(host::bookings))
        .route("/host/bookings.csv", get(host::bookings_csv))
        .route("/host/bookings/{id}/cancel", get(host::booking_cancel_question).post(host::booking_cancel))
        .route("/host/bookings/{id}/{action}", post(host::booking_act))
        .route("/host/messages", get(host::messages))
        .route("/host/data", get(host::data))
        .route("/host/data/import", post(host::data_import))
        .route("/host/data/import-csv", post(host::data_import_csv))
        .route("/host/data/rates", post(host::data_rates))
        .route("/host/data/{file}", get(host::data_file))
        .route("/host/money", get(host::money_overview).post(host::payout_account_set))
        .route("/host/invoices/{id}", get(host::invoice_page))
        .route("/host/team", get(host::team_overview))
        .route("/host/team/invitations", post(host::team_invite))
        .route("/host/team/invitations/{id}/withdraw", post(host::team_withdraw))
        .route("/host/team/members/{id}/role", post(host::member_role_set))
        .route("/host/team/members/{id}/remove", post(host::member_remove))
        .route("/host/team/keys", post(host::key_create))
        .route("/host/team/keys/{id}/revoke", post(host::key_revoke))
        .route("/ops", get(ops::dashboard))
        .route("/ops/statement-lines/{id}/match", post(ops::match_line))
        .route("/ops/people", get(people::people))
        .route("/ops/history", get(history::history))
        .route("/ops/analytics", get(analytics::ops))
        .route("/host/analytics", get(analytics::host))
        .route("/ops/cost", get(cost::show).post(cost::compute))
        .route(security::PATH, get(security::show))
        .route("/account", get(settings::show))
        .route("/account/profile", post(settings::profile))
        .route("/account/password", post(settings::password))
        .route("/account/sessions/end", post(settings::end_sessions))
        .route("/account/export", get(settings::export))
        .route("/account/delete", post(settings::delete))
        .route("/account/two-factor/start", post(security::start))
        .route("/account/two-factor/confirm", post(security::confirm))
        .route("/account/two-factor/disable", post(security::disable))
        .route("/ops/people/users/{id}/{action}", post(people::user_action))
        .route("/ops/people/tenants/{id}/{action}", post(people::tenant_action))
        .route("/unsubscribe/{token}", get(unsubscribe::form).post(unsubscribe::stop))
        .route("/static/{*path}", get(assets::serve))
        .route("/language", get(i18n::switch))
        .layer(axum::middleware::from_fn(session::guard))
        .layer(axum::middleware::from_fn(i18n::scope))
        .layer(axum::Extension(web))
}
