//! `kill -9` of a real `innkeep serve` in the middle of relaying, under a steady stream of
//! bookings and state changes, then a restart: every committed outbox event reaches
//! JetStream (once per event id, no gaps), and the durable consumer acts once per event:
//! the restarted process handles exactly the events the killed one had not recorded.

use crate::common;

use common::{Reply, post_json as post, wait_ready};
use futures::StreamExt;
use innkeep_app::store::Outbox;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const COUNTER: &str = "event-counter";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process, killed when dropped (so a failing test leaves none behind).
struct Node(Child);

impl Node {
    fn kill_9(&mut self) {
        self.0.kill().expect("kill -9");
        self.0.wait().expect("reaped");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &std::path::Path, port: u16, env: &[(String, String)]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_innkeep"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Node(cmd.spawn().expect("innkeep starts"))
}

/// A host's room type with plenty of units, and a guest's token.
async fn setup(client: &reqwest::Client, api: &str) -> (String, String) {
    let mut tokens = Vec::new();
    for role in ["host", "guest"] {
        let email = format!("{role}@example.com");
        let body = json!({"email": email, "password": "correct horse battery", "name": "T", "role": role});
        post(client, format!("{api}/users"), None, body).await;
        let s =
            post(client, format!("{api}/sessions"), None, json!({"email": email, "password": "correct horse battery"}))
                .await;
        tokens.push(s.body["token"].as_str().expect("token").to_string());
    }
    let p = post(client, format!("{api}/properties"), Some(&tokens[0]), common::property_body("flexible")).await;
    let pid = p.body["id"].as_str().expect("id");
    let rt = post(client, format!("{api}/properties/{pid}/room-types"), Some(&tokens[0]), common::room_type_body(1000))
        .await;
    (rt.body["id"].as_str().expect("id").to_string(), tokens[1].clone())
}

/// Book, confirm and cancel from `clients` tasks until stopped; returns the bookings answered 201.
fn load(
    client: reqwest::Client,
    api: String,
    room_type: String,
    guest: String,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    (0..clients)
        .map(|c| {
            let (client, api, room_type, guest, stop) =
                (client.clone(), api.clone(), room_type.clone(), guest.clone(), stop.clone());
            tokio::spawn(async move {
                let mut booked = Vec::new();
                let mut i = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let ci = today.checked_add(jiff::Span::new().days(10 + (i * 7 + c as i64) % 300)).unwrap();
                    let co = ci.checked_add(jiff::Span::new().days(1)).unwrap();
                    let body = common::booking_body(&room_type, &ci.to_string(), &co.to_string());
                    let Ok(r) = client.post(format!("{api}/bookings")).bearer_auth(&guest).json(&body).send().await
                    else {
                        // The server is down (killed, not yet restarted).
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let r = Reply::from(r).await;
                    if r.status != 201 {
                        continue;
                    }
                    let id = r.body["id"].as_str().unwrap().to_string();
                    let action = ["confirm", "cancel", ""][(i % 3) as usize];
                    if !action.is_empty() {
                        let _ = client.post(format!("{api}/bookings/{id}/{action}")).bearer_auth(&guest).send().await;
                    }
                    booked.push(id);
                }
                booked
            })
        })
        .collect()
}

async fn open_store(dir: &std::path::Path) -> innkeep_store::SqlStore {
    innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir))).await.unwrap()
}

/// Wait until the named positions reach the end of the outbox (read from the database).
async fn caught_up(store: &innkeep_store::SqlStore, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let last = store.last_event_seq().await.unwrap();
        let mut behind = Vec::new();
        for n in names {
            let p = store.consumer_position(n).await.unwrap();
            if p < last {
                behind.push((n.to_string(), last - p));
            }
        }
        if behind.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "consumers did not catch up: {behind:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events_handled_by_this_process(client: &reqwest::Client, base: &str) -> u64 {
    let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("innkeep_events_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

/// A TCP proxy to NATS that can withhold everything the server sends (acks included).
struct Proxy {
    port: u16,
    stalled: Arc<AtomicBool>,
}

async fn proxy(upstream: String) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { continue };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
            let flag = flag.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    while flag.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    while flag.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Proxy { port, stalled }
}

struct Nats {
    stream: String,
    js: async_nats::jetstream::Context,
}

async fn stream_count(nats: &Nats) -> u64 {
    let mut s = nats.js.get_stream(&nats.stream).await.unwrap();
    s.info().await.unwrap().state.messages
}

/// The event ids in the stream, in stream order.
async fn stream_ids(nats: &Nats) -> Vec<String> {
    let stream = nats.js.get_stream(&nats.stream).await.unwrap();
    let n = stream_count(nats).await as usize;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    while ids.len() < n {
        let mut batch = consumer.fetch().max_messages(1000).expires(Duration::from_secs(2)).messages().await.unwrap();
        let before = ids.len();
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            let e: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            ids.push(e["id"].as_str().unwrap().to_string());
        }
        assert!(ids.len() > before, "the stream holds {n} messages but only {before} could be read");
    }
    ids
}

fn nats_url() -> Option<String> {
    innkeep_store::testing::server_url("INNKEEP_TEST_NATS_URL")
}

/// The checks after the restarted server caught up: every booking answered 201 has its
/// event in the outbox; the counter recorded every event, and the restarted process handled
/// none that the killed one had recorded.
async fn check_consumer(
    store: &innkeep_store::SqlStore,
    booked: &[String],
    recorded_at_kill: &HashSet<String>,
    client: &reqwest::Client,
    base: &str,
) -> Vec<String> {
    let outbox = store.events_after(0, 1_000_000).await.unwrap();
    let held: HashSet<String> = outbox
        .iter()
        .filter(|e| e.event.kind == innkeep_app::event::EventKind::BookingHeld)
        .map(|e| e.event.aggregate_id.to_string())
        .collect();
    for b in booked {
        assert!(held.contains(b), "booking {b} was answered 201, so its event was committed");
    }
    let ids: Vec<String> = outbox.iter().map(|e| e.event.id.to_string()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "event ids are unique");
    for e in &outbox {
        assert!(store.was_processed(COUNTER, e.event.id).await.unwrap(), "event {} was handled", e.seq);
    }
    assert!(store.dead_letters(Some(COUNTER)).await.unwrap().is_empty());
    let not_recorded = ids.iter().filter(|id| !recorded_at_kill.contains(*id)).count() as u64;
    // The counter metric moves just after the consumer records its position: wait for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut handled_after_restart = events_handled_by_this_process(client, base).await;
    while handled_after_restart < not_recorded && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        handled_after_restart = events_handled_by_this_process(client, base).await;
    }
    // Every event is recorded as handled (checked above); the restarted process must not
    // have handled again any event the killed one had recorded.
    assert!(
        handled_after_restart <= not_recorded,
        "the restarted process handled {handled_after_restart} events, more than the {not_recorded} the killed one had not recorded"
    );
    ids
}

async fn recorded(store: &innkeep_store::SqlStore) -> HashSet<String> {
    let mut out = HashSet::new();
    for e in store.events_after(0, 1_000_000).await.unwrap() {
        if store.was_processed(COUNTER, e.event.id).await.unwrap() {
            out.insert(e.event.id.to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_relaying_to_jetstream_loses_no_event_and_consumers_act_once() {
    let Some(url) = nats_url() else { return };
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let nats = Nats {
        stream: format!("INNKEEP_CRASH_{tag}"),
        js: async_nats::jetstream::new(async_nats::connect(&url).await.unwrap()),
    };
    let upstream = url.trim_start_matches("nats://").to_string();
    let proxy = proxy(upstream).await;
    let bus = |url: String| {
        vec![
            ("INNKEEP_BUS__URL".to_string(), url),
            ("INNKEEP_BUS__STREAM".to_string(), nats.stream.clone()),
            ("INNKEEP_BUS__SUBJECT_PREFIX".to_string(), format!("crash.{tag}")),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::new();
    let mut child = start(dir.path(), port, &bus(format!("nats://127.0.0.1:{}", proxy.port)));
    wait_ready(&client, &base).await;
    let (room_type, guest) = setup(&client, &api).await;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = load(client.clone(), api.clone(), room_type, guest, 4, stop.clone());

    // Relaying works, then NATS's answers (the acks) are withheld while bookings go on:
    // the relay has published events it cannot record as relayed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while stream_count(&nats).await < 20 {
        assert!(Instant::now() < deadline, "the relay published nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.stalled.store(true, Ordering::Relaxed);
    let at_stall = stream_count(&nats).await;
    while stream_count(&nats).await <= at_stall {
        assert!(Instant::now() < deadline, "the relay published nothing while its acks were withheld");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill_9();

    let store = open_store(dir.path()).await;
    let relayed = store.consumer_position(innkeep_events::nats::RELAY).await.unwrap();
    let last = store.last_event_seq().await.unwrap();
    assert!(relayed < last, "killed with events pending: relayed up to {relayed} of {last}");
    let relayed_count = store.events_after(0, 1_000_000).await.unwrap().iter().filter(|e| e.seq <= relayed).count();
    assert!(
        stream_count(&nats).await > relayed_count as u64,
        "killed in the middle of relaying: events in the stream that the relay had not recorded"
    );
    let recorded_at_kill = recorded(&store).await;
    store.close().await;

    // Restart (NATS answering again); bookings go on, then stop.
    proxy.stalled.store(false, Ordering::Relaxed);
    let mut child = start(dir.path(), port, &bus(url.clone()));
    wait_ready(&client, &base).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let booked: Vec<String> = futures::future::join_all(tasks).await.into_iter().flat_map(|t| t.unwrap()).collect();
    assert!(booked.len() > 20, "a steady stream of bookings: {}", booked.len());

    let store = open_store(dir.path()).await;
    caught_up(&store, &[innkeep_events::nats::RELAY, COUNTER]).await;
    let outbox = check_consumer(&store, &booked, &recorded_at_kill, &client, &base).await;
    store.close().await;

    let in_stream = stream_ids(&nats).await;
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in &in_stream {
        *counts.entry(id).or_default() += 1;
    }
    for id in &outbox {
        assert_eq!(counts.get(id).copied(), Some(1), "event {id} is in the stream once");
    }
    assert_eq!(in_stream.len(), outbox.len(), "nothing but the outbox's events in the stream");
    let order: Vec<&String> = in_stream.iter().collect();
    assert_eq!(order, outbox.iter().collect::<Vec<_>>(), "in outbox order");

    child.kill_9();
    nats.js.delete_stream(&nats.stream).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_on_the_embedded_bus_loses_no_event_and_consumers_act_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::new();
    let mut child = start(dir.path(), port, &[]);
    wait_ready(&client, &base).await;
    let (room_type, guest) = setup(&client, &api).await;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = load(client.clone(), api.clone(), room_type.clone(), guest.clone(), 6, stop.clone());

    // Kill while the consumer is behind the outbox; a round where it happened to be caught
    // up does not count, and the test fails if that is all it ever sees.
    let mut pending_at_kill = false;
    let mut recorded_at_kill = HashSet::new();
    for _round in 0..5 {
        let store = open_store(dir.path()).await;
        let start_seq = store.last_event_seq().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while store.last_event_seq().await.unwrap() < start_seq + 60 {
            assert!(Instant::now() < deadline, "no steady stream of events");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        store.close().await;
        child.kill_9();
        let store = open_store(dir.path()).await;
        let last = store.last_event_seq().await.unwrap();
        pending_at_kill = store.consumer_position(COUNTER).await.unwrap() < last;
        recorded_at_kill = recorded(&store).await;
        store.close().await;
        child = start(dir.path(), port, &[]);
        wait_ready(&client, &base).await;
        if pending_at_kill {
            break;
        }
    }
    assert!(pending_at_kill, "the server was killed with events still to handle");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let booked: Vec<String> = futures::future::join_all(tasks).await.into_iter().flat_map(|t| t.unwrap()).collect();
    assert!(booked.len() > 20, "a steady stream of bookings: {}", booked.len());

    let store = open_store(dir.path()).await;
    caught_up(&store, &[COUNTER]).await;
    check_consumer(&store, &booked, &recorded_at_kill, &client, &base).await;
    store.close().await;
    child.kill_9();
}
