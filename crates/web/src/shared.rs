//! Figures the pages share between visitors, computed at most once per time to live on a
//! node: the home page's destinations, popular cities and suggestions, the operator's unit
//! count. When a value is stale, one request computes it again while the others are served
//! the previous value: a scan at a time, never one per waiting request.

use innkeep_app::AppError;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex, PoisonError};

/// One shared value and when it was computed.
pub struct Shared<T> {
    value: Mutex<Option<(Timestamp, Arc<T>)>>,
    computing: tokio::sync::Mutex<()>,
    ttl: SignedDuration,
}

impl<T> Shared<T> {
    /// A value kept for `ttl` (by the clock the callers pass in).
    pub fn new(ttl: SignedDuration) -> Shared<T> {
        Shared { value: Mutex::new(None), computing: tokio::sync::Mutex::new(()), ttl }
    }

    fn current(&self) -> Option<(Timestamp, Arc<T>)> {
        self.value.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn fresh(&self, now: Timestamp) -> Option<Arc<T>> {
        self.current().filter(|(at, _)| now.duration_since(*at) < self.ttl && *at <= now).map(|(_, v)| v)
    }

    /// The value, computed by `compute` when there is none younger than the time to live.
    /// While another request computes it, a stale value is answered at once; with none yet,
    /// the request waits for that computation instead of starting its own.
    pub async fn get<F, Fut>(&self, now: Timestamp, compute: F) -> Result<Arc<T>, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        if let Some(v) = self.fresh(now) {
            return Ok(v);
        }
        let _turn = match self.computing.try_lock() {
            Ok(turn) => turn,
            Err(_) => match self.current() {
                Some((_, stale)) => return Ok(stale),
                None => self.computing.lock().await,
            },
        };
        // Computed by the request this one waited for.
        if let Some(v) = self.fresh(now) {
            return Ok(v);
        }
        let v = Arc::new(compute().await?);
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, v.clone()));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[tokio::test]
    async fn a_value_is_computed_again_only_after_its_time_to_live() {
        let shared = Shared::new(SignedDuration::from_secs(60));
        let runs = AtomicUsize::new(0);
        let compute = || async { Ok::<_, AppError>(runs.fetch_add(1, Ordering::SeqCst)) };
        assert_eq!(*shared.get(at(0), compute).await.unwrap(), 0);
        assert_eq!(*shared.get(at(59), compute).await.unwrap(), 0);
        assert_eq!(*shared.get(at(60), compute).await.unwrap(), 1);
        // A clock set back does not keep a value from the future.
        assert_eq!(*shared.get(at(0), compute).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failed_computation_keeps_nothing_and_is_tried_again() {
        let shared: Shared<u32> = Shared::new(SignedDuration::from_secs(60));
        let failed = shared.get(at(0), || async { Err(AppError::Unauthenticated) }).await;
        assert!(failed.is_err());
        assert_eq!(*shared.get(at(1), || async { Ok(7) }).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn requests_that_meet_a_computation_wait_for_it_or_take_the_stale_value() {
        let shared = Arc::new(Shared::new(SignedDuration::from_secs(60)));
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let (shared, runs) = (shared.clone(), runs.clone());
            tokio::spawn(async move {
                shared
                    .get(at(0), || async move {
                        wait.await.ok();
                        Ok::<_, AppError>(runs.fetch_add(1, Ordering::SeqCst))
                    })
                    .await
                    .map(|v| *v)
            })
        };
        tokio::task::yield_now().await;
        // With nothing computed yet, a second request waits for the first one's value.
        let second = {
            let (shared, runs) = (shared.clone(), runs.clone());
            tokio::spawn(async move {
                shared.get(at(1), || async move { Ok(runs.fetch_add(1, Ordering::SeqCst)) }).await.map(|v| *v)
            })
        };
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        assert_eq!(slow.await.unwrap().unwrap(), 0);
        assert_eq!(second.await.unwrap().unwrap(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one computation for both");

        // Stale, and being computed: the stale value is answered without waiting.
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let refresh = {
            let (shared, runs) = (shared.clone(), runs.clone());
            tokio::spawn(async move {
                shared
                    .get(at(100), || async move {
                        wait.await.ok();
                        Ok::<_, AppError>(runs.fetch_add(1, Ordering::SeqCst))
                    })
                    .await
                    .map(|v| *v)
            })
        };
        tokio::task::yield_now().await;
        assert_eq!(*shared.get(at(101), || async { Ok(99) }).await.unwrap(), 0);
        release.send(()).unwrap();
        assert_eq!(refresh.await.unwrap().unwrap(), 1);
        assert_eq!(*shared.get(at(102), || async { Ok(99) }).await.unwrap(), 1);
    }
}
