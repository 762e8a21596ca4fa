//! Every error becomes an RFC 9457 problem+json document here, and only here.
//! Known errors are 4xx with a stable `code`; anything else is a 500 with no internals,
//! logged once with the request id by the trace layer.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::AppError;
use serde::Serialize;
use std::time::Duration;

/// The content type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The night that is sold out, for `sold_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub night: Option<String>,
}

/// An error answered by the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub field: Option<String>,
    pub night: Option<String>,
    /// For a 429 or 503: how long to wait before sending the request again (1 s if unset).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into(), field: None, night: None, retry_after: None }
    }

    /// A 429: the client may try again after `wait`.
    pub fn too_many_requests(code: &'static str, detail: impl Into<String>, wait: Duration) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, detail);
        e.retry_after = Some(wait);
        e
    }

    /// Name the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// A 400 for a field.
    pub fn invalid(field: &str, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail).field(field)
    }

    /// A 404 for a kind of thing.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        let detail = e.to_string();
        // The database is failing over, too busy to serialize this write even after the
        // store's retries, full or failing: nothing was changed, so the client may send it
        // again.
        if let Some((code, wait)) = e.unavailable() {
            tracing::warn!(error = %e, code, "refused: a part is unavailable");
            let detail = match code {
                "storage_full" => "the database has no space left for writes; nothing was saved; try again later",
                "search_unavailable" => "search is briefly unavailable; try again",
                _ => "the database is briefly unavailable; nothing was saved; try again",
            };
            let mut unavailable = ApiError::new(S::SERVICE_UNAVAILABLE, code, detail);
            unavailable.retry_after = Some(wait);
            return unavailable;
        }
        let (code, status) = e.code_and_status();
        let status = S::from_u16(status).unwrap_or(S::INTERNAL_SERVER_ERROR);
        match e {
            AppError::Invalid { field, message, .. } => ApiError::new(status, code, message).field(field),
            AppError::EmailTaken => ApiError::new(status, code, detail).field("email"),
            AppError::SoldOut { night } => {
                let mut e = ApiError::new(status, code, detail);
                e.night = Some(night.to_string());
                e
            }
            AppError::IdempotencyMismatch => ApiError::new(status, code, detail).field("Idempotency-Key"),
            AppError::RateLimited { wait, .. } => ApiError::too_many_requests(code, detail, wait),
            AppError::Store(e) => {
                tracing::error!(error = %e, "store failure");
                ApiError::new(status, code, "internal error; the request id identifies it in the logs")
            }
            _ => ApiError::new(status, code, detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_string();
        let problem = Problem {
            kind: format!("https://innkeep.dev/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_string(),
            field: self.field,
            night: self.night,
        };
        let mut res = (self.status, Json(problem)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // A client told to slow down or to come back must be told when (RFC 9110 10.2.3).
        if matches!(self.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            let secs = self.retry_after.map_or(1, innkeep_app::limit::retry_after_secs);
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_app::StoreError;

    #[test]
    fn a_transient_database_failure_is_a_503_to_retry_and_others_a_500() {
        let busy = ApiError::from(AppError::Store(StoreError::Retryable("primary lost".into()))).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        assert_eq!(busy.headers()[header::CONTENT_TYPE], "application/problem+json");
        let full = ApiError::from(AppError::Store(StoreError::Full("database or disk is full".into())));
        assert_eq!((full.status, full.code), (StatusCode::SERVICE_UNAVAILABLE, "storage_full"));
        assert_eq!(full.into_response().headers()[header::RETRY_AFTER], "30");
        let io = ApiError::from(AppError::Store(StoreError::Unavailable("disk I/O error".into())));
        assert_eq!((io.status, io.code), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
        let broken = ApiError::from(AppError::Store(StoreError::Database("no such table".into()))).into_response();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(broken.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn a_failing_search_index_is_a_503_and_a_query_it_cannot_run_a_400() {
        let failed = ApiError::from(AppError::IndexFailed("index locked".into()));
        assert_eq!((failed.status, failed.code), (StatusCode::SERVICE_UNAVAILABLE, "search_unavailable"));
        assert_eq!(failed.into_response().headers()[header::RETRY_AFTER], "5");
        let bad = ApiError::from(AppError::invalid("q", "invalid_search", "latitude out of range"));
        assert_eq!((bad.status, bad.code), (StatusCode::BAD_REQUEST, "invalid_search"));
    }

    #[test]
    fn every_429_says_when_to_retry_in_whole_seconds() {
        let wait = |d| {
            let r = ApiError::too_many_requests("too_many_attempts", "slow down", d).into_response();
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            r.headers()[header::RETRY_AFTER].to_str().map(str::to_string).unwrap_or_default()
        };
        assert_eq!(wait(Duration::from_millis(20)), "1", "never 0: a client would retry at once");
        assert_eq!(wait(Duration::from_millis(5_400)), "6", "rounded up, so the retry is not early");
        assert_eq!(wait(Duration::from_secs(60)), "60");
        let plain = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many", "slow down").into_response();
        assert_eq!(plain.headers()[header::RETRY_AFTER], "1");
    }
}
