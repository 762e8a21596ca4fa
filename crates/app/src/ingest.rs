//! Client events (searches, views, clicks, funnel steps) streamed in by web and mobile
//! clients: validated item by item, the good ones encoded once (one NDJSON line each) and
//! handed to the client event sink (the embedded log or a JetStream stream).
//!
//! The batch is never turned into a `serde_json::Value` tree: each item is read with
//! borrowed strings and its `data` kept as the raw JSON text, so a batch of 1,000 events costs
//! a handful of allocations, not tens of thousands.

use crate::Actor;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;
use uuid::Uuid;

/// Most items in one batch.
pub const MAX_BATCH: usize = 1000;
/// Largest `data` object of one event, in bytes of compact JSON.
pub const MAX_DATA: usize = 4096;

/// The kinds of client events.
pub const KINDS: [&str; 4] = ["search", "view", "click", "funnel"];

/// A client event as received (strings borrowed from the request body where possible).
#[derive(Debug, Deserialize)]
pub struct RawClientEvent<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub client_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub occurred_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub property_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// A valid client event, as stored (one NDJSON line of the log, one JetStream message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientEvent {
    /// The client's id for the event (so a retried batch can be recognised), or one given
    /// on arrival.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub client_id: String,
    pub user_id: Option<innkeep_core::UserId>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub property_id: Option<innkeep_core::PropertyId>,
    pub data: serde_json::Value,
}

/// [`ClientSource::key`] of the embedded log's closed segments.
pub const LOG_SOURCE: &str = "client";
/// [`ClientSource::key`] of the JetStream stream.
pub const STREAM_SOURCE: &str = "client-jetstream";

/// Where the analytics lake takes client events from, in order: the closed segments of the
/// embedded log, or the JetStream stream.
#[async_trait::async_trait]
pub trait ClientSource: Send + Sync {
    /// The name of the lake's position in this source (`client`, `client-jetstream`):
    /// positions of different sources do not mean the same.
    fn key(&self) -> &'static str;
    /// The next stored events after `position` (-1 before the first), or `None` while there
    /// are none.
    async fn next(&self, position: i64) -> std::io::Result<Option<ClientChunk>>;
}

/// Client events from a [`ClientSource`], as stored: one [`ClientEvent`] as JSON a line. The
/// reader decodes them (the lake writer on several threads, borrowing from the lines).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientChunk {
    /// The source's position after these events.
    pub end: i64,
    /// Names the chunk's files in the lake (`client-<tag>.parquet`): the same for every chunk
    /// read after the same position, and ordered as the positions are.
    pub tag: String,
    /// The events, a line each (newline-separated; empty lines are skipped).
    pub ndjson: Vec<u8>,
}

impl ClientChunk {
    /// A chunk of decoded events (for sources that hold them so, and tests).
    pub fn of_events(end: i64, tag: String, events: &[ClientEvent]) -> Result<ClientChunk, serde_json::Error> {
        Ok(ClientChunk { end, tag, ndjson: EncodedBatch::from_events(events)?.ndjson })
    }

    /// Its lines, without their newlines.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty())
    }
}

/// One accepted event inside an [`EncodedBatch`].
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedItem {
    /// One of [`KINDS`].
    pub kind: &'static str,
    pub id: Uuid,
    /// Where its line is in `EncodedBatch::ndjson`, without the newline.
    pub line: Range<usize>,
}

/// The accepted events of a batch, encoded once: NDJSON, one [`ClientEvent`] per line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncodedBatch {
    pub ndjson: Vec<u8>,
    pub items: Vec<EncodedItem>,
}

impl EncodedBatch {
    /// Encode stored events (for tools and tests; ingestion encodes as it validates).
    pub fn from_events(events: &[ClientEvent]) -> Result<EncodedBatch, serde_json::Error> {
        let mut batch = EncodedBatch::default();
        for e in events {
            let start = batch.ndjson.len();
            serde_json::to_writer(&mut batch.ndjson, e)?;
            let kind = KINDS.iter().find(|k| **k == e.kind).copied().unwrap_or("view");
            batch.items.push(EncodedItem { kind, id: e.id, line: start..batch.ndjson.len() });
            batch.ndjson.push(b'\n');
        }
        Ok(batch)
    }

    /// The line of item `i` (without its newline).
    pub fn line(&self, i: usize) -> &[u8] {
        &self.ndjson[self.items[i].line.clone()]
    }
}

/// Where accepted client events go: the embedded log or a JetStream stream.
#[async_trait]
pub trait ClientEventSink: Send + Sync + 'static {
    /// Store a batch; `Ok` means every event of it is stored (a 202 is only answered then).
    async fn append(&self, batch: EncodedBatch) -> Result<(), SinkError>;
}

/// Why a batch was not stored (none of it counts as stored).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// No space left where the events are kept: retrying soon will not help.
    #[error("no space left for client events: {0}")]
    Full(String),
    /// The sink failed otherwise (I/O, the broker unreachable or not acknowledging).
    #[error("{0}")]
    Failed(String),
}

impl From<std::io::Error> for SinkError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            SinkError::Full(e.to_string())
        } else {
            SinkError::Failed(e.to_string())
        }
    }
}

/// Why one item was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingested {
    pub accepted: usize,
    pub rejected: Vec<Rejected>,
}

/// Why a whole batch was refused or not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("a batch holds 1 to {MAX_BATCH} events")]
    BatchSize,
    #[error("the client event sink failed: {0}")]
    Sink(#[from] SinkError),
}

/// What stays the same for every item of a batch.
struct BatchContext {
    user_id: Option<String>,
    received_at: String,
    millis: u64,
    earliest: Timestamp,
    latest: Timestamp,
}

/// A UUIDv7 for an event that came without an id, its random bits from the thread's
/// generator (`Uuid::now_v7` asks the kernel for each one, a system call per event).
pub fn event_id(unix_millis: u64) -> Uuid {
    use rand::Rng;
    let mut random = [0u8; 10];
    rand::rng().fill(&mut random);
    uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid()
}

fn client_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// Validate one item and append its line to `out`; on refusal `out` is left as it was.
fn encode(raw: &str, ctx: &BatchContext, out: &mut Vec<u8>) -> Result<EncodedItem, String> {
    let raw: RawClientEvent<'_> = serde_json::from_str(raw).map_err(|e| format!("not an event object: {e}"))?;
    let kind = raw.kind.ok_or("type is required")?;
    let kind = KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or_else(|| format!("type must be one of search, view, click, funnel, not {kind:?}"))?;
    let client_id = raw.client_id.ok_or("client_id is required")?;
    if !client_id_ok(&client_id) {
        return Err("client_id must be 1 to 64 characters of A-Z a-z 0-9 - _".into());
    }
    let occurred_at: Timestamp = raw
        .occurred_at
        .ok_or("occurred_at is required")?
        .parse()
        .map_err(|_| "occurred_at must be an RFC 3339 instant".to_string())?;
    if occurred_at > ctx.latest {
        return Err("occurred_at is in the future".into());
    }
    if occurred_at < ctx.earliest {
        return Err("occurred_at is more than 7 days ago".into());
    }
    let id = match raw.id {
        Some(id) => id.parse::<Uuid>().map_err(|_| "id must be a UUID".to_string())?,
        None => event_id(ctx.millis),
    };
    let property_id =
        raw.property_id.map(|p| p.parse::<Uuid>().map_err(|_| "property_id must be a UUID".to_string())).transpose()?;
    // `data`: absent or null, or an object of at most MAX_DATA bytes as compact JSON, kept
    // as sent unless it spans lines (which NDJSON cannot hold) or needs compacting to fit.
    let data: Cow<'_, str> = match raw.data {
        None => Cow::Borrowed("null"),
        Some(d) => {
            let text = d.get();
            if !text.starts_with('{') {
                return Err("data must be an object".into());
            }
            if text.len() <= MAX_DATA && !text.contains(['\n', '\r']) {
                Cow::Borrowed(text)
            } else {
                let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("data: {e}"))?;
                let compact = serde_json::to_string(&v).map_err(|e| format!("data: {e}"))?;
                if compact.len() > MAX_DATA {
                    return Err("data is larger than 4 KiB".into());
                }
                Cow::Owned(compact)
            }
        }
    };
    let start = out.len();
    // Every string written unescaped here is known to need no escaping: the kind is one of
    // KINDS, the client id is [A-Za-z0-9_-], ids are UUIDs and instants are RFC 3339.
    let written = (|| -> std::io::Result<()> {
        write!(out, r#"{{"id":"{id}","type":"{kind}","client_id":"{client_id}","user_id":"#)?;
        match &ctx.user_id {
            Some(u) => write!(out, r#""{u}""#)?,
            None => out.extend_from_slice(b"null"),
        }
        write!(out, r#","occurred_at":"{occurred_at}","received_at":"{}","property_id":"#, ctx.received_at)?;
        match property_id {
            Some(p) => write!(out, r#""{p}""#)?,
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(br#","data":"#);
        out.extend_from_slice(data.as_bytes());
        out.push(b'}');
        Ok(())
    })();
    if let Err(e) = written {
        out.truncate(start);
        return Err(format!("could not encode the event: {e}"));
    }
    let line = start..out.len();
    out.push(b'\n');
    Ok(EncodedItem { kind, id, line })
}

/// Validate a batch item by item (each item the JSON text of one event) and store the
/// good ones in the sink, all in one append.
#[tracing::instrument(skip_all)]
pub async fn ingest(
    sink: &dyn ClientEventSink,
    actor: Option<&Actor>,
    items: &[&str],
    now: Timestamp,
) -> Result<Ingested, IngestError> {
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(IngestError::BatchSize);
    }
    let ctx = BatchContext {
        user_id: actor.map(|a| a.user_id.0.to_string()),
        received_at: now.to_string(),
        millis: u64::try_from(now.as_millisecond()).unwrap_or(0),
        latest: now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now),
        earliest: now.checked_sub(SignedDuration::from_hours(24 * 7)).unwrap_or(now),
    };
    let mut batch = EncodedBatch {
        ndjson: Vec::with_capacity(items.iter().map(|i| i.len() + 160).sum()),
        items: Vec::with_capacity(items.len()),
    };
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match encode(item, &ctx, &mut batch.ndjson) {
            Ok(e) => batch.items.push(e),
            Err(reason) => rejected.push(Rejected { index, reason }),
        }
    }
    let accepted = batch.items.len();
    if accepted > 0 {
        sink.append(batch).await?;
    }
    Ok(Ingested { accepted, rejected })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<EncodedBatch>>);

    #[async_trait]
    impl ClientEventSink for Collect {
        async fn append(&self, batch: EncodedBatch) -> Result<(), SinkError> {
            self.0.lock().map_err(|e| SinkError::Failed(e.to_string()))?.push(batch);
            Ok(())
        }
    }

    fn now() -> Timestamp {
        "2027-01-04T10:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn every_line_reads_back_as_the_event_that_was_sent() {
        let sink = Collect::default();
        let items = [
            r#"{"id":"0190a0b0-0000-7000-8000-000000000001","type":"search","client_id":"web-1","occurred_at":"2027-01-04T10:59:00+01:00","data":{"q":"lis\"bon\u00e9","n":[1, 2]}}"#,
            r#"{"type":"view","client_id":"app_2","occurred_at":"2027-01-04T09:00:00Z","property_id":"0190a0b0-0000-7000-8000-0000000000aa","data":null}"#,
            "{\"type\":\"click\",\"client_id\":\"c\",\"occurred_at\":\"2027-01-04T09:00:00Z\",\"data\":{\n\"a\": 1\n}}",
            r#"{"type":"click","client_id":"c","occurred_at":"2027-01-04T09:00:00Z","data":[1]}"#,
            r#"{"type":"click","client_id":"c d","occurred_at":"2027-01-04T09:00:00Z"}"#,
            r#"{"type":"click","client_id":"c","occurred_at":"2027-01-04T09:00:00Z","id":"nope"}"#,
            r#""text""#,
        ];
        let r = ingest(&sink, None, &items, now()).await.unwrap();
        assert_eq!(r.accepted, 3);
        assert_eq!(r.rejected.iter().map(|r| r.index).collect::<Vec<_>>(), vec![3, 4, 5, 6]);
        let batches = sink.0.lock().unwrap().clone();
        let b = &batches[0];
        let text = String::from_utf8(b.ndjson.clone()).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let events: Vec<ClientEvent> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events[0].id.to_string(), "0190a0b0-0000-7000-8000-000000000001");
        assert_eq!(events[0].occurred_at, "2027-01-04T09:59:00Z".parse().unwrap());
        assert_eq!(events[0].data["q"], "lis\"boné");
        assert_eq!(events[0].data["n"], serde_json::json!([1, 2]));
        assert_eq!(
            events[1].property_id.map(|p| p.0.to_string()).as_deref(),
            Some("0190a0b0-0000-7000-8000-0000000000aa")
        );
        assert_eq!(events[1].data, serde_json::Value::Null);
        assert_eq!(events[2].data, serde_json::json!({"a": 1}));
        assert_eq!(events[1].received_at, now());
        for (i, e) in events.iter().enumerate() {
            assert_eq!(b.items[i].id, e.id);
            assert_eq!(b.items[i].kind, e.kind);
            assert_eq!(&serde_json::from_slice::<ClientEvent>(b.line(i)).unwrap(), e);
        }
    }

    #[tokio::test]
    async fn oversized_data_is_refused_and_whitespace_does_not_count() {
        let sink = Collect::default();
        let big = format!(
            r#"{{"type":"view","client_id":"c","occurred_at":"2027-01-04T09:00:00Z","data":{{"s":"{}"}}}}"#,
            "x".repeat(5000)
        );
        let padded = format!(
            r#"{{"type":"view","client_id":"c","occurred_at":"2027-01-04T09:00:00Z","data":{{"s":"{}"{}}}}}"#,
            "x".repeat(4000),
            " ".repeat(500)
        );
        let r = ingest(&sink, None, &[&big, &padded], now()).await.unwrap();
        assert_eq!(r.accepted, 1);
        assert_eq!(r.rejected.len(), 1);
        assert!(r.rejected[0].reason.contains("4 KiB"));
    }
}
