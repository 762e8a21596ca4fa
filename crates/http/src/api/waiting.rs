//! Reads a client can make wait for a change instead of polling: a payment until its client
//! secret or its outcome is there, a booking until it is confirmed.
//!
//! Every such answer carries a strong `ETag` (a hash of its JSON). A read with
//! `If-None-Match` naming the current tag is answered 304 (RFC 9110). With `Prefer: wait=N`
//! (RFC 7240; at most [`MAX_WAIT`]) as well, the read is held until the object changes, then
//! answered 200 with the new state, or 304 once `N` seconds passed with no change; the
//! answer says `Preference-Applied: wait=N`. The wait is told of changes by
//! [`innkeep_app::changes`] and reads again at least every [`LOOK_AGAIN`].

use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::changes::{Changes, LOOK_AGAIN};
use serde::Serialize;
use sha2::Digest;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// The longest wait a client may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// The wait a request asks for with `Prefer: wait=N` (seconds, at most [`MAX_WAIT`]), if any.
pub fn preferred_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|preference| {
            // `wait=10`, `wait="10"`, or with parameters after a `;`.
            let (name, value) = preference.split(';').next()?.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("wait") {
                return None;
            }
            value.trim().trim_matches('"').parse::<u64>().ok()
        })
        .next()
        .map(|secs| Duration::from_secs(secs).min(MAX_WAIT))
}

/// Whether `If-None-Match` names `etag` (or is `*`): the client has the current state.
/// Entity tags are compared weakly, as RFC 9110 says for this header.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let wanted = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == wanted)
}

/// A strong entity tag of `bytes`.
pub fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(sha2::Sha256::digest(bytes))[..32])
}

/// Answer `read()` as JSON with its ETag, or 304 when the client has it, waiting for a change
/// of `id` first when the client asked to (see the module). An error of `read` (a payment
/// that is not the caller's, say) is answered as it is, before any wait.
pub async fn read_or_wait<T, F, Fut>(
    headers: &HeaderMap,
    changes: &Changes,
    id: Uuid,
    mut read: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let conditional = headers.contains_key(header::IF_NONE_MATCH);
    // Watching begins before the first read, so a change after that read is not missed. A
    // node that holds its most waits already answers at once (the preference not applied).
    let mut watch = preferred_wait(headers).filter(|_| conditional).and_then(|w| Some((w, changes.watch(id)?)));
    let wait = watch.as_ref().map(|(w, _)| *w);
    let deadline = Instant::now() + wait.unwrap_or_default();
    loop {
        let body = serde_json::to_vec(&read().await?)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
        let etag = etag_of(&body);
        let unchanged = conditional && none_match(headers, &etag);
        let left = deadline.saturating_duration_since(Instant::now());
        if unchanged
            && !left.is_zero()
            && let Some((_, watch)) = watch.as_mut()
        {
            watch.changed(left.min(LOOK_AGAIN)).await;
            continue;
        }
        let mut r = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        };
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        if let Some(wait) = wait
            && let Ok(v) = HeaderValue::from_str(&format!("wait={}", wait.as_secs()))
        {
            h.insert("preference-applied", v);
        }
        return Ok(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn a_wait_is_read_from_any_prefer_header_and_capped() {
        assert_eq!(preferred_wait(&headers(&[("prefer", "wait=5")])), Some(Duration::from_secs(5)));
        assert_eq!(preferred_wait(&headers(&[("prefer", "respond-async, Wait=\"3\"")])), Some(Duration::from_secs(3)));
        assert_eq!(
            preferred_wait(&headers(&[("prefer", "return=minimal"), ("prefer", "wait=7;x=1")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(preferred_wait(&headers(&[("prefer", "wait=3600")])), Some(MAX_WAIT));
        assert_eq!(preferred_wait(&headers(&[("prefer", "wait=soon")])), None);
        assert_eq!(preferred_wait(&headers(&[("prefer", "return=minimal")])), None);
        assert_eq!(preferred_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn if_none_match_names_the_tag_in_a_list_weakly_or_as_a_star() {
        let tag = etag_of(b"{}");
        let listed = format!("\"other\", W/{tag}");
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&listed).unwrap());
        assert!(none_match(&h, &tag));
        assert!(none_match(&headers(&[("if-none-match", "*")]), &tag));
        assert!(!none_match(&headers(&[("if-none-match", "\"other\"")]), &tag));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    /// A read that answers `{"n": N}` with N counting the reads.
    fn counter() -> (Arc<AtomicU32>, impl FnMut() -> std::future::Ready<ApiResult<serde_json::Value>>) {
        let n = Arc::new(AtomicU32::new(0));
        let reads = n.clone();
        (n, move || std::future::ready(Ok(serde_json::json!({"n": reads.load(Ordering::SeqCst)}))))
    }

    fn conditional(etag: &str, wait: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(etag).unwrap());
        if let Some(w) = wait {
            h.insert("prefer", HeaderValue::from_str(w).unwrap());
        }
        h
    }

    #[tokio::test]
    async fn a_read_answers_its_tag_and_304_when_the_client_has_it() {
        let changes = Changes::default();
        let (_, read) = counter();
        let r = read_or_wait(&HeaderMap::new(), &changes, Uuid::now_v7(), read).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let tag = r.headers()[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(tag, etag_of(br#"{"n":0}"#));
        let (_, read) = counter();
        let r = read_or_wait(&conditional(&tag, None), &changes, Uuid::now_v7(), read).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "no wait asked: at once");
        assert!(r.headers().get("preference-applied").is_none());
    }

    #[tokio::test]
    async fn a_waiting_read_is_answered_when_its_object_is_told_changed() {
        let changes = Arc::new(Changes::default());
        let id = Uuid::now_v7();
        let (n, read) = counter();
        let tag = etag_of(br#"{"n":0}"#);
        let teller = changes.clone();
        let change = tokio::spawn(async move {
            while teller.waited_on() == 0 {
                tokio::task::yield_now().await;
            }
            n.store(1, Ordering::SeqCst);
            teller.changed(id);
        });
        let started = std::time::Instant::now();
        let r = read_or_wait(&conditional(&tag, Some("wait=20")), &changes, id, read).await.unwrap();
        change.await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["preference-applied"], "wait=20");
        assert_ne!(r.headers()[header::ETAG].to_str().unwrap(), tag);
        assert!(started.elapsed() < MAX_WAIT, "answered on the change, not at the end of the wait");
        assert_eq!(changes.waited_on(), 0, "nothing is left watching");
    }

    #[tokio::test]
    async fn a_wait_with_no_change_ends_in_304() {
        let changes = Changes::default();
        let (_, read) = counter();
        let tag = etag_of(br#"{"n":0}"#);
        let r = read_or_wait(&conditional(&tag, Some("wait=1")), &changes, Uuid::now_v7(), read).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()["preference-applied"], "wait=1");
        assert_eq!(r.headers()[header::ETAG].to_str().unwrap(), tag);
    }

    #[tokio::test]
    async fn an_error_is_answered_before_any_wait() {
        let changes = Changes::default();
        let read = || std::future::ready(Err::<serde_json::Value, _>(ApiError::not_found("payment")));
        let r = read_or_wait(&conditional("\"x\"", Some("wait=20")), &changes, Uuid::now_v7(), read).await;
        assert_eq!(r.unwrap_err().status, StatusCode::NOT_FOUND);
    }
}
