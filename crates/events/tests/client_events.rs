//! The client event log compacts closed segments (repeated ids dropped, gzip) and expires
//! old ones; the JetStream sink stores every event of a batch once, even sent twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use innkeep_app::ingest::{ClientEvent, ClientEventSink, EncodedBatch};
use innkeep_events::client_stream::{ClientStream, ClientStreamOptions};
use innkeep_events::log::{EventLog, LogOptions};
use std::collections::HashSet;
use std::time::Duration;

fn event(i: usize) -> ClientEvent {
    ClientEvent {
        id: uuid::Uuid::now_v7(),
        kind: ["search", "view", "click", "funnel"][i % 4].into(),
        client_id: format!("client-{i}"),
        user_id: None,
        occurred_at: "2027-01-04T09:00:00Z".parse().unwrap(),
        received_at: "2027-01-04T10:00:00Z".parse().unwrap(),
        property_id: None,
        data: serde_json::json!({"i": i}),
    }
}

fn options(dir: &std::path::Path, compact: bool) -> LogOptions {
    LogOptions { dir: dir.to_path_buf(), segment_bytes: 4096, retention: Duration::from_secs(3600), compact }
}

#[test]
fn closed_segments_are_compacted_without_repeated_ids_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(options(dir.path(), true)).unwrap();
    let events: Vec<ClientEvent> = (0..300).map(event).collect();
    // Every batch of 10 is sent twice (a client retrying after a lost answer).
    for chunk in events.chunks(10) {
        let batch = EncodedBatch::from_events(chunk).unwrap();
        log.append_sync(&batch).unwrap();
        log.append_sync(&batch).unwrap();
    }
    log.maintain_now().unwrap();
    let segments = EventLog::segments(dir.path()).unwrap();
    assert!(segments.len() > 3, "small segments rotate: {segments:?}");
    let (closed, open) = segments.split_at(segments.len() - 1);
    assert!(closed.iter().all(|s| s.compacted && s.path.extension().unwrap() == "gz"), "{segments:?}");
    assert!(!open[0].compacted, "the segment being written is left alone");
    let plain: u64 = closed.iter().map(|s| std::fs::metadata(&s.path).unwrap().len()).sum();
    assert!(plain < 4096 * closed.len() as u64 / 2, "gzip and dedupe at least halve the closed segments");

    let stored = EventLog::read_all(dir.path()).unwrap();
    let ids: HashSet<_> = stored.iter().map(|e| e.id).collect();
    assert_eq!(ids, events.iter().map(|e| e.id).collect::<HashSet<_>>(), "every event is kept");
    let closed_ids: Vec<_> = closed.iter().flat_map(|s| EventLog::read_segment(s).unwrap()).collect();
    let distinct: HashSet<_> = closed_ids.iter().collect();
    assert_eq!(distinct.len(), closed_ids.len(), "no event twice in the compacted segments");
    let first: Vec<ClientEvent> = stored.iter().filter(|e| e.id == events[0].id).cloned().collect();
    assert_eq!(first, vec![events[0].clone()], "an event reads back as written");

    // Reopening continues after the compacted segments, and a torn last line is cut off.
    drop(log);
    let current = &open[0].path;
    let mut text = std::fs::read(current).unwrap();
    text.extend_from_slice(br#"{"id":"torn"#);
    std::fs::write(current, &text).unwrap();
    let log = EventLog::open(options(dir.path(), true)).unwrap();
    log.append_sync(&EncodedBatch::from_events(&[event(1000)]).unwrap()).unwrap();
    assert_eq!(EventLog::read_all(dir.path()).unwrap().len(), stored.len() + 1);
}

#[test]
fn segments_past_retention_are_removed_compacted_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), false);
    let log = EventLog::open(opts.clone()).unwrap();
    for chunk in (0..200).map(event).collect::<Vec<_>>().chunks(10) {
        log.append_sync(&EncodedBatch::from_events(chunk).unwrap()).unwrap();
    }
    drop(log);
    opts.compact = true;
    let log = EventLog::open(opts.clone()).unwrap();
    log.maintain_now().unwrap();
    let before = EventLog::segments(dir.path()).unwrap();
    assert!(before.iter().filter(|s| s.compacted).count() > 2);
    // Age the oldest two segments past the retention period (a compacted file keeps the age
    // of its events).
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    for s in &before[..2] {
        std::fs::File::options().write(true).open(&s.path).unwrap().set_modified(old).unwrap();
    }
    log.maintain_now().unwrap();
    let after = EventLog::segments(dir.path()).unwrap();
    assert_eq!(after.len(), before.len() - 2);
    assert!(!after.iter().any(|s| before[..2].iter().any(|b| b.number == s.number)));
}

fn nats_url() -> Option<String> {
    innkeep_store::testing::server_url("INNKEEP_TEST_NATS_URL")
}

#[tokio::test]
async fn the_jetstream_sink_stores_each_event_once_on_its_type_subject() {
    let Some(url) = nats_url() else { return };
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let opts = ClientStreamOptions {
        url,
        stream: format!("INNKEEP_TEST_CLIENT_{tag}"),
        subject_prefix: format!("test.{tag}.client"),
        max_age: Duration::from_secs(3600),
    };
    let sink = ClientStream::connect(&opts).await.unwrap();
    let events: Vec<ClientEvent> = (0..250).map(event).collect();
    let batch = EncodedBatch::from_events(&events).unwrap();
    sink.append(batch.clone()).await.unwrap();
    // Sent again (a retry): JetStream drops the repeated message ids.
    sink.append(batch).await.unwrap();
    let js = sink.jetstream();
    let mut stream = js.get_stream(&opts.stream).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 250);
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: format!("{}.view", opts.subject_prefix),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut msgs = consumer.fetch().max_messages(1000).expires(Duration::from_secs(2)).messages().await.unwrap();
    let mut views = Vec::new();
    while let Some(m) = msgs.next().await {
        let m = m.unwrap();
        let e: ClientEvent = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(m.headers.as_ref().unwrap().get("Nats-Msg-Id").unwrap().as_str(), e.id.to_string());
        views.push(e);
    }
    let expected: Vec<ClientEvent> = events.iter().filter(|e| e.kind == "view").cloned().collect();
    assert_eq!(views, expected, "the view events, in order, as sent");
    js.delete_stream(&opts.stream).await.unwrap();
}
