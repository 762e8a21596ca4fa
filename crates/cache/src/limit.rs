//! Rate limits shared by every node through Redis, behind `innkeep_app::limit::Limiter`: a
//! counter per key and fixed window, expiring with the window. When Redis fails, the node
//! falls back to its own memory for a second at a time: limits still hold per node rather
//! than not at all.

use async_trait::async_trait;
use innkeep_app::cache::CacheError;
use innkeep_app::limit::{Limit, Limiter, MemoryLimiter};
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Count one attempt in the current window; returns the count and the window's time left.
const TAKE: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
";

/// After a Redis failure, the node counts in its own memory for this long.
const BREAK: Duration = Duration::from_secs(1);

/// Limits shared by every node through Redis.
pub struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
    take: redis::Script,
    local: MemoryLimiter,
    started: Instant,
    broken_until: AtomicU64,
}

impl RedisLimiter {
    /// Connect to `url`; every key is stored under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisLimiter, CacheError> {
        Ok(RedisLimiter::new(crate::redis::connection(url).await?, prefix))
    }

    /// Limits on the Redis of `conn`, every key under `prefix`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> RedisLimiter {
        RedisLimiter {
            conn,
            prefix: prefix.to_string(),
            take: redis::Script::new(TAKE),
            local: MemoryLimiter::default(),
            started: Instant::now(),
            broken_until: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn take(&self, limit: &Limit, key: &str) -> Result<(), Duration> {
        if self.now_ms() < self.broken_until.load(Ordering::Relaxed) {
            return self.local.take(limit, key).await;
        }
        let window_ms = limit.per.as_millis().max(1) as u64;
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let window = now_ms / window_ms;
        let redis_key = format!("{}limit:{}:{window}:{key}", self.prefix, limit.name);
        let mut conn = self.conn.clone();
        let counted: Result<(u64, i64), _> = self.take.key(&redis_key).arg(window_ms).invoke_async(&mut conn).await;
        match counted {
            Ok((n, _)) if n <= u64::from(limit.max) => Ok(()),
            Ok((_, left_ms)) => Err(Duration::from_millis(u64::try_from(left_ms).unwrap_or(window_ms).max(1))),
            Err(e) => {
                tracing::warn!(error = %e, "rate limits fall back to this node's memory: redis failed");
                self.broken_until.store(self.now_ms() + BREAK.as_millis() as u64, Ordering::Relaxed);
                self.local.take(limit, key).await
            }
        }
    }
}
