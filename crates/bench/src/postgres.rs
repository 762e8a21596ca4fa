//! `innkeep bench postgres --admin-url URL --nodes N`: booking commits/s and availability p50/p99
//! over HTTP with 1..=N `innkeep serve` processes on one PostgreSQL database, beside raw
//! `pgbench` running the booking and availability reads (the scripts beside this file) on
//! the same database in the same run. pgbench's reference booking is the engine's best
//! correct one, the single statement the nodes send (`innkeep_hold`); the same booking as a
//! transaction of several statements is shown beside it. With `--latency-ms N`, nodes and
//! pgbench reach PostgreSQL through a proxy that adds N ms to every round trip.

use super::{availability_phase, book, drive, ms, percentile, serve, token};
use anyhow::Context;
use innkeep_demo as demo;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BOOKING_SQL: &str = include_str!("pgbench_booking.sql");
const ONE_CALL_BOOKING_SQL: &str = include_str!("pgbench_booking_one_call.sql");
const AVAILABILITY_SQL: &str = include_str!("pgbench_availability.sql");

/// What to run.
#[derive(Debug, Clone)]
pub struct PostgresBench {
    /// A server URL; a fresh database is made on it and dropped afterwards.
    pub admin_url: String,
    pub nodes: usize,
    pub properties: usize,
    pub seconds: u64,
    pub concurrency: usize,
    /// More client counts to run every phase at (both sides), to compare peak rates.
    pub sweep: Vec<usize>,
    /// Milliseconds added to every round trip between a client (node or pgbench) and
    /// PostgreSQL, through a proxy (see `delay_proxy`); 0 connects directly.
    pub latency_ms: u64,
}

struct Row {
    nodes: usize,
    concurrency: usize,
    bookings: f64,
    failed: u64,
    book_p50: Duration,
    book_p99: Duration,
    p50: Duration,
    p99: Duration,
}

/// Run the benchmark and print a Markdown table.
pub async fn run(opts: PostgresBench) -> anyhow::Result<()> {
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&opts.admin_url).await?;
    let dir = super::tempfile_dir()?;
    let result = phases(&opts, &url, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    innkeep_store::testing::drop_postgres_database(&opts.admin_url, &name).await?;
    result
}

async fn phases(opts: &PostgresBench, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    println!(
        "# innkeep bench on PostgreSQL: {} properties, {} s per phase, concurrency {} (then {:?}), 1..={} nodes, {} ms added per round trip",
        opts.properties, opts.seconds, opts.concurrency, opts.sweep, opts.nodes, opts.latency_ms
    );
    let started = Instant::now();
    super::load_demo(&dir.join("loader"), opts.properties, &[("INNKEEP_DATABASE__URL", url.to_string())]).await?;
    let store = super::open_store(&dir.join("loader"), Some(url)).await?;
    // Numbered copies of the ids, so pgbench can pick one at random.
    let pool = store.writer();
    for sql in [
        "CREATE TABLE bench_rt AS SELECT (row_number() OVER (ORDER BY id))::int AS n, id, property_id, tenant_id FROM room_types",
        "CREATE UNIQUE INDEX ON bench_rt (n)",
        "CREATE TABLE bench_prop AS SELECT (row_number() OVER (ORDER BY id))::int AS n, id FROM properties",
        "CREATE UNIQUE INDEX ON bench_prop (n)",
        "ANALYZE",
    ] {
        sqlx::query(sql).execute(&pool).await?;
    }
    let room_types: Vec<(String, String)> =
        sqlx::query_as("SELECT id, property_id FROM bench_rt ORDER BY n").fetch_all(&pool).await?;
    let guest_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(demo::DEMO_GUEST)
        .fetch_one(&pool)
        .await
        .context("the demo guest")?;
    store.close().await;
    anyhow::ensure!(!room_types.is_empty(), "no room types");
    println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    let mut properties: Vec<String> = room_types.iter().map(|r| r.1.clone()).collect();
    properties.sort();
    properties.dedup();
    // Nodes and pgbench go through the proxy; loading and checkpoints do not.
    let via = if opts.latency_ms > 0 {
        let (_, target) = super::delay_proxy::through(url, "127.0.0.1:1".parse()?)?;
        let addr = super::delay_proxy::start(target, Duration::from_millis(opts.latency_ms))?;
        let (proxied, _) = super::delay_proxy::through(url, addr)?;
        println!("every round trip to PostgreSQL takes {} ms longer (proxy on {addr})", opts.latency_ms);
        proxied
    } else {
        url.to_string()
    };

    let mut concurrencies = vec![opts.concurrency];
    concurrencies.extend(opts.sweep.iter().copied().filter(|c| *c != opts.concurrency));
    let mut rows = Vec::new();
    let mut raws = Vec::new();
    let mut round = 0;
    for &c in &concurrencies {
        for n in 1..=opts.nodes.max(1) {
            round += 1;
            rows.push(http_phases(opts, url, &via, dir, n, c, round, &room_types, &properties).await?);
        }
        checkpoint(url).await;
        let one_call_vars = [
            ("rts", room_types.len().to_string()),
            ("user", guest_id.clone()),
            ("clients", c.to_string()),
            ("i", "0".to_string()),
        ];
        let raw_book = pgbench(opts, &via, dir, c, ONE_CALL_BOOKING_SQL, "booking-one-statement", &one_call_vars)?;
        checkpoint(url).await;
        let vars = [("rts", room_types.len().to_string()), ("user", guest_id.clone())];
        let raw_tx = pgbench(opts, &via, dir, c, BOOKING_SQL, "booking-transaction", &vars)?;
        let raw_avail =
            pgbench(opts, &via, dir, c, AVAILABILITY_SQL, "availability", &[("props", properties.len().to_string())])?;
        raws.push((c, raw_book, raw_tx, raw_avail));
    }

    println!(
        "\n| clients | nodes | bookings/s (HTTP) | booking p50 / p99 | availability p50 / p99 (HTTP) | bookings/s: HTTP / pgbench one-statement booking |"
    );
    println!("|---|---|---|---|---|---|");
    for (c, raw_book, raw_tx, raw_avail) in &raws {
        for r in rows.iter().filter(|r| r.concurrency == *c) {
            println!(
                "| {c} | {} | {:.0} ({} failed) | {} / {} | {} / {} | {:.2} |",
                r.nodes,
                r.bookings,
                r.failed,
                ms(r.book_p50),
                ms(r.book_p99),
                ms(r.p50),
                ms(r.p99),
                r.bookings / raw_book.rate
            );
        }
        println!(
            "| {c} | pgbench, one-statement booking | {:.0} | {} / {} | {} / {} | 1.00 |",
            raw_book.rate,
            ms(raw_book.p50),
            ms(raw_book.p99),
            ms(raw_avail.p50),
            ms(raw_avail.p99)
        );
        println!(
            "| {c} | pgbench, booking as BEGIN, 4 statements, COMMIT | {:.0} | {} / {} | - | {:.2} |",
            raw_tx.rate,
            ms(raw_tx.p50),
            ms(raw_tx.p99),
            raw_tx.rate / raw_book.rate
        );
    }
    let verdict = |ratio: f64| if ratio >= 0.5 { "met" } else { "not met" };
    let (c0, base_raw, _, _) = &raws[0];
    let base = rows.iter().filter(|r| r.concurrency == *c0).map(|r| r.bookings).fold(0.0, f64::max);
    println!(
        "\nbest HTTP booking rate / pgbench one-statement booking at {c0} clients each: {:.2} (target >= 0.50: {})",
        base / base_raw.rate,
        verdict(base / base_raw.rate)
    );
    if raws.len() > 1 {
        let peak = rows.iter().map(|r| r.bookings).fold(0.0, f64::max);
        let raw_peak = raws.iter().map(|r| r.1.rate).fold(0.0, f64::max);
        println!(
            "peak HTTP booking rate / peak pgbench one-statement booking over {concurrencies:?} clients: {:.2} ({peak:.0} / {raw_peak:.0}; target >= 0.50: {})",
            peak / raw_peak,
            verdict(peak / raw_peak)
        );
    }
    Ok(())
}

/// Bookings without contention (every request a different room type and night), then
/// availability reads, spread round robin over `n` nodes.
#[allow(clippy::too_many_arguments)]
async fn http_phases(
    opts: &PostgresBench,
    url: &str,
    via: &str,
    dir: &std::path::Path,
    n: usize,
    concurrency: usize,
    round: usize,
    room_types: &[(String, String)],
    properties: &[String],
) -> anyhow::Result<Row> {
    let mut nodes = Vec::new();
    let mut bases = Vec::new();
    // Nodes on one PostgreSQL database share the key that signs their forms (and need one).
    let csrf_key = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..n {
        let env = [
            ("INNKEEP_DATABASE__URL", via.to_string()),
            ("INNKEEP_BOOKING__HOLD_TTL_SECS", "86400".into()),
            ("INNKEEP_WEB__CSRF_KEY", csrf_key.clone()),
        ];
        let (node, base) = serve(&dir.join(format!("node{round}-{i}")), &env).await?;
        nodes.push(node);
        bases.push(base);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let guest = token(&client, &bases[0], demo::DEMO_GUEST).await?;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let bases = Arc::new(bases);

    // Each round books its own nights, so no phase finds them sold.
    let rts = Arc::new(room_types.iter().map(|r| r.0.clone()).collect::<Vec<_>>());
    let seq = Arc::new(AtomicUsize::new(0));
    checkpoint(url).await;
    let bookings = drive(concurrency, opts.seconds, {
        let (client, bases, guest, seq, rts) = (client.clone(), bases.clone(), guest.clone(), seq.clone(), rts.clone());
        move || {
            let (client, bases, guest, seq, rts) =
                (client.clone(), bases.clone(), guest.clone(), seq.clone(), rts.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let rt = &rts[k % rts.len()];
                let day = 20 + 10 * round as i64 + (k / rts.len()) as i64;
                let ci = today.checked_add(jiff::Span::new().days(day)).unwrap_or(today);
                book(&client, &bases[k % bases.len()], &guest, rt, ci).await
            }
        }
    })
    .await;

    let avail =
        availability_phase(&client, bases, Arc::new(properties.to_vec()), concurrency, opts.seconds, today).await;
    anyhow::ensure!(avail.ok > 0, "no availability answer succeeded");
    drop(nodes);
    let row = Row {
        nodes: n,
        concurrency,
        bookings: bookings.ok as f64 / bookings.elapsed.as_secs_f64(),
        failed: bookings.failed,
        book_p50: bookings.p50,
        book_p99: bookings.p99,
        p50: avail.p50,
        p99: avail.p99,
    };
    println!(
        "{n} node(s), {concurrency} clients: {:.0} bookings/s ({} failed), booking p50 {} p99 {}, availability p50 {} p99 {}",
        row.bookings,
        row.failed,
        ms(row.book_p50),
        ms(row.book_p99),
        ms(row.p50),
        ms(row.p99)
    );
    Ok(row)
}

/// Write out every dirty page before a timed booking phase, so that neither side pays
/// for the checkpoint the other's writes (or the demo load) started.
async fn checkpoint(url: &str) {
    use sqlx::Connection;
    let done = async {
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        sqlx::query("CHECKPOINT").execute(&mut conn).await?;
        conn.close().await
    };
    if let Err(e) = done.await {
        eprintln!("CHECKPOINT before the phase failed (the figures may include one): {e}");
    }
}

struct Raw {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

/// Run a pgbench script for the phase length at the same concurrency; transactions/s and
/// latency percentiles from its per-transaction log.
fn pgbench(
    opts: &PostgresBench,
    url: &str,
    dir: &std::path::Path,
    concurrency: usize,
    script: &str,
    name: &str,
    vars: &[(&str, String)],
) -> anyhow::Result<Raw> {
    let file = dir.join(format!("{name}.sql"));
    std::fs::write(&file, script)?;
    let logs = dir.join(format!("{name}-c{concurrency}-log"));
    std::fs::create_dir_all(&logs)?;
    let mut cmd = Command::new("pgbench");
    cmd.args(["-n", "-M", "prepared", "-l", "--log-prefix"])
        .arg(logs.join("tx"))
        .args(["-c", &concurrency.to_string(), "-j", "2", "-T", &opts.seconds.to_string(), "-f"])
        .arg(&file);
    for (k, v) in vars {
        cmd.args(["-D", &format!("{k}={v}")]);
    }
    let out = cmd.arg(url).output().context("running pgbench (install postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(out.status.success(), "pgbench {name} failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = ")?.split_whitespace().next()?.parse::<f64>().ok())
        .context("no tps in pgbench's output")?;
    let failed = text.lines().find_map(|l| {
        l.strip_prefix("number of failed transactions: ")?.split_whitespace().next()?.parse::<u64>().ok()
    });
    anyhow::ensure!(failed.unwrap_or(0) == 0, "pgbench {name}: {failed:?} transactions failed");
    // Per-transaction log lines: client_id transaction_no time_us script_no epoch epoch_us.
    let mut lat = Vec::new();
    for entry in std::fs::read_dir(&logs)? {
        for line in std::fs::read_to_string(entry?.path())?.lines() {
            if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse::<u64>().ok()) {
                lat.push(Duration::from_micros(us));
            }
        }
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    println!(
        "raw pgbench {name}, {concurrency} clients: {rate:.0} tx/s, p50 {} p99 {} ({} transactions)",
        ms(p50),
        ms(p99),
        lat.len()
    );
    Ok(Raw { rate, p50, p99 })
}
