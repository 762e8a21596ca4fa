//! `innkeep bench cache`: the hot public reads (a property as `GET
//! /api/v1/properties/{id}` serves it, availability for a stay, which reads the property,
//! its room types and their price calendars, and the home page `GET /` as a visitor who is
//! not signed in sees it) with no cache, the in-process cache and Redis, each against its
//! own `innkeep serve` on the same demo data in the same run.

use super::{drive, ms, serve, tempfile_dir};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Most distinct properties the clients read (the hot set).
const HOT: usize = 1000;

fn counter(metrics: &str, name: &str) -> f64 {
    metrics.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}

/// Run the phase and print its table.
pub async fn run(properties: usize, seconds: u64, concurrency: usize, redis_url: &str) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let started = Instant::now();
    let ids: Vec<String> = {
        super::load_demo(&dir, properties, &[]).await?;
        let store = super::open_store(&dir, None).await?;
        let page = innkeep_app::store::Catalog::all_properties(&store, None, HOT as u32).await?;
        store.close().await;
        page.into_iter().map(|p| p.id.to_string()).collect()
    };
    anyhow::ensure!(!ids.is_empty(), "no properties");
    println!(
        "# innkeep bench cache: {properties} properties ({} read), {seconds} s per read, concurrency {concurrency}; demo loaded in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let ci = today.checked_add(jiff::Span::new().days(30))?;
    let co = ci.checked_add(jiff::Span::new().days(2))?;
    let ids = Arc::new(ids);
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;

    let prefix = format!("innkeep-bench-{}:", uuid::Uuid::new_v4().simple());
    let mut modes: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no cache (cache.ttl_secs = 0)", vec![("INNKEEP_CACHE__TTL_SECS", "0".into())]),
        ("in-process cache", vec![]),
    ];
    if redis_url.is_empty() {
        println!("Redis skipped: no --redis URL (or INNKEEP_TEST_REDIS_URL)");
    } else {
        modes.push((
            "Redis cache (127.0.0.1)",
            vec![("INNKEEP_CACHE__URL", redis_url.to_string()), ("INNKEEP_CACHE__KEY_PREFIX", prefix.clone())],
        ));
    }
    println!();
    println!(
        "| cache | property p50 / p99 | property req/s | availability p50 / p99 | availability req/s | home page p50 / p99 | home page req/s | home / property | hit ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, env) in modes {
        let (served, base) = serve(&dir, &env).await?;
        let property_url = {
            let base = base.clone();
            move |id: &str| format!("{base}/api/v1/properties/{id}")
        };
        let availability_url = {
            let base = base.clone();
            move |id: &str| format!("{base}/api/v1/availability?property_id={id}&check_in={ci}&check_out={co}&adults=2")
        };
        let home_url = {
            let base = base.clone();
            move |_: &str| format!("{base}/")
        };
        // Warm: every property of the hot set read once each way.
        for id in ids.iter() {
            client.get(property_url(id)).send().await?.bytes().await?;
            client.get(availability_url(id)).send().await?.bytes().await?;
        }
        client.get(home_url("")).send().await?.bytes().await?;
        let (mut row, mut rates) = (Vec::new(), Vec::new());
        for url in [
            Arc::new(property_url) as Arc<dyn Fn(&str) -> String + Send + Sync>,
            Arc::new(availability_url),
            Arc::new(home_url),
        ] {
            let seq = Arc::new(AtomicUsize::new(0));
            let stats = drive(concurrency, seconds, {
                let (client, ids, url, seq) = (client.clone(), ids.clone(), url.clone(), seq.clone());
                move || {
                    let (client, ids, url, seq) = (client.clone(), ids.clone(), url.clone(), seq.clone());
                    async move {
                        // A spread of reads over the hot set, not a cycle in id order.
                        let k = seq.fetch_add(1, Ordering::Relaxed).wrapping_mul(7919) % ids.len();
                        match client.get(url(&ids[k])).send().await {
                            Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                            Err(_) => false,
                        }
                    }
                }
            })
            .await;
            anyhow::ensure!(stats.failed == 0, "{name}: {} reads failed", stats.failed);
            row.push(format!("{} / {}", ms(stats.p50), ms(stats.p99)));
            let rate = stats.ok as f64 / stats.elapsed.as_secs_f64();
            row.push(format!("{rate:.0}"));
            rates.push(rate);
        }
        let metrics = client.get(format!("{base}/metrics")).send().await?.text().await?;
        let (hits, misses) =
            (counter(&metrics, "innkeep_cache_hits_total"), counter(&metrics, "innkeep_cache_misses_total"));
        let ratio = if hits + misses > 0.0 { format!("{:.3}", (hits / (hits + misses)).abs()) } else { "-".into() };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.2} | {ratio} |",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            rates[2] / rates[0]
        );
        drop(served);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
