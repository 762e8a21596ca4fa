//! Trending destinations (cities) and properties over the last hour and the last day,
//! counted from the event stream as it passes: booking holds from the outbox, views and
//! searches from the client events.
//!
//! Pure and in memory: the caller passes every time (an event's own, and `now` when
//! asking), so tests drive the windows without a clock. Each window is a ring of buckets
//! with running totals, so an answer is a scan of the totals, not of the events:
//!
//! - the hour is 60 one-minute buckets: it counts the current minute and the 59 before
//!   it, so it spans between 59 and 60 minutes of events;
//! - the day is 24 one-hour buckets: the current hour and the 23 before, between 23 and
//!   24 hours.
//!
//! Memory is bounded: a bucket holds at most [`MAX_KEYS`] keys (events for further keys
//! in that bucket are counted in [`Trending::dropped`] and nowhere else), so each counter
//! holds at most 84 buckets of `MAX_KEYS` entries and totals of as many. Events older than
//! a window are ignored by it; an event ahead of the latest moves the window on.

use crate::event::{EventKind, StoredEvent};
use crate::ingest::ClientEvent;
use innkeep_core::PropertyId;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most distinct keys one bucket counts.
pub const MAX_KEYS: usize = 10_000;

/// What an event adds to its property's and city's counts: a hold shows more intent than
/// a look. (A confirmation follows a hold and is not counted again.)
pub const BOOKING_WEIGHT: u64 = 5;
/// What a view of a property or a search for a city adds.
pub const LOOK_WEIGHT: u64 = 1;

/// A sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The last hour, in minute buckets.
    Hour,
    /// The last day, in hour buckets.
    Day,
}

impl Window {
    /// The window's name: `hour` or `day`.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "hour",
            Window::Day => "day",
        }
    }

    /// The window named `s`.
    pub fn parse(s: &str) -> Option<Window> {
        match s {
            "hour" => Some(Window::Hour),
            "day" => Some(Window::Day),
            _ => None,
        }
    }
}

/// A key and its weighted count in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trend<K> {
    pub key: K,
    pub count: u64,
}

/// One window's buckets, oldest first, and the totals over them.
#[derive(Debug)]
struct Ring<K> {
    width_secs: i64,
    len: i64,
    buckets: VecDeque<(i64, HashMap<K, u64>)>,
    totals: HashMap<K, u64>,
    head: i64,
}

impl<K: Eq + Hash + Clone + Ord> Ring<K> {
    fn new(width_secs: i64, len: i64) -> Ring<K> {
        Ring { width_secs, len, buckets: VecDeque::new(), totals: HashMap::new(), head: i64::MIN }
    }

    fn slot(&self, at: Timestamp) -> i64 {
        at.as_second().div_euclid(self.width_secs)
    }

    /// Move the newest slot on to `at`'s, dropping buckets that fall out of the window.
    fn advance(&mut self, at: Timestamp) {
        let slot = self.slot(at);
        if slot <= self.head {
            return;
        }
        self.head = slot;
        while let Some((s, _)) = self.buckets.front()
            && *s <= slot - self.len
        {
            let Some((_, counts)) = self.buckets.pop_front() else { break };
            for (key, n) in counts {
                if let Some(t) = self.totals.get_mut(&key) {
                    *t = t.saturating_sub(n);
                    if *t == 0 {
                        self.totals.remove(&key);
                    }
                }
            }
        }
    }

    /// Count `weight` for `key` at `at`; false if the bucket is full and the key new to it.
    fn add(&mut self, key: &K, weight: u64, at: Timestamp) -> bool {
        self.advance(at);
        let slot = self.slot(at);
        if slot <= self.head - self.len {
            return true;
        }
        let pos = self.buckets.partition_point(|(s, _)| *s < slot);
        if self.buckets.get(pos).is_none_or(|(s, _)| *s != slot) {
            self.buckets.insert(pos, (slot, HashMap::new()));
        }
        let Some((_, counts)) = self.buckets.get_mut(pos) else { return true };
        if let Some(n) = counts.get_mut(key) {
            *n += weight;
        } else if counts.len() >= MAX_KEYS {
            return false;
        } else {
            counts.insert(key.clone(), weight);
        }
        *self.totals.entry(key.clone()).or_default() += weight;
        true
    }

    fn top(&mut self, n: usize, now: Timestamp) -> Vec<Trend<K>> {
        self.advance(now);
        let mut all: Vec<Trend<K>> = self.totals.iter().map(|(k, c)| Trend { key: k.clone(), count: *c }).collect();
        let order = |a: &Trend<K>, b: &Trend<K>| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key));
        if all.len() > n && n > 0 {
            all.select_nth_unstable_by(n - 1, order);
            all.truncate(n);
        }
        all.sort_by(order);
        all.truncate(n);
        all
    }
}

/// The hour and the day of one kind of key.
#[derive(Debug)]
struct Counters<K> {
    hour: Ring<K>,
    day: Ring<K>,
}

impl<K: Eq + Hash + Clone + Ord> Counters<K> {
    fn new() -> Counters<K> {
        Counters { hour: Ring::new(60, 60), day: Ring::new(3_600, 24) }
    }

    fn add(&mut self, key: &K, weight: u64, at: Timestamp) -> u64 {
        u64::from(!self.hour.add(key, weight, at)) + u64::from(!self.day.add(key, weight, at))
    }

    fn ring(&mut self, window: Window) -> &mut Ring<K> {
        match window {
            Window::Hour => &mut self.hour,
            Window::Day => &mut self.day,
        }
    }
}

/// Trending cities and properties; share one between the event feeds and the readers.
#[derive(Debug)]
pub struct Trending {
    cities: Mutex<Counters<String>>,
    properties: Mutex<Counters<PropertyId>>,
    dropped: AtomicU64,
}

impl Default for Trending {
    fn default() -> Self {
        Trending::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while counting leaves counts, not broken invariants: go on with them.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Trending {
    /// Empty counters.
    pub fn new() -> Trending {
        Trending {
            cities: Mutex::new(Counters::new()),
            properties: Mutex::new(Counters::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// Count `weight` for a property and/or a city at `at`.
    pub fn record(&self, property: Option<PropertyId>, city: Option<&str>, weight: u64, at: Timestamp) {
        let mut dropped = 0;
        if let Some(p) = property {
            dropped += lock(&self.properties).add(&p, weight, at);
        }
        if let Some(c) = city.map(str::trim).filter(|c| !c.is_empty()) {
            dropped += lock(&self.cities).add(&c.to_string(), weight, at);
        }
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }

    /// Count an outbox event: a `booking.held` counts [`BOOKING_WEIGHT`] for its property
    /// and the property's city (`city_of`), at the time it occurred; other kinds nothing.
    /// A payload that does not decode is skipped (false).
    pub fn observe_event(&self, e: &StoredEvent, city_of: impl Fn(PropertyId) -> Option<String>) -> bool {
        #[derive(serde::Deserialize)]
        struct Held {
            property_id: PropertyId,
        }
        if e.event.kind != EventKind::BookingHeld {
            return true;
        }
        let Ok(held) = <Held as serde::Deserialize>::deserialize(&e.event.payload) else { return false };
        let city = city_of(held.property_id);
        self.record(Some(held.property_id), city.as_deref(), BOOKING_WEIGHT, e.event.occurred_at);
        true
    }

    /// Count a client event: a `view` of a property counts [`LOOK_WEIGHT`] for it and its
    /// city (`city_of`); a `search` counts for the city its `data` names (`city`, else
    /// `destination`, else `q`), as the catalogue spells it (`city_named`; unknown places are
    /// not counted). Other kinds count nothing. The time is when it occurred, but never
    /// later than when it was received (client clocks run fast).
    pub fn observe_client(
        &self,
        e: &ClientEvent,
        city_of: impl Fn(PropertyId) -> Option<String>,
        city_named: impl Fn(&str) -> Option<String>,
    ) {
        let at = e.occurred_at.min(e.received_at);
        match e.kind.as_str() {
            "view" => {
                if let Some(p) = e.property_id {
                    let city = city_of(p);
                    self.record(Some(p), city.as_deref(), LOOK_WEIGHT, at);
                }
            }
            "search" => {
                let named = ["city", "destination", "q"].iter().find_map(|f| e.data.get(f)?.as_str());
                if let Some(city) = named.filter(|t| t.len() <= 200).and_then(city_named) {
                    self.record(None, Some(&city), LOOK_WEIGHT, at);
                }
            }
            _ => {}
        }
    }

    /// The `n` cities counted most in the window ending at `now`, most first.
    pub fn top_cities(&self, window: Window, n: usize, now: Timestamp) -> Vec<Trend<String>> {
        lock(&self.cities).ring(window).top(n, now)
    }

    /// The `n` properties counted most in the window ending at `now`, most first.
    pub fn top_properties(&self, window: Window, n: usize, now: Timestamp) -> Vec<Trend<PropertyId>> {
        lock(&self.properties).ring(window).top(n, now)
    }

    /// Counts refused because a bucket was full (one per window per key).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::event::Event;
    use jiff::SignedDuration;
    use uuid::Uuid;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn p(n: u128) -> PropertyId {
        PropertyId(Uuid::from_u128(n))
    }

    fn counts<K: Clone>(v: &[Trend<K>]) -> Vec<(K, u64)> {
        v.iter().map(|t| (t.key.clone(), t.count)).collect()
    }

    #[test]
    fn counts_leave_the_hour_after_sixty_minutes_and_the_day_after_twenty_four_hours() {
        let tr = Trending::new();
        tr.record(Some(p(1)), Some("Lisbon"), 1, t("2027-01-04T10:00:30Z"));
        tr.record(Some(p(1)), Some("Lisbon"), 1, t("2027-01-04T10:20:00Z"));
        tr.record(Some(p(2)), Some("Porto"), 1, t("2027-01-04T10:40:00Z"));
        let now = t("2027-01-04T10:45:00Z");
        assert_eq!(counts(&tr.top_properties(Window::Hour, 5, now)), vec![(p(1), 2), (p(2), 1)]);
        // 10:59:59: the 10:00 minute is still the oldest of the 60.
        assert_eq!(tr.top_cities(Window::Hour, 5, t("2027-01-04T10:59:59Z"))[0].count, 2);
        // 11:00: the 10:00 minute has left the hour, not the day.
        let later = t("2027-01-04T11:00:00Z");
        assert_eq!(counts(&tr.top_properties(Window::Hour, 5, later)), vec![(p(1), 1), (p(2), 1)]);
        assert_eq!(counts(&tr.top_properties(Window::Day, 5, later)), vec![(p(1), 2), (p(2), 1)]);
        // 11:39: only the 10:40 event is left in the hour; at 11:40 it leaves too.
        assert_eq!(counts(&tr.top_cities(Window::Hour, 5, t("2027-01-04T11:39:59Z"))), vec![("Porto".into(), 1)]);
        assert!(tr.top_cities(Window::Hour, 5, t("2027-01-04T11:40:00Z")).is_empty());
        // The day keeps the 10:00 hour until 10:00 the next day.
        assert_eq!(tr.top_cities(Window::Day, 5, t("2027-01-05T09:59:59Z")).len(), 2);
        assert!(tr.top_cities(Window::Day, 5, t("2027-01-05T10:00:00Z")).is_empty());
        assert!(tr.top_properties(Window::Hour, 5, t("2027-01-05T10:00:00Z")).is_empty());
    }

    #[test]
    fn late_events_count_only_where_they_still_fit() {
        let tr = Trending::new();
        let now = t("2027-01-04T12:00:00Z");
        tr.record(Some(p(1)), None, 1, now);
        // Two hours late: too old for the hour, still in the day.
        tr.record(Some(p(2)), None, 1, now.checked_sub(SignedDuration::from_hours(2)).unwrap());
        assert_eq!(counts(&tr.top_properties(Window::Hour, 5, now)), vec![(p(1), 1)]);
        assert_eq!(counts(&tr.top_properties(Window::Day, 5, now)), vec![(p(1), 1), (p(2), 1)]);
        // Asking about an earlier time does not bring expired counts back.
        assert_eq!(
            tr.top_properties(Window::Hour, 5, now.checked_sub(SignedDuration::from_hours(3)).unwrap()).len(),
            1
        );
    }

    #[test]
    fn the_top_is_ordered_and_cut() {
        let tr = Trending::new();
        let now = t("2027-01-04T12:00:00Z");
        for (n, times) in [(1, 3), (2, 5), (3, 1), (4, 5)] {
            for _ in 0..times {
                tr.record(Some(p(n)), None, 1, now);
            }
        }
        assert_eq!(counts(&tr.top_properties(Window::Hour, 2, now)), vec![(p(2), 5), (p(4), 5)]);
        assert!(tr.top_properties(Window::Hour, 0, now).is_empty());
    }

    #[test]
    fn a_full_bucket_drops_new_keys_and_says_so() {
        let tr = Trending::new();
        let now = t("2027-01-04T12:00:00Z");
        for n in 0..(MAX_KEYS as u128 + 3) {
            tr.record(Some(p(n)), None, 1, now);
        }
        assert_eq!(tr.dropped(), 6, "three keys refused by each window");
        assert_eq!(tr.top_properties(Window::Day, usize::MAX, now).len(), MAX_KEYS);
        // A known key still counts.
        tr.record(Some(p(0)), None, 1, now);
        assert_eq!(tr.top_properties(Window::Hour, 1, now)[0], Trend { key: p(0), count: 2 });
    }

    #[test]
    fn holds_views_and_searches_count_with_their_weights() {
        let tr = Trending::new();
        let now = t("2027-01-04T12:00:00Z");
        let city_of = |id: PropertyId| (id == p(1)).then(|| "Lisbon".to_string());
        let payload = serde_json::json!({"property_id": p(1), "status": "held"});
        let event = |kind| StoredEvent {
            seq: 1,
            event: Event {
                id: innkeep_core::EventId(Uuid::nil()),
                kind,
                version: 1,
                occurred_at: now,
                tenant_id: None,
                aggregate_id: Uuid::nil(),
                payload: payload.clone(),
            },
        };
        assert!(tr.observe_event(&event(EventKind::BookingHeld), city_of));
        assert!(tr.observe_event(&event(EventKind::BookingConfirmed), city_of), "not counted again");
        let bad = StoredEvent {
            event: Event { payload: serde_json::json!({}), ..event(EventKind::BookingHeld).event },
            seq: 2,
        };
        assert!(!tr.observe_event(&bad, city_of));
        let client = |kind: &str, property: Option<PropertyId>, data| ClientEvent {
            id: Uuid::nil(),
            kind: kind.into(),
            client_id: "web".into(),
            user_id: None,
            // A fast client clock: counted at arrival.
            occurred_at: now.checked_add(SignedDuration::from_hours(5)).unwrap(),
            received_at: now,
            property_id: property,
            data,
        };
        let named = |s: &str| (s.trim().eq_ignore_ascii_case("porto")).then(|| "Porto".to_string());
        tr.observe_client(&client("view", Some(p(1)), serde_json::Value::Null), city_of, named);
        tr.observe_client(&client("search", None, serde_json::json!({"destination": " porto"})), city_of, named);
        tr.observe_client(&client("search", None, serde_json::json!({"q": "Atlantis"})), city_of, named);
        tr.observe_client(&client("click", Some(p(1)), serde_json::Value::Null), city_of, named);
        assert_eq!(counts(&tr.top_properties(Window::Hour, 5, now)), vec![(p(1), BOOKING_WEIGHT + LOOK_WEIGHT)]);
        assert_eq!(
            counts(&tr.top_cities(Window::Hour, 5, now)),
            vec![("Lisbon".into(), BOOKING_WEIGHT + LOOK_WEIGHT), ("Porto".into(), LOOK_WEIGHT)]
        );
    }
}
