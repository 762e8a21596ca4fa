//! The NATS JetStream relay: publishes outbox events in order, each with its event id as
//! the `Nats-Msg-Id`, and moves its position only after JetStream acknowledged them. After
//! a crash it resumes from its last position; JetStream's duplicate window drops what was
//! published twice.

use async_nats::jetstream::{self, stream};
use innkeep_app::Store;
use innkeep_app::follow::{FollowOptions, Follower, StepError, follow};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The relay's name in the consumer positions.
pub const RELAY: &str = "relay.nats";

/// Why the relay failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("nats: {0}")]
    Nats(String),
    #[error("store: {0}")]
    Store(#[from] innkeep_app::StoreError),
}

fn nats<E: std::fmt::Display>(e: E) -> RelayError {
    RelayError::Nats(e.to_string())
}

/// Where to publish.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
}

/// A connected relay.
pub struct NatsRelay {
    js: jetstream::Context,
    opts: NatsOptions,
}

impl NatsRelay {
    /// Connect and make sure the stream exists (subjects `PREFIX.>`, 1 h duplicate window).
    pub async fn connect(opts: NatsOptions) -> Result<NatsRelay, RelayError> {
        let client = async_nats::connect(&opts.url).await.map_err(nats)?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: opts.stream.clone(),
            subjects: vec![format!("{}.>", opts.subject_prefix)],
            duplicate_window: Duration::from_secs(3600),
            ..Default::default()
        })
        .await
        .map_err(nats)?;
        Ok(NatsRelay { js, opts })
    }

    /// The JetStream context (for consumers and tests).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Publish the next batch after the relay's position; returns how many were published.
    pub async fn relay_once(&self, store: &dyn Store, batch: u32) -> Result<usize, RelayError> {
        let from = store.consumer_position(RELAY).await?;
        let events = store.events_after(from, batch).await?;
        let mut acks = Vec::with_capacity(events.len());
        for e in &events {
            let subject = format!("{}.{}", self.opts.subject_prefix, e.event.kind);
            let payload = serde_json::to_vec(&e.event).map_err(nats)?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", e.event.id.to_string().as_str());
            acks.push(self.js.publish_with_headers(subject, headers, payload.into()).await.map_err(nats)?);
        }
        for ack in acks {
            ack.await.map_err(nats)?;
        }
        if let Some(last) = events.last() {
            store.set_consumer_position(RELAY, last.seq).await?;
            let newest = store.last_event_seq().await?;
            metrics::gauge!("innkeep_consumer_lag_events", "consumer" => RELAY).set((newest - last.seq) as f64);
        }
        Ok(events.len())
    }

    /// Relay until `stop`, woken by commits.
    pub async fn run(self, store: Arc<dyn Store>, commits: Arc<Notify>, stop: watch::Receiver<bool>) {
        let opts =
            FollowOptions { batch: RELAY_BATCH as usize, poll: Duration::from_millis(500), linger: Duration::ZERO };
        follow(RelayFollower { relay: self, store }, commits, opts, stop).await;
    }
}

/// Events the relay publishes at once.
const RELAY_BATCH: u32 = 500;

/// The relay as an outbox follower.
struct RelayFollower {
    relay: NatsRelay,
    store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl Follower for RelayFollower {
    fn name(&self) -> &str {
        RELAY
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        Ok(self.relay.relay_once(self.store.as_ref(), RELAY_BATCH).await?)
    }
}
