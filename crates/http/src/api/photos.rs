//! Photos of a property: upload (the image bytes as the body), list, and the stable URL
//! that serves one (`/photos/{id}`, cached for a year: a photo never changes).

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Id, Params};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::AppError;
use innkeep_app::photo::{self, NewPhoto};
use innkeep_app::store::Photo;
use innkeep_core::{MAX_PHOTO_BYTES, PhotoId, PropertyId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A photo as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoView {
    pub id: String,
    pub property_id: String,
    /// image/jpeg, image/png or image/webp (from the bytes, not the upload's claim)
    pub content_type: String,
    pub size: u64,
    pub alt: String,
    /// Where the photo is served (stable; cache it): the full size.
    pub url: String,
    /// The widths it is served in, narrowest first (the last is `url`'s): for `srcset`.
    /// Empty for a photo uploaded before sizes were made (served as uploaded).
    pub sizes: Vec<PhotoSizeView>,
    pub created_at: String,
}

/// One width of a photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoSizeView {
    pub width: u32,
    pub url: String,
}

impl From<&Photo> for PhotoView {
    fn from(p: &Photo) -> Self {
        PhotoView {
            id: p.id.to_string(),
            property_id: p.property_id.to_string(),
            content_type: p.kind.content_type().to_string(),
            size: p.size,
            alt: p.alt.clone(),
            url: photo_url(p.id),
            sizes: photo::full_width(p)
                .map(photo::widths_of)
                .unwrap_or_default()
                .into_iter()
                .map(|width| PhotoSizeView { width, url: format!("{}?w={width}", photo_url(p.id)) })
                .collect(),
            created_at: p.created_at.to_string(),
        }
    }
}

/// The stable URL of a photo.
pub fn photo_url(id: PhotoId) -> String {
    format!("/photos/{id}")
}

/// The bytes of an image as a request body (`type: string, format: binary`).
pub struct ImageBytes;

impl utoipa::PartialSchema for ImageBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for ImageBytes {}

/// Options of an upload.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct UploadParams {
    /// A short description for people who cannot see the photo (at most 200 characters).
    pub alt: String,
}

/// A photo error as the status that names it: 413 for size, 415 for the format.
pub fn photo_problem(e: AppError) -> ApiError {
    match e {
        AppError::Invalid { code: "photo_too_large", message, .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "photo_too_large", message).field("photo")
        }
        AppError::Invalid { code: "unsupported_media_type", message, .. } => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message).field("photo")
        }
        other => other.into(),
    }
}

/// Add a photo to a property of the caller's tenant: the body is the image (JPEG, PNG or
/// WebP, at most 10 MiB).
#[utoipa::path(post, path = "/api/v1/properties/{id}/photos", operation_id = "upload_photo", tag = "catalog",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "the property"), UploadParams),
    request_body(description = "the image bytes (JPEG, PNG or WebP, at most 10 MiB); the format is read from the bytes",
        content((inline(ImageBytes) = "image/jpeg"), (inline(ImageBytes) = "image/png"), (inline(ImageBytes) = "image/webp"))),
    responses((status = 201, description = "the photo", body = PhotoView), (status = 400, response = inline(BadRequest)),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 404, response = inline(NotFound)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn upload(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<PropertyId>,
    Params(q): Params<UploadParams>,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<PhotoView>)> {
    let Some(objects) = s.objects.clone() else { return Err(ApiError::not_found("photo storage")) };
    // Ownership first, so someone else's property answers 404 before its body is read.
    innkeep_app::catalog::managed_property(&s.ports, &a, id, innkeep_core::Duty::Listings).await?;
    let bytes = axum::body::to_bytes(body, MAX_PHOTO_BYTES + 1).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "photo_too_large", "the photo is larger than 10 MiB")
            .field("photo")
    })?;
    let new = NewPhoto { bytes: bytes.to_vec(), alt: q.alt };
    let p =
        photo::add_photo(&s.ports, objects.as_ref(), &a, id, new, s.ports.clock.now()).await.map_err(photo_problem)?;
    Ok((StatusCode::CREATED, Json(PhotoView::from(&p))))
}

/// The photos of a property, in upload order.
#[utoipa::path(get, path = "/api/v1/properties/{id}/photos", operation_id = "list_photos", tag = "catalog", params(("id" = uuid::Uuid, Path, description = "the property")),
    responses((status = 200, description = "the photos, in upload order", body = [PhotoView]),
        (status = 400, response = inline(BadRequest)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn list(State(s): State<AppState>, Id(id): Id<PropertyId>) -> ApiResult<Json<Vec<PhotoView>>> {
    Ok(Json(photo::photos(&s.ports, id).await?.iter().map(PhotoView::from).collect()))
}

/// Which size of a photo to serve.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizeParams {
    /// One of the photo's widths (`sizes` in its view); any other, or none, is the full size.
    pub w: Option<u32>,
}

/// GET /photos/{id}[?w=WIDTH]: the image, cached for a year (a photo id never changes its
/// bytes).
pub async fn serve(
    State(s): State<AppState>,
    Id(id): Id<PhotoId>,
    Params(size): Params<SizeParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(objects) = s.objects.clone() else { return Err(ApiError::not_found("photo")) };
    let etag = match size.w {
        Some(w) => format!("\"{id}-{w}\""),
        None => format!("\"{id}\""),
    };
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        // Only a photo that exists has an etag worth matching.
        if s.ports.store.photo(id).await.map_err(AppError::from)?.is_some() {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            cache_headers(r.headers_mut(), &etag);
            return Ok(r);
        }
    }
    let (p, bytes) = photo::photo_bytes(&s.ports, objects.as_ref(), id, size.w).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(p.kind.content_type()));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    cache_headers(h, &etag);
    Ok(r)
}

fn cache_headers(h: &mut HeaderMap, etag: &str) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
}
