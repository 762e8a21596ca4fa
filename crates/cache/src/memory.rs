//! The in-process cache: shards of a bounded LRU map, each with one generation that every
//! invalidation in the shard moves on. A fill is refused if its shard saw an invalidation
//! since the miss, which may refuse a fill of an unrelated key now and then (it is only a
//! missed fill) but never lets an old value back in, even after an eviction.

use async_trait::async_trait;
use innkeep_app::cache::{Cache, CacheError, Generation, Lookup};
use lru::LruCache;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 64;

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

struct Shard {
    map: LruCache<String, Entry>,
    generation: u64,
}

/// The in-process cache.
pub struct MemoryCache {
    shards: Vec<Mutex<Shard>>,
    hasher: std::collections::hash_map::RandomState,
}

impl MemoryCache {
    /// A cache of at most about `max_entries` values (split evenly over the shards).
    pub fn new(max_entries: usize) -> MemoryCache {
        let per_shard = NonZeroUsize::new(max_entries.div_ceil(SHARDS)).unwrap_or(NonZeroUsize::MIN);
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard { map: LruCache::new(per_shard), generation: 0 })).collect();
        MemoryCache { shards, hasher: Default::default() }
    }

    fn shard(&self, key: &str) -> Result<std::sync::MutexGuard<'_, Shard>, CacheError> {
        let i = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        self.shards[i].lock().map_err(|_| CacheError::Backend("a cache shard lock is poisoned".into()))
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        let mut shard = self.shard(key)?;
        let now = Instant::now();
        match shard.map.get(key) {
            Some(e) if e.expires > now => Ok(Lookup::Hit(e.value.clone())),
            Some(_) => {
                shard.map.pop(key);
                Ok(Lookup::Miss(Generation(shard.generation)))
            }
            None => Ok(Lookup::Miss(Generation(shard.generation))),
        }
    }

    async fn put(&self, key: &str, value: &[u8], since: Generation, ttl: Duration) -> Result<bool, CacheError> {
        let mut shard = self.shard(key)?;
        if shard.generation != since.0 {
            return Ok(false);
        }
        let expires = Instant::now() + ttl;
        shard.map.put(key.to_string(), Entry { value: value.to_vec(), expires });
        Ok(true)
    }

    async fn invalidate(&self, keys: &[String]) -> Result<(), CacheError> {
        for key in keys {
            let mut shard = self.shard(key)?;
            shard.map.pop(key.as_str());
            shard.generation += 1;
        }
        Ok(())
    }
}
