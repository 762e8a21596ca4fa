//! Cache backends behind `innkeep_app::cache::Cache`, and the outbox consumer that
//! invalidates them.
//!
//! - `memory`: the in-process default, a bounded LRU per shard; each node has its own, so
//!   each node follows the outbox with its own invalidation consumer.
//! - `redis`: one cache shared by every node (`cache.url = "redis://..."`), invalidated by
//!   one consumer the nodes share.

pub mod invalidation;
pub mod limit;
pub mod memory;
pub mod redis;

pub use invalidation::CacheInvalidator;
pub use memory::MemoryCache;
pub use redis::RedisCache;

use innkeep_app::cache::{Cache, CacheError, NoCache};
use std::sync::Arc;

/// The node's attempt limits: shared by every node through Redis when the cache is on
/// Redis, else in this node's memory.
pub async fn open_limiter(options: &CacheOptions) -> Result<Arc<dyn innkeep_app::limit::Limiter>, CacheError> {
    if options.url.is_empty() {
        return Ok(Arc::new(innkeep_app::limit::MemoryLimiter::default()));
    }
    Ok(Arc::new(limit::RedisLimiter::connect(&options.url, &options.key_prefix).await?))
}

/// How to build the node's cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Empty: in process. `redis://...`: Redis.
    pub url: String,
    /// Prefix of every Redis key, so deployments (and tests) sharing a server do not collide.
    pub key_prefix: String,
    /// Most entries the in-process cache holds.
    pub max_entries: usize,
    /// Zero: no cache at all.
    pub ttl_secs: u64,
}

/// Whether a configured cache is shared by the nodes (and so needs one shared invalidation).
pub fn is_shared(options: &CacheOptions) -> bool {
    options.ttl_secs > 0 && !options.url.is_empty()
}

/// Open the configured cache.
pub async fn open(options: &CacheOptions) -> Result<Arc<dyn Cache>, CacheError> {
    if options.ttl_secs == 0 {
        return Ok(Arc::new(NoCache));
    }
    if options.url.is_empty() {
        return Ok(Arc::new(MemoryCache::new(options.max_entries)));
    }
    if options.url.starts_with("redis://") || options.url.starts_with("rediss://") {
        return Ok(Arc::new(RedisCache::connect(&options.url, &options.key_prefix).await?));
    }
    Err(CacheError::Backend(format!("cache.url must be empty or redis://..., not {:?}", options.url)))
}
