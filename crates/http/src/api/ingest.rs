//! Client event ingestion: batches of search, view, click and funnel events.

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::MaybeAuth;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use innkeep_app::ingest::{Ingested, MAX_BATCH, ingest};
use std::num::NonZeroU32;

/// Largest body of a batch, after gzip decompression (so also the largest compressed one).
pub const MAX_DECOMPRESSED: usize = 4 * 1024 * 1024;
/// Batches per second allowed per client id.
pub const BATCHES_PER_SECOND: u32 = 50;

/// The per-client limiter of batches.
pub type BatchLimiter = governor::DefaultKeyedRateLimiter<String>;

/// A limiter allowing `BATCHES_PER_SECOND` per client id.
pub fn batch_limiter() -> BatchLimiter {
    governor::RateLimiter::keyed(governor::Quota::per_second(
        NonZeroU32::new(BATCHES_PER_SECOND).unwrap_or(NonZeroU32::MIN),
    ))
}

/// Take a batch (a JSON array, or NDJSON with `Content-Type: application/x-ndjson`,
/// optionally `Content-Encoding: gzip`); good items are kept, bad ones come back with reasons.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    request_body(content = Vec<Object>, description = "[{type: search|view|click|funnel, client_id, occurred_at, property_id?, data?}]"),
    responses((status = 202, description = "{accepted, rejected: [{index, reason}]}"), (status = 400, body = Problem),
        (status = 413, body = Problem), (status = 429, body = Problem)))]
pub async fn post(
    State(s): State<AppState>,
    MaybeAuth(actor): MaybeAuth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Ingested>)> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a batch is at most {MAX_DECOMPRESSED} bytes after decompression"),
        ),
        status => ApiError::new(status, "invalid_body", e.body_text()),
    })?;
    let sink = s
        .client_events
        .clone()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "event ingestion is not enabled"))?;
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-ndjson"));
    let items: Vec<serde_json::Value> = if ndjson {
        std::str::from_utf8(&body)
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", "NDJSON must be UTF-8"))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            // A malformed line becomes a string, which the validation rejects with a reason.
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| serde_json::Value::String(l.chars().take(40).collect()))
            })
            .collect()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body must be a JSON array of events: {e}"),
            )
        })?
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid("body", "invalid_batch", format!("a batch holds at most {MAX_BATCH} events")));
    }
    let client =
        items.first().and_then(|i| i.get("client_id")).and_then(|c| c.as_str()).unwrap_or("anonymous").to_string();
    if s.batch_limiter.check_key(&client).is_err() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_batches",
            "too many batches from this client; slow down",
        ));
    }
    let result = ingest(&s.ports, sink.as_ref(), actor.as_ref(), items, s.ports.clock.now()).await?;
    metrics::counter!("innkeep_client_events_total", "outcome" => "accepted").increment(result.accepted as u64);
    metrics::counter!("innkeep_client_events_total", "outcome" => "rejected").increment(result.rejected.len() as u64);
    Ok((StatusCode::ACCEPTED, Json(result)))
}
