//! The Redis cache, shared by every node. Each key `K` has a generation key `K#gen` that an
//! invalidation increments; a fill is a script that sets `K` only if `K#gen` still holds
//! the generation the miss saw. Generation keys live for `GENERATION_TTL`, far longer than
//! any read takes, so an expired one cannot let an old value back in.

use async_trait::async_trait;
use innkeep_app::cache::{Cache, CacheError, Generation, Lookup};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const GENERATION_TTL: Duration = Duration::from_secs(600);

/// After a failure, calls fail at once for this long instead of waiting on a dead server,
/// so an outage costs one slow read a second per node, not every read.
const BREAK: Duration = Duration::from_secs(1);

const PUT: &str = r"
local g = redis.call('GET', KEYS[2]) or '0'
if g == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// A managed connection to `url`. A slow or absent Redis must not hold up a request for
/// long: callers fall back (reads to the store, limits to the node's memory).
pub(crate) async fn connection(url: &str) -> Result<ConnectionManager, CacheError> {
    let client = redis::Client::open(url).map_err(|e| CacheError::Backend(format!("redis: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_min_delay(Duration::from_millis(10))
        .set_number_of_retries(1);
    ConnectionManager::new_with_config(client, config).await.map_err(|e| CacheError::Backend(format!("redis: {e}")))
}

/// The Redis cache.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
    put: redis::Script,
    started: Instant,
    /// Milliseconds after `started` before which calls fail at once.
    broken_until: Arc<AtomicU64>,
}

impl RedisCache {
    /// Connect to `url`; every key is stored under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCache, CacheError> {
        let conn = connection(url).await?;
        Ok(RedisCache {
            conn,
            prefix: prefix.to_string(),
            put: redis::Script::new(PUT),
            started: Instant::now(),
            broken_until: Arc::new(AtomicU64::new(0)),
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn check(&self) -> Result<(), CacheError> {
        if self.now_ms() < self.broken_until.load(Ordering::Relaxed) {
            return Err(CacheError::Unavailable);
        }
        Ok(())
    }

    fn err(&self, e: redis::RedisError) -> CacheError {
        self.broken_until.store(self.now_ms() + BREAK.as_millis() as u64, Ordering::Relaxed);
        CacheError::Backend(format!("redis: {e}"))
    }

    fn keys(&self, key: &str) -> (String, String) {
        (format!("{}{key}", self.prefix), format!("{}{key}#gen", self.prefix))
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        self.check()?;
        let (k, g) = self.keys(key);
        let mut conn = self.conn.clone();
        let (value, generation): (Option<Vec<u8>>, Option<u64>) =
            redis::cmd("MGET").arg(&k).arg(&g).query_async(&mut conn).await.map_err(|e| self.err(e))?;
        Ok(match value {
            Some(v) => Lookup::Hit(v),
            None => Lookup::Miss(Generation(generation.unwrap_or(0))),
        })
    }

    async fn put(&self, key: &str, value: &[u8], since: Generation, ttl: Duration) -> Result<bool, CacheError> {
        self.check()?;
        let (k, g) = self.keys(key);
        let mut conn = self.conn.clone();
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let stored: i64 = self
            .put
            .key(&k)
            .key(&g)
            .arg(since.0)
            .arg(value)
            .arg(ttl_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(stored == 1)
    }

    async fn invalidate(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for key in keys {
            let (k, g) = self.keys(key);
            // Move the generation on first, so a fill racing the delete is refused.
            pipe.cmd("INCR").arg(&g).ignore();
            pipe.cmd("PEXPIRE").arg(&g).arg(GENERATION_TTL.as_millis() as u64).ignore();
            pipe.cmd("DEL").arg(&k).ignore();
        }
        // Invalidations are not short-cut by the breaker: the consumer retries them.
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(|e| self.err(e))
    }
}
