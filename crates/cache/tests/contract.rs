//! The cache port's contract, run unchanged against every backend: in process always,
//! Redis when INNKEEP_TEST_REDIS_URL names a server (each test under its own key prefix).
//! With INNKEEP_TEST_REQUIRE_SERVERS=1 a missing server fails instead of skipping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::cache::{Cache, Generation, Lookup};
use innkeep_cache::{MemoryCache, RedisCache};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(60);

async fn redis() -> Option<RedisCache> {
    let url = innkeep_store::testing::server_url("INNKEEP_TEST_REDIS_URL")?;
    let prefix = format!("innkeep-test:{}:", uuid::Uuid::new_v4());
    Some(RedisCache::connect(&url, &prefix).await.expect("Redis answers"))
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(&innkeep_cache::MemoryCache::new(1000)).await;
            })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(c) = super::redis().await else { return };
                super::$name(&c).await;
            })*
        }
    };
}

contract!(
    a_miss_is_filled_then_hit,
    keys_are_independent,
    invalidation_removes_the_value,
    a_fill_that_raced_an_invalidation_is_refused,
    values_are_bytes_kept_exactly,
    values_expire_after_their_ttl,
    many_keys_invalidate_at_once,
);

async fn miss(c: &impl Cache, key: &str) -> Generation {
    match c.get(key).await.unwrap() {
        Lookup::Miss(g) => g,
        Lookup::Hit(v) => panic!("{key} should miss, holds {v:?}"),
    }
}

async fn hit(c: &impl Cache, key: &str) -> Vec<u8> {
    match c.get(key).await.unwrap() {
        Lookup::Hit(v) => v,
        Lookup::Miss(_) => panic!("{key} should hit"),
    }
}

async fn a_miss_is_filled_then_hit(c: &impl Cache) {
    let g = miss(c, "property:1").await;
    assert!(c.put("property:1", b"casa azul", g, TTL).await.unwrap());
    assert_eq!(hit(c, "property:1").await, b"casa azul");
    assert_eq!(hit(c, "property:1").await, b"casa azul", "a hit does not consume the value");
}

async fn keys_are_independent(c: &impl Cache) {
    let g = miss(c, "a").await;
    assert!(c.put("a", b"1", g, TTL).await.unwrap());
    miss(c, "b").await;
    c.invalidate(&["b".to_string()]).await.unwrap();
    assert_eq!(hit(c, "a").await, b"1", "invalidating b leaves a");
}

async fn invalidation_removes_the_value(c: &impl Cache) {
    let g = miss(c, "room-types:1").await;
    assert!(c.put("room-types:1", b"[]", g, TTL).await.unwrap());
    c.invalidate(&["room-types:1".to_string()]).await.unwrap();
    let g = miss(c, "room-types:1").await;
    assert!(c.put("room-types:1", b"[1]", g, TTL).await.unwrap(), "a fill after the invalidation is kept");
    assert_eq!(hit(c, "room-types:1").await, b"[1]");
    // Invalidating a key that holds nothing is fine.
    c.invalidate(&["never-stored".to_string()]).await.unwrap();
}

async fn a_fill_that_raced_an_invalidation_is_refused(c: &impl Cache) {
    // A reader misses and reads the store; meanwhile a change commits and invalidates.
    let before = miss(c, "nights:1:2027-02").await;
    c.invalidate(&["nights:1:2027-02".to_string()]).await.unwrap();
    assert!(!c.put("nights:1:2027-02", b"old", before, TTL).await.unwrap(), "the old value must not go back in");
    let now = miss(c, "nights:1:2027-02").await;
    assert_ne!(now, before);
    assert!(c.put("nights:1:2027-02", b"new", now, TTL).await.unwrap());
    assert_eq!(hit(c, "nights:1:2027-02").await, b"new");
}

async fn values_are_bytes_kept_exactly(c: &impl Cache) {
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let g = miss(c, "binary").await;
    assert!(c.put("binary", &bytes, g, TTL).await.unwrap());
    assert_eq!(hit(c, "binary").await, bytes);
    let g = miss(c, "empty").await;
    assert!(c.put("empty", b"", g, TTL).await.unwrap());
    assert_eq!(hit(c, "empty").await, b"", "an empty value is a hit, not a miss");
}

async fn values_expire_after_their_ttl(c: &impl Cache) {
    let g = miss(c, "short").await;
    assert!(c.put("short", b"x", g, Duration::from_millis(200)).await.unwrap());
    let g = miss(c, "long").await;
    assert!(c.put("long", b"y", g, TTL).await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(c.get("short").await.unwrap(), Lookup::Hit(_)) {
        assert!(Instant::now() < deadline, "a 200 ms value was still served after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hit(c, "long").await, b"y", "a longer ttl is kept");
}

async fn many_keys_invalidate_at_once(c: &impl Cache) {
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    for k in &keys {
        let g = miss(c, k).await;
        assert!(c.put(k, k.as_bytes(), g, TTL).await.unwrap());
    }
    c.invalidate(&keys[..40]).await.unwrap();
    for k in &keys[..40] {
        miss(c, k).await;
    }
    for k in &keys[40..] {
        assert_eq!(hit(c, k).await, k.as_bytes());
    }
}

#[tokio::test]
async fn the_memory_cache_stays_within_its_bound() {
    let c = MemoryCache::new(64);
    for i in 0..10_000 {
        let k = format!("k{i}");
        let g = miss(&c, &k).await;
        c.put(&k, b"v", g, TTL).await.unwrap();
    }
    let mut kept = 0;
    for i in 0..10_000 {
        if let Lookup::Hit(_) = c.get(&format!("k{i}")).await.unwrap() {
            kept += 1;
        }
    }
    assert!(kept > 0 && kept <= 64, "kept {kept} of 10000 in a cache of 64");
}

#[tokio::test]
async fn limits_on_redis_are_shared_by_every_node() {
    let Some(url) = innkeep_store::testing::server_url("INNKEEP_TEST_REDIS_URL") else { return };
    let prefix = format!("innkeep-test-{}:", uuid::Uuid::now_v7().simple());
    let limit = innkeep_app::limit::Limit { name: "test", max: 3, per: std::time::Duration::from_secs(60) };
    // Two nodes, each with its own connection: together they get the allowance once.
    let a = innkeep_cache::limit::RedisLimiter::connect(&url, &prefix).await.unwrap();
    let b = innkeep_cache::limit::RedisLimiter::connect(&url, &prefix).await.unwrap();
    use innkeep_app::limit::Limiter;
    assert!(a.take(&limit, "ana@example.com").await.is_ok());
    assert!(b.take(&limit, "ana@example.com").await.is_ok());
    assert!(a.take(&limit, "ana@example.com").await.is_ok());
    let wait = b.take(&limit, "ana@example.com").await.expect_err("the fourth attempt, on another node, is refused");
    assert!(wait > std::time::Duration::ZERO && wait <= std::time::Duration::from_secs(60), "{wait:?}");
    assert!(b.take(&limit, "bea@example.com").await.is_ok(), "another key has its own allowance");
}
