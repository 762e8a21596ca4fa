//! The embedded client event log: append-only NDJSON segments in a directory, rotated by
//! size, with old segments removed after the retention period.

use async_trait::async_trait;
use innkeep_app::ingest::{ClientEvent, ClientEventSink};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Where and how long.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub dir: PathBuf,
    pub segment_bytes: u64,
    pub retention: Duration,
}

struct Current {
    file: std::io::BufWriter<std::fs::File>,
    bytes: u64,
    number: u64,
}

/// The log.
pub struct EventLog {
    opts: LogOptions,
    current: Mutex<Current>,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("segment-{n:010}.ndjson"))
}

fn open_segment(dir: &Path, n: u64) -> std::io::Result<Current> {
    let path = segment_path(dir, n);
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    let bytes = file.metadata()?.len();
    Ok(Current { file: std::io::BufWriter::with_capacity(1 << 20, file), bytes, number: n })
}

impl EventLog {
    /// Open (or create) the log and continue its newest segment.
    pub fn open(opts: LogOptions) -> std::io::Result<EventLog> {
        std::fs::create_dir_all(&opts.dir)?;
        let newest = Self::segments(&opts.dir)?.last().map(|(n, _)| *n).unwrap_or(0);
        let current = open_segment(&opts.dir, newest)?;
        Ok(EventLog { opts, current: Mutex::new(current) })
    }

    /// The segments, oldest first.
    pub fn segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let n = path
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.strip_prefix("segment-"))
                .and_then(|f| f.strip_suffix(".ndjson"))
                .and_then(|f| f.parse::<u64>().ok());
            if let Some(n) = n {
                out.push((n, path));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Write a batch (one line per event) and hand it to the OS.
    pub fn append_sync(&self, events: &[ClientEvent]) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(events.len() * 200);
        for e in events {
            serde_json::to_writer(&mut buf, e)?;
            buf.push(b'\n');
        }
        let mut cur = self.current.lock().map_err(|_| std::io::Error::other("log lock poisoned"))?;
        if cur.bytes > 0 && cur.bytes + buf.len() as u64 > self.opts.segment_bytes {
            cur.file.flush()?;
            let next = cur.number + 1;
            *cur = open_segment(&self.opts.dir, next)?;
            self.remove_expired(next)?;
        }
        cur.file.write_all(&buf)?;
        cur.file.flush()?;
        cur.bytes += buf.len() as u64;
        Ok(())
    }

    /// Delete closed segments older than the retention period.
    fn remove_expired(&self, current: u64) -> std::io::Result<()> {
        let cutoff = SystemTime::now().checked_sub(self.opts.retention).unwrap_or(SystemTime::UNIX_EPOCH);
        for (n, path) in Self::segments(&self.opts.dir)? {
            if n < current && std::fs::metadata(&path)?.modified()? < cutoff {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ClientEventSink for EventLog {
    async fn append(&self, events: &[ClientEvent]) -> Result<(), String> {
        self.append_sync(events).map_err(|e| e.to_string())
    }
}
