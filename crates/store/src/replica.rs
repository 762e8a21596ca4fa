//! Read replicas (PostgreSQL streaming standbys): which one serves the next read, how
//! their health and lag are measured, and when a read falls back to the primary.
//!
//! A replica serves reads while its last check found it up and no further behind the
//! primary than the lag limit. A read that fails on it with a connection error marks it
//! down and runs on the primary instead; the periodic check brings it back.

use crate::primary::CHECK_TIMEOUT;
use crate::{PoolSpec, lazy_pool};
use innkeep_app::StoreError;
use innkeep_app::store::ReplicaStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

pub(crate) struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
    max_lag: f64,
}

pub(crate) struct Replica {
    name: String,
    url: String,
    pub(crate) pool: AnyPool,
    state: Mutex<State>,
    reads: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    up: bool,
    lag: Option<f64>,
}

impl Replicas {
    /// Pools that connect on first use, so a replica that is down does not stop the node.
    pub(crate) fn open(urls: &[String], spec: PoolSpec, max_lag: Duration) -> Result<Replicas, StoreError> {
        let list = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                Ok(Replica {
                    name: i.to_string(),
                    url: url.clone(),
                    pool: lazy_pool(url, spec)?,
                    state: Mutex::new(State::default()),
                    reads: AtomicU64::new(0),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Replicas { list, next: AtomicUsize::new(0), max_lag: max_lag.as_secs_f64() })
    }

    /// The next replica to read from, round robin over those serving; None if none is.
    pub(crate) fn pick(&self) -> Option<&Replica> {
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|k| &self.list[(start + k) % n]).find(|r| r.serving(self.max_lag))
    }

    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        self.list
            .iter()
            .map(|r| {
                let s = r.state();
                ReplicaStatus {
                    name: r.name.clone(),
                    up: s.up,
                    lag_seconds: s.lag,
                    serving: r.serving(self.max_lag),
                    reads: r.reads.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    pub(crate) async fn close(&self) {
        for r in &self.list {
            r.pool.close().await;
        }
    }

    /// Measure every replica: reachable, and how far behind the primary's WAL position.
    pub(crate) async fn check(&self, primary: &AnyPool) {
        let position = sqlx::query_scalar::<_, i64>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT")
            .fetch_one(primary);
        let primary_lsn = match tokio::time::timeout(CHECK_TIMEOUT, position).await {
            Ok(Ok(lsn)) => Some(lsn),
            _ => None,
        };
        for r in &self.list {
            match measure(&r.url, primary_lsn).await {
                Ok(lag) => {
                    let was_up = r.set(State { up: true, lag: Some(lag) });
                    if !was_up {
                        tracing::info!(replica = %r.name, lag_seconds = lag, "replica up");
                    }
                }
                Err(e) => r.mark_down(&e),
            }
        }
    }
}

impl Replica {
    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Set the state; returns whether it was up before.
    fn set(&self, new: State) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let was_up = s.up;
        *s = new;
        was_up
    }

    fn serving(&self, max_lag: f64) -> bool {
        let s = self.state();
        s.up && s.lag.is_some_and(|l| l <= max_lag)
    }

    pub(crate) fn mark_down(&self, e: &sqlx::Error) {
        if self.set(State { up: false, lag: None }) {
            tracing::warn!(replica = %self.name, error = %e, "replica down; reading from the primary");
        }
    }

    pub(crate) fn served_one(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }
}

/// Seconds the replica's replay is behind: 0 when it has replayed the primary's position
/// read just before (or is no standby at all), else the age of its last replayed commit.
async fn measure(url: &str, primary_lsn: Option<i64>) -> Result<f64, sqlx::Error> {
    let attempt = async {
        let mut conn = AnyConnection::connect(url).await?;
        let row: AnyRow = sqlx::query(
            "SELECT pg_is_in_recovery() AS standby, \
             COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::BIGINT AS replayed, \
             COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::FLOAT8 AS behind",
        )
        .fetch_one(&mut conn)
        .await?;
        let _ = conn.close().await;
        let standby: bool = row.try_get("standby")?;
        let replayed: i64 = row.try_get("replayed")?;
        let behind: f64 = row.try_get("behind")?;
        let caught_up = !standby || primary_lsn.is_some_and(|p| replayed >= p);
        Ok(if caught_up { 0.0 } else { behind.max(0.0) })
    };
    tokio::time::timeout(CHECK_TIMEOUT, attempt).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

/// Whether an error means the server could not be reached or the connection broke (as
/// opposed to an error in the query), so another server may answer instead.
pub(crate) fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // 08: connection exceptions; 57P01-03: shutting down or starting up.
        sqlx::Error::Database(d) => {
            d.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}
