//! `innkeep bench analytics`: a year of generated bookings and client events over the demo's
//! catalogue written into a Parquet lake by the lake writer (events/s), the occupancy/ADR
//! report and the funnel over it with DataFusion in process beside DuckDB and pyspark (local
//! mode) over the same files in the same run (the same SQL for DuckDB; Spark's dialect of
//! the same reports for Spark), and the suggestion endpoints' latency at 8 clients against a
//! real `innkeep serve` beside the same server's cheapest endpoint.

use crate::{Figure, Stats, drive, load_demo_with, ms, open_store, serve, tempfile_dir};
use anyhow::Context;
use innkeep_analytics::{Lake, LakeSql};
use innkeep_app::analytics::{Analytics, Grouping, Limits, Report, Table};
use innkeep_app::event::{Change, Event, StoredEvent};
use innkeep_app::ingest::{ClientEvent, EncodedBatch};
use innkeep_app::store::{Booking, GuestContact, Property, RoomType};
use innkeep_core::{BookingId, BookingStatus, Money, NightPrice, PaymentTiming, PropertyId, Quote, UserId};
use innkeep_events::log::{ClosedSegments, EventLog, LogOptions};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct AnalyticsBench {
    /// Events in the lake (domain and client events together), about.
    pub events: u64,
    pub properties: usize,
    /// Demo guests with tastes (their bookings train the suggestions model).
    pub guests: usize,
    /// Seconds of load on each suggestion endpoint.
    pub seconds: u64,
    /// Also run pyspark over the lake.
    pub spark: bool,
    /// Timed runs of each query per engine (after one untimed warm-up run).
    pub runs: usize,
    /// Files the lake writer encodes at once.
    pub writer_threads: usize,
    /// Keep the run's data directory (its lake in `bench-lake`) instead of removing it.
    pub keep: bool,
    /// Seconds of HTTP ingestion measured as the lake writer's reference (0: none).
    pub ingest_seconds: u64,
}

/// Days of generated history, from [`FIRST_DAY`].
const DAYS: i64 = 365;
const FIRST_DAY: Date = Date::constant(2026, 1, 1);
/// Per booking: held, confirmed (80%), cancelled (10% of those), 3 searches and 2 views.
const EVENTS_PER_BOOKING: f64 = 1.0 + 0.8 + 0.08 + 3.0 + 2.0;

const DUCKDB_SCRIPT: &str = include_str!("../scripts/duckdb_reports.py");
const SPARK_SCRIPT: &str = include_str!("../scripts/spark_reports.py");
const SPARK_RUNNER: &str = include_str!("../../../deploy/spark/run_reports.py");
const SPARK_LAKE: &str = include_str!("../../../deploy/spark/lake.sql");
const SPARK_REPORTS: &str = include_str!("../../../deploy/spark/reports.sql");

/// The reports measured: (name in the API and in reports.sql, report).
const REPORTS: [(&str, Report); 2] =
    [("occupancy-by-month", Report::Occupancy(Grouping::Month)), ("funnel", Report::Funnel)];

struct Bookable<'a> {
    room_type: &'a RoomType,
    property: &'a Property,
}

fn at(day: Date, second: i64) -> Timestamp {
    let midnight =
        day.to_zoned_datetime(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH);
    midnight + SignedDuration::from_secs(second)
}

fn booking(b: &Bookable, rng: &mut ChaCha8Rng, users: &[UserId], created: Timestamp) -> Booking {
    let day = innkeep_app::report::utc_day(created);
    let check_in = day.checked_add(jiff::Span::new().days(rng.random_range(1..120))).unwrap_or(day);
    let nights = rng.random_range(1..=7i64);
    let check_out = check_in.checked_add(jiff::Span::new().days(nights)).unwrap_or(check_in);
    let currency = b.property.draft.currency;
    let rate = Money::new(b.room_type.draft.base_rate_minor, currency);
    let total = Money::new(rate.minor * nights, currency);
    let quote = Quote {
        currency,
        nights: (0..nights)
            .map(|n| NightPrice {
                date: check_in.checked_add(jiff::Span::new().days(n)).unwrap_or(check_in),
                price: rate,
            })
            .collect(),
        rooms: 1,
        subtotal: total,
        discount: Money::new(0, currency),
        children: None,
        charges: Vec::new(),
        total,
    };
    let user = users[rng.random_range(0..users.len())];
    Booking {
        id: BookingId::new_v7(created),
        status: BookingStatus::Held,
        tenant_id: b.property.tenant_id,
        property_id: b.property.id,
        room_type_id: b.room_type.id,
        user_id: user,
        check_in,
        check_out,
        adults: 2,
        children: 0,
        rooms: 1,
        child_ages: Default::default(),
        guest: GuestContact { name: "Bench Guest".into(), email: format!("guest-{}@example.com", user.0), phone: None },
        quote,
        total,
        refund: None,
        hold_expires_at: Some(created + SignedDuration::from_mins(15)),
        created_at: created,
        updated_at: created,
    }
}

fn event(b: &Booking, status: BookingStatus, when: Timestamp) -> Event {
    let mut b = b.clone();
    b.status = status;
    b.updated_at = when;
    if status != BookingStatus::Held {
        b.hold_expires_at = None;
    }
    Event::new(&Change::Booking(b.clone()), when, Some(b.tenant_id), b.id.0)
}

fn client(kind: &str, when: Timestamp, n: u64, property: Option<PropertyId>, data: Value) -> ClientEvent {
    ClientEvent {
        id: uuid::Uuid::now_v7(),
        kind: kind.into(),
        client_id: format!("c{}", n % 100_000),
        user_id: None,
        occurred_at: when,
        received_at: when,
        property_id: property,
        data,
    }
}

/// What generating and writing the lake measured.
struct Written {
    outbox_events: u64,
    outbox_secs: f64,
    client_events: u64,
    client_secs: f64,
    files: usize,
}

/// Generate `events` events over a year, a day at a time: each day's domain events go
/// through the lake writer (timed); its client events are appended to a client event log
/// (not timed), whose closed segments the lake writer then takes (timed).
async fn write_lake(
    lake: &Lake,
    log_dir: &std::path::Path,
    bookable: &[Bookable<'_>],
    events: u64,
) -> anyhow::Result<Written> {
    let mut rng = ChaCha8Rng::seed_from_u64(20261201);
    let users: Vec<UserId> = (0..50_000).map(|_| UserId(uuid::Uuid::new_v4())).collect();
    let per_day = events as f64 / EVENTS_PER_BOOKING / DAYS as f64;
    let log = EventLog::open(LogOptions {
        dir: log_dir.to_path_buf(),
        segment_bytes: 32 << 20,
        retention: Duration::from_secs(100 * 365 * 86_400),
        compact: false,
    })?;
    let mut w = Written { outbox_events: 0, outbox_secs: 0.0, client_events: 0, client_secs: 0.0, files: 0 };
    let (mut seq, mut n) = (0i64, 0u64);
    for d in 0..DAYS {
        let day = FIRST_DAY.checked_add(jiff::Span::new().days(d))?;
        let count = (per_day * (d + 1) as f64) as u64 - (per_day * d as f64) as u64;
        let (mut outbox, mut clients) = (Vec::new(), Vec::new());
        for _ in 0..count {
            n += 1;
            let b = &bookable[rng.random_range(0..bookable.len())];
            let created = at(day, rng.random_range(0..80_000));
            let held = booking(b, &mut rng, &users, created);
            let city = b.property.draft.address.city.clone();
            for s in 0..3 {
                let when = created - SignedDuration::from_mins(30 - s * 5);
                clients.push(client("search", when, n, None, json!({"destination": city})));
            }
            for s in 0..2 {
                let when = created - SignedDuration::from_mins(10 - s * 5);
                clients.push(client("view", when, n, Some(b.property.id), json!({})));
            }
            outbox.push(event(&held, BookingStatus::Held, created));
            if rng.random_bool(0.8) {
                outbox.push(event(&held, BookingStatus::Confirmed, created + SignedDuration::from_mins(5)));
                if rng.random_bool(0.1) {
                    outbox.push(event(&held, BookingStatus::Cancelled, created + SignedDuration::from_mins(60)));
                }
            }
        }
        outbox.sort_by_key(|e| e.occurred_at);
        let stored: Vec<StoredEvent> = outbox
            .into_iter()
            .map(|event| {
                seq += 1;
                StoredEvent { seq, event }
            })
            .collect();
        let t = Instant::now();
        w.files += lake.write_outbox(&stored).await?;
        w.outbox_secs += t.elapsed().as_secs_f64();
        w.outbox_events += stored.len() as u64;
        log.append_sync(&EncodedBatch::from_events(&clients)?)?;
    }
    log.sync()?;
    drop(log);
    let t = Instant::now();
    let (client_events, files) = lake.write_client(&ClosedSegments(log_dir.to_path_buf())).await?;
    w.client_secs = t.elapsed().as_secs_f64();
    w.client_events = client_events as u64;
    w.files += files;
    Ok(w)
}

/// One engine's answers: per report, the timed runs (ms) and the table.
type Answers = HashMap<String, (Vec<f64>, Table)>;

fn parse_answers(out: &[u8]) -> anyhow::Result<Answers> {
    let v: Value = serde_json::from_slice(out).context("reading the engine's answer")?;
    let mut answers = Answers::new();
    for (name, r) in v.as_object().context("an object")? {
        let ms: Vec<f64> = r["ms"].as_array().context("ms")?.iter().filter_map(Value::as_f64).collect();
        let columns = r["columns"].as_array().context("columns")?.iter().filter_map(|c| c.as_str().map(String::from));
        let rows = r["rows"].as_array().context("rows")?.iter().filter_map(|r| r.as_array().cloned()).collect();
        answers.insert(name.clone(), (ms, Table { columns: columns.collect(), rows, truncated: false }));
    }
    Ok(answers)
}

async fn python(args: &[&str], input: Option<String>) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("python3")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .context("starting python3")?;
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        stdin.write_all(input.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    anyhow::ensure!(out.status.success(), "python3 {} failed ({})", args.join(" "), out.status);
    Ok(out.stdout)
}

/// A cell as text for comparing engines: numbers to 4 decimals, dates as dates.
fn norm(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{:.4}", n.as_f64().unwrap_or(0.0)),
        Value::String(s) => s.get(..10).filter(|d| d.parse::<Date>().is_ok()).unwrap_or(s).to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Whether two engines' tables hold the same rows (order aside).
fn same(a: &Table, b: &Table) -> bool {
    let rows = |t: &Table| {
        let mut r: Vec<Vec<String>> = t.rows.iter().map(|r| r.iter().map(norm).collect()).collect();
        r.sort();
        r
    };
    rows(a) == rows(b)
}

fn best(ms: &[f64]) -> f64 {
    ms.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Run the benchmark; print and return its figures.
pub async fn run(opts: AnalyticsBench) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile_dir()?;
    println!(
        "# innkeep bench analytics: about {} events over {DAYS} days, {} demo properties, {} demo guests",
        opts.events, opts.properties, opts.guests
    );
    let started = Instant::now();
    load_demo_with(&dir, opts.properties, &["--guests", &opts.guests.to_string()], &[]).await?;
    println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    let store = open_store(&dir, None).await?;
    let (properties, room_types) = innkeep_app::store::catalogue(&store).await?;
    let by_id: HashMap<PropertyId, &Property> = properties.iter().map(|p| (p.id, p)).collect();
    let bookable: Vec<Bookable> = room_types
        .iter()
        .filter_map(|rt| by_id.get(&rt.property_id).map(|p| Bookable { room_type: rt, property: p }))
        .collect();
    anyhow::ensure!(!bookable.is_empty(), "the demo has no room types");
    let mut figures = Vec::new();

    // 1. The lake writer.
    let lake_dir = dir.join("bench-lake");
    let lake = Lake::in_directory(&lake_dir)?.with_threads(opts.writer_threads);
    let written = write_lake(&lake, &dir.join("bench-client-events"), &bookable, opts.events).await?;
    lake.write_properties(&store).await?;
    let total = written.outbox_events + written.client_events;
    let outbox_rate = written.outbox_events as f64 / written.outbox_secs;
    let client_rate = written.client_events as f64 / written.client_secs;
    let rate = total as f64 / (written.outbox_secs + written.client_secs);
    println!(
        "lake: {total} events in {} files ({} domain events at {outbox_rate:.0}/s, {} client events at {client_rate:.0}/s)",
        written.files, written.outbox_events, written.client_events
    );
    // The reference: client events/s ingested over HTTP into the embedded log, as `innkeep
    // bench ingest` measures it (batches of 1,000 from 8 clients), in this run.
    let (ingested, ingest_ratio) = if opts.ingest_seconds > 0 {
        let today = Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let bodies = Arc::new(crate::ingest::bodies(256, 1000, today));
        let (server, base) = serve(&dir.join("ingest-node"), &[("INNKEEP_ANALYTICS__WRITER", "false".into())]).await?;
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        let (ingested, ok, failed) =
            crate::ingest::drive_http(&client, &base, bodies, 1000, 8, opts.ingest_seconds).await;
        drop(server);
        println!("ingestion over HTTP: {ingested:.0} events/s ({ok} batches of 1,000 answered 202, {failed} not)");
        (
            format!(
                "client events ingested over HTTP into the embedded log (batches of 1,000, 8 clients, {} s) in this run: {ingested:.0}/s",
                opts.ingest_seconds
            ),
            format!("{:.2}", rate / ingested),
        )
    } else {
        ("the ingestion rate `innkeep bench ingest` reached (BENCHMARKS.md)".into(), "-".into())
    };
    figures.push(Figure {
        name: format!("lake writer, events/s ({total} events: domain events decoded from their JSON payloads, client events read from closed log segments; Parquet files through object_store; {} files encoded at once)", opts.writer_threads),
        innkeep: format!("{rate:.0}/s (domain {outbox_rate:.0}/s, client {client_rate:.0}/s); ratio {ingest_ratio}"),
        reference: ingested,
    });

    // 2. The reports: DataFusion in process, DuckDB and Spark over the same files.
    let sql = LakeSql::new(Lake::in_directory(&lake_dir)?);
    let limits = Limits { rows: 1_000_000, time: Duration::from_secs(3_600) };
    let mut ours = Answers::new();
    for (name, report) in REPORTS {
        let mut times = Vec::new();
        let mut table = Table::default();
        for run in 0..=opts.runs {
            let t = Instant::now();
            table = sql.report(report, None, limits).await.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            if run > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        println!("datafusion {name}: {} rows, best of {} runs {:.0} ms", table.rows.len(), opts.runs, best(&times));
        ours.insert(name.to_string(), (times, table));
    }
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(&scripts)?;
    for (file, text) in [
        ("duckdb_reports.py", DUCKDB_SCRIPT),
        ("spark_reports.py", SPARK_SCRIPT),
        ("run_reports.py", SPARK_RUNNER),
        ("lake.sql", SPARK_LAKE),
        ("reports.sql", SPARK_REPORTS),
    ] {
        std::fs::write(scripts.join(file), text)?;
    }
    let lake_path = lake_dir.to_string_lossy().to_string();
    let runs = (opts.runs + 1).to_string();
    let input: Vec<Value> = REPORTS
        .iter()
        .map(|(name, r)| json!({"name": name, "sql": innkeep_analytics::reports::sql(*r, None)}))
        .collect();
    let duck_script = scripts.join("duckdb_reports.py").to_string_lossy().to_string();
    let duck = parse_answers(&python(&[&duck_script, &lake_path, &runs], Some(Value::from(input).to_string())).await?)?;
    let spark = if opts.spark {
        let spark_script = scripts.join("spark_reports.py").to_string_lossy().to_string();
        let scripts_dir = scripts.to_string_lossy().to_string();
        let mut args = vec![spark_script.as_str(), scripts_dir.as_str(), lake_path.as_str(), runs.as_str()];
        args.extend(REPORTS.iter().map(|(n, _)| *n));
        Some(parse_answers(&python(&args, None).await?)?)
    } else {
        None
    };
    for (name, _) in REPORTS {
        let (times, table) = &ours[name];
        let (duck_ms, duck_table) = duck.get(name).context("DuckDB did not answer")?;
        // The first run is the warm-up, as for DataFusion.
        let duck_best = best(&duck_ms[1..]);
        let agree = |t: &Table| if same(table, t) { "the same rows" } else { "ROWS DIFFER" };
        let mut reference =
            format!("DuckDB {duck_best:.0} ms (ratio {:.2}, {})", best(times) / duck_best, agree(duck_table));
        if let Some(spark) = &spark {
            let (spark_ms, spark_table) = spark.get(name).context("Spark did not answer")?;
            let spark_best = best(&spark_ms[1..]);
            reference.push_str(&format!(
                "; pyspark local {spark_best:.0} ms (ratio {:.2}, {})",
                best(times) / spark_best,
                agree(spark_table)
            ));
        }
        println!("{name}: datafusion {:.0} ms; {reference}", best(times));
        figures.push(Figure {
            name: format!("{name} report over the lake ({} rows), best of {} runs", table.rows.len(), opts.runs),
            innkeep: format!("DataFusion {:.0} ms", best(times)),
            reference,
        });
    }

    // 3. Suggestions over HTTP, beside the same server's cheapest answer.
    figures.extend(suggestions(&dir, &opts, &properties, &bookable).await?);
    print_figures(&figures);
    if opts.keep {
        println!("# kept: {} (the lake in bench-lake)", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(figures)
}

/// Signed-in guests who booked a stay (confirmed) get their recommendations; anyone gets the stays like
/// a property; both at 8 clients, beside `/healthz` at 8 clients in the same run.
async fn suggestions(
    dir: &std::path::Path,
    opts: &AnalyticsBench,
    properties: &[Property],
    bookable: &[Bookable<'_>],
) -> anyhow::Result<Vec<Figure>> {
    let env = [("INNKEEP_ANALYTICS__MODEL_REFRESH_SECS", "1".to_string())];
    let (_server, base) = serve(dir, &env).await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let mut tokens = Vec::new();
    for i in 0..8 {
        let email = format!("bench-guest-{i}-{}@example.com", uuid::Uuid::new_v4().simple());
        let body = json!({"email": email, "password": "correct horse battery", "name": "Bench Guest", "role": "guest"});
        let r = client.post(format!("{base}/api/v1/users")).json(&body).send().await?;
        anyhow::ensure!(r.status() == 201, "registering a guest: {}", r.status());
        let r: Value = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"email": email, "password": "correct horse battery"}))
            .send()
            .await?
            .json()
            .await?;
        let token = r["token"].as_str().context("no token")?.to_string();
        // A confirmed stay at a property paid on arrival: the model learns the guest's taste.
        let stays: Vec<&Bookable> =
            bookable.iter().filter(|b| b.property.draft.payment_timing == PaymentTiming::AtProperty).collect();
        anyhow::ensure!(!stays.is_empty(), "the demo has no property paid on arrival");
        let b = stays[(i * 7919) % stays.len()];
        let check_in =
            innkeep_app::report::utc_day(Timestamp::now()).checked_add(jiff::Span::new().days(30 + i as i64))?;
        let check_out = check_in.checked_add(jiff::Span::new().days(2))?;
        let body = json!({
            "room_type_id": b.room_type.id, "check_in": check_in, "check_out": check_out,
            "adults": 1, "children": 0, "guest": {"name": "Bench Guest", "email": email}
        });
        let r: Value =
            client.post(format!("{base}/api/v1/bookings")).bearer_auth(&token).json(&body).send().await?.json().await?;
        let id = r["id"].as_str().with_context(|| format!("booking: {r}"))?;
        let r = client
            .post(format!("{base}/api/v1/bookings/{id}/confirm"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "confirming: {}", r.status());
        tokens.push(token);
    }
    let tokens = Arc::new(tokens);
    let ids: Arc<Vec<String>> = Arc::new(properties.iter().map(|p| p.id.to_string()).collect());
    // Let the model be built (it refreshes every second here).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seq = Arc::new(AtomicUsize::new(0));
    let get = |path: Arc<dyn Fn(usize) -> (String, Option<String>) + Send + Sync>| {
        let (client, base, seq) = (client.clone(), base.clone(), seq.clone());
        move || {
            let (client, base, seq, path) = (client.clone(), base.clone(), seq.clone(), path.clone());
            async move {
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let (p, token) = path(k);
                let mut req = client.get(format!("{base}{p}"));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                match req.send().await {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        }
    };
    let floor = drive(8, opts.seconds, get(Arc::new(|_| ("/healthz".to_string(), None)))).await;
    let t = tokens.clone();
    let personal = drive(
        8,
        opts.seconds,
        get(Arc::new(move |k| ("/api/v1/recommendations".into(), Some(t[k % t.len()].clone())))),
    )
    .await;
    let similar = drive(
        8,
        opts.seconds,
        get(Arc::new(move |k| (format!("/api/v1/properties/{}/similar", ids[(k * 7919) % ids.len()]), None))),
    )
    .await;
    let line = |s: &Stats| format!("p50 {} p99 {} ({} ok, {} failed)", ms(s.p50), ms(s.p99), s.ok, s.failed);
    println!("healthz: {}\nrecommendations: {}\nsimilar: {}", line(&floor), line(&personal), line(&similar));
    anyhow::ensure!(personal.failed == 0 && similar.failed == 0, "suggestion requests failed");
    Ok(vec![
        Figure {
            name: "GET /api/v1/recommendations, signed-in guests, 8 clients".into(),
            innkeep: format!("p99 {} (p50 {})", ms(personal.p99), ms(personal.p50)),
            reference: format!("GET /healthz on the same server: p99 {} (p50 {})", ms(floor.p99), ms(floor.p50)),
        },
        Figure {
            name: "GET /api/v1/properties/{id}/similar, 8 clients".into(),
            innkeep: format!("p99 {} (p50 {})", ms(similar.p99), ms(similar.p50)),
            reference: format!("GET /healthz: p99 {}", ms(floor.p99)),
        },
    ])
}

fn print_figures(figures: &[Figure]) {
    println!("\n| figure | innkeep | reference (same run) |\n|---|---|---|");
    for f in figures {
        println!("| {} | {} | {} |", f.name, f.innkeep, f.reference);
    }
}
