//! Extractors whose rejections are problem documents: JSON bodies, queries, path ids
//! and the bearer token.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use innkeep_app::Actor;
use serde::de::DeserializeOwned;

/// A JSON body; a malformed, mistyped or oversized one is a 4xx problem.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the body does not match the schema: {}", source_text(&e)),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {}", source_text(&e)),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is larger than the limit")
        }
        other => ApiError::new(other.status(), "invalid_body", other.body_text()),
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    inner.to_string()
}

/// A query string; a bad one is a 400 naming the parameter.
pub struct Params<T>(pub T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("bad query parameter: {}", source_text(&e)),
            )),
            Err(other) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", other.body_text())),
        }
    }
}

/// A path id; one that is not a UUID is a 400.
pub struct Id<T>(pub T);

impl<S, T> FromRequestParts<S> for Id<T>
where
    T: std::str::FromStr,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_id", e.body_text()))?;
        raw.parse::<T>()
            .map(Id)
            .map_err(|_| ApiError::invalid("id", "invalid_id", format!("{raw:?} is not a valid id (a UUID)")))
    }
}

/// The signed-in actor; a missing or invalid bearer token is a 401.
pub struct Auth(pub Actor);

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(Auth(*actor));
        }
        let token = bearer(parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send `Authorization: Bearer TOKEN` from POST /api/v1/sessions",
            )
        })?;
        let actor = innkeep_app::auth::authenticate(&state.ports, token, state.ports.clock.now()).await?;
        crate::api::two_factor::gate(&state, parts, &actor, token).await?;
        note(parts, &actor);
        Ok(Auth(actor))
    }
}

/// Tell the audit middleware who acts in this request.
fn note(parts: &Parts, actor: &Actor) {
    if let Some(n) = parts.extensions.get::<innkeep_app::audit::AuditNote>() {
        n.actor(actor);
    }
}

/// The actor if a valid token was sent; no token means anonymous, a bad one is a 401.
pub struct MaybeAuth(pub Option<Actor>);

impl<S> FromRequestParts<S> for MaybeAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if bearer(parts).is_none() && parts.extensions.get::<Actor>().is_none() {
            return Ok(MaybeAuth(None));
        }
        Auth::from_request_parts(parts, state).await.map(|Auth(a)| MaybeAuth(Some(a)))
    }
}
