//! `innkeep bench ingest`: client events/s over HTTP (`POST /api/v1/events`) into the
//! embedded log and into NATS JetStream, each against a real `innkeep serve` process, beside
//! the references measured in the same run: the same encoded events appended to the log in
//! process, the whole use case (parse, validate, encode, append) in process, and raw
//! JetStream publishing of the same payloads (same subjects, a message id each, acks awaited
//! per batch, same concurrency) from this process.

use super::{Figure, drive, serve};
use anyhow::Context;
use async_trait::async_trait;
use innkeep_app::ingest::{ClientEventSink, EncodedBatch, ingest};
use innkeep_events::client_stream::{ClientStreamOptions, publish_batch};
use innkeep_events::log::{EventLog, LogOptions};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct IngestBenchOptions {
    pub seconds: u64,
    pub concurrency: usize,
    pub batch: usize,
    /// NATS JetStream to measure against; empty skips the JetStream figures.
    pub nats_url: String,
}

/// Distinct bodies to rotate through, each from its own client id, so the per-client rate
/// limit (50 batches/s) is not what is measured.
const BODIES: usize = 256;

/// `count` JSON-array batches of `size` events, batch `k` all from client `bench-k`.
pub fn bodies(count: usize, size: usize, today: jiff::civil::Date) -> Vec<bytes::Bytes> {
    let at = format!("{today}T00:00:00Z");
    (0..count)
        .map(|k| {
            let items: Vec<serde_json::Value> = (0..size)
                .map(|i| {
                    let kind = ["search", "view", "click", "funnel"][i % 4];
                    json!({"type": kind, "client_id": format!("bench-{k}"), "occurred_at": at,
                        "data": {"q": "lisbon", "page": i % 5}})
                })
                .collect();
            bytes::Bytes::from(serde_json::Value::Array(items).to_string())
        })
        .collect()
}

/// POST the bodies round-robin from `concurrency` clients for `seconds`; events/s answered 202.
pub async fn drive_http(
    client: &reqwest::Client,
    base: &str,
    bodies: Arc<Vec<bytes::Bytes>>,
    batch: usize,
    concurrency: usize,
    seconds: u64,
) -> (f64, u64, u64) {
    let seq = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let url = format!("{base}/api/v1/events");
    let stats = drive(concurrency, seconds, {
        let (client, url, bodies, seq) = (client.clone(), url.clone(), bodies.clone(), seq.clone());
        move || {
            let (client, url, bodies, seq) = (client.clone(), url.clone(), bodies.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let body = bodies[k % bodies.len()].clone();
                let r = client.post(url).header("content-type", "application/json").body(body).send().await;
                match r {
                    Ok(r) if r.status() == 202 => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        }
    })
    .await;
    (stats.ok as f64 * batch as f64 / stats.elapsed.as_secs_f64(), stats.ok, stats.failed)
}

/// Keeps what the use case hands it (to get the encoded batches).
#[derive(Default)]
struct Capture(Mutex<Vec<EncodedBatch>>);

#[async_trait]
impl ClientEventSink for Capture {
    async fn append(&self, batch: EncodedBatch) -> Result<(), innkeep_app::ingest::SinkError> {
        self.0.lock().map_err(|e| innkeep_app::ingest::SinkError::Failed(e.to_string()))?.push(batch);
        Ok(())
    }
}

/// The bodies as the use case encodes them.
async fn encoded(bodies: &[bytes::Bytes]) -> anyhow::Result<Vec<EncodedBatch>> {
    let capture = Capture::default();
    for b in bodies {
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(b)?;
        let items: Vec<&str> = items.iter().map(|i| i.get()).collect();
        ingest(&capture, None, &items, jiff::Timestamp::now()).await?;
    }
    let batches = capture.0.lock().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    Ok(batches)
}

fn log_options(dir: &std::path::Path) -> LogOptions {
    LogOptions {
        dir: dir.to_path_buf(),
        segment_bytes: 64 * 1024 * 1024,
        retention: Duration::from_secs(3600),
        compact: true,
    }
}

/// The encoded batches appended straight to a log for `seconds`; events/s.
fn raw_log(dir: &std::path::Path, batches: &[EncodedBatch], seconds: u64) -> anyhow::Result<f64> {
    let log = EventLog::open(log_options(dir))?;
    let (start, mut n) = (Instant::now(), 0u64);
    let mut k = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let b = &batches[k % batches.len()];
        log.append_sync(b)?;
        n += b.items.len() as u64;
        k += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The whole use case in process (parse the body, validate, encode, append), one task; events/s.
async fn in_process(dir: &std::path::Path, bodies: &[bytes::Bytes], seconds: u64) -> anyhow::Result<f64> {
    let log = EventLog::open(log_options(dir))?;
    let (start, mut n) = (Instant::now(), 0u64);
    let mut k = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let raw: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&bodies[k % bodies.len()])?;
        let items: Vec<&str> = raw.iter().map(|i| i.get()).collect();
        n += ingest(&log, None, &items, jiff::Timestamp::now()).await?.accepted as u64;
        k += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Run the ingestion benchmark and print a Markdown table of the figures.
pub async fn run(opts: IngestBenchOptions) -> anyhow::Result<Vec<Figure>> {
    let dir = super::tempfile_dir()?;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let bodies = Arc::new(bodies(BODIES, opts.batch, today));
    let batches = encoded(&bodies).await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    println!(
        "# innkeep bench ingest: batches of {} events ({} bytes), {} clients, {} s per phase",
        opts.batch,
        bodies[0].len(),
        opts.concurrency,
        opts.seconds
    );
    let mut figures = Vec::new();

    // 1. HTTP into the embedded log.
    let (server, base) = serve(&dir.join("log-node"), &[]).await?;
    let (http_log, ok, failed) =
        drive_http(&client, &base, bodies.clone(), opts.batch, opts.concurrency, opts.seconds).await;
    let rss = super::peak_rss_mib(server.0.id());
    drop(server);
    let stored = EventLog::count(&dir.join("log-node").join("client-events"))?;
    let raw = raw_log(&dir.join("raw-log"), &batches, opts.seconds)?;
    let whole = in_process(&dir.join("in-process-log"), &bodies, opts.seconds).await?;
    figures.push(Figure {
        name: format!("client events/s into the embedded log over HTTP (batches of {})", opts.batch),
        innkeep: format!(
            "{http_log:.0}/s ({ok} batches answered 202, {failed} not; {stored} events in the log; peak RSS {:.0} MiB)",
            rss.unwrap_or(0.0)
        ),
        reference: format!(
            "log append of the encoded events {raw:.0}/s; the use case in process (parse, validate, encode, append) {whole:.0}/s"
        ),
    });

    // 2. HTTP into JetStream, beside raw JetStream publishing.
    if opts.nats_url.is_empty() {
        println!("(no --nats URL: JetStream figures skipped)");
    } else {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (http_stream, http_prefix) = (format!("BENCH_HTTP_{tag}"), format!("bench.{tag}.http"));
        let (server, base) = serve(
            &dir.join("nats-node"),
            &[
                ("INNKEEP_BUS__URL", opts.nats_url.clone()),
                ("INNKEEP_BUS__STREAM", format!("BENCH_OUTBOX_{tag}")),
                ("INNKEEP_BUS__SUBJECT_PREFIX", format!("bench.{tag}.outbox")),
                ("INNKEEP_INGEST__SINK", "nats".into()),
                ("INNKEEP_INGEST__STREAM", http_stream.clone()),
                ("INNKEEP_INGEST__SUBJECT_PREFIX", http_prefix),
                // Ingestion alone: the lake writer would read the stream back beside it.
                ("INNKEEP_ANALYTICS__WRITER", "false".into()),
            ],
        )
        .await?;
        let (http_nats, ok, failed) =
            drive_http(&client, &base, bodies.clone(), opts.batch, opts.concurrency, opts.seconds).await;
        drop(server);

        let nats = async_nats::connect(&opts.nats_url).await.context("connecting to NATS")?;
        let raw_stream = format!("BENCH_RAW_{tag}");
        let raw_prefix = format!("bench.{tag}.raw");
        let _raw_stream = innkeep_events::client_stream::ClientStream::with_client(
            nats.clone(),
            &ClientStreamOptions {
                url: opts.nats_url.clone(),
                stream: raw_stream.clone(),
                subject_prefix: raw_prefix.clone(),
                max_age: Duration::from_secs(3600),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
        let js = innkeep_events::client_stream::context(nats.clone());
        let batches = Arc::new(batches.clone());
        let seq = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let subjects: Arc<Vec<(String, async_nats::Subject)>> = Arc::new(
            innkeep_app::ingest::KINDS
                .iter()
                .map(|k| (k.to_string(), async_nats::Subject::from(format!("{raw_prefix}.{k}"))))
                .collect(),
        );
        let stats = drive(opts.concurrency, opts.seconds, {
            let (js, batches, seq, subjects) = (js.clone(), batches.clone(), seq.clone(), subjects.clone());
            move || {
                let (js, batches, seq, subjects) = (js.clone(), batches.clone(), seq.clone(), subjects.clone());
                async move {
                    let k = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let mut batch = batches[k % batches.len()].clone();
                    // A fresh message id each, as the server gives events sent without one.
                    let millis = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0);
                    for item in &mut batch.items {
                        item.id = innkeep_app::ingest::event_id(millis);
                    }
                    let subject = |kind: &str| {
                        subjects
                            .iter()
                            .find(|(k, _)| k == kind)
                            .map(|(_, s)| s.clone())
                            .unwrap_or_else(|| subjects[0].1.clone())
                    };
                    publish_batch(&js, subject, batch).await.is_ok()
                }
            }
        })
        .await;
        let raw_nats = stats.ok as f64 * opts.batch as f64 / stats.elapsed.as_secs_f64();
        let in_stream = js.get_stream(&http_stream).await?.info().await?.state.messages;
        figures.push(Figure {
            name: format!("client events/s into NATS JetStream over HTTP (batches of {})", opts.batch),
            innkeep: format!(
                "{http_nats:.0}/s ({ok} batches answered 202, {failed} not; {in_stream} messages in the stream)"
            ),
            reference: format!(
                "raw JetStream publish of the same payloads {raw_nats:.0}/s (ratio {:.2})",
                http_nats / raw_nats.max(1.0)
            ),
        });
        for s in [http_stream, raw_stream, format!("BENCH_OUTBOX_{tag}")] {
            let _ = js.delete_stream(&s).await;
        }
    }
    println!("\n| figure | innkeep (HTTP) | reference, same run |\n|---|---|---|");
    for f in &figures {
        println!("| {} | {} | {} |", f.name, f.innkeep, f.reference);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}
