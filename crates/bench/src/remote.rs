//! `innkeep bench remote --url URL [--url URL ...]`: the same booking and search load sent to
//! Innkeep servers that are already running with the demo data (a load balancer in front of
//! several nodes, and one node straight), one after the other, in one table. The local
//! cluster (`deploy/local/bench`) uses it to compare 1, 2 and 3 nodes behind HAProxy with
//! one node reached directly.

use crate::{Stats, drive, ms, token};
use anyhow::Context;
use innkeep_demo as demo;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to run.
#[derive(Debug, Clone)]
pub struct RemoteBench {
    /// `LABEL=URL` or a bare URL (its own label).
    pub targets: Vec<String>,
    pub seconds: u64,
    pub concurrency: usize,
}

/// Room types to book, read over the API from the first properties (public reads).
async fn room_types(client: &reqwest::Client, base: &str, day: jiff::civil::Date) -> anyhow::Result<Vec<String>> {
    let props: Value = client.get(format!("{base}/api/v1/properties?limit=100")).send().await?.json().await?;
    let mut rts = Vec::new();
    for p in props.as_array().context("a list of properties")? {
        let Some(id) = p["id"].as_str() else { continue };
        let co = day.checked_add(jiff::Span::new().days(1))?;
        let url = format!("{base}/api/v1/availability?property_id={id}&check_in={day}&check_out={co}&adults=1");
        let a: Value = client.get(url).send().await?.json().await?;
        for o in a["offers"].as_array().into_iter().flatten() {
            if let Some(rt) = o["room_type"]["id"].as_str() {
                rts.push(rt.to_string());
            }
        }
    }
    anyhow::ensure!(!rts.is_empty(), "no room type to book at {base} (is the demo loaded?)");
    Ok(rts)
}

/// A hold with an `Idempotency-Key`, so a balancer may send it again to another node.
async fn hold(client: &reqwest::Client, base: &str, token: &str, rt: &str, ci: jiff::civil::Date) -> bool {
    let Ok(co) = ci.checked_add(jiff::Span::new().days(1)) else { return false };
    let body = json!({"room_type_id": rt, "check_in": ci, "check_out": co, "adults": 1, "children": 0,
        "guest": {"name": "Bench Guest", "email": "bench@example.com"}});
    let r = client
        .post(format!("{base}/api/v1/bookings"))
        .bearer_auth(token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await;
    matches!(r, Ok(r) if r.status() == 201)
}

/// Run the load against each target in turn and print one Markdown table.
pub async fn run(opts: RemoteBench) -> anyhow::Result<()> {
    anyhow::ensure!(!opts.targets.is_empty(), "name at least one --url");
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let cities = Arc::new(demo::CITIES.iter().map(|c| c.name.to_string()).collect::<Vec<_>>());
    println!(
        "# innkeep bench remote: {} s per phase, {} booking clients, 8 search clients",
        opts.seconds, opts.concurrency
    );
    println!("\n| target | bookings/s (holds, each its own room and night) | search p50 / p99 (city + dates) |");
    println!("|---|---|---|");
    for target in &opts.targets {
        let (label, base) = match target.split_once('=') {
            Some((l, u)) => (l.to_string(), u.trim_end_matches('/').to_string()),
            None => (target.clone(), target.trim_end_matches('/').to_string()),
        };
        let guest = token(&client, &base, demo::DEMO_GUEST).await.with_context(|| format!("signing in at {base}"))?;
        // Nights no earlier run of this command took (each run starts at a random day).
        let first = today.checked_add(jiff::Span::new().days(30 + (uuid::Uuid::new_v4().as_u128() % 300) as i64))?;
        let rts = Arc::new(room_types(&client, &base, first).await?);
        let seq = Arc::new(AtomicUsize::new(0));
        let bookings: Stats = drive(opts.concurrency, opts.seconds, {
            let (client, base, guest) = (client.clone(), base.clone(), guest.clone());
            move || {
                let (client, base, guest, rts) = (client.clone(), base.clone(), guest.clone(), rts.clone());
                let k = seq.fetch_add(1, Ordering::Relaxed);
                let ci = first.checked_add(jiff::Span::new().days((k / rts.len()) as i64)).unwrap_or(first);
                async move { hold(&client, &base, &guest, &rts[k % rts.len()], ci).await }
            }
        })
        .await;
        let search = crate::search_phase(&client, &base, &cities, opts.seconds, today).await;
        println!(
            "| {label} | {:.0} ({} failed; p50 {}, p99 {}) | {} / {} ({:.0} req/s, {} failed) |",
            bookings.ok as f64 / bookings.elapsed.as_secs_f64(),
            bookings.failed,
            ms(bookings.p50),
            ms(bookings.p99),
            ms(search.p50),
            ms(search.p99),
            search.ok as f64 / search.elapsed.as_secs_f64(),
            search.failed
        );
    }
    Ok(())
}
