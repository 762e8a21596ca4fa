//! Client event ingestion: batches of search, view, click and funnel events.

use crate::AppState;
use crate::api::problems::{BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized};
use crate::api::schemas;
use crate::error::{ApiError, ApiResult};
use crate::extract::MaybeAuth;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use innkeep_app::ingest::{IngestError, Ingested, MAX_BATCH, SinkError, ingest};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Largest body of a batch, after gzip decompression (so also the largest compressed one).
pub const MAX_DECOMPRESSED: usize = 4 * 1024 * 1024;

/// Take a batch (a JSON array, or NDJSON with `Content-Type: application/x-ndjson`,
/// optionally `Content-Encoding: gzip`); good items are kept, bad ones come back with reasons.
#[utoipa::path(post, path = "/api/v1/events", operation_id = "post_events", tag = "events", security((), ("bearer" = [])),
    request_body(description = "[{type: search|view|click|funnel, client_id, occurred_at, id?, property_id?, data?}], \
        or one such object per line as NDJSON; optionally `Content-Encoding: gzip`",
        content((Vec<Object> = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 202, description = "the good events are kept; the others come back with reasons", body = schemas::Ingested),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(NotFound)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
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
    let items: Vec<&str> = if ndjson {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", "NDJSON must be UTF-8"))?;
        // A malformed line stays an item of its own, refused with a reason.
        text.lines().map(str::trim).filter(|l| !l.is_empty()).take(MAX_BATCH + 1).collect()
    } else {
        let Items { items, more } = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body must be a JSON array of events: {e}"),
            )
        })?;
        if more {
            return Err(too_many());
        }
        items.into_iter().map(RawValue::get).collect()
    };
    if items.len() > MAX_BATCH {
        return Err(too_many());
    }
    let client = items.first().and_then(|i| serde_json::from_str::<ClientKey<'_>>(i).ok()).and_then(|k| k.client_id);
    let client = client.as_deref().unwrap_or("anonymous");
    if let Err(wait) = s.ports.limiter.take(&innkeep_app::limit::CLIENT_BATCHES, client).await {
        return Err(ApiError::too_many_requests(
            "too_many_batches",
            "too many batches from this client; slow down",
            wait,
        ));
    }
    let result = ingest(sink.as_ref(), actor.as_ref(), &items, s.ports.clock.now()).await.map_err(|e| match e {
        IngestError::BatchSize => ApiError::invalid("body", "invalid_batch", e.to_string()),
        IngestError::Sink(SinkError::Full(error)) => {
            tracing::warn!(error = %error, "client events refused: no space");
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                "there is no space left for client events; nothing of the batch was stored; send it again later",
            );
            e.retry_after = Some(innkeep_app::error::STORAGE_FULL_WAIT);
            e
        }
        IngestError::Sink(SinkError::Failed(error)) => {
            tracing::error!(error = %error, "client event sink failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sink_unavailable",
                "the client events could not be stored; send the batch again",
            )
        }
    })?;
    metrics::counter!("innkeep_client_events_total", "outcome" => "accepted").increment(result.accepted as u64);
    metrics::counter!("innkeep_client_events_total", "outcome" => "rejected").increment(result.rejected.len() as u64);
    Ok((StatusCode::ACCEPTED, Json(result)))
}

fn too_many() -> ApiError {
    ApiError::invalid("body", "invalid_batch", format!("a batch holds at most {MAX_BATCH} events"))
}

/// The client id of a batch's first item, which keys the rate limit.
#[derive(Deserialize)]
struct ClientKey<'a> {
    #[serde(borrow)]
    client_id: Option<Cow<'a, str>>,
}

/// A JSON array's items as raw JSON text, without building a tree; at most `MAX_BATCH`
/// kept, `more` telling whether there were others.
struct Items<'a> {
    items: Vec<&'a RawValue>,
    more: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Items<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Items<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of events")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<'a>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(64).min(MAX_BATCH));
                let mut more = false;
                while items.len() < MAX_BATCH {
                    match seq.next_element::<&'de RawValue>()? {
                        Some(item) => items.push(item),
                        None => return Ok(Items { items, more }),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    more = true;
                }
                Ok(Items { items, more })
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}
