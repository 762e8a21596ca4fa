//! Consumers retry, park dead letters, replay them and act once per event; the NATS relay
//! delivers every committed event after a crash, once per event id in the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use futures::StreamExt;
use innkeep_app::Store;
use innkeep_app::event::{Event, StoredEvent};
use innkeep_app::store::Outbox;
use innkeep_app::store::{NewUser, User};
use innkeep_core::{Email, EventId, Role, UserId};
use innkeep_events::nats::{NatsOptions, NatsRelay, RELAY};
use innkeep_events::{Consumer, ConsumerOptions, replay_dead_letters, run_consumer, run_once};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

async fn store() -> (innkeep_store::SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s =
        innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir.path()))).await.unwrap();
    innkeep_store::migrate(&s).await.unwrap();
    (s, dir)
}

async fn write_events(store: &dyn Store, n: usize) {
    for _ in 0..n {
        write_event_of(store, uuid::Uuid::now_v7()).await;
    }
}

/// Counts how often it saw each event; fails the first `fail_first` tries of every event,
/// or always for events whose position is in `poison`.
struct Recorder {
    seen: Mutex<HashMap<EventId, u32>>,
    fail_first: u32,
    poison: Mutex<Vec<i64>>,
}

#[async_trait]
impl Consumer for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    async fn handle(&self, e: &StoredEvent) -> Result<(), innkeep_app::event::HandleError> {
        let mut seen = self.seen.lock().unwrap();
        let n = seen.entry(e.event.id).or_insert(0);
        *n += 1;
        if self.poison.lock().unwrap().contains(&e.seq) {
            return Err(format!("poison event {}", e.seq).into());
        }
        if *n <= self.fail_first { Err("transient".into()) } else { Ok(()) }
    }
}

fn opts() -> ConsumerOptions {
    ConsumerOptions { max_attempts: 3, first_backoff: Duration::from_millis(1), ..ConsumerOptions::default() }
}

#[tokio::test]
async fn a_consumer_retries_parks_dead_letters_and_replays_them() {
    let (store, _dir) = store().await;
    write_events(&store, 5).await;
    let c = Recorder { seen: Mutex::new(HashMap::new()), fail_first: 2, poison: Mutex::new(vec![3]) };
    assert_eq!(run_once(&store, &c, &opts()).await.unwrap(), 5);
    assert_eq!(store.consumer_position("recorder").await.unwrap(), 5, "the position moves past a dead letter");
    let dead = store.dead_letters(Some("recorder")).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].seq, dead[0].attempts), (3, 3));
    assert!(dead[0].error.contains("poison"));
    let tries: Vec<u32> = { c.seen.lock().unwrap().values().copied().collect() };
    assert!(tries.iter().all(|t| *t == 3), "two failures then success, or three failures: {tries:?}");

    c.poison.lock().unwrap().clear();
    assert_eq!(replay_dead_letters(&store, &c).await.unwrap(), (1, 0));
    assert!(store.dead_letters(Some("recorder")).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_consumer_acts_once_per_event_even_if_its_position_is_lost() {
    let (store, _dir) = store().await;
    write_events(&store, 4).await;
    let c = Recorder { seen: Mutex::new(HashMap::new()), fail_first: 0, poison: Mutex::new(vec![]) };
    run_once(&store, &c, &opts()).await.unwrap();
    // A crash after handling but before saving the position replays the events ...
    store.set_consumer_position("recorder", 0).await.unwrap();
    write_events(&store, 2).await;
    run_once(&store, &c, &opts()).await.unwrap();
    // ... and the runner does not hand them to the consumer again.
    let seen = c.seen.lock().unwrap();
    assert_eq!(seen.len(), 6);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}

/// Write one event of `aggregate` (a user's registration, told as the aggregate's).
async fn write_event_of(store: &dyn Store, aggregate: uuid::Uuid) {
    let now = jiff::Timestamp::now();
    let user = User {
        id: UserId(uuid::Uuid::now_v7()),
        email: Email::parse(&format!("g-{}@example.com", uuid::Uuid::now_v7().simple())).unwrap(),
        name: "G".into(),
        role: Role::Guest,
        tenant_id: None,
        staff_role: None,
        created_at: now,
        locale: Default::default(),
        currency: None,
    };
    let registered = innkeep_app::event::UserRegistered { user_id: user.id, role: user.role };
    let e = Event::new(&innkeep_app::event::Change::UserRegistered(registered), now, None, aggregate);
    store.create_user(&NewUser { user, password_hash: "x".into(), tenant_name: None }, &e).await.unwrap();
}

/// Overlaps events (idempotent, four at once): event 1 waits until event 3 was handled;
/// event 4 always fails. Records the order events ended in.
struct Gate {
    first_in_hand: std::sync::atomic::AtomicBool,
    opened: tokio::sync::Semaphore,
    ended: Mutex<Vec<i64>>,
}

#[async_trait]
impl Consumer for Gate {
    fn name(&self) -> &str {
        "gate"
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn concurrency(&self) -> usize {
        4
    }
    async fn handle(&self, e: &StoredEvent) -> Result<(), innkeep_app::event::HandleError> {
        match e.seq {
            1 => {
                self.first_in_hand.store(true, std::sync::atomic::Ordering::SeqCst);
                let opened = tokio::time::timeout(Duration::from_secs(20), self.opened.acquire()).await;
                opened.map_err(|_| "event 3 was never handled while event 1 waited")??.forget();
            }
            4 => return Err("poison".into()),
            _ => {}
        }
        self.ended.lock().unwrap().push(e.seq);
        if e.seq == 3 {
            self.opened.add_permits(1);
        }
        Ok(())
    }
}

/// Wait (at most 20 s) until `done` holds.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..2000 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn an_overlapping_consumer_starts_an_event_committed_while_others_are_in_hand() {
    let (store, _dir) = store().await;
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
    let (a, b, c) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    write_event_of(store.as_ref(), a).await;
    write_event_of(store.as_ref(), a).await;
    let gate = std::sync::Arc::new(Gate {
        first_in_hand: Default::default(),
        opened: tokio::sync::Semaphore::new(0),
        ended: Mutex::new(Vec::new()),
    });
    let commits = std::sync::Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let opts = ConsumerOptions { max_attempts: 1, ..opts() };
    let running = tokio::spawn(run_consumer(store.clone(), gate.clone(), commits.clone(), opts, stopped));
    eventually("event 1 is in hand", async || gate.first_in_hand.load(std::sync::atomic::Ordering::SeqCst)).await;
    // Event 1 waits for event 3, which is committed only now: read batch by batch, event 3
    // would wait for the batch of events 1 and 2 to end, which never happens.
    write_event_of(store.as_ref(), b).await;
    write_event_of(store.as_ref(), c).await;
    commits.notify_waiters();
    eventually("events 1 to 3 ended", async || gate.ended.lock().unwrap().len() == 3).await;
    assert_eq!(*gate.ended.lock().unwrap(), vec![3, 1, 2], "event 2 waited for event 1, its aggregate's");
    eventually("event 4 parked", async || !store.dead_letters(Some("gate")).await.unwrap().is_empty()).await;
    let dead = store.dead_letters(Some("gate")).await.unwrap();
    assert_eq!((dead.len(), dead[0].seq), (1, 4));
    commits.notify_waiters();
    eventually("the position passed every ended event", async || {
        commits.notify_waiters();
        store.consumer_position("gate").await.unwrap() == 4
    })
    .await;
    stop.send_replace(true);
    running.await.unwrap();
}

fn nats_url() -> Option<String> {
    innkeep_store::testing::server_url("INNKEEP_TEST_NATS_URL")
}

async fn stream_ids(relay: &NatsRelay, stream: &str) -> Vec<String> {
    let mut s = relay.jetstream().get_stream(stream).await.unwrap();
    let n = s.info().await.unwrap().state.messages;
    let consumer = s
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut msgs = consumer.fetch().max_messages(n as usize).expires(Duration::from_secs(2)).messages().await.unwrap();
    let mut ids = Vec::new();
    while let Some(m) = msgs.next().await {
        let m = m.unwrap();
        let e: Event = serde_json::from_slice(&m.payload).unwrap();
        ids.push(e.id.to_string());
    }
    ids
}

#[tokio::test]
async fn the_nats_relay_resumes_after_a_crash_without_duplicates_in_the_stream() {
    let Some(url) = nats_url() else { return };
    let (store, _dir) = store().await;
    let name = format!("INNKEEP_TEST_{}", uuid::Uuid::now_v7().simple());
    let opts =
        NatsOptions { url, stream: name.clone(), subject_prefix: format!("test.{}", uuid::Uuid::now_v7().simple()) };
    let relay = NatsRelay::connect(opts.clone()).await.unwrap();
    write_events(&store, 30).await;
    assert_eq!(relay.relay_once(&store, 10).await.unwrap(), 10);
    // Crash: the relay published 10 more but died before saving its position.
    let saved = store.consumer_position(RELAY).await.unwrap();
    relay.relay_once(&store, 10).await.unwrap();
    store.set_consumer_position(RELAY, saved).await.unwrap();
    drop(relay);
    let relay = NatsRelay::connect(opts).await.unwrap();
    while relay.relay_once(&store, 7).await.unwrap() > 0 {}
    let ids = stream_ids(&relay, &name).await;
    let outbox: Vec<String> =
        store.events_after(0, 1000).await.unwrap().iter().map(|e| e.event.id.to_string()).collect();
    assert_eq!(ids, outbox, "every committed event once, in outbox order");
    relay.jetstream().delete_stream(&name).await.unwrap();
}
