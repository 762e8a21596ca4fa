//! Rate limits, decided here for every front end (the JSON API and the web pages count the
//! same attempts) and kept by a backend: in this node's memory by default, or in Redis
//! shared by every node, so N nodes do not allow N times the attempts.

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// An allowance: at most `max` attempts per `per`, for each key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// A short name, part of the shared keys.
    pub name: &'static str,
    pub max: u32,
    pub per: Duration,
}

/// Sign-in attempts per e-mail address (in its normal form).
pub const SIGN_IN: Limit = Limit { name: "sign-in", max: 10, per: Duration::from_secs(60) };

/// Account e-mails (password resets, verifications) per address or user.
pub const ACCOUNT_MAIL: Limit = Limit { name: "account-mail", max: 5, per: Duration::from_secs(15 * 60) };

/// Client event batches per client id.
pub const CLIENT_BATCHES: Limit = Limit { name: "batches", max: 50, per: Duration::from_secs(1) };

/// Counts attempts.
#[async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Count one attempt for `key` under `limit`; `Err(wait)` when the allowance is used up,
    /// with how long until the next attempt is allowed.
    async fn take(&self, limit: &Limit, key: &str) -> Result<(), Duration>;
}

/// Whole seconds to put in a `Retry-After` header: at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

type Keyed = governor::DefaultKeyedRateLimiter<String>;

/// Limits kept in this node's memory (governor's GCRA per key): the embedded default.
#[derive(Default)]
pub struct MemoryLimiter {
    limiters: Mutex<HashMap<&'static str, Arc<Keyed>>>,
    takes: AtomicU64,
}

impl MemoryLimiter {
    fn limiter(&self, limit: &Limit) -> Arc<Keyed> {
        let mut all = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        all.entry(limit.name)
            .or_insert_with(|| {
                let max = NonZeroU32::new(limit.max).unwrap_or(NonZeroU32::MIN);
                let period = limit.per / limit.max.max(1);
                let quota = governor::Quota::with_period(period)
                    .unwrap_or_else(|| governor::Quota::per_second(max))
                    .allow_burst(max);
                Arc::new(governor::RateLimiter::keyed(quota))
            })
            .clone()
    }
}

#[async_trait]
impl Limiter for MemoryLimiter {
    async fn take(&self, limit: &Limit, key: &str) -> Result<(), Duration> {
        let limiter = self.limiter(limit);
        let outcome = limiter.check_key(&key.to_string());
        // Forget idle keys now and then, so one-off keys do not pile up.
        if self.takes.fetch_add(1, Ordering::Relaxed) % 8192 == 8191 {
            limiter.retain_recent();
        }
        outcome.map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
    }

    const THREE_PER_MINUTE: Limit = Limit { name: "test", max: 3, per: Duration::from_secs(60) };

    #[tokio::test]
    async fn memory_allows_the_burst_then_says_how_long_to_wait_per_key() {
        let l = MemoryLimiter::default();
        for _ in 0..3 {
            assert!(l.take(&THREE_PER_MINUTE, "a").await.is_ok());
        }
        let wait = l.take(&THREE_PER_MINUTE, "a").await.expect_err("the fourth is refused");
        assert!(wait > Duration::from_secs(10) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(l.take(&THREE_PER_MINUTE, "b").await.is_ok(), "another key has its own allowance");
    }
}
