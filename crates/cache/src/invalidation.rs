//! The outbox consumer that deletes what each event made stale.
//!
//! An in-process cache belongs to one node, so every node runs its own consumer (named
//! after the node) over every event. A shared cache (Redis) needs each event handled once
//! by any node, so the nodes share one consumer name and its position.

use async_trait::async_trait;
use innkeep_app::cache::{Cache, keys_for};
use innkeep_app::event::{Consumer, HandleError, StoredEvent};
use innkeep_app::{Store, StoreError};
use std::sync::Arc;

/// The consumer name the nodes share for a shared cache.
pub const SHARED_NAME: &str = "cache-invalidation";

/// The consumer name of one node's in-process cache.
pub fn node_name(node: &str) -> String {
    format!("{SHARED_NAME}@{node}")
}

/// This node's id when none is configured: the host name and the port it serves on.
pub fn default_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = if host.trim().is_empty() { "localhost" } else { host.trim() };
    format!("{host}:{port}")
}

/// Deletes the keys each outbox event makes stale.
pub struct CacheInvalidator {
    name: String,
    cache: Arc<dyn Cache>,
}

impl CacheInvalidator {
    /// A consumer named `name` over `cache`.
    pub fn new(name: impl Into<String>, cache: Arc<dyn Cache>) -> CacheInvalidator {
        CacheInvalidator { name: name.into(), cache }
    }

    /// Move the consumer to the outbox's head when nothing it could invalidate predates
    /// it: always for an in-process cache (empty at start), and on first start for a
    /// shared one. A shared consumer that ran before resumes where it stopped, so a change
    /// made while every node was down is still invalidated.
    pub async fn skip_backlog(&self, store: &dyn Store, always: bool) -> Result<(), StoreError> {
        if always || store.consumer_position(&self.name).await? == 0 {
            let head = store.last_event_seq().await?;
            store.set_consumer_position(&self.name, head).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for CacheInvalidator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError> {
        let keys = keys_for(&event.event);
        if keys.is_empty() {
            return Ok(());
        }
        Ok(self.cache.invalidate(&keys).await?)
    }

    /// Deleting a key twice is harmless, so no event needs a processed mark.
    fn idempotent(&self) -> bool {
        true
    }
}
