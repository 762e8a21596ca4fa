//! `innkeep bench payments`: confirmed paid bookings per second end to end (hold, pay by
//! card, the provider's payment made by the payments consumer, the guest confirming at the
//! provider, the provider's signed event, the booking confirmed and the ledger posted),
//! beside the plain booking rate (hold, then confirm; paid at the property) in the same run,
//! on the same server. The provider is the fake provider process of the tests
//! (`crates/innkeep/tests/fake_stripe`, a FAKE of Stripe's published API): no card network
//! can be reached here. Then `innkeep ledger check` must find nothing wrong.

use crate::{BenchOptions, Stats, drive, load_demo, open_store, serve, tempfile_dir, token};
use anyhow::Context;
use innkeep_app::payment::Payments;
use serde_json::{Value, json};
use sqlx::Row;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET_KEY: &str = "sk_test_innkeep_bench";

/// The steps of a paid booking, timed one by one (which one a change should shorten).
const STEPS: [&str; 5] = [
    "hold (POST /bookings)",
    "payment (POST /bookings/{id}/payments)",
    "until the client secret is there (payments consumer, provider call)",
    "confirming at the provider (its hosted step)",
    "until the booking is confirmed (provider event, webhook, commit)",
];

/// How long each of [`STEPS`] took, for every paid booking that got through it.
type StepTimes = Arc<std::sync::Mutex<[Vec<Duration>; STEPS.len()]>>;
const WEBHOOK_SECRET: &str = "whsec_innkeep_bench";

struct Fake(Child);

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The fake provider process, and its base URL.
fn fake_provider() -> anyhow::Result<(Fake, String)> {
    use std::io::BufRead;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../innkeep/tests/fake_stripe/fake_stripe.py");
    anyhow::ensure!(
        std::path::Path::new(script).exists(),
        "the fake provider is not at {script} (run from the repository)"
    );
    let mut child = Command::new("python3")
        .args([script, "--port", "0", "--secret-key", SECRET_KEY, "--webhook-secret", WEBHOOK_SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the fake provider (python3)")?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().context("its stdout")?).read_line(&mut line)?;
    let addr = line.trim().strip_prefix("listening on ").context("the fake says where it is")?.to_string();
    Ok((Fake(child), format!("http://{addr}")))
}

/// Room types of demo properties in euros that take payment first, and of ones paid at the
/// property (one currency, so both sides book alike; and within the provider's amount limit).
async fn room_types(store: &innkeep_store::SqlStore) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT rt.id, CASE WHEN p.doc LIKE '%\"payment_timing\":\"prepay\"%' THEN 1 ELSE 0 END AS prepay \
         FROM room_types rt JOIN properties p ON p.id = rt.property_id \
         WHERE p.doc LIKE '%\"currency\":\"EUR\"%' ORDER BY rt.id LIMIT 20000",
    )
    .fetch_all(&store.writer())
    .await?;
    let (mut prepay, mut at_property) = (Vec::new(), Vec::new());
    for r in rows {
        let id: String = r.try_get(0)?;
        if r.try_get::<i32, _>(1)? == 1 { prepay.push(id) } else { at_property.push(id) }
    }
    Ok((prepay, at_property))
}

/// Place a hold: the booking's id.
async fn hold(client: &reqwest::Client, base: &str, token: &str, rt: &str, ci: jiff::civil::Date) -> Option<String> {
    let co = ci.checked_add(jiff::Span::new().days(1)).ok()?;
    let body = json!({"room_type_id": rt, "check_in": ci, "check_out": co, "adults": 1, "children": 0,
        "guest": {"name": "Bench Guest", "email": "bench@example.com"}});
    let r = client.post(format!("{base}/api/v1/bookings")).bearer_auth(token).json(&body).send().await.ok()?;
    if r.status() != 201 {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["id"].as_str().map(str::to_string)
}

/// Read `url` until `done` holds (at most ten seconds): every `poll`, or, when `poll` is
/// zero, by waiting reads (`If-None-Match` with the tag read last and `Prefer: wait`, which
/// the server answers when the object changes).
async fn until(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    poll: Duration,
    done: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut etag: Option<reqwest::header::HeaderValue> = None;
    while Instant::now() < deadline {
        let mut request = client.get(url).bearer_auth(token);
        if let Some(tag) = &etag {
            request = request.header("If-None-Match", tag.clone()).header("Prefer", "wait=10");
        }
        let Ok(r) = request.send().await else { return None };
        if r.status() == 304 {
            continue;
        }
        if poll.is_zero() {
            etag = r.headers().get("etag").cloned();
        }
        if let Ok(v) = r.json::<Value>().await
            && done(&v)
        {
            return Some(v);
        }
        if !poll.is_zero() {
            tokio::time::sleep(poll).await;
        }
    }
    None
}

/// One paid booking, end to end; whether it ended confirmed. `browser` does not follow
/// redirects (the provider sends the guest back to the site).
#[allow(clippy::too_many_arguments)]
async fn paid_booking(
    client: &reqwest::Client,
    browser: &reqwest::Client,
    fake: &str,
    base: &str,
    token: &str,
    rt: &str,
    ci: jiff::civil::Date,
    poll: Duration,
    steps: &StepTimes,
) -> bool {
    let mut clock = Instant::now();
    let mut step = |i: usize| {
        let now = Instant::now();
        if let Ok(mut steps) = steps.lock() {
            steps[i].push(now - clock);
        }
        clock = now;
    };
    let Some(booking) = hold(client, base, token, rt, ci).await else { return false };
    step(0);
    let pay = client
        .post(format!("{base}/api/v1/bookings/{booking}/payments"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("bench-{booking}"))
        .json(&json!({"method": "card"}))
        .send()
        .await;
    let Ok(pay) = pay else { return false };
    let Ok(p) = pay.json::<Value>().await else { return false };
    let Some(id) = p["id"].as_str() else { return false };
    step(1);
    // The payments consumer makes the provider's payment.
    let url = format!("{base}/api/v1/payments/{id}");
    let Some(p) = until(client, &url, token, poll, |p| p["client_secret"].is_string()).await else { return false };
    step(2);
    let (Some(intent), Some(secret)) = (p["provider_id"].as_str(), p["client_secret"].as_str()) else { return false };
    // The guest confirms at the provider (its hosted step, as a browser would).
    let confirmed = browser
        .post(format!("{fake}/_fake/checkout/{intent}"))
        .form(&[("client_secret", secret), ("payment_method", "pm_card_visa"), ("return_url", "http://127.0.0.1:9/")])
        .send()
        .await;
    if !confirmed.is_ok_and(|r| r.status() == 303) {
        return false;
    }
    step(3);
    // The provider's event confirms the booking.
    let url = format!("{base}/api/v1/bookings/{booking}");
    let done = until(client, &url, token, poll, |b| b["status"] == "confirmed").await.is_some();
    if done {
        step(4);
    }
    done
}

/// The provider alone: make a payment at the fake and confirm it by card, as the consumer
/// and the guest do, with no Innkeep in between (its events still go out).
async fn provider_alone(client: &reqwest::Client, browser: &reqwest::Client, fake: &str, k: usize) -> bool {
    let body =
        format!("amount=10000&currency=eur&metadata[payment_id]=bench-{k}&payment_method_types[]=card&confirm=false");
    let r = client
        .post(format!("{fake}/v1/payment_intents"))
        .bearer_auth(SECRET_KEY)
        .header("Idempotency-Key", format!("bench-alone-{k}-{}", uuid::Uuid::new_v4()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    let Ok(r) = r else { return false };
    let Ok(pi) = r.json::<Value>().await else { return false };
    let (Some(intent), Some(secret)) = (pi["id"].as_str(), pi["client_secret"].as_str()) else { return false };
    let confirmed = browser
        .post(format!("{fake}/_fake/checkout/{intent}"))
        .form(&[("client_secret", secret), ("payment_method", "pm_card_visa"), ("return_url", "http://127.0.0.1:9/")])
        .send()
        .await;
    confirmed.is_ok_and(|r| r.status() == 303)
}

/// A plain booking: hold, then confirm (paid at the property).
async fn plain_booking(client: &reqwest::Client, base: &str, token: &str, rt: &str, ci: jiff::civil::Date) -> bool {
    let Some(booking) = hold(client, base, token, rt, ci).await else { return false };
    let r = client
        .post(format!("{base}/api/v1/bookings/{booking}/confirm"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await;
    r.is_ok_and(|r| r.status() == 200)
}

fn rate(s: &Stats) -> f64 {
    s.ok as f64 / s.elapsed.as_secs_f64().max(1e-9)
}

/// `postgres`: a server's administrative URL; the run then uses a fresh database on it
/// (dropped afterwards) instead of the embedded one. `poll`: how often a paying client looks
/// whether its payment moved on (as a checkout page does; every look is a read the server
/// answers on the same cores); zero: it asks the server to answer when it moves on.
/// `provider_delay`: how long the fake provider takes to answer each API call (a real
/// provider answers in a few hundred milliseconds; the fake at once).
pub async fn run(
    opts: BenchOptions,
    postgres: Option<&str>,
    poll: Duration,
    provider_delay: Duration,
) -> anyhow::Result<()> {
    let Some(admin) = postgres else { return phases(opts, None, poll, provider_delay).await };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(admin).await?;
    let result = phases(opts, Some(&url), poll, provider_delay).await;
    innkeep_store::testing::drop_postgres_database(admin, &name).await?;
    result
}

async fn phases(opts: BenchOptions, url: Option<&str>, poll: Duration, provider_delay: Duration) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    println!(
        "# innkeep bench payments: {} properties, {} s per phase, concurrency {}, paying clients {}, the provider answers after {} ms, on {}",
        opts.properties,
        opts.seconds,
        opts.concurrency,
        if poll.is_zero() {
            "wait for changes (Prefer: wait)".to_string()
        } else {
            format!("look every {} ms", poll.as_millis())
        },
        provider_delay.as_millis(),
        if url.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    let mut db_env = Vec::new();
    if let Some(u) = url {
        db_env.push(("INNKEEP_DATABASE__URL", u.to_string()));
        db_env.push(("INNKEEP_WEB__CSRF_KEY", uuid::Uuid::new_v4().simple().to_string()));
    }
    load_demo(&dir, opts.properties, &db_env).await?;
    let store = open_store(&dir, url).await?;
    let (prepay, at_property) = room_types(&store).await?;
    store.close().await;
    anyhow::ensure!(!prepay.is_empty() && !at_property.is_empty(), "the demo has both kinds of property");
    let (fake, fake_base) = fake_provider()?;
    let mut env = db_env.clone();
    env.extend([
        ("INNKEEP_BOOKING__HOLD_TTL_SECS", "86400".to_string()),
        ("INNKEEP_PAYMENTS__STRIPE__BASE_URL", fake_base.clone()),
        ("INNKEEP_PAYMENTS__STRIPE__SECRET_KEY", SECRET_KEY.to_string()),
        ("INNKEEP_PAYMENTS__STRIPE__WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
    ]);
    let (server, base) = serve(&dir, &env).await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let r = client
        .post(format!("{fake_base}/_fake/config"))
        .json(&json!({"webhook_url": format!("{base}/api/v1/payments/webhooks/stripe"), "webhooks": true,
            // As the endpoint is set up at the provider: only the events Innkeep acts on.
            "enabled_events": innkeep_stripe::ENABLED_EVENTS, "delay_ms": provider_delay.as_millis() as u64}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "configuring the fake provider");
    let guest = token(&client, &base, innkeep_demo::DEMO_GUEST).await?;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    // Each booking its own room type and night: no contention, so the rates compare the paths.
    let next = move |rts: Arc<Vec<String>>, seq: Arc<AtomicUsize>| {
        let k = seq.fetch_add(1, Ordering::Relaxed);
        let ci = today.checked_add(jiff::Span::new().days(30 + (k / rts.len()) as i64)).unwrap_or(today);
        (rts[k % rts.len()].clone(), ci)
    };

    let plain = {
        let (rts, seq) = (Arc::new(at_property), Arc::new(AtomicUsize::new(0)));
        let (client, base, guest) = (client.clone(), base.clone(), guest.clone());
        drive(opts.concurrency, opts.seconds, move || {
            let (client, base, guest) = (client.clone(), base.clone(), guest.clone());
            let (rt, ci) = next(rts.clone(), seq.clone());
            async move { plain_booking(&client, &base, &guest, &rt, ci).await }
        })
        .await
    };
    let steps = StepTimes::default();
    let paid = {
        let steps = steps.clone();
        let (rts, seq) = (Arc::new(prepay), Arc::new(AtomicUsize::new(0)));
        let (client, browser, base, guest, fake) =
            (client.clone(), browser.clone(), base.clone(), guest.clone(), fake_base.clone());
        drive(opts.concurrency, opts.seconds, move || {
            let (client, browser, base, guest, fake) =
                (client.clone(), browser.clone(), base.clone(), guest.clone(), fake.clone());
            let (rt, ci) = next(rts.clone(), seq.clone());
            let steps = steps.clone();
            async move { paid_booking(&client, &browser, &fake, &base, &guest, &rt, ci, poll, &steps).await }
        })
        .await
    };
    let alone = {
        let seq = Arc::new(AtomicUsize::new(0));
        let (client, browser, fake) = (client.clone(), browser.clone(), fake_base.clone());
        drive(opts.concurrency, opts.seconds, move || {
            let (client, browser, fake) = (client.clone(), browser.clone(), fake.clone());
            let k = seq.fetch_add(1, Ordering::Relaxed);
            async move { provider_alone(&client, &browser, &fake, k).await }
        })
        .await
    };
    drop(server);
    drop(fake);
    let store = open_store(&dir, url).await?;
    let started = Instant::now();
    let report = store.check_ledger().await?;
    let check = started.elapsed();
    store.close().await;
    anyhow::ensure!(report.problems.is_empty(), "the ledger has problems after the run: {:?}", report.problems);

    println!();
    println!("| figure | innkeep | reference (same run) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| confirmed paid bookings/s end to end (hold, card payment, provider, webhook, confirm, ledger; concurrency {}) | {:.1}/s ({} ok, {} failed; p50 {:.0} ms, p99 {:.0} ms) | plain bookings/s (hold, confirm): {:.1}/s ({} ok, {} failed) | {:.2} |",
        opts.concurrency,
        rate(&paid),
        paid.ok,
        paid.failed,
        paid.p50.as_secs_f64() * 1e3,
        paid.p99.as_secs_f64() * 1e3,
        rate(&plain),
        plain.ok,
        plain.failed,
        rate(&paid) / rate(&plain).max(1e-9)
    );
    println!(
        "| the fake provider alone: payments made and confirmed by card/s (no Innkeep; the bound on the row above) | {:.1}/s ({} ok, {} failed) | - | paid / provider alone: {:.2} |",
        rate(&alone),
        alone.ok,
        alone.failed,
        rate(&paid) / rate(&alone).max(1e-9)
    );
    println!(
        "| `innkeep ledger check` after the run | {} entries, no problem, {:.2} s | - | - |",
        report.entries,
        check.as_secs_f64()
    );
    println!();
    println!("| step of a paid booking | p50 | p99 |");
    println!("|---|---|---|");
    let mut steps = steps.lock().map(|s| s.clone()).unwrap_or_default();
    for (name, times) in STEPS.iter().zip(steps.iter_mut()) {
        times.sort();
        println!(
            "| {name} | {} | {} |",
            crate::ms(crate::percentile(times, 0.5)),
            crate::ms(crate::percentile(times, 0.99))
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
