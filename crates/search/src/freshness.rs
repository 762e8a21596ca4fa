//! Keeping a node's index fresh: rebuild from the database, then follow the outbox.

use crate::index::SearchIndex;
use innkeep_app::event::{Change, EventKind};
use innkeep_app::health::{MAX_LAG, PartHealth, Probe, Status};
use innkeep_app::store::RoomType;
use innkeep_app::{Store, StoreError};
use innkeep_core::PropertyId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Rebuild the index from every property and room type; returns the outbox position it
/// reflects (follow from there) and the number of properties indexed.
pub async fn rebuild(store: &dyn Store, index: &SearchIndex) -> Result<(i64, u64), String> {
    let from = store.last_event_seq().await.map_err(|e| e.to_string())?;
    let mut by_property: HashMap<PropertyId, Vec<RoomType>> = HashMap::new();
    let page = 20_000;
    let mut after = None;
    loop {
        let rts = store.all_room_types(after, page).await.map_err(|e| e.to_string())?;
        after = rts.last().map(|rt| rt.id);
        let n = rts.len();
        for rt in rts {
            by_property.entry(rt.property_id).or_default().push(rt);
        }
        if n < page as usize {
            break;
        }
    }
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let props = store.all_properties(after, page).await.map_err(|e| e.to_string())?;
        after = props.last().map(|p| p.id);
        let n = props.len();
        for p in props {
            let rts = by_property.remove(&p.id).unwrap_or_default();
            all.push((p, rts));
        }
        if n < page as usize {
            break;
        }
    }
    let count = index.rebuild(all).map_err(|e| e.to_string())?;
    Ok((from, count))
}

/// Outbox events read at once.
const BATCH: u32 = 1000;

/// Apply the catalogue events after `from` to the index; returns the new position.
pub async fn apply_events(store: &dyn Store, index: &SearchIndex, from: i64) -> Result<i64, StoreError> {
    let events = store.events_after(from, BATCH).await?;
    let Some(last) = events.last().map(|e| e.seq) else { return Ok(from) };
    // A bulk import (the demo loader) names no properties: read the whole catalogue again.
    if events.iter().any(|e| e.event.kind == EventKind::CatalogImported) {
        rebuild(store, index).await.map_err(StoreError::Database)?;
        return Ok(last);
    }
    let mut touched = HashSet::new();
    for e in &events {
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
            if let Err(e) = index.upsert(&p, &rts) {
                tracing::error!(property_id = %id, error = %e, "index update failed");
            }
        }
    }
    if !touched.is_empty()
        && let Err(e) = index.commit()
    {
        tracing::error!(error = %e, "index commit failed");
    }
    Ok(last)
}

/// How long the follower lets commits gather after one wakes it.
const LINGER: Duration = Duration::from_millis(10);

/// Follow the outbox from `from` until `stop`, woken by commits.
pub async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    mut from: i64,
    commits: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    index.set_position(from);
    loop {
        let woken = commits.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match apply_events(store.as_ref(), &index, from).await {
            Ok(next) if next != from => {
                let full = next - from >= i64::from(BATCH);
                from = next;
                index.set_position(from);
                // A batch that was not full read every event visible then: wait for the
                // next commit instead of reading again at once.
                if full {
                    continue;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "index could not read the outbox"),
        }
        let by_commit = tokio::select! {
            _ = &mut woken => true,
            _ = tokio::time::sleep(Duration::from_millis(500)) => false,
            _ = stop.wait_for(|s| *s) => return,
        };
        // Let a burst of commits gather into one read of the outbox.
        if by_commit {
            tokio::time::sleep(LINGER).await;
        }
    }
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
