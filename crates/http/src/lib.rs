//! Innkeep's HTTP face (axum): the /api/v1 JSON resources, OpenAPI, metrics and health.
//! Handlers parse input into core types, call one use case, and map errors in one place
//! (`error.rs`).

pub mod api;
pub mod audit;
pub mod error;
pub mod extract;
pub mod telemetry;

use api::{
    accounts, billing, bookings, catalog, credentials, ingest, notifications, openapi, payments, photos, search, team,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{get, post, put};
use error::ApiError;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted by the API.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answer a request that outlasts `REQUEST_TIMEOUT` with a 503 problem that says when to
/// retry, like every other 503.
async fn time_limit(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timed_out",
            "the request took too long; try again",
        )),
    }
}

pub use innkeep_app::node::AppState;

/// The /api/v1 routes.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(accounts::register))
        .route("/sessions", post(accounts::sign_in))
        .route("/sessions/current", axum::routing::delete(accounts::sign_out))
        .route("/me", get(accounts::me).patch(accounts::update_me).delete(api::data_rights::erase))
        .route("/me/export", get(api::data_rights::export))
        .route("/me/password", post(credentials::change_password))
        .route("/me/sessions", get(credentials::sessions).delete(credentials::sign_out_everywhere))
        .route("/me/email-verification", post(credentials::request_verification))
        .route("/email-verifications", post(credentials::verify))
        .route("/password-resets", post(credentials::request_reset))
        .route("/password-resets/confirm", post(credentials::reset))
        .route(
            "/me/two-factor",
            post(api::two_factor::start).get(api::two_factor::status).delete(api::two_factor::disable),
        )
        .route("/me/two-factor/confirm", post(api::two_factor::confirm))
        .route("/me/searches", get(search::recent))
        .route("/properties", post(catalog::create_property).get(catalog::list_properties))
        .route("/properties/{id}", get(catalog::get_property).patch(catalog::patch_property))
        .route("/properties/{id}/room-types", post(catalog::create_room_type).get(catalog::list_room_types))
        .route(
            "/properties/{id}/photos",
            post(photos::upload).get(photos::list).layer(DefaultBodyLimit::max(innkeep_core::MAX_PHOTO_BYTES + 1)),
        )
        .route("/room-types/{id}", get(catalog::get_room_type).patch(catalog::patch_room_type))
        .route("/room-types/{id}/calendar", put(catalog::put_calendar).get(catalog::get_calendar))
        .route(
            "/room-types/{id}/ical-export",
            post(api::channels::create_export).get(api::channels::get_export).delete(api::channels::delete_export),
        )
        .route("/room-types/{id}/ical-feeds", post(api::channels::create_feed).get(api::channels::list_feeds))
        .route("/ical-feeds/{id}", get(api::channels::get_feed).delete(api::channels::delete_feed))
        .route("/ical-feeds/{id}/sync", post(api::channels::sync_feed))
        .route(
            "/tenant-data",
            get(api::tenant_data::export)
                .post(api::tenant_data::import)
                .layer(DefaultBodyLimit::max(api::tenant_data::MAX_DOCUMENT_BYTES)),
        )
        .route(
            "/tenant-data/{file}",
            get(api::tenant_data::export_csv)
                .post(api::tenant_data::import_csv)
                .layer(DefaultBodyLimit::max(api::tenant_data::MAX_DOCUMENT_BYTES)),
        )
        .route("/properties/{id}/ota-codes", put(api::channels::put_ota_codes).get(api::channels::get_ota_codes))
        .route("/availability", get(catalog::availability))
        .route("/search", get(search::search))
        .route("/places", get(search::places))
        .route("/places/reverse", get(search::reverse))
        .route("/bookings", post(bookings::place).get(bookings::list))
        .route("/bookings/{id}", get(bookings::get))
        .route("/bookings/{id}/confirm", post(bookings::confirm))
        .route("/bookings/{id}/cancel", post(bookings::cancel))
        .route("/bookings/{id}/check-in", post(bookings::check_in))
        .route("/bookings/{id}/complete", post(bookings::complete))
        .route("/bookings/{id}/no-show", post(bookings::no_show))
        .route("/bookings/{id}/payments", post(payments::create).get(payments::of_booking))
        .route("/bookings/{id}/review", post(api::reviews::create))
        .route("/properties/{id}/reviews", get(api::reviews::list))
        .route("/reviews/{id}", get(api::reviews::get))
        .route("/reviews/{id}/reply", post(api::reviews::reply))
        .route("/reviews/{id}/reports", post(api::reviews::report))
        .route("/reviews/{id}/hidden", put(api::reviews::hide).delete(api::reviews::show))
        .route("/payments/statement-lines", get(payments::statement_lines_list))
        .route("/payments/statement-lines/{id}/match", post(payments::match_statement_line))
        .route("/payments/{id}", get(payments::get))
        .route("/payments/{id}/refunds", post(payments::create_refund).get(payments::refunds))
        .route("/tenants/{id}/commission", put(billing::set_rate).get(billing::get_rate))
        .route("/invoices", get(billing::invoices))
        .route("/invoices/{id}", get(billing::invoice))
        .route("/payouts", get(billing::payouts))
        .route("/payouts/account", put(billing::set_account))
        .route("/payouts/batches/{id}", get(billing::batch))
        .route("/team", get(team::get))
        .route("/team/invitations", post(team::invite))
        .route("/team/invitations/{id}", axum::routing::delete(team::withdraw))
        .route("/team/members/{id}", axum::routing::patch(team::set_role).delete(team::remove))
        .route("/invitations/accept", post(team::accept))
        .route("/api-keys", post(team::create_key).get(team::keys))
        .route("/api-keys/{id}", axum::routing::delete(team::revoke_key))
        .route("/webhooks", post(notifications::create).get(notifications::list))
        .route("/webhooks/{id}", get(notifications::get).delete(notifications::delete))
        .route("/webhooks/{id}/deliveries", get(notifications::deliveries))
        .route("/notifications", get(notifications::log))
        .route("/recommendations", get(api::suggestions::recommendations))
        .route("/properties/{id}/similar", get(api::suggestions::similar))
        .route("/trending", get(api::suggestions::trending))
        .route("/analytics/sql", post(api::analytics::sql))
        .route("/analytics/reports/{name}", get(api::analytics::report))
        .route("/history/bookings", get(api::history::bookings))
        .route("/audit", get(api::audit::list))
        .route("/ops/access-bursts", get(api::audit::bursts))
        .route("/ops/users", get(api::operator::users))
        .route("/ops/tenants", get(api::operator::tenants))
        .route("/ops/users/{id}/suspension", put(api::operator::suspend_user).delete(api::operator::restore_user))
        .route("/ops/tenants/{id}/suspension", put(api::operator::suspend_tenant).delete(api::operator::restore_tenant))
        .route(
            "/payments/webhooks/stripe",
            post(payments::stripe_webhook).layer(DefaultBodyLimit::max(payments::MAX_WEBHOOK_BYTES)),
        )
        .route(
            "/payments/statements",
            post(payments::import).layer(DefaultBodyLimit::max(payments::MAX_STATEMENT_BYTES)),
        )
        .route(
            "/events",
            post(ingest::post).layer(
                tower::ServiceBuilder::new()
                    .layer(tower_http::decompression::RequestDecompressionLayer::new())
                    .layer(DefaultBodyLimit::max(ingest::MAX_DECOMPRESSED)),
            ),
        )
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this resource does not take that method",
            )
        })
}

/// The whole application with its middleware, ready to serve.
pub fn app(state: AppState, extra: Router<AppState>) -> Router {
    // The process's recorder is installed before the first request records anything.
    telemetry::metrics_handle();
    audit::watch(&state);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api_routes())
        .route("/healthz", get(telemetry::healthz))
        .route("/readyz", get(telemetry::readyz))
        .route("/metrics", get(telemetry::metrics_text))
        .route("/photos/{id}", get(photos::serve))
        .route("/ical/{file}", get(api::channels::feed_file))
        .route("/ota", post(api::ota::post).layer(DefaultBodyLimit::max(api::ota::MAX_OTA_BYTES)))
        .merge(extra)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page") })
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .route_layer(axum::middleware::from_fn_with_state(state.requests.clone(), telemetry::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            ))
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
