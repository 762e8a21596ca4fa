//! Unauthorized-access bursts: failed sign-ins, refused requests (401/403) and throttled
//! ones (429) counted per client address, per account and per tenant over a sliding
//! window. A key whose count in the window reaches its threshold is an offender; the node
//! reports how many there are (`innkeep_access_bursts{scope}`), which raises the operator
//! alert `InnkeepAccessBurst`, and lists them for operators.
//!
//! The counts are this node's, in memory, in buckets of [`BUCKET_SECS`]: with N nodes
//! behind a balancer each sees its share of a burst (the thresholds are far above normal
//! traffic on one node, and a brute force against one account also meets the sign-in
//! limiter, whose 429s count too). Memory is bounded: at most [`MAX_KEYS`] keys per scope,
//! the least recently seen evicted first (an attacker rotating addresses can push an
//! offender out of the address scope, but not out of the account or tenant scopes).

use innkeep_core::TenantId;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// How far back the counts go.
pub const WINDOW_SECS: i64 = 5 * 60;

/// The width of one bucket of counts: the window slides by this much.
pub const BUCKET_SECS: i64 = 30;

/// Failed sign-ins (wrong password, or refused by the limiter) for one account, or from one
/// address, in the window. A person who forgot a password tries a handful of times (the
/// limiter lets 10 a minute through); 20 in 5 minutes is a script.
pub const FAILED_SIGN_INS: u32 = 20;

/// 401 and 403 answers for one address or account in the window. A client with an expired
/// token fails a few requests and signs in again; a hundred is someone probing tokens or
/// other tenants' ids.
pub const REFUSED: u32 = 100;

/// 429 answers for one address or account in the window: a client that backs off as told
/// meets a few; fifty means it ignores `Retry-After` (a script hammering a limit).
pub const THROTTLED: u32 = 50;

/// All three kinds together for one tenant in the window: a tenant's staff and keys
/// refused this often means its credentials are under attack (or a key was revoked and an
/// integration keeps trying, which the tenant should hear about too).
pub const PER_TENANT: u32 = 200;

/// The most keys kept per scope.
pub const MAX_KEYS: usize = 4096;

const BUCKETS: usize = (WINDOW_SECS / BUCKET_SECS) as usize;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// A sign-in that failed (wrong credentials, or refused by the sign-in limiter).
    FailedSignIn,
    /// A 401 or 403 answer to anything else.
    Refused,
    /// A 429 answer to anything else.
    Throttled,
}

impl Signal {
    const ALL: [Signal; 3] = [Signal::FailedSignIn, Signal::Refused, Signal::Throttled];

    fn index(self) -> usize {
        self as usize
    }

    fn threshold(self) -> u32 {
        match self {
            Signal::FailedSignIn => FAILED_SIGN_INS,
            Signal::Refused => REFUSED,
            Signal::Throttled => THROTTLED,
        }
    }
}

/// What a count is kept per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The client's IP address.
    Address,
    /// The account: the e-mail address a sign-in named, or the acting user's id.
    Account,
    Tenant,
}

impl Scope {
    /// Every scope, in the order of the metric's labels.
    pub const ALL: [Scope; 3] = [Scope::Address, Scope::Account, Scope::Tenant];

    /// The label value of `innkeep_access_bursts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Address => "address",
            Scope::Account => "account",
            Scope::Tenant => "tenant",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One refused or failed request, with whatever is known of who made it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub signal: Signal,
    pub address: Option<&'a str>,
    pub account: Option<&'a str>,
    pub tenant: Option<TenantId>,
}

/// A key over its threshold now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Burst {
    pub scope: Scope,
    /// The address, account or tenant id.
    pub key: String,
    /// The kind that crossed its threshold (for a tenant, the largest).
    pub signal: Signal,
    /// How many of that kind in the window (for a tenant, of all kinds).
    pub count: u32,
    pub threshold: u32,
    /// When this key was last seen.
    pub last_seen: Timestamp,
}

/// Counts of one key: per bucket, per signal.
#[derive(Debug)]
struct Counts {
    /// (bucket number, counts per signal), oldest first, at most `BUCKETS`.
    buckets: VecDeque<(i64, [u32; 3])>,
    last_seen: Timestamp,
}

impl Counts {
    fn add(&mut self, signal: Signal, now: Timestamp) {
        let bucket = now.as_second().div_euclid(BUCKET_SECS);
        match self.buckets.back_mut() {
            Some((b, counts)) if *b == bucket => counts[signal.index()] += 1,
            _ => {
                let mut counts = [0; 3];
                counts[signal.index()] = 1;
                self.buckets.push_back((bucket, counts));
                while self.buckets.len() > BUCKETS {
                    self.buckets.pop_front();
                }
            }
        }
        self.last_seen = self.last_seen.max(now);
    }

    /// The counts per signal within the window ending at `now`.
    fn in_window(&self, now: Timestamp) -> [u32; 3] {
        let current = now.as_second().div_euclid(BUCKET_SECS);
        let mut total = [0u32; 3];
        for (b, counts) in &self.buckets {
            if *b > current - BUCKETS as i64 && *b <= current {
                for (t, c) in total.iter_mut().zip(counts) {
                    *t = t.saturating_add(*c);
                }
            }
        }
        total
    }

    fn expired(&self, now: Timestamp) -> bool {
        self.in_window(now) == [0; 3]
    }
}

/// The detector: one per node, fed by the front ends with every refused or failed request.
#[derive(Debug, Default)]
pub struct Detector {
    scopes: Mutex<[HashMap<String, Counts>; 3]>,
}

impl Detector {
    /// An empty detector.
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Count one refused or failed request.
    pub fn observe(&self, o: &Observation<'_>, now: Timestamp) {
        let tenant = o.tenant.map(|t| t.to_string());
        let keys = [(Scope::Address, o.address), (Scope::Account, o.account), (Scope::Tenant, tenant.as_deref())];
        let mut scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        for (scope, key) in keys {
            let Some(key) = key.filter(|k| !k.is_empty()) else { continue };
            let map = &mut scopes[scope.index()];
            if !map.contains_key(key) && map.len() >= MAX_KEYS {
                make_room(map, now);
            }
            map.entry(key.to_string())
                .or_insert_with(|| Counts { buckets: VecDeque::new(), last_seen: now })
                .add(o.signal, now);
        }
    }

    /// The keys over a threshold now, per scope, most counted first.
    pub fn bursts(&self, now: Timestamp) -> Vec<Burst> {
        let scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for scope in Scope::ALL {
            for (key, counts) in &scopes[scope.index()] {
                if let Some(b) = burst(scope, key, counts, now) {
                    out.push(b);
                }
            }
        }
        out.sort_by(|a, b| (a.scope.index(), b.count, &a.key).cmp(&(b.scope.index(), a.count, &b.key)));
        out
    }

    /// How many keys of each scope are over a threshold now (the gauge).
    pub fn offenders(&self, now: Timestamp) -> [(Scope, usize); 3] {
        let bursts = self.bursts(now);
        Scope::ALL.map(|s| (s, bursts.iter().filter(|b| b.scope == s).count()))
    }

    /// How many keys are kept (for tests of the bound).
    pub fn keys(&self) -> usize {
        self.scopes.lock().unwrap_or_else(PoisonError::into_inner).iter().map(HashMap::len).sum()
    }
}

/// The keys over a threshold now, as operators see them (nobody else may).
pub fn bursts_for(actor: &crate::Actor, detector: &Detector, now: Timestamp) -> Result<Vec<Burst>, crate::AppError> {
    if actor.role != innkeep_core::Role::Admin {
        return Err(crate::AppError::Forbidden("operators"));
    }
    Ok(detector.bursts(now))
}

fn burst(scope: Scope, key: &str, counts: &Counts, now: Timestamp) -> Option<Burst> {
    let window = counts.in_window(now);
    let make = |signal: Signal, count: u32, threshold: u32| Burst {
        scope,
        key: key.to_string(),
        signal,
        count,
        threshold,
        last_seen: counts.last_seen,
    };
    if scope == Scope::Tenant {
        let total = window.iter().sum::<u32>();
        let largest = Signal::ALL.into_iter().max_by_key(|s| window[s.index()]).unwrap_or(Signal::Refused);
        return (total >= PER_TENANT).then(|| make(largest, total, PER_TENANT));
    }
    Signal::ALL
        .into_iter()
        .filter(|s| window[s.index()] >= s.threshold())
        .max_by_key(|s| window[s.index()])
        .map(|s| make(s, window[s.index()], s.threshold()))
}

/// Drop the keys with nothing in the window; if none, the least recently seen one.
fn make_room(map: &mut HashMap<String, Counts>, now: Timestamp) {
    map.retain(|_, c| !c.expired(now));
    if map.len() >= MAX_KEYS
        && let Some(oldest) = map.iter().min_by_key(|(_, c)| c.last_seen).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2027-01-04T10:00:00Z".parse().expect("a time")
    }

    fn after(secs: i64) -> Timestamp {
        t0().checked_add(jiff::SignedDuration::from_secs(secs)).expect("a time")
    }

    fn failed_sign_in<'a>(address: &'a str, account: &'a str) -> Observation<'a> {
        Observation { signal: Signal::FailedSignIn, address: Some(address), account: Some(account), tenant: None }
    }

    #[test]
    fn a_brute_force_on_one_account_is_a_burst_of_the_account_and_the_address() {
        let d = Detector::new();
        for i in 0..FAILED_SIGN_INS {
            assert!(d.bursts(after(i64::from(i))).is_empty(), "not before the threshold");
            d.observe(&failed_sign_in("192.0.2.7", "ana@example.com"), after(i64::from(i)));
        }
        let bursts = d.bursts(after(30));
        assert_eq!(bursts.len(), 2, "{bursts:?}");
        assert_eq!((bursts[0].scope, bursts[0].key.as_str()), (Scope::Address, "192.0.2.7"));
        assert_eq!((bursts[1].scope, bursts[1].key.as_str()), (Scope::Account, "ana@example.com"));
        assert_eq!(bursts[1].count, FAILED_SIGN_INS);
        assert_eq!(d.offenders(after(30)), [(Scope::Address, 1), (Scope::Account, 1), (Scope::Tenant, 0)]);
    }

    #[test]
    fn a_spread_attack_on_one_account_from_many_addresses_is_a_burst_of_the_account() {
        let d = Detector::new();
        let addresses: Vec<String> = (0..FAILED_SIGN_INS).map(|i| format!("198.51.100.{i}")).collect();
        for (i, a) in addresses.iter().enumerate() {
            d.observe(&failed_sign_in(a, "ana@example.com"), after(i as i64 * 10));
        }
        let scopes: Vec<Scope> = d.bursts(after(200)).iter().map(|b| b.scope).collect();
        assert_eq!(scopes, vec![Scope::Account]);
    }

    #[test]
    fn normal_traffic_is_no_burst() {
        let d = Detector::new();
        // Five people mistyping their password once each, from one office address.
        for i in 0..5 {
            d.observe(&failed_sign_in("203.0.113.1", &format!("user{i}@example.com")), after(i));
        }
        // A client whose token expired: a few 401s, then it signs in again.
        for i in 0..3 {
            let o = Observation { signal: Signal::Refused, address: Some("203.0.113.2"), account: None, tenant: None };
            d.observe(&o, after(10 + i));
        }
        // A thousand requests that succeed are never fed in at all; a tenant's staff refused
        // now and then stays far below its threshold.
        let tenant = TenantId(uuid::Uuid::nil());
        for i in 0..20 {
            let o = Observation {
                signal: Signal::Refused,
                address: Some("203.0.113.3"),
                account: None,
                tenant: Some(tenant),
            };
            d.observe(&o, after(i * 5));
        }
        assert!(d.bursts(after(120)).is_empty(), "{:?}", d.bursts(after(120)));
        assert_eq!(d.offenders(after(120)).iter().map(|(_, n)| n).sum::<usize>(), 0);
    }

    #[test]
    fn a_tenant_refused_often_across_addresses_and_accounts_is_a_burst() {
        let d = Detector::new();
        let tenant = TenantId(uuid::Uuid::nil());
        for i in 0..PER_TENANT {
            let address = format!("10.0.{}.{}", i / 200, i % 200);
            let account = format!("user-{i}");
            let o = Observation {
                signal: if i % 2 == 0 { Signal::Refused } else { Signal::Throttled },
                address: Some(&address),
                account: Some(&account),
                tenant: Some(tenant),
            };
            d.observe(&o, after(i64::from(i)));
        }
        let bursts = d.bursts(after(i64::from(PER_TENANT)));
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        assert_eq!((bursts[0].scope, bursts[0].count), (Scope::Tenant, PER_TENANT));
    }

    #[test]
    fn a_burst_ends_when_its_window_has_passed() {
        let d = Detector::new();
        for i in 0..FAILED_SIGN_INS {
            d.observe(&failed_sign_in("192.0.2.7", "ana@example.com"), after(i64::from(i)));
        }
        assert_eq!(d.bursts(after(60)).len(), 2);
        assert_eq!(d.bursts(after(WINDOW_SECS - BUCKET_SECS)).len(), 2, "still inside the window");
        assert!(d.bursts(after(WINDOW_SECS + BUCKET_SECS)).is_empty(), "the window slid past it");
        // Attempts spread thinner than the threshold per window never add up to a burst.
        let slow = Detector::new();
        for i in 0..(FAILED_SIGN_INS * 3) {
            slow.observe(&failed_sign_in("192.0.2.8", "bo@example.com"), after(i64::from(i) * 20));
            assert!(slow.bursts(after(i64::from(i) * 20)).is_empty(), "attempt {i}");
        }
    }

    #[test]
    fn only_operators_see_the_bursts() {
        let d = Detector::new();
        for i in 0..FAILED_SIGN_INS {
            d.observe(&failed_sign_in("192.0.2.7", "ana@example.com"), after(i64::from(i)));
        }
        let id = innkeep_core::UserId(uuid::Uuid::nil());
        let admin = crate::Actor::new(id, innkeep_core::Role::Admin, None);
        assert_eq!(bursts_for(&admin, &d, after(30)).map(|b| b.len()).ok(), Some(2));
        let host = crate::Actor::new(id, innkeep_core::Role::Host, Some(TenantId(uuid::Uuid::nil())));
        assert!(matches!(bursts_for(&host, &d, after(30)), Err(crate::AppError::Forbidden(_))));
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_addresses() {
        let d = Detector::new();
        let n = MAX_KEYS * 3;
        for i in 0..n {
            let address = format!("2001:db8::{i:x}");
            let o = Observation { signal: Signal::Refused, address: Some(&address), account: None, tenant: None };
            d.observe(&o, after(i as i64 / 100));
        }
        assert!(d.keys() <= MAX_KEYS, "{} keys", d.keys());
        // The newest keys are the ones kept.
        let last = format!("2001:db8::{:x}", n - 1);
        for _ in 1..REFUSED {
            let o = Observation { signal: Signal::Refused, address: Some(&last), account: None, tenant: None };
            d.observe(&o, after(n as i64 / 100));
        }
        let bursts = d.bursts(after(n as i64 / 100));
        assert_eq!(bursts.iter().map(|b| b.key.as_str()).collect::<Vec<_>>(), vec![last.as_str()]);
    }
}
