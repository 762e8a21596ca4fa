//! Calendar sync on a node: every few seconds it takes the imported iCalendar feeds that
//! are due (each held by one node at a time, by a lease in the database), fetches them with
//! a conditional GET through the guarded client (https only, no private addresses, a size
//! and a time limit, no redirects), reads their events into nights
//! (`innkeep_channels::read_feed`) and records the nights (`innkeep_app::channels`).

use crate::config::Config;
use innkeep_app::Ports;
use innkeep_app::channels::{self, IcalFeed, SyncResult, SyncStatus};
use innkeep_app::notify::UrlCheck;
use innkeep_notify::webhook::{UrlRule, guarded_client, refused_by_rule};
use reqwest::header::{ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often a node looks for feeds that are due.
const POLL: Duration = Duration::from_secs(2);
/// Feeds one node takes per look (each fetch may take the whole timeout).
const PER_ROUND: u32 = 4;

/// The rule imported feed URLs meet on this node.
pub fn url_rule(config: &Config) -> UrlRule {
    UrlRule { allow_loopback_http: config.channels.allow_loopback_http }
}

/// The rule as the use cases take it.
pub fn url_check(config: &Config) -> UrlCheck {
    let rule = url_rule(config);
    Arc::new(move |u: &str| rule.check(u).map(|_| ()))
}

/// Fetches feeds.
pub struct Fetcher {
    client: reqwest::Client,
    rule: UrlRule,
    max_bytes: u64,
}

/// What a fetch got.
#[derive(Debug)]
pub enum Fetched {
    /// 304: the feed is as it was at the last fetch.
    NotModified,
    Body {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

impl Fetcher {
    pub fn new(config: &Config) -> anyhow::Result<Fetcher> {
        let c = &config.channels;
        let client = guarded_client(url_rule(config), Duration::from_secs(c.timeout_secs.max(1)), "Innkeep-Calendar/1")
            .map_err(|e| anyhow::anyhow!("channels: {e}"))?;
        Ok(Fetcher { client, rule: url_rule(config), max_bytes: c.max_feed_bytes.max(1) })
    }

    /// GET the feed, conditionally on the validators of the last answer; why not, if not.
    pub async fn fetch(&self, feed: &IcalFeed) -> Result<Fetched, String> {
        let url = self.rule.check(&feed.url).map_err(|reason| format!("the feed URL is refused: {reason}"))?;
        let mut request = self.client.get(url).header(ACCEPT, "text/calendar, text/plain;q=0.5, */*;q=0.1");
        if let Some(etag) = &feed.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(at) = &feed.last_modified {
            request = request.header(IF_MODIFIED_SINCE, at);
        }
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(format!("the feed answered {status}"));
        }
        if response.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(format!("the feed is larger than {} bytes", self.max_bytes));
        }
        let header = |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        let etag = header(ETAG).map(str::to_string);
        let last_modified = header(LAST_MODIFIED).map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > self.max_bytes {
                return Err(format!("the feed is larger than {} bytes", self.max_bytes));
            }
        }
        Ok(Fetched::Body { text: String::from_utf8_lossy(&body).into_owned(), etag, last_modified })
    }
}

/// A fetch's failure in words a host can act on.
fn describe(e: &reqwest::Error) -> String {
    if refused_by_rule(e) {
        "the feed's host resolves to no address a feed may be fetched from".to_string()
    } else if e.is_timeout() {
        "the feed did not answer in time".to_string()
    } else if e.is_connect() {
        "the feed's server could not be reached".to_string()
    } else {
        format!("the feed could not be fetched: {e}")
    }
}

/// Fetch `feed` and record what it holds.
pub async fn sync_one(ports: &Ports, fetcher: &Fetcher, feed: &IcalFeed, every: jiff::SignedDuration) {
    let now = ports.clock.now();
    let result = match fetcher.fetch(feed).await {
        Ok(Fetched::NotModified) => {
            SyncResult { status: SyncStatus::NotModified, error: None, etag: None, last_modified: None, nights: None }
        }
        Ok(Fetched::Body { text, etag, last_modified }) => match read(ports, feed, &text, now).await {
            Ok((nights, note)) => {
                SyncResult { status: SyncStatus::Ok, error: note, etag, last_modified, nights: Some(nights) }
            }
            Err(reason) => {
                SyncResult { status: SyncStatus::Error, error: Some(reason), etag, last_modified, nights: None }
            }
        },
        Err(reason) => {
            SyncResult { status: SyncStatus::Error, error: Some(reason), etag: None, last_modified: None, nights: None }
        }
    };
    metrics::counter!("innkeep_channels_feed_syncs_total", "status" => result.status.as_str()).increment(1);
    match channels::record_sync(ports, feed, &result, every, ports.clock.now()).await {
        Ok(Some(a)) if !a.new_conflicts.is_empty() => {
            tracing::warn!(feed_id = %feed.id, nights = a.new_conflicts.len(), "an imported feed overlaps bookings")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(feed_id = %feed.id, error = %e, "recording a feed's sync failed; it is fetched again"),
    }
}

/// The nights a feed's text blocks, each with the event covering it, and a note of the
/// events that could not be read.
async fn read(
    ports: &Ports,
    feed: &IcalFeed,
    text: &str,
    now: jiff::Timestamp,
) -> Result<(BTreeMap<jiff::civil::Date, String>, Option<String>), String> {
    let (zone, from, until) = channels::window_of(ports, feed, now).await.map_err(|e| e.to_string())?;
    let window = innkeep_channels::Window { zone, from, until };
    // A feed is anyone's text, and the recurrence library is not ours: a panic in it must not
    // end this node's sync loop.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| innkeep_channels::read_feed(text, &window)))
        .map_err(|_| "the feed could not be read (its recurrence rules broke the reader)".to_string())?
        .map_err(|e| format!("the feed is not a calendar: {e}"))?;
    let mut nights = BTreeMap::new();
    for block in &read.blocks {
        let mut night = block.start;
        while night < block.end {
            nights.entry(night).or_insert_with(|| block.uid.clone());
            let Ok(next) = night.tomorrow() else { break };
            night = next;
        }
    }
    let note = (!read.skipped.is_empty()).then(|| {
        let shown: Vec<&str> = read.skipped.iter().take(3).map(String::as_str).collect();
        format!("{} event(s) could not be read: {}", read.skipped.len(), shown.join("; "))
    });
    Ok((nights, note))
}

/// Fetch due feeds until `stop`.
pub async fn run(ports: Ports, fetcher: Fetcher, every: Duration, mut stop: watch::Receiver<bool>) {
    let every = jiff::SignedDuration::try_from(every).unwrap_or(jiff::SignedDuration::from_secs(900));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let due = match channels::due_feeds(&ports, ports.clock.now(), PER_ROUND).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "looking for feeds to fetch failed");
                continue;
            }
        };
        for feed in &due {
            sync_one(&ports, &fetcher, feed, every).await;
        }
    }
}
