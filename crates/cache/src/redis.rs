//! The Redis cache, shared by every node. Each key `K` has a generation key `K#gen` that an
//! invalidation increments; a fill is a script that sets `K` only if `K#gen` still holds
//! the generation the miss saw. Generation keys live for `GENERATION_TTL`, far longer than
//! any read takes, so an expired one cannot let an old value back in.

use async_trait::async_trait;
use innkeep_app::cache::{Cache, CacheError, Generation, Lookup};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

const GENERATION_TTL: Duration = Duration::from_secs(600);

const PUT: &str = r"
local g = redis.call('GET', KEYS[2]) or '0'
if g == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

fn err(e: redis::RedisError) -> CacheError {
    CacheError(format!("redis: {e}"))
}

/// The Redis cache.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
    put: redis::Script,
}

impl RedisCache {
    /// Connect to `url`; every key is stored under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(url).map_err(err)?;
        // A slow or absent Redis must not hold up a read for long: reads fall back to the store.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config).await.map_err(err)?;
        Ok(RedisCache { conn, prefix: prefix.to_string(), put: redis::Script::new(PUT) })
    }

    fn keys(&self, key: &str) -> (String, String) {
        (format!("{}{key}", self.prefix), format!("{}{key}#gen", self.prefix))
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        let (k, g) = self.keys(key);
        let mut conn = self.conn.clone();
        let (value, generation): (Option<Vec<u8>>, Option<u64>) =
            redis::cmd("MGET").arg(&k).arg(&g).query_async(&mut conn).await.map_err(err)?;
        Ok(match value {
            Some(v) => Lookup::Hit(v),
            None => Lookup::Miss(Generation(generation.unwrap_or(0))),
        })
    }

    async fn put(&self, key: &str, value: &[u8], since: Generation, ttl: Duration) -> Result<bool, CacheError> {
        let (k, g) = self.keys(key);
        let mut conn = self.conn.clone();
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let stored: i64 =
            self.put.key(&k).key(&g).arg(since.0).arg(value).arg(ttl_ms).invoke_async(&mut conn).await.map_err(err)?;
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
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(err)
    }
}
