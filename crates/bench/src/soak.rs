//! `innkeep bench soak`: a long run of mixed load (search, availability, bookings placed
//! and cancelled, client event batches) against one `innkeep serve` process on the demo,
//! sampling the server each minute: resident memory, open files, the size of its data
//! directory, requests and errors. At the end it checks the stated bounds (after a
//! warm-up, memory and open files stay flat; the database grows only by what was written)
//! and fails if one is exceeded.

use super::{Served, demo, load_demo, percentile, raw_pool, sample_room_types, serve, tempfile_dir, token};
use anyhow::Context;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub properties: usize,
    pub minutes: u64,
    pub concurrency: usize,
    /// Minutes before the bounds apply (caches, pools and the index fill up first).
    pub warm_up: u64,
}

/// Resident memory at the end may exceed the warm-up figure by this factor at most.
pub const RSS_GROWTH: f64 = 1.20;
/// Open files at the end may exceed the warm-up figure by this many at most.
pub const FD_GROWTH: u64 = 16;
/// The database may grow by at most this many bytes per booking placed and cancelled
/// (two rows of state, their outbox events and their index entries).
pub const DB_BYTES_PER_BOOKING: u64 = 8 * 1024;

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    failed: AtomicU64,
    limited: AtomicU64,
    bookings: AtomicU64,
    events: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
}

impl Counters {
    fn record(&self, started: Instant, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok.fetch_add(1, Ordering::Relaxed),
            Outcome::Failed => self.failed.fetch_add(1, Ordering::Relaxed),
            Outcome::Limited => self.limited.fetch_add(1, Ordering::Relaxed),
        };
        if let Ok(mut l) = self.latencies.lock() {
            l.push(started.elapsed());
        }
    }
}

enum Outcome {
    Ok,
    Failed,
    Limited,
}

fn outcome(r: &reqwest::Result<reqwest::Response>, expected: u16) -> Outcome {
    match r {
        Ok(r) if r.status().as_u16() == expected => Outcome::Ok,
        Ok(r) if r.status().as_u16() == 429 => Outcome::Limited,
        _ => Outcome::Failed,
    }
}

/// One minute's sample.
struct Sample {
    minute: u64,
    rss_mib: f64,
    fds: u64,
    db_bytes: u64,
    data_bytes: u64,
    requests: u64,
    failed: u64,
    limited: u64,
    p99: Duration,
    bookings: u64,
    events: u64,
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn open_files(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0)
}

fn bytes_under(dir: &std::path::Path, only: Option<&str>) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            if only.is_none() {
                total += bytes_under(&e.path(), None);
            }
        } else if only.is_none_or(|prefix| e.file_name().to_string_lossy().starts_with(prefix)) {
            total += meta.len();
        }
    }
    total
}

/// One client's loop: a mix of 4 searches, 3 availability reads, 2 bookings (placed, then
/// cancelled, so the stock never runs out) and 1 batch of 100 client events in 10 calls.
#[allow(clippy::too_many_arguments)]
async fn client_loop(
    client: reqwest::Client,
    base: String,
    guest: String,
    cities: Arc<Vec<String>>,
    room_types: Arc<Vec<(String, String)>>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    seed: usize,
) {
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let mut k = seed;
    while !stop.load(Ordering::Relaxed) {
        k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 1;
        let ci = today.checked_add(jiff::Span::new().days(5 + (k % 300) as i64)).unwrap_or(today);
        let co = ci.checked_add(jiff::Span::new().days(1 + (k % 3) as i64)).unwrap_or(ci);
        let started = Instant::now();
        match k % 10 {
            0..=3 => {
                let city = &cities[k % cities.len()];
                let url = format!("{base}/api/v1/search?destination={city}&check_in={ci}&check_out={co}&adults=2");
                let r = client.get(url).send().await;
                let o = outcome(&r, 200);
                if let Ok(r) = r {
                    let _ = r.bytes().await;
                }
                counters.record(started, o);
            }
            4..=6 => {
                let (_, property) = &room_types[k % room_types.len()];
                let url =
                    format!("{base}/api/v1/availability?property_id={property}&check_in={ci}&check_out={co}&adults=2");
                let r = client.get(url).send().await;
                counters.record(started, outcome(&r, 200));
            }
            7 | 8 => {
                let (rt, _) = &room_types[k % room_types.len()];
                let body = json!({"room_type_id": rt, "check_in": ci, "check_out": co, "adults": 1,
                    "guest": {"name": "Soak Guest", "email": "soak@example.com"}});
                let r = client.post(format!("{base}/api/v1/bookings")).bearer_auth(&guest).json(&body).send().await;
                let placed = match r {
                    Ok(r) if r.status() == 201 => r.json::<serde_json::Value>().await.ok(),
                    // Sold out or closed nights are the demo's answers, not failures.
                    Ok(r) if matches!(r.status().as_u16(), 409 | 400) => {
                        counters.record(started, Outcome::Ok);
                        continue;
                    }
                    other => {
                        counters.record(started, outcome(&other, 201));
                        continue;
                    }
                };
                let Some(id) = placed.as_ref().and_then(|b| b["id"].as_str()) else {
                    counters.record(started, Outcome::Failed);
                    continue;
                };
                counters.record(started, Outcome::Ok);
                let started = Instant::now();
                let r = client.post(format!("{base}/api/v1/bookings/{id}/cancel")).bearer_auth(&guest).send().await;
                let o = outcome(&r, 200);
                if matches!(o, Outcome::Ok) {
                    counters.bookings.fetch_add(1, Ordering::Relaxed);
                }
                counters.record(started, o);
            }
            _ => {
                let at = jiff::Timestamp::now();
                let items: Vec<serde_json::Value> = (0..100)
                    .map(|i| {
                        let kind = ["search", "view", "click"][i % 3];
                        json!({"type": kind, "client_id": format!("soak-{seed}"), "occurred_at": at,
                            "data": {"q": "lisbon"}})
                    })
                    .collect();
                let r = client.post(format!("{base}/api/v1/events")).json(&items).send().await;
                let o = outcome(&r, 202);
                if matches!(o, Outcome::Ok) {
                    counters.events.fetch_add(100, Ordering::Relaxed);
                }
                counters.record(started, o);
            }
        }
    }
}

/// Run the soak and print one row per minute, then the bounds and whether they held.
pub async fn run(opts: SoakOptions) -> anyhow::Result<()> {
    anyhow::ensure!(opts.minutes > opts.warm_up, "--minutes must be longer than the warm-up ({} min)", opts.warm_up);
    let dir = tempfile_dir()?;
    let result = soak(&opts, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn soak(opts: &SoakOptions, dir: &std::path::Path) -> anyhow::Result<()> {
    println!(
        "# innkeep bench soak: {} properties, {} minutes, {} clients, warm-up {} min",
        opts.properties, opts.minutes, opts.concurrency, opts.warm_up
    );
    load_demo(dir, opts.properties, &[]).await?;
    let (server, base): (Served, String) = serve(dir, &[]).await?;
    let pid = server.0.id();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let guest = token(&client, &base, demo::DEMO_GUEST).await?;
    let pool = raw_pool(&dir.join("innkeep.db"), 2).await?;
    let room_types = Arc::new(sample_room_types(&pool, 20_000).await?);
    pool.close().await;
    anyhow::ensure!(!room_types.is_empty(), "no room types");
    let cities = Arc::new(demo::CITIES.iter().map(|c| c.name.to_string()).collect::<Vec<_>>());

    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..opts.concurrency)
        .map(|i| {
            tokio::spawn(client_loop(
                client.clone(),
                base.clone(),
                guest.clone(),
                cities.clone(),
                room_types.clone(),
                counters.clone(),
                stop.clone(),
                i * 7919 + 1,
            ))
        })
        .collect();

    println!();
    println!(
        "| minute | RSS MiB | open files | database MiB | data dir MiB | requests | failed | 429 | p99 ms | bookings | events |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut samples = Vec::new();
    let start = Instant::now();
    let mut last = (0, 0, 0, 0, 0);
    for minute in 1..=opts.minutes {
        tokio::time::sleep_until((start + Duration::from_secs(60 * minute)).into()).await;
        let mut lat = counters.latencies.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        lat.sort();
        let now = (
            counters.ok.load(Ordering::Relaxed) + counters.failed.load(Ordering::Relaxed),
            counters.failed.load(Ordering::Relaxed),
            counters.limited.load(Ordering::Relaxed),
            counters.bookings.load(Ordering::Relaxed),
            counters.events.load(Ordering::Relaxed),
        );
        let s = Sample {
            minute,
            rss_mib: rss_mib(pid).context("the server's memory (is it still running?)")?,
            fds: open_files(pid),
            db_bytes: bytes_under(dir, Some("innkeep.db")),
            data_bytes: bytes_under(dir, None),
            requests: now.0 - last.0,
            failed: now.1 - last.1,
            limited: now.2 - last.2,
            p99: percentile(&lat, 0.99),
            bookings: now.3 - last.3,
            events: now.4 - last.4,
        };
        last = now;
        println!(
            "| {} | {:.0} | {} | {:.1} | {:.1} | {} | {} | {} | {:.1} | {} | {} |",
            s.minute,
            s.rss_mib,
            s.fds,
            s.db_bytes as f64 / 1048576.0,
            s.data_bytes as f64 / 1048576.0,
            s.requests,
            s.failed,
            s.limited,
            s.p99.as_secs_f64() * 1000.0,
            s.bookings,
            s.events
        );
        samples.push(s);
    }
    stop.store(true, Ordering::Relaxed);
    futures::future::join_all(tasks).await;

    // The bounds, from the end of the warm-up to the end of the run.
    let warm = samples.iter().find(|s| s.minute == opts.warm_up.max(1)).context("warm-up sample")?;
    let end = samples.last().context("a sample")?;
    let bookings_after: u64 = samples.iter().filter(|s| s.minute > warm.minute).map(|s| s.bookings).sum();
    let rss_bound = warm.rss_mib * RSS_GROWTH;
    let db_bound = warm.db_bytes + bookings_after * DB_BYTES_PER_BOOKING;
    let failed: u64 = samples.iter().map(|s| s.failed).sum();
    let checks = [
        (
            format!(
                "RSS {:.0} MiB at the end <= {:.0} MiB ({RSS_GROWTH} x {:.0} after warm-up)",
                end.rss_mib, rss_bound, warm.rss_mib
            ),
            end.rss_mib <= rss_bound,
        ),
        (
            format!("open files {} at the end <= {} (+{FD_GROWTH} over warm-up)", end.fds, warm.fds + FD_GROWTH),
            end.fds <= warm.fds + FD_GROWTH,
        ),
        (
            format!(
                "database {:.1} MiB at the end <= {:.1} MiB (warm-up size + {} KiB x {bookings_after} bookings)",
                end.db_bytes as f64 / 1048576.0,
                db_bound as f64 / 1048576.0,
                DB_BYTES_PER_BOOKING / 1024
            ),
            end.db_bytes <= db_bound,
        ),
        (format!("{failed} failed requests (errors and 5xx)"), failed == 0),
    ];
    println!();
    for (what, held) in &checks {
        println!("- {} {what}", if *held { "held:" } else { "EXCEEDED:" });
    }
    drop(server);
    anyhow::ensure!(checks.iter().all(|c| c.1), "a soak bound was exceeded");
    Ok(())
}
