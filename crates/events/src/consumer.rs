//! Durable outbox consumers.

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::Shared;
use innkeep_app::event::{Consumer, HandleError, StoredEvent};
use innkeep_app::follow::{FollowOptions, Follower, StepError, follow};
use innkeep_app::store::DeadLetter;
use innkeep_app::{Store, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot, watch};

/// Retry policy.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerOptions {
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub batch: u32,
    /// How often to look for new events when no commit wakes the consumer.
    pub poll: Duration,
    /// How long to let events gather after a commit wakes the consumer, so that under load
    /// one batch (one outbox read, one processed-check, one position write) covers many.
    pub linger: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            max_attempts: 5,
            first_backoff: Duration::from_millis(50),
            batch: 500,
            poll: Duration::from_millis(500),
            linger: Duration::from_millis(20),
        }
    }
}

/// Handle the next batch of events after the consumer's position; returns how many
/// events the position moved over.
pub async fn run_once(store: &dyn Store, consumer: &dyn Consumer, opts: &ConsumerOptions) -> Result<usize, StoreError> {
    let name = consumer.name();
    let from = store.consumer_position(name).await?;
    let events = store.events_after(from, opts.batch).await?;
    let marks = !consumer.idempotent();
    let done = if marks {
        let ids: Vec<_> = events.iter().map(|e| e.event.id).collect();
        store.processed_among(name, &ids).await?
    } else {
        Default::default()
    };
    if !marks && consumer.concurrency() > 1 {
        for (i, error, attempts) in overlapped(consumer, &events, opts).await {
            park(store, name, &events[i], error, attempts).await?;
        }
    } else {
        let mut marker = if marks { Some(store.marks(name).await?) } else { None };
        for e in &events {
            if !done.contains(&e.event.id) {
                match attempt(consumer, e, opts).await {
                    Ok(()) => {
                        if let Some(m) = marker.as_mut() {
                            m.mark(e.event.id).await?;
                        }
                    }
                    Err((error, attempts)) => park(store, name, e, error, attempts).await?,
                }
            }
        }
    }
    // The position moves once a batch: after a crash mid-batch the handled events are
    // read again and skipped as processed, so acting once rests on the processed marks, not
    // on the position (one write a batch instead of one an event).
    if let Some(last) = events.last() {
        store.set_consumer_position(name, last.seq).await?;
        // A batch that was not full held every event visible when it was read.
        let newest = if events.len() < opts.batch as usize { last.seq } else { store.last_event_seq().await? };
        metrics::gauge!("innkeep_consumer_lag_events", "consumer" => name.to_string()).set((newest - last.seq) as f64);
    }
    Ok(events.len())
}

/// Handle a batch with up to `consumer.concurrency()` events at once, those of one aggregate
/// in order (an idempotent consumer that waits on an outside service overlaps its waits);
/// answers the events that failed every attempt (their index in `events`), in outbox order.
async fn overlapped(
    consumer: &dyn Consumer,
    events: &[StoredEvent],
    opts: &ConsumerOptions,
) -> Vec<(usize, String, u32)> {
    use futures::StreamExt;
    let mut chains: Vec<Vec<usize>> = Vec::new();
    let mut chain_of = std::collections::HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let c = *chain_of.entry(e.event.aggregate_id).or_insert_with(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        chains[c].push(i);
    }
    let mut failed: Vec<_> = futures::stream::iter(chains)
        .map(|chain: Vec<usize>| async move {
            let mut failed = Vec::new();
            for i in chain {
                if let Err((error, attempts)) = attempt(consumer, &events[i], opts).await {
                    failed.push((i, error, attempts));
                }
            }
            failed
        })
        .buffer_unordered(consumer.concurrency())
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    failed.sort_by_key(|(i, _, _)| *i);
    failed
}

/// Park an event that failed every attempt as a dead letter, and move past it at once, so
/// it is never parked twice.
async fn park(store: &dyn Store, name: &str, e: &StoredEvent, error: String, attempts: u32) -> Result<(), StoreError> {
    store.add_dead_letter(&dead_letter(name, e, error, attempts)).await?;
    store.set_consumer_position(name, e.seq).await
}

/// The dead letter of an event that failed every attempt, logged and counted.
fn dead_letter(name: &str, e: &StoredEvent, error: String, attempts: u32) -> DeadLetter {
    tracing::warn!(consumer = name, event_id = %e.event.id, attempts, error = %error, "event parked as dead letter");
    metrics::counter!("innkeep_dead_letters_total", "consumer" => name.to_string()).increment(1);
    DeadLetter {
        consumer: name.to_string(),
        seq: e.seq,
        event_id: e.event.id,
        error,
        attempts,
        created_at: jiff::Timestamp::now(),
    }
}

/// An error and its sources, as a dead letter keeps it.
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn attempt(consumer: &dyn Consumer, e: &StoredEvent, opts: &ConsumerOptions) -> Result<(), (String, u32)> {
    let mut backoff = opts.first_backoff;
    let mut tries = 0;
    loop {
        tries += 1;
        match consumer.handle(e).await {
            Ok(()) => return Ok(()),
            Err(error) if tries >= opts.max_attempts => return Err((error_text(error.as_ref()), tries)),
            Err(error) => {
                tracing::debug!(consumer = consumer.name(), event_id = %e.event.id, tries, error = %error, "event failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// A durable consumer as an outbox follower.
struct ConsumerFollower {
    store: Arc<dyn Store>,
    consumer: Arc<dyn Consumer>,
    opts: ConsumerOptions,
}

#[async_trait]
impl Follower for ConsumerFollower {
    fn name(&self) -> &str {
        self.consumer.name()
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        Ok(run_once(self.store.as_ref(), self.consumer.as_ref(), &self.opts).await?)
    }
}

/// An idempotent consumer that overlaps events, run as a pipeline rather than batch by
/// batch: up to `concurrency()` events are in hand at once, and an event committed while
/// others wait on an outside service is read and started at once instead of after the
/// slowest of them. Events of one aggregate are still handled in outbox order (each waits
/// for the one before). The position saved is the low-water mark: every event up to it has
/// ended (handled or parked), so after a crash the events in hand then are read again and,
/// the consumer being idempotent, handled again harmlessly.
struct Pipeline {
    store: Arc<dyn Store>,
    consumer: Arc<dyn Consumer>,
    opts: ConsumerOptions,
    /// The last event handed to a task (read from the saved position at first).
    read: Option<i64>,
    /// The position last saved.
    saved: i64,
    /// The events in hand, by position; told when one ends.
    in_hand: Arc<std::sync::Mutex<BTreeSet<i64>>>,
    ended: Arc<Notify>,
    /// Each aggregate's last event in hand: ended when its sender is.
    last_of: HashMap<uuid::Uuid, Shared<oneshot::Receiver<()>>>,
}

impl Pipeline {
    fn new(store: Arc<dyn Store>, consumer: Arc<dyn Consumer>, opts: ConsumerOptions) -> Pipeline {
        Pipeline {
            store,
            consumer,
            opts,
            read: None,
            saved: 0,
            in_hand: Default::default(),
            ended: Arc::new(Notify::new()),
            last_of: HashMap::new(),
        }
    }

    fn in_hand(&self) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
        self.in_hand.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hand `e` to a task of its own, after its aggregate's event in hand, if any.
    fn start(&mut self, e: StoredEvent) {
        let (done, ended_here) = oneshot::channel::<()>();
        let before = self.last_of.insert(e.event.aggregate_id, ended_here.shared());
        self.in_hand().insert(e.seq);
        let (store, consumer, opts) = (self.store.clone(), self.consumer.clone(), self.opts);
        let (in_hand, ended) = (self.in_hand.clone(), self.ended.clone());
        tokio::spawn(async move {
            if let Some(before) = before {
                let _ = before.await;
            }
            if let Err((error, attempts)) = attempt(consumer.as_ref(), &e, &opts).await {
                let name = consumer.name();
                let letter = dead_letter(name, &e, error, attempts);
                // The event stays in hand (the position does not pass it) until it is parked.
                while let Err(why) = store.add_dead_letter(&letter).await {
                    tracing::error!(consumer = name, event_id = %e.event.id, error = %why, "could not park a dead letter; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            in_hand.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&e.seq);
            let _ = done.send(());
            ended.notify_waiters();
        });
    }
}

#[async_trait]
impl Follower for Pipeline {
    fn name(&self) -> &str {
        self.consumer.name()
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        let name = self.consumer.name().to_string();
        let read = match self.read {
            Some(read) => read,
            None => {
                self.saved = self.store.consumer_position(&name).await?;
                self.saved
            }
        };
        self.read = Some(read);
        let most = self.consumer.concurrency().max(1);
        // Wait for room (the wait is registered before looking, so no end is missed).
        let room = loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let held = self.in_hand().len();
            if held < most {
                break most - held;
            }
            ended.await;
        };
        let events = self.store.events_after(read, u32::try_from(room).unwrap_or(u32::MAX)).await?;
        let n = events.len();
        if let Some(last) = events.last() {
            self.read = Some(last.seq);
        }
        self.last_of.retain(|_, ended| ended.peek().is_none());
        for e in events {
            self.start(e);
        }
        let read = self.read.unwrap_or(read);
        let low = self.in_hand().first().map_or(read, |first| first - 1);
        if low > self.saved {
            self.store.set_consumer_position(&name, low).await?;
            self.saved = low;
        }
        metrics::gauge!("innkeep_consumer_lag_events", "consumer" => name).set((read - low) as f64);
        // A read that filled the room may have more behind it: the follower reads again at once.
        Ok(if n == room { self.opts.batch as usize } else { n })
    }
}

/// Run a consumer until `stop` turns true: drain, then wait for a commit or the poll
/// interval. An idempotent consumer that overlaps events runs as a [`Pipeline`].
pub async fn run_consumer(
    store: Arc<dyn Store>,
    consumer: Arc<dyn Consumer>,
    commits: Arc<Notify>,
    opts: ConsumerOptions,
    stop: watch::Receiver<bool>,
) {
    let follow_opts = FollowOptions { batch: opts.batch as usize, poll: opts.poll, linger: opts.linger };
    if consumer.idempotent() && consumer.concurrency() > 1 {
        follow(Pipeline::new(store, consumer, opts), commits, follow_opts, stop).await;
    } else {
        follow(ConsumerFollower { store, consumer, opts }, commits, follow_opts, stop).await;
    }
}

/// Hand a consumer's dead letters to it again; those it now handles are removed.
/// Returns (handled, still failing).
pub async fn replay_dead_letters(store: &dyn Store, consumer: &dyn Consumer) -> Result<(usize, usize), StoreError> {
    let (mut ok, mut failed) = (0, 0);
    for letter in store.dead_letters(Some(consumer.name())).await? {
        let Some(event) = store.event(letter.event_id).await? else { continue };
        match consumer.handle(&event).await {
            Ok(()) => {
                store.mark_processed(consumer.name(), letter.event_id).await?;
                store.remove_dead_letter(consumer.name(), letter.event_id).await?;
                ok += 1;
            }
            Err(error) => {
                let error = error_text(error.as_ref());
                store.add_dead_letter(&DeadLetter { error, attempts: letter.attempts + 1, ..letter }).await?;
                failed += 1;
            }
        }
    }
    Ok((ok, failed))
}

/// Counts events by type into `innkeep_events_total{type}`: the embedded bus's own
/// consumer, and the simplest example of one.
pub struct EventCounter;

#[async_trait]
impl Consumer for EventCounter {
    fn name(&self) -> &str {
        "event-counter"
    }

    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError> {
        metrics::counter!("innkeep_events_total", "type" => event.event.kind.as_str()).increment(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_app::event::{Event, EventKind};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Waits a little on every event (as a provider call does), and records the order it
    /// finished them in and how many it had in hand at once; fails events named in `poison`.
    struct Slow {
        finished: Mutex<Vec<i64>>,
        in_hand: AtomicUsize,
        most_in_hand: AtomicUsize,
        poison: Vec<i64>,
    }

    #[async_trait]
    impl Consumer for Slow {
        fn name(&self) -> &str {
            "slow"
        }
        fn idempotent(&self) -> bool {
            true
        }
        fn concurrency(&self) -> usize {
            4
        }
        async fn handle(&self, e: &StoredEvent) -> Result<(), HandleError> {
            let now = self.in_hand.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_hand.fetch_max(now, Ordering::SeqCst);
            // Later events of an aggregate finish sooner, so only the runner keeps them in order.
            tokio::time::sleep(Duration::from_millis(40 - 3 * (e.seq as u64 % 10))).await;
            self.in_hand.fetch_sub(1, Ordering::SeqCst);
            if self.poison.contains(&e.seq) {
                return Err(format!("poison {}", e.seq).into());
            }
            self.finished.lock().map_err(|_| "poisoned lock")?.push(e.seq);
            Ok(())
        }
    }

    fn event(seq: i64, aggregate: uuid::Uuid) -> StoredEvent {
        let event = Event {
            id: innkeep_core::EventId(uuid::Uuid::now_v7()),
            kind: EventKind::UserRegistered,
            version: 1,
            occurred_at: jiff::Timestamp::UNIX_EPOCH,
            tenant_id: None,
            aggregate_id: aggregate,
            payload: serde_json::Value::Null,
        };
        StoredEvent { seq, event }
    }

    #[tokio::test]
    async fn an_overlapping_consumer_keeps_each_aggregates_events_in_order_and_reports_failures() {
        let aggregates: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
        // Nine events over three aggregates, interleaved: 1, 4, 7 are the first aggregate's.
        let events: Vec<StoredEvent> = (1..=9).map(|seq| event(seq, aggregates[(seq as usize - 1) % 3])).collect();
        let c = Slow {
            finished: Mutex::new(Vec::new()),
            in_hand: AtomicUsize::new(0),
            most_in_hand: AtomicUsize::new(0),
            poison: vec![8, 5],
        };
        let opts = ConsumerOptions { max_attempts: 2, first_backoff: Duration::from_millis(1), ..Default::default() };
        let failed = overlapped(&c, &events, &opts).await;
        let failed: Vec<(i64, u32)> = failed.iter().map(|(i, _, attempts)| (events[*i].seq, *attempts)).collect();
        assert_eq!(failed, vec![(5, 2), (8, 2)], "failures come back in outbox order, after every attempt");
        let finished = c.finished.lock().map(|f| f.clone()).unwrap_or_default();
        assert_eq!(finished.len(), 7);
        for chain in [[1, 4, 7], [2, 5, 8], [3, 6, 9]] {
            let order: Vec<i64> = finished.iter().copied().filter(|s| chain.contains(s)).collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "one aggregate's events are handled in order");
        }
        assert_eq!(c.most_in_hand.load(Ordering::SeqCst), 3, "the three aggregates overlap, one event each at a time");
    }
}
