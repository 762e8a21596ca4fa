//! A rolling window of the requests this node served, minute by minute, for the operator
//! dashboard: counts, server errors and latency percentiles. Fed by the request
//! middleware; kept in memory, so each node sees its own traffic (Prometheus at /metrics
//! has the same measurements for a fleet).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Minutes kept.
pub const WINDOW_MINUTES: usize = 30;

/// Upper bounds of the latency buckets, in microseconds (roughly 25% apart, 50 µs to 60 s).
fn bounds() -> &'static [u64] {
    static B: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let mut v = Vec::new();
        let mut b = 50.0f64;
        while b < 60_000_000.0 {
            v.push(b.round() as u64);
            b *= 1.25;
        }
        v.push(u64::MAX);
        v
    })
}

#[derive(Debug, Clone)]
struct Minute {
    minute: i64,
    requests: u64,
    server_errors: u64,
    buckets: Vec<u64>,
}

impl Minute {
    fn new(minute: i64) -> Minute {
        Minute { minute, requests: 0, server_errors: 0, buckets: vec![0; bounds().len()] }
    }
}

/// What one minute (or a span of minutes) looked like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinuteStats {
    /// Unix minute (seconds / 60).
    pub minute: i64,
    pub requests: u64,
    pub server_errors: u64,
    /// Latency percentiles in milliseconds (the upper bound of the bucket they fall in);
    /// `None` without requests.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl MinuteStats {
    /// The share of requests answered 5xx, 0 to 1.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.server_errors as f64 / self.requests as f64 }
    }
}

fn percentile(buckets: &[u64], total: u64, q: f64) -> Option<f64> {
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            let b = bounds()[i];
            let us = if b == u64::MAX { bounds()[bounds().len() - 2] } else { b };
            return Some(us as f64 / 1000.0);
        }
    }
    None
}

/// The window.
#[derive(Debug, Default)]
pub struct RequestStats {
    minutes: Mutex<VecDeque<Minute>>,
}

fn unix_minute(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| (d.as_secs() / 60) as i64).unwrap_or(0)
}

impl RequestStats {
    /// Record a request that took `latency` and answered `status`, now.
    pub fn record(&self, latency: Duration, status: u16) {
        self.record_at(unix_minute(SystemTime::now()), latency, status);
    }

    /// Record a request in a given Unix minute.
    pub fn record_at(&self, minute: i64, latency: Duration, status: u16) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = bounds().iter().position(|b| us <= *b).unwrap_or(bounds().len() - 1);
        let Ok(mut minutes) = self.minutes.lock() else { return };
        if minutes.back().is_none_or(|m| m.minute < minute) {
            minutes.push_back(Minute::new(minute));
        }
        // A request that finished in an earlier minute than the newest (a slow one racing
        // a fast one) counts in the newest: close enough for a dashboard.
        if let Some(m) = minutes.back_mut() {
            m.requests += 1;
            if status >= 500 {
                m.server_errors += 1;
            }
            m.buckets[bucket] += 1;
        }
        while minutes.front().is_some_and(|m| m.minute <= minute - WINDOW_MINUTES as i64) {
            minutes.pop_front();
        }
    }

    /// Each of the last `WINDOW_MINUTES` minutes up to now, oldest first (empty minutes included).
    pub fn per_minute(&self) -> Vec<MinuteStats> {
        self.per_minute_at(unix_minute(SystemTime::now()))
    }

    /// Each of the last `WINDOW_MINUTES` minutes up to `now_minute`, oldest first.
    pub fn per_minute_at(&self, now_minute: i64) -> Vec<MinuteStats> {
        let minutes = match self.minutes.lock() {
            Ok(m) => m.clone(),
            Err(_) => VecDeque::new(),
        };
        (now_minute - WINDOW_MINUTES as i64 + 1..=now_minute)
            .map(|minute| match minutes.iter().find(|m| m.minute == minute) {
                Some(m) => MinuteStats {
                    minute,
                    requests: m.requests,
                    server_errors: m.server_errors,
                    p50_ms: percentile(&m.buckets, m.requests, 0.50),
                    p99_ms: percentile(&m.buckets, m.requests, 0.99),
                },
                None => MinuteStats { minute, requests: 0, server_errors: 0, p50_ms: None, p99_ms: None },
            })
            .collect()
    }

    /// The whole window (up to now) as one span.
    pub fn total(&self) -> MinuteStats {
        self.total_at(unix_minute(SystemTime::now()))
    }

    /// The whole window up to `now_minute` as one span.
    pub fn total_at(&self, now_minute: i64) -> MinuteStats {
        let minutes = match self.minutes.lock() {
            Ok(m) => m.clone(),
            Err(_) => VecDeque::new(),
        };
        let mut buckets = vec![0u64; bounds().len()];
        let (mut requests, mut server_errors) = (0, 0);
        for m in minutes.iter().filter(|m| m.minute > now_minute - WINDOW_MINUTES as i64 && m.minute <= now_minute) {
            requests += m.requests;
            server_errors += m.server_errors;
            for (b, n) in buckets.iter_mut().zip(&m.buckets) {
                *b += n;
            }
        }
        MinuteStats {
            minute: now_minute,
            requests,
            server_errors,
            p50_ms: percentile(&buckets, requests, 0.50),
            p99_ms: percentile(&buckets, requests, 0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_error_rate_come_from_what_was_recorded() {
        let s = RequestStats::default();
        for _ in 0..98 {
            s.record_at(100, Duration::from_millis(2), 200);
        }
        s.record_at(100, Duration::from_millis(800), 500);
        s.record_at(100, Duration::from_millis(900), 503);
        let t = s.total_at(100);
        assert_eq!((t.requests, t.server_errors), (100, 2));
        assert!((t.error_rate() - 0.02).abs() < 1e-9);
        let p50 = t.p50_ms.unwrap();
        let p99 = t.p99_ms.unwrap();
        assert!((2.0..2.6).contains(&p50), "p50 {p50}");
        assert!((800.0..1000.0).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn old_minutes_leave_the_window() {
        let s = RequestStats::default();
        s.record_at(10, Duration::from_millis(1), 200);
        s.record_at(11, Duration::from_millis(1), 500);
        let per = s.per_minute_at(11);
        assert_eq!(per.len(), WINDOW_MINUTES);
        assert_eq!(per[WINDOW_MINUTES - 2].requests, 1);
        assert_eq!(per[WINDOW_MINUTES - 1].server_errors, 1);
        s.record_at(10 + WINDOW_MINUTES as i64, Duration::from_millis(1), 200);
        assert_eq!(s.total_at(10 + WINDOW_MINUTES as i64).requests, 2, "minute 10 dropped, 11 kept");
        assert!(s.total_at(11).p50_ms.is_some());
    }
}
