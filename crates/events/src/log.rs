//! The embedded client event log: append-only NDJSON segments in a directory, rotated by
//! size. A closed segment is compacted in the background (events whose id was already kept
//! in it or in the segment before are dropped, the rest gzip-compressed into
//! `segment-N.ndjson.gz`), and segments older than the retention period are removed.
//!
//! A batch is written with one `write` to the OS, so a 202 survives a crash of the process;
//! the file is `fsync`ed when a segment closes and on `sync` (every second in `innkeep
//! serve`), so a crash of the machine may lose the last second.

use async_trait::async_trait;
use innkeep_app::ingest::{ClientChunk, ClientEvent, ClientEventSink, EncodedBatch, SinkError};
use std::collections::HashSet;
use std::io::{BufRead, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Where and how long.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub dir: PathBuf,
    pub segment_bytes: u64,
    pub retention: Duration,
    /// Compact closed segments (dedupe by event id, gzip).
    pub compact: bool,
}

struct Current {
    file: std::fs::File,
    bytes: u64,
    number: u64,
}

/// The log.
pub struct EventLog {
    opts: LogOptions,
    current: Mutex<Current>,
    /// Held while closed segments are compacted or expired (one pass at a time).
    maintaining: Arc<Mutex<()>>,
    /// Wakes the maintenance thread with the number of the segment now written.
    wake: std::sync::mpsc::SyncSender<u64>,
}

/// A segment file: its number and whether it is compacted (gzip).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    pub number: u64,
    pub compacted: bool,
    pub path: PathBuf,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("segment-{n:010}.ndjson"))
}

fn compacted_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("segment-{n:010}.ndjson.gz"))
}

fn open_segment(dir: &Path, n: u64) -> std::io::Result<Current> {
    let path = segment_path(dir, n);
    let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(&path)?;
    let mut bytes = file.metadata()?.len();
    // A crash in the middle of a write may leave a torn last line: cut it off.
    if bytes > 0 {
        let mut last = [0u8; 1];
        file.seek(std::io::SeekFrom::Start(bytes - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            let keep = last_newline_end(&mut file, bytes)?;
            file.set_len(keep)?;
            tracing::warn!(segment = n, dropped = bytes - keep, "torn tail of the client event log cut off");
            bytes = keep;
        }
    }
    Ok(Current { file, bytes, number: n })
}

/// The length of the file up to and including its last newline.
fn last_newline_end(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(std::io::SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The id of a stored line (`{"id":"<uuid>",...`), without parsing the rest.
fn line_id(line: &[u8]) -> Option<&[u8]> {
    line.strip_prefix(br#"{"id":""#).and_then(|rest| rest.get(..36))
}

impl EventLog {
    /// Open (or create) the log and continue its newest segment (or start a new one after a
    /// compacted newest segment).
    pub fn open(opts: LogOptions) -> std::io::Result<EventLog> {
        std::fs::create_dir_all(&opts.dir)?;
        Self::tidy(&opts.dir)?;
        let segments = Self::segments(&opts.dir)?;
        let current = match segments.last() {
            Some(s) if s.compacted => s.number + 1,
            Some(s) => s.number,
            None => 0,
        };
        let current = open_segment(&opts.dir, current)?;
        let maintaining = Arc::new(Mutex::new(()));
        let wake = Self::maintainer(opts.clone(), maintaining.clone())?;
        Ok(EventLog { opts, current: Mutex::new(current), maintaining, wake })
    }

    /// The one thread that compacts and expires closed segments for the life of the log
    /// (it ends when the log is dropped). One long-lived thread rather than one per
    /// rotation: each new thread may take a new malloc arena, and the memory a pass frees
    /// in an arena stays with the process, so a thread per pass made resident memory grow
    /// with every rotation up to one pass's peak per arena (seen in `innkeep bench soak`).
    fn maintainer(opts: LogOptions, lock: Arc<Mutex<()>>) -> std::io::Result<std::sync::mpsc::SyncSender<u64>> {
        // One pending pass at most: a rotation while one is pending is picked up by it or
        // by the next.
        let (wake, woken) = std::sync::mpsc::sync_channel::<u64>(1);
        std::thread::Builder::new().name("client-log-compact".into()).spawn(move || {
            while let Ok(current) = woken.recv() {
                let _pass = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = maintain(&opts, current) {
                    tracing::error!(error = %e, "client event log maintenance failed");
                }
            }
        })?;
        Ok(wake)
    }

    /// Remove what an interrupted compaction left: a temporary file, or the plain segment
    /// beside its finished compacted copy.
    fn tidy(dir: &Path) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(&path)?;
            }
        }
        let segments = Self::segments(dir)?;
        for s in &segments {
            if !s.compacted && segments.iter().any(|c| c.compacted && c.number == s.number) {
                std::fs::remove_file(&s.path)?;
            }
        }
        Ok(())
    }

    /// The segments, oldest first.
    pub fn segments(dir: &Path) -> std::io::Result<Vec<Segment>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|f| f.to_str()) else { continue };
            let Some(rest) = name.strip_prefix("segment-") else { continue };
            let (number, compacted) = if let Some(n) = rest.strip_suffix(".ndjson.gz") {
                (n, true)
            } else if let Some(n) = rest.strip_suffix(".ndjson") {
                (n, false)
            } else {
                continue;
            };
            if let Ok(number) = number.parse::<u64>() {
                out.push(Segment { number, compacted, path });
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every line of a segment, plain or compacted.
    pub fn read_segment(segment: &Segment) -> std::io::Result<Vec<Vec<u8>>> {
        let mut lines = Vec::new();
        each_line(segment, |line| {
            lines.push(line.to_vec());
            Ok(())
        })?;
        Ok(lines)
    }

    /// How many events the log holds (lines counted as they stream by).
    pub fn count(dir: &Path) -> std::io::Result<u64> {
        let mut n = 0;
        let segments = Self::segments(dir)?;
        // A compaction cut short may leave a plain segment beside its finished copy.
        let doubled = |s: &Segment| !s.compacted && segments.iter().any(|c| c.compacted && c.number == s.number);
        for s in segments.iter().filter(|s| !doubled(s)) {
            let file = std::fs::File::open(&s.path)?;
            let mut reader: Box<dyn Read> =
                if s.compacted { Box::new(flate2::read::GzDecoder::new(file)) } else { Box::new(file) };
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let k = reader.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                n += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
            }
        }
        Ok(n)
    }

    /// Every event in the log, oldest segment first (for tools and tests).
    pub fn read_all(dir: &Path) -> std::io::Result<Vec<ClientEvent>> {
        let mut out = Vec::new();
        for s in Self::segments(dir)? {
            for line in Self::read_segment(&s)? {
                out.push(serde_json::from_slice(&line).map_err(std::io::Error::other)?);
            }
        }
        Ok(out)
    }

    /// Write a batch (one write of its lines) and hand it to the OS.
    pub fn append_sync(&self, batch: &EncodedBatch) -> std::io::Result<()> {
        let buf = &batch.ndjson;
        let mut cur = self.current.lock().map_err(|_| std::io::Error::other("log lock poisoned"))?;
        if cur.bytes > 0 && cur.bytes + buf.len() as u64 > self.opts.segment_bytes {
            cur.file.sync_data()?;
            let next = cur.number + 1;
            *cur = open_segment(&self.opts.dir, next)?;
            self.maintain(next);
        }
        if let Err(e) = cur.file.write_all(buf) {
            // A full disk may take part of the batch: cut it off, so that the batch is
            // refused whole and the next one starts on a line of its own.
            let keep = cur.bytes;
            if let Err(cut) = cur.file.set_len(keep) {
                tracing::error!(error = %cut, "could not cut a partly written batch off the client event log");
            }
            return Err(e);
        }
        cur.bytes += buf.len() as u64;
        Ok(())
    }

    /// Flush the current segment to the disk.
    pub fn sync(&self) -> std::io::Result<()> {
        let cur = self.current.lock().map_err(|_| std::io::Error::other("log lock poisoned"))?;
        cur.file.sync_data()
    }

    /// Compact and expire closed segments on the maintenance thread, unless a pass is
    /// already waiting (it, or the next rotation, picks up what this one would do).
    fn maintain(&self, current: u64) {
        if let Err(std::sync::mpsc::TrySendError::Disconnected(_)) = self.wake.try_send(current) {
            tracing::error!("the client event log maintenance thread has stopped");
        }
    }

    /// Compact and expire closed segments now, on this thread, after any running pass.
    pub fn maintain_now(&self) -> std::io::Result<()> {
        let current = self.current.lock().map_err(|_| std::io::Error::other("log lock poisoned"))?.number;
        let _pass = self.maintaining.lock().map_err(|_| std::io::Error::other("log lock poisoned"))?;
        maintain(&self.opts, current)
    }
}

/// Expire, then compact, every closed segment (numbers below `current`).
fn maintain(opts: &LogOptions, current: u64) -> std::io::Result<()> {
    let cutoff = SystemTime::now().checked_sub(opts.retention).unwrap_or(SystemTime::UNIX_EPOCH);
    for s in EventLog::segments(&opts.dir)? {
        if s.number < current && std::fs::metadata(&s.path)?.modified()? < cutoff {
            std::fs::remove_file(&s.path)?;
        }
    }
    if !opts.compact {
        return Ok(());
    }
    let mut before: Option<Segment> = None;
    for s in EventLog::segments(&opts.dir)? {
        if s.number >= current {
            break;
        }
        // Retried batches land in the same segment or the next: dedupe against the one before.
        let adjacent = before.as_ref().filter(|b| b.number + 1 == s.number);
        let s = if s.compacted { s } else { compact(&opts.dir, &s, adjacent)? };
        before = Some(s);
    }
    Ok(())
}

/// Each non-empty line of a segment, plain or compacted, streamed (a segment is never held
/// in memory whole).
fn each_line(segment: &Segment, mut f: impl FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
    let file = std::fs::File::open(&segment.path)?;
    let reader: Box<dyn Read> =
        if segment.compacted { Box::new(flate2::read::GzDecoder::new(file)) } else { Box::new(file) };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        if !l.is_empty() {
            f(l)?;
        }
    }
}

/// An event id as a fixed-size key (no allocation per id).
fn id_key(id: &[u8]) -> Option<[u8; 36]> {
    id.try_into().ok()
}

/// Rewrite one closed segment as gzip without the events whose id it (or `before`) already holds.
/// Returns the compacted segment. Streams both segments: what it holds in memory is the set
/// of their event ids (36 bytes each), not their events.
pub fn compact(dir: &Path, segment: &Segment, before: Option<&Segment>) -> std::io::Result<Segment> {
    let mut seen: HashSet<[u8; 36]> = HashSet::new();
    if let Some(b) = before {
        each_line(b, |line| {
            if let Some(id) = line_id(line).and_then(id_key) {
                seen.insert(id);
            }
            Ok(())
        })?;
    }
    let modified = std::fs::metadata(&segment.path)?.modified()?;
    let target = compacted_path(dir, segment.number);
    let tmp = target.with_extension("gz.tmp");
    let file = std::fs::File::create(&tmp)?;
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let (mut kept, mut dropped) = (0, 0);
    each_line(segment, |line| {
        // A line without a readable id is kept: compaction never loses an event.
        if let Some(id) = line_id(line).and_then(id_key)
            && !seen.insert(id)
        {
            dropped += 1;
            return Ok(());
        }
        gz.write_all(line)?;
        gz.write_all(b"\n")?;
        kept += 1;
        Ok(())
    })?;
    let file = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    // Retention goes by the age of the events, not of the compaction.
    file.set_modified(modified)?;
    drop(file);
    std::fs::rename(&tmp, &target)?;
    std::fs::File::open(dir)?.sync_all()?;
    std::fs::remove_file(&segment.path)?;
    tracing::info!(segment = segment.number, kept, dropped, "client event log segment compacted");
    Ok(Segment { number: segment.number, compacted: true, path: target })
}

#[async_trait]
impl ClientEventSink for EventLog {
    async fn append(&self, batch: EncodedBatch) -> Result<(), SinkError> {
        Ok(self.append_sync(&batch)?)
    }
}

/// Flush `log` to disk every `every` until `stop` turns true (then once more): what the
/// log acknowledged is on disk within `every`.
pub async fn sync_every(log: Arc<EventLog>, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        let log = log.clone();
        match tokio::task::spawn_blocking(move || log.sync()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "client event log sync failed"),
            Err(e) => tracing::error!(error = %e, "client event log sync task failed"),
        }
        if stopping {
            return;
        }
    }
}

/// The closed segments of a log directory (every one but the newest, which is still written
/// to), as the analytics lake reads them.
pub struct ClosedSegments(pub PathBuf);

impl ClosedSegments {
    /// The numbers of the closed segments, oldest first.
    pub fn closed(&self) -> std::io::Result<Vec<u64>> {
        if !self.0.exists() {
            return Ok(Vec::new());
        }
        let mut numbers: Vec<u64> = EventLog::segments(&self.0)?.into_iter().map(|s| s.number).collect();
        numbers.dedup();
        numbers.pop();
        Ok(numbers)
    }

    /// The lines of one segment (its events as stored, decompressed), newline-separated.
    pub fn read(&self, segment: u64) -> std::io::Result<Vec<u8>> {
        let segments = EventLog::segments(&self.0)?;
        // A compacted copy wins over a plain one a compaction cut short left beside it.
        let Some(s) = segments.iter().filter(|s| s.number == segment).max_by_key(|s| s.compacted) else {
            return Ok(Vec::new());
        };
        let mut file = std::fs::File::open(&s.path)?;
        let mut out = Vec::with_capacity(file.metadata().map(|m| m.len() as usize).unwrap_or(0));
        if s.compacted {
            flate2::read::GzDecoder::new(file).read_to_end(&mut out)?;
        } else {
            file.read_to_end(&mut out)?;
        }
        Ok(out)
    }
}

/// A position is a segment's number: the next chunk is the next closed segment.
#[async_trait]
impl innkeep_app::ingest::ClientSource for ClosedSegments {
    fn key(&self) -> &'static str {
        innkeep_app::ingest::LOG_SOURCE
    }

    async fn next(&self, position: i64) -> std::io::Result<Option<ClientChunk>> {
        let Some(n) = self.closed()?.into_iter().find(|n| *n as i64 > position) else { return Ok(None) };
        Ok(Some(ClientChunk { end: n as i64, tag: format!("{n:010}"), ndjson: self.read(n)? }))
    }
}
