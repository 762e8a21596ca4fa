//! Client events into NATS JetStream: each accepted event is one message on
//! `PREFIX.<type>` (stream `INNKEEP_CLIENT_EVENTS` by default) with the event id as its
//! `Nats-Msg-Id`, so a batch sent again within the duplicate window is stored once. A
//! batch's messages are published back to back and their acks awaited together: `append`
//! returns only once JetStream has stored every one, so a 202 means stored.
//!
//! The analytics lake takes them back from the stream by sequence ([`StreamSource`]).

use async_nats::Subject;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use innkeep_app::ingest::{ClientChunk, ClientEventSink, ClientSource, EncodedBatch, KINDS, SinkError};
use std::time::Duration;

/// Where client events go on NATS.
#[derive(Debug, Clone)]
pub struct ClientStreamOptions {
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
    /// How long JetStream keeps client events.
    pub max_age: Duration,
}

/// Acks a connection may await at once.
pub const MAX_ACKS_IN_FLIGHT: usize = 65_536;
/// Batches published at once: each takes up to `MAX_BATCH` ack permits while it publishes
/// and holds them until it awaits its acks, so batches that together wanted more permits than
/// exist would wait on each other for ever.
const BATCHES_IN_FLIGHT: usize = MAX_ACKS_IN_FLIGHT / innkeep_app::ingest::MAX_BATCH / 2;

/// A JetStream context able to await `MAX_ACKS_IN_FLIGHT` acks at once.
pub fn context(client: async_nats::Client) -> jetstream::Context {
    jetstream::context::ContextBuilder::new().max_ack_inflight(MAX_ACKS_IN_FLIGHT).build(client)
}

/// A connected JetStream sink for client events.
pub struct ClientStream {
    js: jetstream::Context,
    subjects: Vec<(&'static str, Subject)>,
    batches: tokio::sync::Semaphore,
}

impl ClientStream {
    /// Connect and make sure the stream exists (subjects `PREFIX.>`, 2 min duplicate window).
    pub async fn connect(opts: &ClientStreamOptions) -> Result<ClientStream, String> {
        let client = async_nats::connect(&opts.url).await.map_err(|e| e.to_string())?;
        Self::with_client(client, opts).await
    }

    /// Use an existing connection.
    pub async fn with_client(client: async_nats::Client, opts: &ClientStreamOptions) -> Result<ClientStream, String> {
        let js = context(client);
        js.get_or_create_stream(stream::Config {
            name: opts.stream.clone(),
            subjects: vec![format!("{}.>", opts.subject_prefix)],
            duplicate_window: Duration::from_secs(120),
            max_age: opts.max_age,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        let subjects = KINDS.iter().map(|k| (*k, Subject::from(format!("{}.{k}", opts.subject_prefix)))).collect();
        Ok(ClientStream { js, subjects, batches: tokio::sync::Semaphore::new(BATCHES_IN_FLIGHT) })
    }

    /// The JetStream context (for tests and the benchmark).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    fn subject(&self, kind: &str) -> Subject {
        self.subjects
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| self.subjects[0].1.clone())
    }
}

/// Publish every event of a batch on `subject(kind)` and wait for all the acks. Callers
/// bound how many batches run at once (see `BATCHES_IN_FLIGHT`).
pub async fn publish_batch(
    js: &jetstream::Context,
    subject: impl Fn(&str) -> Subject,
    batch: EncodedBatch,
) -> Result<(), String> {
    let payload = Bytes::from(batch.ndjson);
    let mut acks = Vec::with_capacity(batch.items.len());
    for item in &batch.items {
        let message = PublishMessage::build().payload(payload.slice(item.line.clone())).message_id(item.id.to_string());
        acks.push(js.send_publish(subject(item.kind), message).await.map_err(|e| e.to_string())?);
    }
    for ack in acks {
        ack.await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[async_trait]
impl ClientEventSink for ClientStream {
    async fn append(&self, batch: EncodedBatch) -> Result<(), SinkError> {
        let _turn = self.batches.acquire().await.map_err(|e| SinkError::Failed(e.to_string()))?;
        publish_batch(&self.js, |k| self.subject(k), batch).await.map_err(SinkError::Failed)
    }
}

/// Messages the lake takes from the stream at once, at most.
pub const CHUNK: u64 = 100_000;

/// How long reading the stream may wait for the next message before it takes what it has.
const IDLE: Duration = Duration::from_secs(10);

/// The client events of the JetStream stream as the analytics lake takes them: a position is
/// a stream sequence, a chunk the messages after it (at most [`CHUNK`]), read by an ordered
/// consumer of the server's own (nothing to acknowledge, nothing left behind).
pub struct StreamSource {
    js: jetstream::Context,
    stream: String,
}

impl StreamSource {
    pub fn new(js: jetstream::Context, stream: impl Into<String>) -> Self {
        StreamSource { js, stream: stream.into() }
    }

    /// Connect to the NATS server at `url`.
    pub async fn connect(url: &str, stream: impl Into<String>) -> Result<StreamSource, String> {
        let client = async_nats::connect(url).await.map_err(|e| e.to_string())?;
        Ok(StreamSource::new(context(client), stream))
    }
}

#[async_trait]
impl ClientSource for StreamSource {
    fn key(&self) -> &'static str {
        innkeep_app::ingest::STREAM_SOURCE
    }

    async fn next(&self, position: i64) -> std::io::Result<Option<ClientChunk>> {
        let io = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
        let mut stream = match self.js.get_stream(&self.stream).await {
            Ok(s) => s,
            // No node has published a client event yet.
            Err(e)
                if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(io(&e)),
        };
        let state = stream.info().await.map_err(|e| io(&e))?.state.clone();
        let after = position.max(0) as u64;
        if state.messages == 0 || state.last_sequence <= after {
            return Ok(None);
        }
        // Messages older than the stream keeps are gone: start at the oldest kept.
        let start = (after + 1).max(state.first_sequence);
        let last = state.last_sequence.min(start + CHUNK - 1);
        let config = jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence: start },
            ..Default::default()
        };
        let consumer = stream.create_consumer(config).await.map_err(|e| io(&e))?;
        let mut messages = consumer.messages().await.map_err(|e| io(&e))?;
        let (mut ndjson, mut end) = (Vec::new(), None);
        while let Ok(Some(m)) = tokio::time::timeout(IDLE, messages.next()).await {
            let m = m.map_err(|e| io(&e))?;
            let seq = m.info().map_err(|e| io(&e))?.stream_sequence;
            if seq > last {
                // Whatever of the chunk was not delivered is not in the stream any more.
                end = Some(last);
                break;
            }
            // A message is one event's line (the lake writer skips one that does not decode).
            ndjson.extend_from_slice(m.payload.strip_suffix(b"\n").unwrap_or(&m.payload));
            ndjson.push(b'\n');
            end = Some(seq);
            if seq == last {
                break;
            }
        }
        // Nothing came in time: try again on the next round.
        let Some(end) = end else { return Ok(None) };
        Ok(Some(ClientChunk { end: end as i64, tag: format!("js-{:012}", after + 1), ndjson }))
    }
}
