//! The lake writer: outbox events and closed client-event segments into Parquet files
//! partitioned Hive-style by kind and day (`kind=booking.confirmed/date=2026-12-01/...`),
//! in any `object_store` (a local directory or an S3 API), with a snapshot of the
//! properties beside them.
//!
//! Each event lands once. A batch of outbox events becomes one file per kind and day, each
//! named after the batch's first position (`part-<seq>.parquet`); only after every file of
//! the batch is written does the lake's own position (`_innkeep/outbox.json`) move past it.
//! After a crash, files named after a position past the recorded one are deleted and the
//! batch is written again. Client events go one chunk of their source at a time, the same
//! way: a closed log segment (`client-<segment>.parquet`, position `_innkeep/client.json`)
//! or up to 100,000 messages of the JetStream stream (`client-js-<first sequence>.parquet`,
//! position `_innkeep/client-jetstream.json`).
//!
//! Small files are compacted: the parts of one kind and day merge into
//! `part-<first>-<last>.parquet`, written before the parts it replaces are deleted; a part
//! inside the range of a compacted file is left over from a compaction cut short, and
//! goes.

use crate::schema::{self, ClientLine, Family, SCHEMA_VERSION};
use async_trait::async_trait;
use datafusion::arrow::array::{Float64Builder, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use futures::TryStreamExt;
use innkeep_app::event::StoredEvent;
use innkeep_app::follow::{Follower, StepError};
use innkeep_app::{Store, StoreError};
use jiff::civil::Date;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why the lake could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("object storage: {0}")]
    Objects(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("client events: {0}")]
    Client(String),
    #[error("lake state {0}: {1}")]
    State(String, String),
}

/// Where the files of the properties' snapshot go (a directory the tables do not scan).
pub const PROPERTIES: &str = "_innkeep/dims/properties.parquet";
const OUTBOX_STATE: &str = "_innkeep/outbox.json";

/// The columns of the properties' snapshot.
pub(crate) fn properties_schema() -> Arc<Schema> {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        s("property_id"),
        s("tenant_id"),
        s("name"),
        s("city"),
        s("country"),
        s("property_type"),
        s("currency"),
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
        Field::new("units", DataType::Int64, true),
        Field::new("room_types", DataType::Int64, true),
    ]))
}

pub use innkeep_app::ingest::ClientSource;

/// A lake in an object store.
#[derive(Clone)]
pub struct Lake {
    pub(crate) objects: Arc<dyn ObjectStore>,
    description: String,
    /// Threads that encode a batch's files at once (each file is one kind and day).
    threads: usize,
}

/// What one `sync` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    pub outbox_events: usize,
    pub client_events: usize,
    pub files: usize,
}

/// Columns whose values are (nearly) all different: a dictionary of them only costs time
/// (the writer hashes every value, then falls back to plain pages when the dictionary fills).
const DISTINCT: [&str; 8] =
    ["event_id", "aggregate_id", "booking_id", "seq", "occurred_at", "created_at", "received_at", "payload"];

fn parquet(batch: &RecordBatch, family: &str) -> Result<Vec<u8>, LakeError> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        // Minimum and maximum per column chunk, not per page: the reports read whole files
        // (their kind and day are in the path), and page statistics cost a comparison a value.
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for c in DISTINCT {
        props = props.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    // Random hex digits: compressing them gains next to nothing and costs a pass over them.
    for c in ["event_id", "aggregate_id", "booking_id"] {
        props = props.set_column_compression(ColumnPath::from(c), Compression::UNCOMPRESSED);
    }
    let props = props
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "innkeep.schema".to_string(),
            format!("{family}/{SCHEMA_VERSION}"),
        )]))
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
    w.write(batch)?;
    w.close()?;
    Ok(buf)
}

/// `f` of every item, on up to `threads` threads at once (each takes the next item left);
/// the answers in the items' order.
fn in_parallel<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { return mine };
                        mine.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The kind, day and file name of a data file's path, if it is one.
fn parse_path(p: &Path) -> Option<(String, String, String)> {
    let parts: Vec<&str> = p.as_ref().split('/').collect();
    let [kind, date, file] = parts.as_slice() else { return None };
    Some((kind.strip_prefix("kind=")?.to_string(), date.strip_prefix("date=")?.to_string(), file.to_string()))
}

/// The positions a data file covers: `part-<a>.parquet` (a batch starting at a),
/// `part-<a>-<b>.parquet` (compacted parts a..=b), `client-<n>.parquet` (segment n),
/// `client-js-<n>.parquet` (the stream's messages from sequence n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileName {
    Part(i64),
    Compacted(i64, i64),
    Client(i64),
    Stream(i64),
}

fn parse_name(name: &str) -> Option<FileName> {
    if let Some(n) = name.strip_prefix("client-js-").and_then(|n| n.strip_suffix(".parquet")) {
        return n.parse().ok().map(FileName::Stream);
    }
    if let Some(n) = name.strip_prefix("client-").and_then(|n| n.strip_suffix(".parquet")) {
        return n.parse().ok().map(FileName::Client);
    }
    let n = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    match n.split_once('-') {
        Some((a, b)) => Some(FileName::Compacted(a.parse().ok()?, b.parse().ok()?)),
        None => n.parse().ok().map(FileName::Part),
    }
}

impl Lake {
    /// A lake in `objects` (its root is the lake's root).
    pub fn new(objects: Arc<dyn ObjectStore>, description: impl Into<String>) -> Lake {
        Lake { objects, description: description.into(), threads: 1 }
    }

    /// Encode up to `threads` files of a batch at once (1 by default: the writer shares the
    /// node with the requests it serves).
    pub fn with_threads(mut self, threads: usize) -> Lake {
        self.threads = threads.max(1);
        self
    }

    /// A lake under `prefix` of a bucket (`lake/kind=.../...`).
    pub fn under_prefix(objects: Arc<dyn ObjectStore>, prefix: &str, description: &str) -> Lake {
        let store = object_store::prefix::PrefixStore::new(objects, prefix);
        Lake::new(Arc::new(store), format!("{description}/{prefix}"))
    }

    /// A lake in a local directory (created if missing).
    pub fn in_directory(dir: &std::path::Path) -> Result<Lake, LakeError> {
        std::fs::create_dir_all(dir).map_err(|e| LakeError::State(dir.display().to_string(), e.to_string()))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Lake::new(Arc::new(fs), format!("local directory {}", dir.display())))
    }

    /// Where the lake is, for logs.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The lake's position in a client event source (`key`, see [`ClientSource::key`]); -1
    /// before the first (the log numbers its segments from 0).
    async fn client_position(&self, key: &str) -> Result<i64, LakeError> {
        self.state(&format!("_innkeep/{key}.json"), -1).await
    }

    /// A recorded position; `missing` before anything was recorded.
    async fn state(&self, key: &str, missing: i64) -> Result<i64, LakeError> {
        match self.objects.get(&Path::from(key)).await {
            Ok(r) => {
                let bytes = r.bytes().await?;
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| LakeError::State(key.into(), e.to_string()))?;
                v.get("position")
                    .and_then(|p| p.as_i64())
                    .ok_or_else(|| LakeError::State(key.into(), "no position".into()))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(missing),
            Err(e) => Err(e.into()),
        }
    }

    async fn set_state(&self, key: &str, position: i64) -> Result<(), LakeError> {
        let body = serde_json::json!({ "position": position, "schema_version": SCHEMA_VERSION }).to_string();
        self.objects.put(&Path::from(key), PutPayload::from(body.into_bytes())).await?;
        Ok(())
    }

    /// Every data file of the lake.
    pub async fn files(&self) -> Result<Vec<object_store::ObjectMeta>, LakeError> {
        let all: Vec<_> = self.objects.list(None).try_collect().await?;
        Ok(all.into_iter().filter(|m| parse_path(&m.location).is_some()).collect())
    }

    /// The outbox position the lake holds every event up to.
    pub async fn outbox_position(&self) -> Result<i64, LakeError> {
        self.state(OUTBOX_STATE, 0).await
    }

    /// Remove what a write or a compaction cut short left behind: files of batches past the
    /// recorded positions, and parts already merged into a compacted file.
    pub async fn recover(&self) -> Result<usize, LakeError> {
        let outbox = self.state(OUTBOX_STATE, 0).await?;
        let client = self.client_position(innkeep_app::ingest::LOG_SOURCE).await?;
        let stream = self.client_position(innkeep_app::ingest::STREAM_SOURCE).await?;
        let files = self.files().await?;
        let mut compacted: HashMap<(String, String), Vec<(i64, i64)>> = HashMap::new();
        for f in &files {
            if let Some((k, d, name)) = parse_path(&f.location)
                && let Some(FileName::Compacted(a, b)) = parse_name(&name)
            {
                compacted.entry((k, d)).or_default().push((a, b));
            }
        }
        let mut removed = 0;
        for f in files {
            let Some((k, d, name)) = parse_path(&f.location) else { continue };
            let stale = match parse_name(&name) {
                Some(FileName::Part(a)) => {
                    a > outbox
                        || compacted.get(&(k, d)).is_some_and(|rs| rs.iter().any(|(lo, hi)| (*lo..=*hi).contains(&a)))
                }
                // A merged file inside a larger one was merged again before a crash.
                Some(FileName::Compacted(a, b)) => {
                    a > outbox
                        || compacted
                            .get(&(k, d))
                            .is_some_and(|rs| rs.iter().any(|(lo, hi)| *lo <= a && b <= *hi && (*lo, *hi) != (a, b)))
                }
                Some(FileName::Client(n)) => n > client,
                // Named after the position the chunk followed, plus one.
                Some(FileName::Stream(n)) => n > stream,
                None => false,
            };
            if stale {
                self.objects.delete(&f.location).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Write one batch of outbox events (oldest first, all after the lake's position) and
    /// move the position past them. Returns the files written.
    pub async fn write_outbox(&self, events: &[StoredEvent]) -> Result<usize, LakeError> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else { return Ok(0) };
        let mut groups: BTreeMap<(&str, Date), Vec<&StoredEvent>> = BTreeMap::new();
        for e in events {
            groups.entry((e.event.kind.as_str(), schema::utc_date(e.event.occurred_at))).or_default().push(e);
        }
        let groups: Vec<_> = groups.into_iter().collect();
        let encoded = in_parallel(self.threads, &groups, |((kind, date), evs)| {
            let family = Family::of(kind);
            let batch = schema::outbox_batch(family, evs)?;
            let path = Path::from(format!("kind={kind}/date={date}/part-{:020}.parquet", first.seq));
            Ok::<_, LakeError>((path, parquet(&batch, family.name())?))
        });
        let mut files = 0;
        for file in encoded {
            let (path, bytes) = file?;
            self.objects.put(&path, PutPayload::from(bytes)).await?;
            files += 1;
        }
        self.set_state(OUTBOX_STATE, last.seq).await?;
        Ok(files)
    }

    /// Write the client events of `source` not yet in the lake. Returns (events, files).
    pub async fn write_client(&self, source: &dyn ClientSource) -> Result<(usize, usize), LakeError> {
        let key = source.key();
        let mut done = self.client_position(key).await?;
        let (mut events, mut files) = (0, 0);
        while let Some(chunk) = source.next(done).await.map_err(|e| LakeError::Client(e.to_string()))? {
            // Decoded on the writer's threads, a contiguous share of the lines each; a line
            // the source took was a valid event, one that no longer decodes is skipped.
            let lines: Vec<&[u8]> = chunk.lines().collect();
            let shares: Vec<&[&[u8]]> = lines.chunks(lines.len().div_ceil(self.threads).max(1)).collect();
            let decoded = in_parallel(self.threads, &shares, |share| {
                share
                    .iter()
                    .filter_map(|l| ClientLine::read(l))
                    .map(|e| (schema::utc_date(e.occurred_at), e))
                    .collect::<Vec<_>>()
            });
            // A retried batch may repeat an event within a chunk; keep its first copy.
            let mut seen = std::collections::HashSet::new();
            let mut groups: BTreeMap<(&str, Date), Vec<&ClientLine>> = BTreeMap::new();
            for (date, e) in decoded.iter().flatten().filter(|(_, e)| seen.insert(e.id)) {
                groups.entry((&e.kind, *date)).or_default().push(e);
            }
            let groups: Vec<_> = groups.into_iter().collect();
            let encoded = in_parallel(self.threads, &groups, |((kind, date), evs)| {
                let batch = schema::client_batch(evs)?;
                let path = Path::from(format!("kind={kind}/date={date}/client-{}.parquet", chunk.tag));
                Ok::<_, LakeError>((path, parquet(&batch, Family::Client.name())?))
            });
            for (file, (_, evs)) in encoded.into_iter().zip(&groups) {
                let (path, bytes) = file?;
                self.objects.put(&path, PutPayload::from(bytes)).await?;
                files += 1;
                events += evs.len();
            }
            self.set_state(&format!("_innkeep/{key}.json"), chunk.end).await?;
            done = chunk.end;
        }
        Ok((events, files))
    }

    /// Replace the snapshot of the properties (id, tenant, place, type, units for sale).
    pub async fn write_properties(&self, store: &dyn Store) -> Result<usize, LakeError> {
        let (properties, room_types) = innkeep_app::store::catalogue(store).await?;
        let mut units: HashMap<innkeep_core::PropertyId, (i64, i64)> = HashMap::new();
        for rt in &room_types {
            let u = units.entry(rt.property_id).or_default();
            u.0 += i64::from(rt.draft.units);
            u.1 += 1;
        }
        let schema = properties_schema();
        let mut cols: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
        let (mut lat, mut lon) = (Float64Builder::new(), Float64Builder::new());
        let (mut u, mut r) = (Int64Builder::new(), Int64Builder::new());
        for p in &properties {
            let d = &p.draft;
            let kind = serde_json::to_value(d.property_type).ok().and_then(|v| v.as_str().map(String::from));
            let values = [
                Some(p.id.0.to_string()),
                Some(p.tenant_id.0.to_string()),
                Some(d.name.clone()),
                Some(d.address.city.clone()),
                Some(d.address.country.as_str().to_string()),
                kind,
                Some(d.currency.code().to_string()),
            ];
            for (b, v) in cols.iter_mut().zip(values) {
                b.append_option(v);
            }
            lat.append_value(d.latitude);
            lon.append_value(d.longitude);
            let (units, rts) = units.get(&p.id).copied().unwrap_or_default();
            u.append_value(units);
            r.append_value(rts);
        }
        let mut arrays: Vec<datafusion::arrow::array::ArrayRef> =
            cols.iter_mut().map(|b| Arc::new(b.finish()) as datafusion::arrow::array::ArrayRef).collect();
        arrays.push(Arc::new(lat.finish()));
        arrays.push(Arc::new(lon.finish()));
        arrays.push(Arc::new(u.finish()));
        arrays.push(Arc::new(r.finish()));
        let batch = RecordBatch::try_new(schema, arrays)?;
        self.objects.put(&Path::from(PROPERTIES), PutPayload::from(parquet(&batch, "properties")?)).await?;
        Ok(properties.len())
    }

    /// Bring the lake up to date: every committed outbox event, the closed client segments
    /// and the properties' snapshot.
    pub async fn sync(&self, store: &dyn Store, client: Option<&dyn ClientSource>) -> Result<Synced, LakeError> {
        self.recover().await?;
        let mut synced = Synced::default();
        let mut position = self.outbox_position().await?;
        loop {
            let events = store.events_after(position, 50_000).await?;
            let Some(last) = events.last() else { break };
            position = last.seq;
            synced.files += self.write_outbox(&events).await?;
            synced.outbox_events += events.len();
        }
        if let Some(c) = client {
            let (events, files) = self.write_client(c).await?;
            synced.client_events += events;
            synced.files += files;
        }
        self.write_properties(store).await?;
        Ok(synced)
    }

    /// Merge the outbox parts of each kind and day that has more than `min_files` of them
    /// into one file. Returns how many files were merged away.
    pub async fn compact(&self, min_files: usize) -> Result<usize, LakeError> {
        // (kind, day) -> (first, last, file)
        type Parts = BTreeMap<(String, String), Vec<(i64, i64, Path)>>;
        let mut parts: Parts = BTreeMap::new();
        for f in self.files().await? {
            let Some((k, d, name)) = parse_path(&f.location) else { continue };
            let range = match parse_name(&name) {
                Some(FileName::Part(a)) => (a, a),
                Some(FileName::Compacted(a, b)) => (a, b),
                _ => continue,
            };
            parts.entry((k, d)).or_default().push((range.0, range.1, f.location));
        }
        let mut merged = 0;
        for ((kind, date), mut files) in parts {
            if files.len() < min_files.max(2) {
                continue;
            }
            files.sort_by_key(|f| f.0);
            let mut batches = Vec::new();
            for (_, _, path) in &files {
                let bytes = self.objects.get(path).await?.bytes().await?;
                let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
                for b in reader {
                    batches.push(b?);
                }
            }
            let Some(first) = batches.first() else { continue };
            let joined = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)?;
            let (lo, hi) = (files[0].0, files.iter().map(|f| f.1).max().unwrap_or(files[0].1));
            let family = Family::of(&kind);
            let target = Path::from(format!("kind={kind}/date={date}/part-{lo:020}-{hi:020}.parquet"));
            self.objects.put(&target, PutPayload::from(parquet(&joined, family.name())?)).await?;
            for (_, _, path) in files.iter().filter(|f| f.2 != target) {
                self.objects.delete(path).await?;
                merged += 1;
            }
        }
        Ok(merged)
    }
}

/// The lease a lake's writer holds (one writer per lake, whichever node took it).
pub const WRITER_LEASE: &str = "analytics-lake-writer";

/// How long a writer's lease lasts after each step renews it: a node that stops renewing
/// (it died) is replaced by another this long after its last step.
pub const LEASE_SECS: i64 = 90;

/// The lake as an outbox follower in `innkeep serve`: each step writes the next batch and
/// the closed client segments, refreshing the properties' snapshot when the catalogue
/// changed; every 100 steps it compacts. Every node may run one: only the node holding the
/// [`WRITER_LEASE`] in the database writes, the others wait to take it over.
pub struct LakeWriter {
    pub lake: Lake,
    pub store: Arc<dyn Store>,
    pub client: Arc<dyn ClientSource>,
    pub batch: u32,
    /// Who this writer is, in the lease.
    holder: String,
    position: Option<i64>,
    steps: u64,
}

impl LakeWriter {
    pub fn new(lake: Lake, store: Arc<dyn Store>, client: Arc<dyn ClientSource>, batch: u32) -> Self {
        let holder = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        LakeWriter { lake, store, client, batch, holder, position: None, steps: 0 }
    }

    /// Take or renew the lease; false while another node holds it.
    async fn lease(&self) -> Result<bool, LakeError> {
        let now = jiff::Timestamp::now();
        let until = now + jiff::SignedDuration::from_secs(LEASE_SECS);
        Ok(self.store.take_lease(WRITER_LEASE, &self.holder, now, until).await?)
    }
}

#[async_trait]
impl Follower for LakeWriter {
    fn name(&self) -> &str {
        "lake"
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        if !self.lease().await? {
            // Another node writes; when this one takes over, it starts from the lake's own
            // position (after removing what a writer that died mid-batch left).
            self.position = None;
            return Ok(0);
        }
        let position = match self.position {
            Some(p) => p,
            None => {
                self.lake.recover().await?;
                self.lake.write_properties(self.store.as_ref()).await?;
                self.lake.outbox_position().await?
            }
        };
        let events = self.store.events_after(position, self.batch).await?;
        self.lake.write_client(self.client.as_ref()).await?;
        self.steps += 1;
        if self.steps.is_multiple_of(100) {
            self.lake.compact(8).await?;
        }
        let Some(last) = events.last() else {
            self.position = Some(position);
            return Ok(0);
        };
        self.lake.write_outbox(&events).await?;
        self.position = Some(last.seq);
        let catalogue = |k: &str| k.starts_with("property.") || k.starts_with("room_type.") || k == "catalog.imported";
        if events.iter().any(|e| catalogue(e.event.kind.as_str())) {
            self.lake.write_properties(self.store.as_ref()).await?;
        }
        Ok(events.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_parallel_answers_every_item_in_order() {
        let items: Vec<u64> = (0..1_000).collect();
        for threads in [1, 2, 3, 64] {
            let out = in_parallel(threads, &items, |x| x * 2);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>(), "{threads} threads");
        }
        assert!(in_parallel(4, &Vec::<u64>::new(), |x| *x).is_empty());
    }

    #[test]
    fn file_names() {
        assert_eq!(parse_name("part-00000000000000000042.parquet"), Some(FileName::Part(42)));
        assert_eq!(
            parse_name("part-00000000000000000001-00000000000000000042.parquet"),
            Some(FileName::Compacted(1, 42))
        );
        assert_eq!(parse_name("client-0000000007.parquet"), Some(FileName::Client(7)));
        assert_eq!(parse_name("client-js-000000000042.parquet"), Some(FileName::Stream(42)));
        assert_eq!(parse_name("x.parquet"), None);
        let p = Path::from("kind=booking.held/date=2026-12-01/part-1.parquet");
        assert_eq!(parse_path(&p), Some(("booking.held".into(), "2026-12-01".into(), "part-1.parquet".into())));
        assert_eq!(parse_path(&Path::from("_innkeep/outbox.json")), None);
    }
}
