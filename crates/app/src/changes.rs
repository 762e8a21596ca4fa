//! Who is waiting for what to change: a client that asks for a payment or a booking "once
//! it differs from what I have" (`Prefer: wait`) waits here instead of asking again and
//! again.
//!
//! [`Changes`] keeps one watch per object someone waits on, and nothing for the others.
//! It is told by [`ChangeFeed`], which follows the outbox and tells the aggregate of every
//! event (a booking's hold, confirmation or cancellation; a payment's creation, receipt or
//! failure, by whichever node or task wrote it), and by the few writes that change an
//! object without an event (a card payment's client secret, see `card`). A waiting reader
//! reads again when told, and in any case every [`LOOK_AGAIN`], so a change it was not told
//! of (written by another node whose commits do not wake this one's feed) is still seen
//! within that time.

use crate::follow::{Follower, StepError};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How often a waiting reader reads again without being told.
pub const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Most waits a node holds at once; a read beyond them is answered without waiting (each
/// wait is a request held open, a timer and a watch).
pub const MAX_WAITS: usize = 10_000;

/// The objects someone waits on, each with a watch told on every change.
#[derive(Default)]
pub struct Changes {
    watched: Mutex<HashMap<Uuid, watch::Sender<u64>>>,
    /// Waits held now.
    waits: AtomicUsize,
}

/// A wait on one object; dropped, it stops watching (the last one removes the watch).
pub struct Watch<'a> {
    changes: &'a Changes,
    id: Uuid,
    seen: watch::Receiver<u64>,
}

impl Changes {
    /// Say that `id` changed: its waiting readers read again.
    pub fn changed(&self, id: Uuid) {
        let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = watched.get(&id) {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Start watching `id`: a change told after this call is not missed, however long the
    /// caller takes before it waits. None when [`MAX_WAITS`] are held already.
    pub fn watch(&self, id: Uuid) -> Option<Watch<'_>> {
        if self.waits.fetch_add(1, Ordering::SeqCst) >= MAX_WAITS {
            self.waits.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = watched.entry(id).or_insert_with(|| watch::channel(0).0).subscribe();
        Some(Watch { changes: self, id, seen })
    }

    /// How many objects someone waits on now.
    pub fn waited_on(&self) -> usize {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Watch<'_> {
    /// Wait until the object is told changed (since the watch began or the last call), or
    /// `at_most` passed; answers whether it was told.
    pub async fn changed(&mut self, at_most: Duration) -> bool {
        matches!(tokio::time::timeout(at_most, self.seen.changed()).await, Ok(Ok(())))
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.changes.waits.fetch_sub(1, Ordering::SeqCst);
        let mut watched = self.changes.watched.lock().unwrap_or_else(PoisonError::into_inner);
        // This watch's receiver is still alive here: it is the last when it is the only one.
        if watched.get(&self.id).is_some_and(|s| s.receiver_count() <= 1) {
            watched.remove(&self.id);
        }
    }
}

/// Follows the outbox from its end when the node starts and tells [`Changes`] the
/// aggregate of every event. It keeps its position in memory only: it tells waiting
/// readers of what happens while they wait, and a reader reads the object itself first.
pub struct ChangeFeed {
    store: Arc<dyn Store>,
    changes: Arc<Changes>,
    position: Option<i64>,
}

impl ChangeFeed {
    pub fn new(store: Arc<dyn Store>, changes: Arc<Changes>) -> ChangeFeed {
        ChangeFeed { store, changes, position: None }
    }
}

/// Events one step reads at most.
pub const FEED_BATCH: u32 = 1_000;

#[async_trait::async_trait]
impl Follower for ChangeFeed {
    fn name(&self) -> &str {
        "changes"
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        // The end is read before looking whether anyone waits: a reader that begins to wait
        // after that look read its object after every event up to this end.
        let last = self.store.last_event_seq().await?;
        let position = self.position.unwrap_or(last);
        if self.changes.waited_on() == 0 {
            self.position = Some(last.max(position));
            return Ok(0);
        }
        let events = self.store.events_after(position, FEED_BATCH).await?;
        for e in &events {
            self.changes.changed(e.event.aggregate_id);
        }
        self.position = Some(events.last().map_or(position, |e| e.seq));
        Ok(events.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_told_after_the_watch_began_is_not_missed() {
        let changes = Changes::default();
        let id = Uuid::now_v7();
        let mut watch = changes.watch(id).unwrap();
        changes.changed(id);
        assert!(watch.changed(Duration::from_millis(1)).await, "told before the wait");
        assert!(!watch.changed(Duration::from_millis(1)).await, "told once, seen once");
    }

    #[tokio::test]
    async fn another_objects_change_does_not_wake_a_wait() {
        let changes = Changes::default();
        let mut watch = changes.watch(Uuid::now_v7()).unwrap();
        changes.changed(Uuid::now_v7());
        assert!(!watch.changed(Duration::from_millis(5)).await);
    }

    #[tokio::test]
    async fn a_wait_is_woken_by_a_change_told_while_it_waits() {
        let changes = Arc::new(Changes::default());
        let id = Uuid::now_v7();
        let teller = changes.clone();
        let told = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            teller.changed(id);
        });
        let mut watch = changes.watch(id).unwrap();
        assert!(watch.changed(Duration::from_secs(10)).await);
        told.await.unwrap();
    }

    #[test]
    fn nothing_is_kept_for_objects_nobody_waits_on() {
        let changes = Changes::default();
        let id = Uuid::now_v7();
        changes.changed(id);
        assert_eq!(changes.waited_on(), 0, "a change nobody waits on keeps nothing");
        let first = changes.watch(id).unwrap();
        let second = changes.watch(id).unwrap();
        assert_eq!(changes.waited_on(), 1);
        drop(first);
        assert_eq!(changes.waited_on(), 1, "one still waits");
        drop(second);
        assert_eq!(changes.waited_on(), 0);
    }

    #[test]
    fn a_node_holds_at_most_so_many_waits() {
        let changes = Changes::default();
        let held: Vec<Watch<'_>> = (0..MAX_WAITS).map(|_| changes.watch(Uuid::now_v7()).unwrap()).collect();
        assert!(changes.watch(Uuid::now_v7()).is_none(), "one more is answered without a wait");
        drop(held);
        assert!(changes.watch(Uuid::now_v7()).is_some(), "and waits again once those ended");
    }
}
