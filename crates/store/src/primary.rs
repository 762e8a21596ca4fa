//! The primary: the host that takes writes. On PostgreSQL, `database.url` may name several
//! hosts in libpq's syntax (`postgres://user@h1:5432,h2:5432/db`); the node writes to the
//! one that accepts writes (`pg_is_in_recovery()` is false, like libpq's
//! `target_session_attrs=read-write`) and looks again when that one fails or turns
//! read-only, so a promoted replica takes over without a restart.

use crate::{PoolSpec, pool};
use innkeep_app::StoreError;
use sqlx::{AnyConnection, AnyPool, Connection};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

/// How long one host may take to say whether it is writable.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The writer pool, and (with a host list) the other hosts that may become the primary.
pub(crate) struct Primary {
    hosts: Vec<String>,
    spec: PoolSpec,
    pool: RwLock<AnyPool>,
    current: AtomicUsize,
    suspect: AtomicBool,
    closed: AtomicBool,
    switching: tokio::sync::Mutex<()>,
}

impl Primary {
    /// A primary on a pool that never moves (SQLite, or a single PostgreSQL host).
    pub(crate) fn fixed(url: &str, spec: PoolSpec, pool: AnyPool) -> Primary {
        Primary::with(vec![url.to_string()], spec, 0, pool)
    }

    /// Connect to the first writable host of `hosts`.
    pub(crate) async fn open(hosts: Vec<String>, spec: PoolSpec) -> Result<Primary, StoreError> {
        if let [only] = hosts.as_slice() {
            let p = pool(only, spec).await?;
            return Ok(Primary::fixed(only, spec, p));
        }
        for (i, url) in hosts.iter().enumerate() {
            match writable(url).await {
                Ok(true) => {
                    let p = pool(url, spec).await?;
                    tracing::info!(host = i, "writing to the first writable database host");
                    return Ok(Primary::with(hosts, spec, i, p));
                }
                Ok(false) => tracing::info!(host = i, "database host is read-only; trying the next"),
                Err(e) => tracing::warn!(host = i, error = %e, "database host unreachable; trying the next"),
            }
        }
        Err(StoreError::Database(format!("none of the {} database hosts accepts writes", hosts.len())))
    }

    fn with(hosts: Vec<String>, spec: PoolSpec, current: usize, pool: AnyPool) -> Primary {
        Primary {
            hosts,
            spec,
            pool: RwLock::new(pool),
            current: AtomicUsize::new(current),
            suspect: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            switching: tokio::sync::Mutex::new(()),
        }
    }

    /// The pool that writes now.
    pub(crate) fn pool(&self) -> AnyPool {
        self.pool.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Which host of the list is written to (0 without a list).
    pub(crate) fn current_host(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    /// Whether there is another host to move to.
    pub(crate) fn can_fail_over(&self) -> bool {
        self.hosts.len() > 1
    }

    /// A write failed in a way that may mean the primary is gone or read-only: check
    /// before the next transaction.
    pub(crate) fn mark_suspect(&self) {
        if self.can_fail_over() {
            self.suspect.store(true, Ordering::SeqCst);
        }
    }

    pub(crate) fn is_suspect(&self) -> bool {
        self.suspect.load(Ordering::SeqCst)
    }

    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.pool().close().await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Keep the current host if it still takes writes, else move the pool to the first
    /// host that does. `Retryable` while none does (a replica not yet promoted).
    pub(crate) async fn recover(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.switching.lock().await;
        if !self.is_suspect() || self.is_closed() {
            return Ok(());
        }
        if writable_pool(&self.pool()).await {
            self.suspect.store(false, Ordering::SeqCst);
            return Ok(());
        }
        let current = self.current_host();
        for (i, url) in self.hosts.iter().enumerate().filter(|(i, _)| *i != current) {
            if matches!(writable(url).await, Ok(true)) {
                let fresh = pool(url, self.spec).await?;
                let old = std::mem::replace(&mut *self.pool.write().unwrap_or_else(PoisonError::into_inner), fresh);
                self.current.store(i, Ordering::SeqCst);
                self.suspect.store(false, Ordering::SeqCst);
                tracing::warn!(from = current, to = i, "primary changed; writing to the new one");
                tokio::spawn(async move { old.close().await });
                return Ok(());
            }
        }
        Err(StoreError::Retryable(format!("none of the {} database hosts accepts writes", self.hosts.len())))
    }

    /// The periodic check: is the primary still there and writable?
    pub(crate) async fn check(&self) {
        if !self.can_fail_over() || self.is_closed() {
            return;
        }
        if !self.is_suspect() && !writable_pool(&self.pool()).await {
            tracing::warn!(host = self.current_host(), "primary unreachable or read-only");
            self.mark_suspect();
        }
        if self.is_suspect()
            && let Err(e) = self.recover().await
        {
            tracing::warn!(error = %e, "no writable primary yet");
        }
    }
}

async fn writable_pool(pool: &AnyPool) -> bool {
    let check = sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()").fetch_one(pool);
    matches!(tokio::time::timeout(CHECK_TIMEOUT, check).await, Ok(Ok(false)))
}

/// Whether the server at `url` takes writes (it is not a standby in recovery).
pub(crate) async fn writable(url: &str) -> Result<bool, sqlx::Error> {
    let attempt = async {
        let mut conn = AnyConnection::connect(url).await?;
        let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        Ok(!in_recovery)
    };
    tokio::time::timeout(CHECK_TIMEOUT, attempt).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

/// The single-host URLs of a libpq-style host list:
/// `postgres://u@h1:1,h2:2/db?x` -> `postgres://u@h1:1/db?x`, `postgres://u@h2:2/db?x`.
pub fn host_urls(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else { return vec![url.to_string()] };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    if !hosts.contains(',') {
        return vec![url.to_string()];
    }
    hosts.split(',').filter(|h| !h.is_empty()).map(|h| format!("{scheme}://{userinfo}{h}{tail}")).collect()
}

#[cfg(test)]
mod tests {
    use super::host_urls;

    #[test]
    fn a_host_list_becomes_one_url_per_host() {
        assert_eq!(
            host_urls("postgres://app:pw@10.0.0.1:5432,10.0.0.2:5433/innkeep?sslmode=disable"),
            vec![
                "postgres://app:pw@10.0.0.1:5432/innkeep?sslmode=disable",
                "postgres://app:pw@10.0.0.2:5433/innkeep?sslmode=disable"
            ]
        );
        assert_eq!(host_urls("postgres://a,b/db"), vec!["postgres://a/db", "postgres://b/db"]);
        assert_eq!(host_urls("postgres://u@one:5432/db"), vec!["postgres://u@one:5432/db"]);
        assert_eq!(host_urls("sqlite://x.db?mode=rwc"), vec!["sqlite://x.db?mode=rwc"]);
    }
}
