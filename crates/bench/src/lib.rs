//! `innkeep bench embedded`: booking commits/s over HTTP with and without contention, and
//! availability latency at concurrency 8, against a real `innkeep serve` process on the
//! demo data, beside raw SQLite doing the same transaction and queries in the same run.

pub mod analytics;
pub mod cache;
pub mod delay_proxy;
pub mod ingest;
pub mod ledger;
pub mod payments;
pub mod postgres;
pub mod remote;
pub mod soak;

use anyhow::Context;
use innkeep_app::store::Catalog;
use innkeep_demo as demo;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub properties: usize,
    pub seconds: u64,
    pub concurrency: usize,
}

/// One figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub innkeep: String,
    pub reference: String,
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Load the demo into `data_dir` (and the database `env` names) with `innkeep demo`: this
/// same binary, as an operator would.
async fn load_demo(data_dir: &std::path::Path, properties: usize, env: &[(&str, String)]) -> anyhow::Result<()> {
    load_demo_with(data_dir, properties, &[], env).await
}

/// As [`load_demo`], with more arguments for `innkeep demo`.
async fn load_demo_with(
    data_dir: &std::path::Path,
    properties: usize,
    args: &[&str],
    env: &[(&str, String)],
) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.args(["demo", "--properties", &properties.to_string()])
        .args(args)
        .arg("--data")
        .arg(data_dir)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().await.context("running innkeep demo")?;
    anyhow::ensure!(status.success(), "innkeep demo failed ({status})");
    Ok(())
}

/// The store in `data_dir` (or the database `url` names), migrated, for the reference
/// side of a figure and for picking ids.
async fn open_store(data_dir: &std::path::Path, url: Option<&str>) -> anyhow::Result<innkeep_store::SqlStore> {
    let url = url.map(str::to_string).unwrap_or_else(|| innkeep_store::sqlite_url(data_dir));
    let store = innkeep_store::open(&innkeep_store::StoreOptions::new(url)).await?;
    innkeep_store::migrate(&store).await?;
    Ok(store)
}

/// `innkeep serve` as a separate process on a free loopback port, with these settings,
/// once it answers ready; and its base URL.
async fn serve(data_dir: &std::path::Path, env: &[(&str, String)]) -> anyhow::Result<(Served, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data_dir)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let served = Served(cmd.spawn().context("starting innkeep serve")?);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while client.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        anyhow::ensure!(Instant::now() < deadline, "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((served, base))
}

/// Availability reads for 2 nights and 2 adults over random properties and check-in days,
/// spread round robin over `bases`, for `seconds`.
async fn availability_phase(
    client: &reqwest::Client,
    bases: Arc<Vec<String>>,
    properties: Arc<Vec<String>>,
    concurrency: usize,
    seconds: u64,
    today: jiff::civil::Date,
) -> Stats {
    let seq = Arc::new(AtomicUsize::new(0));
    drive(concurrency, seconds, {
        let client = client.clone();
        move || {
            let (client, bases, props, seq) = (client.clone(), bases.clone(), properties.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(7919, Ordering::Relaxed);
                let p = &props[k % props.len()];
                let ci = today.checked_add(jiff::Span::new().days(5 + (k % 50) as i64)).unwrap_or(today);
                let co = ci.checked_add(jiff::Span::new().days(2)).unwrap_or(ci);
                let base = &bases[(k / 7919) % bases.len()];
                let url = format!("{base}/api/v1/availability?property_id={p}&check_in={ci}&check_out={co}&adults=2");
                matches!(client.get(url).send().await, Ok(r) if r.status() == 200)
            }
        }
    })
    .await
}

/// City searches (a demo city by name, 2 nights over the next 50 days, 2 adults) from 8
/// clients for `seconds`; each answer is read whole, as a client would.
async fn search_phase(
    client: &reqwest::Client,
    base: &str,
    cities: &Arc<Vec<String>>,
    seconds: u64,
    today: jiff::civil::Date,
) -> Stats {
    let seq = Arc::new(AtomicUsize::new(0));
    drive(8, seconds, {
        let (client, base, cities) = (client.clone(), base.to_string(), cities.clone());
        move || {
            let (client, base, cities, seq) = (client.clone(), base.clone(), cities.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let city = &cities[k % cities.len()];
                let ci = today.checked_add(jiff::Span::new().days(5 + (k % 50) as i64)).unwrap_or(today);
                let co = ci.checked_add(jiff::Span::new().days(2)).unwrap_or(ci);
                let url = format!("{base}/api/v1/search?destination={city}&check_in={ci}&check_out={co}&adults=2");
                read_ok(client.get(url).send().await).await
            }
        }
    })
    .await
}

/// Place autocomplete on the first 4 letters of the demo cities from 8 clients.
async fn autocomplete_phase(client: &reqwest::Client, base: &str, cities: &[String], seconds: u64) -> Stats {
    let prefixes = Arc::new(cities.iter().map(|c| c.chars().take(4).collect::<String>()).collect::<Vec<_>>());
    let seq = Arc::new(AtomicUsize::new(0));
    drive(8, seconds, {
        let (client, base) = (client.clone(), base.to_string());
        move || {
            let (client, base, prefixes, seq) = (client.clone(), base.clone(), prefixes.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let url = format!("{base}/api/v1/places?q={}", prefixes[k % prefixes.len()]);
                read_ok(client.get(url).send().await).await
            }
        }
    })
    .await
}

/// Wait (at most two minutes) until every outbox consumer of the server at `base` reports no
/// lag in /metrics; how long that took.
async fn consumers_caught_up(client: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let metrics = match client.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let lagging = metrics
            .lines()
            .filter(|l| l.starts_with("innkeep_consumer_lag_events"))
            .any(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).is_none_or(|v| v > 0.0));
        if !lagging {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    started.elapsed()
}

/// A 200 answer whose body arrived whole.
async fn read_ok(r: reqwest::Result<reqwest::Response>) -> bool {
    match r {
        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// `innkeep bench search`: the search and autocomplete figures alone, beside plain SQL, on
/// the demo in `data` (loaded there first if it is empty) or in a fresh directory.
pub async fn run_search(opts: BenchOptions, data: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let dir = match &data {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => tempfile_dir()?,
    };
    {
        let store = open_store(&dir, None).await?;
        if store.count_properties().await? == 0 {
            let started = Instant::now();
            load_demo(&dir, opts.properties, &[]).await?;
            println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
        }
        println!(
            "# innkeep bench search: {} properties, {} s per phase",
            store.count_properties().await?,
            opts.seconds
        );
        store.close().await;
    }
    let (server, base) = serve(&dir, &[]).await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    // As in the full run (and in production), the index has taken an update since it was
    // built, so it searches more than one segment and one of them has a deleted document.
    let host = token(&client, &base, demo::DEMO_HOST).await?;
    hot_room_type(&client, &base, &host).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let cities = Arc::new(demo::CITIES.iter().map(|c| c.name.to_string()).collect::<Vec<_>>());
    let search = search_phase(&client, &base, &cities, opts.seconds, today).await;
    let places = autocomplete_phase(&client, &base, &cities, opts.seconds).await;
    drop(server);
    let pool = raw_pool(&dir.join("innkeep.db"), 8).await?;
    let raw = raw_city_search(&pool, &cities, opts.seconds, today).await?;
    pool.close().await;
    let rate = |s: &Stats| s.ok as f64 / s.elapsed.as_secs_f64();
    println!("\n| figure | innkeep (HTTP) | plain SQL, same data |\n|---|---|---|");
    println!(
        "| search: city + dates + 2 adults, p50 / p99 (8 clients) | {} / {} ({:.0} req/s, {} failed) | {} / {} |",
        ms(search.p50),
        ms(search.p99),
        rate(&search),
        search.failed,
        ms(raw.p50),
        ms(raw.p99)
    );
    println!(
        "| place autocomplete (4 letters), p50 / p99 (8 clients) | {} / {} ({:.0} req/s) | - |",
        ms(places.p50),
        ms(places.p99),
        rate(&places)
    );
    if data.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Run the benchmark and print a Markdown table of the figures; with `json`, also write the
/// figures as numbers (with the machine and the date) for `innkeep cost --capacity`.
pub async fn run(opts: BenchOptions, json: Option<&std::path::Path>) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile_dir()?;
    println!(
        "# innkeep bench: {} properties, {} s per phase, concurrency {}",
        opts.properties, opts.seconds, opts.concurrency
    );
    let started = Instant::now();
    load_demo(&dir, opts.properties, &[]).await?;
    println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    let db_path = dir.join("innkeep.db");
    let mut figures = Vec::new();

    // The server under test, as a separate process.
    let (server, base) = serve(&dir, &[("INNKEEP_BOOKING__HOLD_TTL_SECS", "86400".into())]).await?;
    let pid = server.0.id();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;

    let pool = raw_pool(&db_path, 8).await?;
    let room_types = sample_room_types(&pool, 20_000).await?;
    let properties: Vec<String> = room_types.iter().map(|r| r.1.clone()).collect();
    anyhow::ensure!(!room_types.is_empty(), "no room types");
    let guest = token(&client, &base, demo::DEMO_GUEST).await?;
    let host = token(&client, &base, demo::DEMO_HOST).await?;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();

    // 1. Bookings without contention: every request a different room type and night.
    let seq = Arc::new(AtomicUsize::new(0));
    let rts = Arc::new(room_types.clone());
    let stats = drive(opts.concurrency, opts.seconds, {
        let (client, base, guest, seq, rts) = (client.clone(), base.clone(), guest.clone(), seq.clone(), rts.clone());
        move || {
            let (client, base, guest, seq, rts) =
                (client.clone(), base.clone(), guest.clone(), seq.clone(), rts.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let (rt, _) = &rts[k % rts.len()];
                let ci = today.checked_add(jiff::Span::new().days(20 + (k / rts.len()) as i64)).unwrap_or(today);
                book(&client, &base, &guest, rt, ci).await
            }
        }
    })
    .await;
    let http_free = stats.ok as f64 / stats.elapsed.as_secs_f64();

    // 2. Bookings with contention: every request the same room type and night.
    let hot = hot_room_type(&client, &base, &host).await?;
    let stats2 = drive(opts.concurrency, opts.seconds, {
        let (client, base, guest, hot) = (client.clone(), base.clone(), guest.clone(), hot.clone());
        move || {
            let (client, base, guest, hot) = (client.clone(), base.clone(), guest.clone(), hot.clone());
            let ci = today.checked_add(jiff::Span::new().days(10)).unwrap_or(today);
            async move { book(&client, &base, &guest, &hot, ci).await }
        }
    })
    .await;
    let http_hot = stats2.ok as f64 / stats2.elapsed.as_secs_f64();

    // The bookings left the outbox consumers behind (each event is recorded as handled with
    // a durable write, on SQLite's one writer): the read phases start once they caught up.
    let catch_up = consumers_caught_up(&client, &base).await;
    println!("outbox consumers caught up {:.1} s after the booking phases", catch_up.as_secs_f64());

    // 3. Availability at concurrency 8.
    let props = Arc::new(properties.clone());
    let stats3 = availability_phase(&client, Arc::new(vec![base.clone()]), props.clone(), 8, opts.seconds, today).await;
    // 4. Search: a city, dates and 2 adults, at concurrency 8; and place autocomplete.
    let cities = Arc::new(demo::CITIES.iter().map(|c| c.name.to_string()).collect::<Vec<_>>());
    let stats4 = search_phase(&client, &base, &cities, opts.seconds, today).await;
    let stats5 = autocomplete_phase(&client, &base, &cities, opts.seconds).await;
    // 5. Client event ingestion: batches of 500 events into the embedded log over HTTP,
    // each batch from its own client id (one client may send 50 batches/s).
    let bodies = Arc::new(ingest::bodies(256, 500, today));
    let (events_per_s, _, _) = ingest::drive_http(&client, &base, bodies, 500, opts.concurrency, opts.seconds).await;
    let rss = peak_rss_mib(pid);
    drop(server);

    // The references: raw SQLite doing the same work on the same file, no HTTP.
    let raw_free = raw_bookings(&pool, &rts, opts.concurrency, opts.seconds, false, today).await?;
    let raw_hot = raw_bookings(&pool, &rts, opts.concurrency, opts.seconds, true, today).await?;
    let raw_batched = raw_batched_bookings(&pool, &rts, 64, opts.seconds, today).await?;
    let raw_avail = raw_availability(&pool, &props, opts.seconds, today).await?;
    let raw_search = raw_city_search(&pool, &cities, opts.seconds, today).await?;
    pool.close().await;

    figures.push(Figure {
        name: format!("booking commits/s, no contention (concurrency {})", opts.concurrency),
        innkeep: format!("{http_free:.0}/s ({} ok, {} refused)", stats.ok, stats.failed),
        reference: format!(
            "{:.0}/s one per commit; {raw_batched:.0}/s 64 per commit",
            raw_free.ok as f64 / raw_free.elapsed.as_secs_f64()
        ),
    });
    figures.push(Figure {
        name: format!("booking commits/s, one hot room type and night (concurrency {})", opts.concurrency),
        innkeep: format!("{http_hot:.0}/s ({} ok, {} refused)", stats2.ok, stats2.failed),
        reference: format!("{:.0}/s", raw_hot.ok as f64 / raw_hot.elapsed.as_secs_f64()),
    });
    figures.push(Figure {
        name: "availability p50 / p99 (concurrency 8)".into(),
        innkeep: format!(
            "{} / {} ({:.0} req/s)",
            ms(stats3.p50),
            ms(stats3.p99),
            stats3.ok as f64 / stats3.elapsed.as_secs_f64()
        ),
        reference: format!("{} / {}", ms(raw_avail.p50), ms(raw_avail.p99)),
    });
    figures.push(Figure {
        name: "search: city + dates + 2 adults, p50 / p99 (concurrency 8)".into(),
        innkeep: format!(
            "{} / {} ({:.0} req/s)",
            ms(stats4.p50),
            ms(stats4.p99),
            stats4.ok as f64 / stats4.elapsed.as_secs_f64()
        ),
        reference: format!(
            "{} / {} (SQL: properties by city, then their nights)",
            ms(raw_search.p50),
            ms(raw_search.p99)
        ),
    });
    figures.push(Figure {
        name: "place autocomplete (4 letters) over HTTP, p50 / p99 (concurrency 8)".into(),
        innkeep: format!(
            "{} / {} ({:.0} req/s)",
            ms(stats5.p50),
            ms(stats5.p99),
            stats5.ok as f64 / stats5.elapsed.as_secs_f64()
        ),
        reference: "-".into(),
    });
    figures.push(Figure {
        name: format!("client events/s into the embedded log, batches of 500 ({} clients)", opts.concurrency),
        innkeep: format!("{events_per_s:.0}/s"),
        reference: "see `innkeep bench ingest`".into(),
    });
    figures.push(Figure {
        name: "peak RSS of `innkeep serve` (VmHWM)".into(),
        innkeep: rss.map(|r| format!("{r:.0} MiB")).unwrap_or_else(|| "n/a".into()),
        reference: "-".into(),
    });
    println!("\n| figure | innkeep (HTTP) | raw SQLite, same work |\n|---|---|---|");
    for f in &figures {
        println!("| {} | {} | {} |", f.name, f.innkeep, f.reference);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(path) = json {
        let per_s = |s: &Stats| s.ok as f64 / s.elapsed.as_secs_f64();
        let doc = json!({
            "format": "innkeep-bench-embedded/1",
            "date": jiff::Timestamp::now().to_string(),
            "machine": machine(),
            "options": { "properties": opts.properties, "seconds": opts.seconds, "concurrency": opts.concurrency },
            "note": "one `innkeep serve` process on the embedded defaults (SQLite), measured over HTTP by a load generator on the same machine",
            "bookings_per_s": http_free,
            "bookings_hot_per_s": http_hot,
            "availability_req_per_s": per_s(&stats3),
            "availability_p99_ms": stats3.p99.as_secs_f64() * 1000.0,
            "search_req_per_s": per_s(&stats4),
            "search_p99_ms": stats4.p99.as_secs_f64() * 1000.0,
            "autocomplete_req_per_s": per_s(&stats5),
            "events_per_s": events_per_s,
            "peak_rss_mib": rss,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!("figures written to {}", path.display());
    }
    Ok(figures)
}

/// The machine the figures were measured on: logical cores and the CPU model.
fn machine() -> serde_json::Value {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    json!({ "cores": cores, "cpu_model": model, "os": std::env::consts::OS, "arch": std::env::consts::ARCH })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("innkeep-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"email": email, "password": demo::DEMO_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    r["token"].as_str().map(str::to_string).context("no token")
}

async fn hot_room_type(client: &reqwest::Client, base: &str, host: &str) -> anyhow::Result<String> {
    let props: serde_json::Value =
        client.get(format!("{base}/api/v1/properties?limit=1")).bearer_auth(host).send().await?.json().await?;
    let pid = props[0]["id"].as_str().context("host has a property")?;
    let rts: serde_json::Value =
        client.get(format!("{base}/api/v1/properties/{pid}/room-types")).send().await?.json().await?;
    let rt = rts[0]["id"].as_str().context("a room type")?.to_string();
    let r = client
        .patch(format!("{base}/api/v1/room-types/{rt}"))
        .bearer_auth(host)
        .json(&json!({"units": 10000, "occupancy": {"max_adults": 2, "max_children": 0, "max_total": 2}}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 200, "could not enlarge the hot room type: {}", r.text().await.unwrap_or_default());
    Ok(rt)
}

async fn book(client: &reqwest::Client, base: &str, token: &str, rt: &str, ci: jiff::civil::Date) -> bool {
    let co = ci.checked_add(jiff::Span::new().days(1)).unwrap_or(ci);
    let body = json!({"room_type_id": rt, "check_in": ci, "check_out": co, "adults": 1, "children": 0,
        "guest": {"name": "Bench Guest", "email": "bench@example.com"}});
    matches!(client.post(format!("{base}/api/v1/bookings")).bearer_auth(token).json(&body).send().await, Ok(r) if r.status() == 201)
}

struct Stats {
    ok: u64,
    failed: u64,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

/// Run `op` from `concurrency` tasks for `seconds`; count successes and time each call.
async fn drive<F, Fut>(concurrency: usize, seconds: u64, op: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, ok, failed) = (op.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    if op().await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = futures::future::join_all(tasks).await.into_iter().flatten().flatten().collect();
    let elapsed = start.elapsed();
    lat.sort();
    Stats {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed,
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
    }
}

async fn raw_pool(path: &std::path::Path, readers: u32) -> anyhow::Result<SqlitePool> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    Ok(SqlitePoolOptions::new().max_connections(readers).connect_with(opts).await?)
}

async fn sample_room_types(pool: &SqlitePool, limit: i64) -> anyhow::Result<Vec<(String, String)>> {
    let rows =
        sqlx::query("SELECT id, property_id FROM room_types ORDER BY id LIMIT ?").bind(limit).fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?))).collect()
}

/// The booking transaction as the server runs it, straight on SQLite (one writer).
async fn raw_bookings(
    pool: &SqlitePool,
    rts: &Arc<Vec<(String, String)>>,
    concurrency: usize,
    seconds: u64,
    hot: bool,
    today: jiff::civil::Date,
) -> anyhow::Result<Stats> {
    let writer = SqlitePoolOptions::new().max_connections(1).connect_with((*pool.connect_options()).clone()).await?;
    let user: String =
        sqlx::query_scalar("SELECT id FROM users WHERE email = ?1").bind(demo::DEMO_GUEST).fetch_one(pool).await?;
    let user = Arc::new(user);
    // Fail loudly if the reference transaction itself is broken rather than report 0/s.
    let probe = &rts[rts.len() - 1];
    raw_booking(&writer, &probe.0, &probe.1, &user, "2099-01-01", "{}").await.context("reference transaction")?;
    let seq = Arc::new(AtomicUsize::new(0));
    let doc = Arc::new(json!({"example": "booking document of the same size", "pad": "x".repeat(1500)}).to_string());
    let stats = drive(concurrency, seconds, {
        let (writer, rts, seq, doc, user) = (writer.clone(), rts.clone(), seq.clone(), doc.clone(), user.clone());
        move || {
            let (writer, rts, seq, doc, user) = (writer.clone(), rts.clone(), seq.clone(), doc.clone(), user.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let (rt, pid) = if hot { &rts[0] } else { &rts[k % rts.len()] };
                let days = if hot { 300 } else { 400 + (k / rts.len()) as i64 };
                let night = today.checked_add(jiff::Span::new().days(days)).unwrap_or(today).to_string();
                raw_booking(&writer, rt, pid, &user, &night, &doc).await.unwrap_or(false)
            }
        }
    })
    .await;
    writer.close().await;
    Ok(stats)
}

async fn raw_booking(
    pool: &SqlitePool,
    rt: &str,
    pid: &str,
    user: &str,
    night: &str,
    doc: &str,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    if raw_booking_in(&mut tx, rt, pid, user, night, doc).await? {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// The statements of one booking, in the caller's transaction: false when the night is
/// sold out (nothing of it to keep).
async fn raw_booking_in(
    conn: &mut sqlx::SqliteConnection,
    rt: &str,
    pid: &str,
    user: &str,
    night: &str,
    doc: &str,
) -> anyhow::Result<bool> {
    sqlx::query("INSERT INTO inventory (room_type_id, night, sold) VALUES (?1, ?2, 0) ON CONFLICT (room_type_id, night) DO NOTHING")
        .bind(rt)
        .bind(night)
        .execute(&mut *conn)
        .await?;
    let sold = sqlx::query(
        "UPDATE inventory SET sold = sold + 1 WHERE room_type_id = ?1 AND night >= ?2 AND night < ?3 \
         AND COALESCE(closed, 0) = 0 AND sold < COALESCE(units, (SELECT units FROM room_types WHERE id = ?1) + 10000) \
         RETURNING night, sold, units, price_minor, closed, min_stay",
    )
    .bind(rt)
    .bind(night)
    .bind(format!("{night}~"))
    .fetch_all(&mut *conn)
    .await?;
    if sold.len() != 1 {
        return Ok(false);
    }
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO bookings (id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out, hold_expires_at, total_minor, currency, doc, created_at, updated_at) \
         SELECT ?1, 'held', tenant_id, ?2, ?3, ?6, ?4, ?4, 0, 100, 'EUR', ?5, 0, 0 FROM room_types WHERE id = ?3",
    )
    .bind(&id)
    .bind(pid)
    .bind(rt)
    .bind(night)
    .bind(doc)
    .bind(user)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload) VALUES (?1, 'booking.held', 1, 0, NULL, ?1, ?2)")
        .bind(&id)
        .bind(doc)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// The same bookings as [`raw_bookings`] without contention, `batch` to a durable commit, each
/// in a savepoint (the best a single SQLite writer does with group commit), for `seconds`.
async fn raw_batched_bookings(
    pool: &SqlitePool,
    rts: &Arc<Vec<(String, String)>>,
    batch: usize,
    seconds: u64,
    today: jiff::civil::Date,
) -> anyhow::Result<f64> {
    let user: String =
        sqlx::query_scalar("SELECT id FROM users WHERE email = ?1").bind(demo::DEMO_GUEST).fetch_one(pool).await?;
    let doc = json!({"example": "booking document of the same size", "pad": "x".repeat(1500)}).to_string();
    let mut conn = pool.acquire().await?;
    let (started, mut made, mut k) = (Instant::now(), 0usize, 0usize);
    while started.elapsed() < Duration::from_secs(seconds) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for _ in 0..batch {
            let (rt, pid) = &rts[k % rts.len()];
            let night = today.checked_add(jiff::Span::new().days(800 + (k / rts.len()) as i64)).unwrap_or(today);
            k += 1;
            sqlx::query("SAVEPOINT member").execute(&mut *tx).await?;
            if raw_booking_in(&mut tx, rt, pid, &user, &night.to_string(), &doc).await? {
                sqlx::query("RELEASE member").execute(&mut *tx).await?;
                made += 1;
            } else {
                sqlx::query("ROLLBACK TO member").execute(&mut *tx).await?;
                sqlx::query("RELEASE member").execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(made as f64 / started.elapsed().as_secs_f64())
}

/// The availability reads as the server runs them, straight on SQLite.
async fn raw_availability(
    pool: &SqlitePool,
    props: &Arc<Vec<String>>,
    seconds: u64,
    today: jiff::civil::Date,
) -> anyhow::Result<Stats> {
    let seq = Arc::new(AtomicUsize::new(0));
    Ok(drive(8, seconds, {
        let (pool, props, seq) = (pool.clone(), props.clone(), seq.clone());
        move || {
            let (pool, props, seq) = (pool.clone(), props.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(7919, Ordering::Relaxed);
                let p = &props[k % props.len()];
                let ci = today.checked_add(jiff::Span::new().days(5 + (k % 50) as i64)).unwrap_or(today);
                let co = ci.checked_add(jiff::Span::new().days(2)).unwrap_or(ci);
                raw_available(&pool, p, &ci.to_string(), &co.to_string()).await.is_ok()
            }
        }
    })
    .await)
}

/// The city search as plain SQL: the properties of a city, then each one's availability reads.
async fn raw_city_search(
    pool: &SqlitePool,
    cities: &Arc<Vec<String>>,
    seconds: u64,
    today: jiff::civil::Date,
) -> anyhow::Result<Stats> {
    let seq = Arc::new(AtomicUsize::new(0));
    Ok(drive(8, seconds, {
        let (pool, cities, seq) = (pool.clone(), cities.clone(), seq.clone());
        move || {
            let (pool, cities, seq) = (pool.clone(), cities.clone(), seq.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let ci = today.checked_add(jiff::Span::new().days(5 + (k % 50) as i64)).unwrap_or(today);
                let co = ci.checked_add(jiff::Span::new().days(2)).unwrap_or(ci);
                let Ok(ids) = sqlx::query_scalar::<_, String>("SELECT id FROM properties WHERE city = ?1 LIMIT 200")
                    .bind(&cities[k % cities.len()])
                    .fetch_all(&pool)
                    .await
                else {
                    return false;
                };
                for id in ids {
                    if raw_available(&pool, &id, &ci.to_string(), &co.to_string()).await.is_err() {
                        return false;
                    }
                }
                true
            }
        }
    })
    .await)
}

async fn raw_available(pool: &SqlitePool, property: &str, ci: &str, co: &str) -> anyhow::Result<usize> {
    let _p: String =
        sqlx::query_scalar("SELECT doc FROM properties WHERE id = ?1").bind(property).fetch_one(pool).await?;
    let rts =
        sqlx::query("SELECT id, doc FROM room_types WHERE property_id = ?1").bind(property).fetch_all(pool).await?;
    let mut n = 0;
    for rt in &rts {
        let id: String = rt.try_get(0)?;
        let nights = sqlx::query("SELECT night, sold, units, price_minor, closed, min_stay FROM inventory WHERE room_type_id = ?1 AND night >= ?2 AND night < ?3")
            .bind(&id)
            .bind(ci)
            .bind(co)
            .fetch_all(pool)
            .await?;
        n += nights.len();
    }
    Ok(n)
}
