//! Write transactions that never outlive a failure, and the store's memory of why writes
//! fail.
//!
//! A transaction owns its pooled connection. If anything goes wrong before `COMMIT`
//! returned success (a statement failed, the commit failed, or the transaction was dropped
//! on an early return), the connection is closed instead of going back to the pool: after
//! an error its state is unknown (SQLite may or may not have rolled back after a full disk;
//! a PostgreSQL connection may be half dead), and a connection still inside a failed
//! transaction would make every later "commit" a savepoint release that saves nothing.
//! The pool opens a fresh connection for the next write. Closing a connection rolls back
//! whatever it had open, on both engines.

use crate::{Backend, db_err};
use innkeep_app::StoreError;
use innkeep_app::store::WriteFault;
use jiff::Timestamp;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// One write transaction on a connection of its own.
pub(crate) struct Tx {
    conn: PoolConnection<Any>,
    /// True until `COMMIT` or `ROLLBACK` returned success.
    open: bool,
}

impl Tx {
    /// Take a connection from `pool` and start a transaction on it. On SQLite the
    /// transaction takes the write lock at once (`BEGIN IMMEDIATE`): a deferred one that read
    /// first fails with `SQLITE_BUSY` at its first write, without waiting, when another
    /// process (the console next to a running server) committed in between, while an
    /// immediate one waits up to the busy timeout for the lock.
    pub(crate) async fn begin(pool: &AnyPool, backend: Backend) -> Result<Tx, sqlx::Error> {
        let begin = match backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // Open from before `BEGIN` is sent: a caller dropped while it runs (its request went
        // away) closes the connection instead of handing it back to the pool inside a
        // transaction that the next writer would use without knowing.
        let mut tx = Tx { conn: pool.acquire().await?, open: true };
        tx.conn.execute(begin).await?;
        Ok(tx)
    }

    /// Commit. On failure the connection is discarded and nothing may be assumed saved.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn.execute("COMMIT").await?;
        self.open = false;
        Ok(())
    }

    /// Roll back on purpose (an expected refusal, such as a sold-out night), keeping the
    /// connection when the rollback succeeds.
    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        self.conn.execute("ROLLBACK").await.map_err(db_err)?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// A connection for one statement that is a transaction of its own (autocommit: a call of
/// one of the PostgreSQL functions that write a hold or a status change). Like [`Tx`] it is
/// closed, not pooled, unless the statement's answer arrived whole ([`OneStatement::answered`]):
/// a caller dropped mid-statement, or a storage failure, leaves its state unknown.
pub(crate) struct OneStatement {
    conn: PoolConnection<Any>,
    answered: bool,
}

impl OneStatement {
    pub(crate) async fn acquire(pool: &AnyPool) -> Result<OneStatement, sqlx::Error> {
        Ok(OneStatement { conn: pool.acquire().await?, answered: false })
    }

    /// The statement's answer (rows or an error that leaves the connection sound) arrived:
    /// the connection may go back to the pool.
    pub(crate) fn answered(&mut self) {
        self.answered = true;
    }
}

impl Drop for OneStatement {
    fn drop(&mut self) {
        if !self.answered {
            self.conn.close_on_drop();
        }
    }
}

impl Deref for OneStatement {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for OneStatement {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// Why writes fail now: set by a write the storage refused (full, I/O error, read-only),
/// cleared by the next write that commits. Logged once when it starts and once when it
/// ends, not once per refused write.
#[derive(Default)]
pub(crate) struct Faults {
    active: AtomicBool,
    current: Mutex<Option<WriteFault>>,
}

impl Faults {
    /// Note the outcome of a write.
    pub(crate) fn note<T>(&self, outcome: &Result<T, StoreError>) {
        match outcome {
            Ok(_) => self.clear(),
            Err(e) => {
                if let Some(reason) = e.fault_reason() {
                    self.set(reason, e.to_string());
                }
            }
        }
    }

    fn set(&self, reason: &'static str, detail: String) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match current.as_mut() {
            Some(f) if f.reason == reason => {
                f.failed_writes += 1;
                f.detail = detail;
            }
            _ => {
                tracing::error!(reason, error = %detail, "writes are failing: answering 503 until the storage takes writes again");
                *current = Some(WriteFault { reason, detail, since: Timestamp::now(), failed_writes: 1 });
            }
        }
        self.active.store(true, Ordering::SeqCst);
    }

    fn clear(&self) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = current.take() {
            tracing::warn!(reason = f.reason, failed_writes = f.failed_writes, "writes work again");
        }
        self.active.store(false, Ordering::SeqCst);
    }

    /// The fault now, if writes are failing.
    pub(crate) fn current(&self) -> Option<WriteFault> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_lasts_until_a_write_commits_and_counts_the_refused_writes() {
        let faults = Faults::default();
        assert!(faults.current().is_none());
        faults.note::<()>(&Err(StoreError::Full("database or disk is full".into())));
        faults.note::<()>(&Err(StoreError::SoldOut { night: jiff::civil::date(2027, 1, 1) }));
        faults.note::<()>(&Err(StoreError::Full("database or disk is full".into())));
        let f = faults.current().expect("a fault");
        assert_eq!((f.reason, f.failed_writes), ("storage_full", 2));
        faults.note(&Ok(()));
        assert!(faults.current().is_none());
    }
}
