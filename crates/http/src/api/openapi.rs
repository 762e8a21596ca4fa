//! The OpenAPI 3 document, generated from the handlers' annotations.

use super::{
    accounts, audit, billing, bookings, catalog, credentials, ingest, notifications, payments, photos, search, team,
};
use crate::error::Problem;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Innkeep API", description = "Search, quote, book, confirm and cancel stays.", version = "1"),
    paths(
        accounts::register, accounts::sign_in, accounts::sign_out, accounts::me, accounts::update_me,
        super::data_rights::export, super::data_rights::erase,
        credentials::change_password, credentials::sessions, credentials::sign_out_everywhere,
        credentials::request_reset, credentials::reset, credentials::request_verification, credentials::verify,
        super::two_factor::start, super::two_factor::status, super::two_factor::confirm,
        super::two_factor::disable,
        catalog::create_property, catalog::list_properties, catalog::get_property, catalog::patch_property,
        catalog::create_room_type, catalog::list_room_types, catalog::get_room_type, catalog::patch_room_type,
        catalog::put_calendar, catalog::get_calendar, catalog::availability,
        bookings::place, bookings::list, bookings::get, bookings::confirm, bookings::cancel,
        bookings::check_in, bookings::complete, bookings::no_show,
        search::search, search::places, search::reverse, search::recent,
        ingest::post,
        photos::upload, photos::list,
        super::reviews::create, super::reviews::list, super::reviews::get, super::reviews::reply,
        super::reviews::report, super::reviews::hide, super::reviews::show,
        payments::create, payments::get, payments::of_booking, payments::import,
        payments::statement_lines_list, payments::match_statement_line,
        payments::create_refund, payments::refunds, payments::stripe_webhook,
        billing::set_rate, billing::get_rate, billing::invoices, billing::invoice,
        billing::set_account, billing::payouts, billing::batch,
        notifications::create, notifications::list, notifications::get, notifications::delete,
        notifications::deliveries, notifications::log,
        audit::list, audit::bursts,
        super::analytics::sql, super::analytics::report, super::history::bookings,
        super::suggestions::recommendations, super::suggestions::similar, super::suggestions::trending,
        super::operator::users, super::operator::tenants, super::operator::suspend_user,
        super::operator::restore_user, super::operator::suspend_tenant, super::operator::restore_tenant,
        team::get, team::invite, team::withdraw, team::accept, team::set_role, team::remove,
        team::create_key, team::keys, team::revoke_key,
        super::channels::create_export, super::channels::get_export, super::channels::delete_export,
        super::channels::create_feed, super::channels::list_feeds, super::channels::get_feed,
        super::channels::delete_feed, super::channels::sync_feed,
        super::channels::put_ota_codes, super::channels::get_ota_codes,
        super::tenant_data::export, super::tenant_data::export_csv, super::tenant_data::import,
        super::tenant_data::import_csv,
    ),
    // `Problem` is listed because the error responses (`problems`) refer to it by name.
    components(schemas(Problem)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The `bearer` scheme the signed-in operations name: the token from `POST /api/v1/sessions`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "the `token` of a session from POST /api/v1/sessions. A session whose sign-in answered \
                         `two_factor_setup_required` is refused (403 `two_factor_setup_required`) everywhere but \
                         /me/two-factor, GET /me and DELETE /sessions/current until two-factor sign-in is set up",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON.
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn operations() -> Vec<(String, String, Value)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                ops.push((path.clone(), method.clone(), op.clone()));
            }
        }
        ops
    }

    #[test]
    fn path_parameters_are_the_path_templates_and_the_others_are_queries_or_headers() {
        for (path, method, op) in operations() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let (name, place) = (p["name"].as_str().unwrap_or(""), p["in"].as_str().unwrap_or(""));
                match place {
                    "path" => assert!(path.contains(&format!("{{{name}}}")), "{method} {path}: {name} is no template"),
                    "query" | "header" => {}
                    other => panic!("{method} {path}: {name} is in {other}"),
                }
            }
            let templates = path.matches('{').count();
            let in_path = params.iter().filter(|p| p["in"] == "path").count();
            assert_eq!(templates, in_path, "{method} {path}: every template is a path parameter");
        }
    }

    #[test]
    fn errors_are_problem_documents_and_429_and_503_say_when_to_retry() {
        for (path, method, op) in operations() {
            let responses = op["responses"].as_object().expect("responses");
            for (status, r) in responses {
                let status: u16 = status.parse().expect("a status");
                let types: Vec<&String> = r["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
                if status >= 400 {
                    assert_eq!(types, vec![crate::error::PROBLEM_JSON], "{method} {path} {status}");
                    let schema = &r["content"][crate::error::PROBLEM_JSON]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/Problem", "{method} {path} {status}");
                } else if path != "/api/v1/events"
                    && path != "/api/v1/payouts/batches/{id}"
                    && path != "/api/v1/tenant-data/{file}"
                    && !path.starts_with("/api/v1/analytics/")
                {
                    assert!(types.iter().all(|t| *t == "application/json"), "{method} {path} {status}: {types:?}");
                }
                if status == 429 || status == 503 {
                    assert!(r["headers"]["Retry-After"].is_object(), "{method} {path} {status} has Retry-After");
                }
            }
            if method != "get" {
                assert!(responses.contains_key("503"), "{method} {path}: a write may answer 503");
            }
            let signed_in = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if signed_in {
                assert!(responses.contains_key("401"), "{method} {path}: a bearer token may be refused");
            }
        }
    }
}
