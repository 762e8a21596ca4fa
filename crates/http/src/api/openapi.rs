//! The OpenAPI 3 document, generated from the handlers' annotations.

use super::{accounts, bookings, catalog, ingest, photos, search};
use crate::error::Problem;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Innkeep API", description = "Search, quote, book, confirm and cancel stays.", version = "1"),
    paths(
        accounts::register, accounts::sign_in, accounts::sign_out, accounts::me,
        catalog::create_property, catalog::list_properties, catalog::get_property, catalog::patch_property,
        catalog::create_room_type, catalog::list_room_types, catalog::get_room_type, catalog::patch_room_type,
        catalog::put_calendar, catalog::get_calendar, catalog::availability,
        bookings::place, bookings::list, bookings::get, bookings::confirm, bookings::cancel,
        bookings::check_in, bookings::complete, bookings::no_show,
        search::search, search::places, search::reverse, search::recent,
        ingest::post,
        photos::upload, photos::list,
    ),
    components(schemas(Problem, photos::PhotoView)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON.
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
