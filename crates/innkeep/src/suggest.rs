//! Suggestions on a node: the recommendation model rebuilt in the background when bookings
//! change, and the trending counts fed from the outbox (holds) and from client events
//! (views, searches) as they are accepted.

use async_trait::async_trait;
use innkeep_app::Ports;
use innkeep_app::follow::{Follower, StepError};
use innkeep_app::ingest::{ClientEvent, ClientEventSink, EncodedBatch, SinkError};
use innkeep_app::recommend::Recommender;
use innkeep_app::trending::Trending;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How far back in the outbox a starting node counts holds (about a day of a busy site).
const TRENDING_BACKLOG: i64 = 20_000;

/// Rebuild the model now and then every `every` while the outbox has moved, until `stop`.
pub async fn rebuild_every(ports: Ports, model: Arc<Recommender>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut built = None;
    loop {
        match ports.store.last_event_seq().await {
            Ok(head) if built != Some(head) => match model.rebuild(&ports, ports.clock.now()).await {
                Ok(()) => built = Some(head),
                Err(e) => tracing::warn!(error = %e, "rebuilding the recommendation model failed"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the outbox position failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Counts holds from the outbox into the trending windows.
pub struct TrendingFeed {
    pub ports: Ports,
    pub trending: Arc<Trending>,
    pub model: Arc<Recommender>,
    position: Option<i64>,
}

impl TrendingFeed {
    pub fn new(ports: Ports, trending: Arc<Trending>, model: Arc<Recommender>) -> Self {
        TrendingFeed { ports, trending, model, position: None }
    }
}

#[async_trait]
impl Follower for TrendingFeed {
    fn name(&self) -> &str {
        "trending"
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        let position = match self.position {
            Some(p) => p,
            None => (self.ports.store.last_event_seq().await? - TRENDING_BACKLOG).max(0),
        };
        let events = self.ports.store.events_after(position, 5_000).await?;
        let model = self.model.model();
        // Properties newer than the model: their cities from the store, one read a batch.
        #[derive(serde::Deserialize)]
        struct Held {
            property_id: innkeep_core::PropertyId,
        }
        let unknown: Vec<innkeep_core::PropertyId> = events
            .iter()
            .filter(|e| e.event.kind == innkeep_app::event::EventKind::BookingHeld)
            .filter_map(|e| serde_json::from_value::<Held>(e.event.payload.clone()).ok())
            .map(|h| h.property_id)
            .filter(|p| model.city_of(*p).is_none())
            .collect();
        let mut cities = std::collections::HashMap::new();
        if !unknown.is_empty() {
            for p in self.ports.store.properties_by_ids(&unknown).await? {
                cities.insert(p.id, p.draft.address.city);
            }
        }
        for e in &events {
            self.trending
                .observe_event(e, |p| model.city_of(p).map(str::to_string).or_else(|| cities.get(&p).cloned()));
        }
        self.position = Some(events.last().map(|e| e.seq).unwrap_or(position));
        Ok(events.len())
    }
}

/// A client-event sink that counts views and searches into the trending windows once the
/// events are stored.
pub struct TrendingSink {
    pub inner: Arc<dyn ClientEventSink>,
    pub trending: Arc<Trending>,
    pub model: Arc<Recommender>,
}

#[async_trait]
impl ClientEventSink for TrendingSink {
    async fn append(&self, batch: EncodedBatch) -> Result<(), SinkError> {
        let looks: Vec<ClientEvent> = batch
            .items
            .iter()
            .filter(|i| matches!(i.kind, "view" | "search"))
            .filter_map(|i| serde_json::from_slice(batch.ndjson.get(i.line.clone())?).ok())
            .collect();
        self.inner.append(batch).await?;
        let model = self.model.model();
        for e in &looks {
            self.trending.observe_client(
                e,
                |p| model.city_of(p).map(str::to_string),
                |t| model.city_named(t).map(str::to_string),
            );
        }
        Ok(())
    }
}
