//! Keeping a node's index fresh: rebuild from the database, then follow the outbox.

use crate::error::SearchError;
use crate::index::SearchIndex;
use innkeep_app::Store;
use innkeep_app::event::{Change, EventKind};
use innkeep_app::follow::{FollowOptions, Follower, StepError};
use innkeep_app::health::{MAX_LAG, PartHealth, Probe, Status};
use innkeep_app::store::RoomType;
use innkeep_core::PropertyId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Rebuild the index from every property and room type; returns the outbox position it
/// reflects (follow from there) and the number of properties indexed.
pub async fn rebuild(store: &dyn Store, index: &SearchIndex) -> Result<(i64, u64), SearchError> {
    let from = store.last_event_seq().await?;
    let (properties, room_types) = innkeep_app::store::catalogue(store).await?;
    let mut by_property: HashMap<PropertyId, Vec<RoomType>> = HashMap::new();
    for rt in room_types {
        by_property.entry(rt.property_id).or_default().push(rt);
    }
    let all: Vec<_> = properties
        .into_iter()
        .map(|p| {
            let rts = by_property.remove(&p.id).unwrap_or_default();
            (p, rts)
        })
        .collect();
    let count = index.rebuild(all)?;
    Ok((from, count))
}

/// Outbox events read at once.
const BATCH: u32 = 1000;

/// Apply the catalogue events after `from` to the index; returns the new position. On an
/// error the position stays, so the same events are applied again.
pub async fn apply_events(store: &dyn Store, index: &SearchIndex, from: i64) -> Result<i64, SearchError> {
    let events = store.events_after(from, BATCH).await?;
    let Some(last) = events.last().map(|e| e.seq) else { return Ok(from) };
    // A bulk import (the demo loader) names no properties: read the whole catalogue again.
    if events.iter().any(|e| e.event.kind == EventKind::CatalogImported) {
        rebuild(store, index).await?;
        return Ok(last);
    }
    let mut touched = HashSet::new();
    // Only catalogue events are decoded (bookings, the busiest kind, are not the index's).
    for e in events.iter().filter(|e| e.event.is_catalog_change()) {
        let property = match e.event.change() {
            Ok(Change::PropertyCreated(p) | Change::PropertyUpdated(p)) => Some(p.id),
            Ok(Change::RoomTypeCreated(rt) | Change::RoomTypeUpdated(rt)) => Some(rt.property_id),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(event_id = %e.event.id, kind = %e.event.kind, error = %err, "undecodable event payload");
                None
            }
        };
        touched.extend(property);
    }
    for id in &touched {
        if let Some(p) = store.property(*id).await? {
            let rts = store.room_types_of(*id).await?;
            index.upsert(&p, &rts)?;
        }
    }
    if !touched.is_empty() {
        index.commit()?;
    }
    Ok(last)
}

/// How long the follower lets commits gather after one wakes it.
const LINGER: Duration = Duration::from_millis(10);

/// A node's index as an outbox follower: its position is the index's own (kept in
/// memory; a node rebuilds its index when it starts).
struct IndexFollower {
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    from: i64,
}

#[async_trait::async_trait]
impl Follower for IndexFollower {
    fn name(&self) -> &str {
        "search-index"
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        let next = apply_events(self.store.as_ref(), &self.index, self.from).await?;
        let moved = (next - self.from) as usize;
        self.from = next;
        self.index.set_position(next);
        Ok(moved)
    }
}

/// Follow the outbox from `from` until `stop`, woken by commits.
pub async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    from: i64,
    commits: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    index.set_position(from);
    let opts = FollowOptions { batch: BATCH as usize, poll: Duration::from_millis(500), linger: LINGER };
    innkeep_app::follow::follow(IndexFollower { store, index, from }, commits, opts, stop).await;
}

/// How far the node's search index is behind the outbox (a probe for the operator).
pub struct FreshnessProbe {
    pub index: Arc<SearchIndex>,
    pub store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl Probe for FreshnessProbe {
    async fn check(&self) -> Vec<PartHealth> {
        let part = "search index (this node)";
        let at = self.index.position();
        vec![match self.store.last_event_seq().await {
            Err(e) => PartHealth::new(part, Status::Down, e.to_string()),
            Ok(_) if at < 0 => PartHealth::new(part, Status::Down, "not built yet"),
            Ok(newest) => {
                let behind = (newest - at).max(0);
                let status = if behind > MAX_LAG { Status::Warn } else { Status::Ok };
                PartHealth::new(
                    part,
                    status,
                    format!("{} documents; {behind} outbox events behind", self.index.num_docs()),
                )
            }
        }]
    }
}
