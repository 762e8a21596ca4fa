//! The built-in alert evaluator: on a machine with no Prometheus and no Alertmanager, the
//! node raises the operators' alerts itself from its own `/metrics` text and writes them to
//! the delivery log for Slack and PagerDuty (`messages`), and resolves them.
//!
//! The rules (`rules()`) are the alerts of `deploy/prometheus/rules/innkeep.rules.yml` that
//! a node can evaluate alone, with the same names, `for`, severities, thresholds and
//! summaries; the others are in `NEEDS_MONITORING_STACK`. `tests/alert_rules.rs` fails when
//! the two lists disagree.
//!
//! Call `Evaluator::evaluate` at a steady interval (15 to 60 seconds) with what `/metrics`
//! answers at that moment. Each rule is one alert per node: when its rule groups by a label
//! (a consumer, a replica), the worst group is reported, as Alertmanager's grouping by
//! alert name would send it.

mod exposition;
mod message;
mod rule;
mod summary;

pub use message::messages;
pub use rule::{
    Comparison, MatchOp, Matcher, NEEDS_MONITORING_STACK, Rule, RuleKind, Selector, Severity, Volume, rules,
};

use exposition::SeriesKey;
use jiff::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Whether an alert started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The condition has held for the rule's `for`.
    Fired,
    /// The condition of a firing alert no longer holds.
    Resolved,
}

/// An alert that fired or resolved at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The rule's (and the Prometheus alert's) name.
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// Fired or resolved.
    pub action: Action,
    /// The rule's value at this evaluation (0 when there is none, as after traffic stops).
    pub value: f64,
    /// The rendered summary; a resolution repeats the summary the alert fired with last.
    pub summary: String,
}

/// The most samples kept, whatever the interval: a bound on memory if `evaluate` is called
/// far more often than intended.
const MAX_SAMPLES: usize = 4096;

/// One reading of the node's metrics (only the series the rules read).
struct Sample {
    at: Timestamp,
    series: HashMap<SeriesKey, f64>,
}

/// Where one rule is.
enum State {
    Inactive,
    /// The condition holds since `since`, not yet for the rule's `for`.
    Pending {
        since: Timestamp,
    },
    Firing {
        summary: String,
    },
}

/// A group's value and its label, if the rule groups.
struct Value {
    group: Option<(&'static str, String)>,
    value: f64,
}

/// Evaluates the rules over the node's recent samples and says which alerts fire and
/// resolve.
pub struct Evaluator {
    /// Divides every window and every `for` (1.0, the default, is real time): at 60 a
    /// 5-minute window is 5 seconds and a `for: 10m` 10 seconds, so a drill or a test can
    /// fire and resolve alerts quickly. Volume guards keep their counts. Values that are
    /// not above zero count as 1.0.
    pub speedup: f64,
    node: String,
    rules: Vec<Rule>,
    /// The metrics the rules read, each with the longest window that reads it (zero for
    /// gauges: only the latest sample).
    metrics: HashMap<&'static str, Duration>,
    history: VecDeque<Sample>,
    states: Vec<State>,
}

impl Evaluator {
    /// An evaluator of the built-in rules for the node named `node` (its summaries'
    /// `instance`).
    pub fn new(node: impl Into<String>) -> Evaluator {
        Evaluator::with_rules(node, rules())
    }

    /// An evaluator of the given rules.
    pub fn with_rules(node: impl Into<String>, rules: Vec<Rule>) -> Evaluator {
        let mut metrics: HashMap<&'static str, Duration> = HashMap::new();
        for rule in &rules {
            let window = rule.kind.window().unwrap_or(Duration::ZERO);
            for selector in rule.kind.selectors() {
                let longest = metrics.entry(selector.metric).or_default();
                *longest = (*longest).max(window);
            }
        }
        let states = rules.iter().map(|_| State::Inactive).collect();
        Evaluator { speedup: 1.0, node: node.into(), rules, metrics, history: VecDeque::new(), states }
    }

    /// The rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The names of the alerts firing now.
    pub fn firing(&self) -> Vec<&'static str> {
        self.rules
            .iter()
            .zip(&self.states)
            .filter(|(_, s)| matches!(s, State::Firing { .. }))
            .map(|(r, _)| r.name)
            .collect()
    }

    /// Takes the metrics text rendered at `now` and answers the alerts that fire (their
    /// condition has now held for their `for`) or resolve (it no longer holds); an alert
    /// that keeps firing is not repeated.
    pub fn evaluate(&mut self, now: Timestamp, exposition: &str) -> Vec<Transition> {
        let series = exposition::parse(exposition, |name| self.metrics.contains_key(name)).into_iter().collect();
        // A clock that stepped back: the samples "after" now would make every window wrong.
        while self.history.back().is_some_and(|s| s.at >= now) {
            self.history.pop_back();
        }
        self.history.push_back(Sample { at: now, series });
        self.forget(now);

        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let values = self.values(&rule.kind, now);
            let compare = rule.kind.comparison();
            let worst = |a: &&Value, b: &&Value| match compare {
                Comparison::Below => b.value.total_cmp(&a.value),
                _ => a.value.total_cmp(&b.value),
            };
            let met = values.iter().filter(|v| compare.holds(v.value, rule.threshold)).max_by(worst);
            let for_ = self.scaled(rule.for_);
            let state = &mut self.states[i];
            match (met, &*state) {
                (Some(v), State::Inactive | State::Pending { .. }) => {
                    let since = match state {
                        State::Pending { since } => *since,
                        _ => now,
                    };
                    if elapsed(now, since) >= for_ {
                        let group = v.group.as_ref().map(|(l, g)| (*l, g.as_str()));
                        let summary = summary::render(rule.summary, v.value, group, &self.node);
                        out.push(Transition {
                            rule: rule.name,
                            severity: rule.severity,
                            action: Action::Fired,
                            value: v.value,
                            summary: summary.clone(),
                        });
                        *state = State::Firing { summary };
                    } else {
                        *state = State::Pending { since };
                    }
                }
                (Some(_), State::Firing { .. }) => {}
                (None, State::Firing { summary }) => {
                    let value = values.iter().max_by(worst).map_or(0.0, |v| v.value);
                    out.push(Transition {
                        rule: rule.name,
                        severity: rule.severity,
                        action: Action::Resolved,
                        value,
                        summary: summary.clone(),
                    });
                    *state = State::Inactive;
                }
                (None, _) => *state = State::Inactive,
            }
        }
        out
    }

    fn speedup(&self) -> f64 {
        if self.speedup.is_finite() && self.speedup > 0.0 { self.speedup } else { 1.0 }
    }

    fn scaled(&self, d: Duration) -> Duration {
        d.div_f64(self.speedup())
    }

    /// Drops the samples, and the series of older samples, that no window reaches any more.
    fn forget(&mut self, now: Timestamp) {
        let longest = self.metrics.values().max().copied().unwrap_or(Duration::ZERO);
        let longest = self.scaled(longest);
        while self.history.len() > 1 && self.history.front().is_some_and(|s| elapsed(now, s.at) > longest) {
            self.history.pop_front();
        }
        while self.history.len() > MAX_SAMPLES {
            self.history.pop_front();
        }
        // A histogram's buckets are most of the series and only a 5-minute window reads them.
        let speedup = self.speedup();
        let last = self.history.len().saturating_sub(1);
        for sample in self.history.iter_mut().take(last) {
            let age = elapsed(now, sample.at);
            sample
                .series
                .retain(|key, _| self.metrics.get(key.name.as_str()).is_some_and(|w| age <= w.div_f64(speedup)));
        }
    }

    /// The samples of the last `window` (scaled), oldest first.
    fn window(&self, now: Timestamp, window: Duration) -> Vec<&Sample> {
        let window = self.scaled(window);
        self.history.iter().filter(|s| elapsed(now, s.at) <= window).collect()
    }

    /// A rule's value per group now.
    fn values(&self, kind: &RuleKind, now: Timestamp) -> Vec<Value> {
        let by = kind.by();
        let group_of = |key: &SeriesKey| by.map(|l| key.label(l).to_string());
        let finish = |groups: HashMap<Option<String>, f64>| -> Vec<Value> {
            groups
                .into_iter()
                .map(|(g, value)| Value { group: by.zip(g), value })
                .filter(|v| v.value.is_finite())
                .collect()
        };
        match kind {
            RuleKind::Ratio { numerator, denominator, window, min_volume, .. } => {
                let samples = self.window(now, *window);
                let mut groups: HashMap<Option<String>, (f64, f64)> = HashMap::new();
                for (key, inc) in increases(&samples, denominator) {
                    groups.entry(group_of(key)).or_default().1 += inc;
                }
                for (key, inc) in increases(&samples, numerator) {
                    groups.entry(group_of(key)).or_default().0 += inc;
                }
                let enough = |den: f64| match min_volume {
                    None => den > 0.0,
                    Some(Volume::RateAbove(rate)) => den > 0.0 && den / window.as_secs_f64() > *rate,
                    Some(Volume::IncreaseAtLeast(n)) => den > 0.0 && den >= *n,
                };
                finish(
                    groups
                        .into_iter()
                        .filter(|(_, (_, den))| enough(*den))
                        .map(|(g, (num, den))| (g, num / den))
                        .collect(),
                )
            }
            RuleKind::Increase { counter, window, .. } => {
                let samples = self.window(now, *window);
                let mut groups: HashMap<Option<String>, f64> = HashMap::new();
                for (key, inc) in increases(&samples, counter) {
                    *groups.entry(group_of(key)).or_default() += inc;
                }
                finish(groups)
            }
            RuleKind::Gauge { gauge, compare, .. } => {
                let mut groups: HashMap<Option<String>, f64> = HashMap::new();
                for (key, &v) in self.latest().filter(|(key, _)| gauge.selects(&key.name, &key.labels)) {
                    let slot = groups.entry(group_of(key)).or_insert(v);
                    *slot = if *compare == Comparison::Below { slot.min(v) } else { slot.max(v) };
                }
                finish(groups)
            }
            RuleKind::GaugeCount { gauge, equals, .. } => {
                let mut groups: HashMap<Option<String>, f64> = HashMap::new();
                for (key, _) in self.latest().filter(|(key, v)| **v == *equals && gauge.selects(&key.name, &key.labels))
                {
                    *groups.entry(group_of(key)).or_default() += 1.0;
                }
                finish(groups)
            }
            RuleKind::Quantile { buckets, quantile: q, window } => {
                let samples = self.window(now, *window);
                let mut by_le: Vec<(f64, f64)> = Vec::new();
                for (key, inc) in increases(&samples, buckets) {
                    let Ok(le) = key.label("le").parse::<f64>() else { continue };
                    match by_le.iter_mut().find(|(l, _)| *l == le) {
                        Some((_, count)) => *count += inc,
                        None => by_le.push((le, inc)),
                    }
                }
                let value = histogram_quantile(*q, by_le);
                finish(HashMap::from([(None, value)]))
            }
        }
    }

    fn latest(&self) -> impl Iterator<Item = (&SeriesKey, &f64)> {
        self.history.back().into_iter().flat_map(|s| s.series.iter())
    }
}

fn elapsed(now: Timestamp, since: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

/// How much each selected counter grew over the samples, as PromQL's `increase` without
/// extrapolation: a drop between two samples is a reset (a restart) that counts the new
/// value, never a negative increase; a series that appears after the first sample was
/// created since (counters appear with their first increment) and counts its whole value.
fn increases<'a>(samples: &[&'a Sample], selector: &Selector) -> HashMap<&'a SeriesKey, f64> {
    let mut out: HashMap<&SeriesKey, f64> = HashMap::new();
    for pair in samples.windows(2) {
        let [before, after] = pair else { continue };
        for (key, &v) in &after.series {
            if !v.is_finite() || !selector.selects(&key.name, &key.labels) {
                continue;
            }
            let inc = match before.series.get(key) {
                Some(&p) if p.is_finite() && v >= p => v - p,
                _ => v,
            };
            *out.entry(key).or_default() += inc;
        }
    }
    out
}

/// PromQL's `histogram_quantile` over cumulative `(le, count)` buckets: NaN without a
/// `+Inf` bucket or observations; linear interpolation inside the bucket holding the rank;
/// the highest finite bound when the rank falls in `+Inf`.
fn histogram_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Increases of separately reset buckets can come out non-monotonic; PromQL evens them.
    for i in 1..buckets.len() {
        if buckets[i].1 < buckets[i - 1].1 {
            buckets[i].1 = buckets[i - 1].1;
        }
    }
    let (Some(&(last_le, total)), true) = (buckets.last(), buckets.len() >= 2) else { return f64::NAN };
    if last_le != f64::INFINITY || total <= 0.0 || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let rank = q * total;
    let Some(b) = buckets.iter().position(|(_, count)| *count >= rank) else { return f64::NAN };
    if b == buckets.len() - 1 {
        return buckets[b - 1].0;
    }
    let (end, count) = buckets[b];
    if b == 0 && end <= 0.0 {
        return end;
    }
    let (start, before) = if b == 0 { (0.0, 0.0) } else { buckets[b - 1] };
    start + (end - start) * (rank - before) / (count - before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_app::notify::Channel;
    use std::collections::HashSet;

    const NODE: &str = "node-1";

    const MINUTE: Duration = Duration::from_secs(60);

    /// The time of the `n`th sample taken every `step`.
    fn at(n: u64, step: Duration) -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap().checked_add(step * n as u32).unwrap()
    }

    /// Requests to the API (`ok` 2xx and `errors` 5xx so far) and a probe route answering
    /// many 200s, as the node renders them.
    fn http(ok: u64, errors: u64, probes: u64) -> String {
        format!(
            "# TYPE innkeep_http_requests_total counter\n\
             innkeep_http_requests_total{{route=\"/api/v1/properties\",method=\"GET\",status=\"2xx\"}} {ok}\n\
             innkeep_http_requests_total{{route=\"/api/v1/properties\",method=\"GET\",status=\"5xx\"}} {errors}\n\
             innkeep_http_requests_total{{route=\"/healthz\",method=\"GET\",status=\"2xx\"}} {probes}\n"
        )
    }

    /// Feeds one exposition a minute (sample number, text) and collects the transitions with
    /// their sample's number.
    fn run(ev: &mut Evaluator, feed: impl IntoIterator<Item = (u64, String)>) -> Vec<(u64, Transition)> {
        run_every(ev, MINUTE, feed)
    }

    fn run_every(
        ev: &mut Evaluator,
        step: Duration,
        feed: impl IntoIterator<Item = (u64, String)>,
    ) -> Vec<(u64, Transition)> {
        feed.into_iter()
            .flat_map(|(n, text)| ev.evaluate(at(n, step), &text).into_iter().map(move |t| (n, t)))
            .collect()
    }

    /// 100 requests a minute; minutes in `burst` answer half of them 5xx.
    fn traffic(minutes: std::ops::RangeInclusive<u64>, burst: std::ops::RangeInclusive<u64>) -> Vec<(u64, String)> {
        let (mut ok, mut errors, mut probes) = (0, 0, 0);
        minutes
            .map(|m| {
                if m > 0 {
                    if burst.contains(&m) {
                        ok += 50;
                        errors += 50;
                    } else {
                        ok += 100;
                    }
                    probes += 1000;
                }
                (m, http(ok, errors, probes))
            })
            .collect()
    }

    #[test]
    fn a_5xx_burst_fires_only_after_for_exactly_once_then_resolves_once() {
        let mut ev = Evaluator::new(NODE);
        // Errors from minute 4 to 12: the 5-minute ratio (10%, the probes left out) holds
        // from minute 4 to 16.
        let got = run(&mut ev, traffic(0..=40, 4..=12));
        let got: Vec<_> = got.iter().map(|(m, t)| (*m, t.rule, t.action)).collect();
        assert_eq!(
            got,
            vec![(9, "InnkeepHttp5xxRatioHigh", Action::Fired), (17, "InnkeepHttp5xxRatioHigh", Action::Resolved)]
        );
    }

    #[test]
    fn a_fired_5xx_alert_says_the_ratio_like_prometheus() {
        let mut ev = Evaluator::new(NODE);
        // 10% 5xx from the first minute: fires at minute 6 (true from 1, `for: 5m`).
        let feed = (0..=8u64).map(|m| (m, http(90 * m, 10 * m, 1000 * m)));
        let got = run(&mut ev, feed);
        assert_eq!(got.len(), 1);
        let (m, fired) = &got[0];
        assert_eq!(*m, 6);
        assert!((fired.value - 0.1).abs() < 1e-9, "{}", fired.value);
        assert_eq!(fired.summary, "10% of Innkeep requests answer 5xx");
        assert_eq!(fired.severity, Severity::Critical);
        assert_eq!(ev.firing(), vec!["InnkeepHttp5xxRatioHigh"]);
    }

    #[test]
    fn speedup_divides_windows_and_for() {
        let mut ev = Evaluator::new(NODE);
        ev.speedup = 60.0;
        // One sample a second: the 5-minute window and `for` are 5 seconds.
        let got = run_every(&mut ev, Duration::from_secs(1), traffic(0..=40, 4..=12));
        let got: Vec<_> = got.iter().map(|(n, t)| (*n, t.action)).collect();
        assert_eq!(got, vec![(9, Action::Fired), (17, Action::Resolved)]);
    }

    #[test]
    fn a_5xx_ratio_below_the_threshold_does_not_fire() {
        let mut ev = Evaluator::new(NODE);
        let feed = (0..=60u64).map(|m| (m, http(96 * m, 4 * m, 1000 * m)));
        assert!(run(&mut ev, feed).is_empty());
    }

    #[test]
    fn a_counter_reset_does_not_fire() {
        let mut ev = Evaluator::new(NODE);
        // 100 old errors, none new; the node restarts at minute 11 and counts from zero.
        let before = (0..=10u64).map(|m| (m, http(1000 + 100 * m, 100, 0)));
        let after = (11..=40u64).map(|m| (m, http(100 * (m - 10), 0, 0)));
        assert!(run(&mut ev, before.chain(after)).is_empty());
    }

    #[test]
    fn a_restart_during_a_burst_keeps_the_alert_firing_without_a_second_page() {
        let mut ev = Evaluator::new(NODE);
        let (mut ok, mut errors) = (0, 0);
        let feed: Vec<_> = (0..=40u64)
            .map(|m| {
                if m == 15 {
                    // The node restarts: its counters start again from nothing.
                    (ok, errors) = (0, 0);
                }
                if (4..=20).contains(&m) {
                    ok += 50;
                    errors += 50;
                } else if m > 0 {
                    ok += 100;
                }
                (m, http(ok, errors, 0))
            })
            .collect();
        let got: Vec<_> = run(&mut ev, feed).into_iter().map(|(m, t)| (m, t.action)).collect();
        assert_eq!(got, vec![(9, Action::Fired), (25, Action::Resolved)]);
    }

    #[test]
    fn a_drop_between_samples_counts_as_a_reset_never_as_a_negative_increase() {
        let selector = Selector { metric: "c", matchers: &[] };
        let samples: Vec<Sample> = [5.0, 7.0, 2.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, v)| Sample {
                at: at(i as u64, MINUTE),
                series: HashMap::from([(SeriesKey { name: "c".into(), labels: vec![] }, *v)]),
            })
            .collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let got: Vec<f64> = increases(&refs, &selector).into_values().collect();
        // 5 -> 7: 2; 7 -> 2 (restart): 2; 2 -> 4: 2.
        assert_eq!(got, vec![6.0]);
    }

    fn dead_letters(consumer: &str, n: u64) -> String {
        format!("innkeep_dead_letters_total{{consumer=\"{consumer}\"}} {n}\n")
    }

    #[test]
    fn the_first_dead_letter_of_a_consumer_fires_and_resolves_after_the_window() {
        let mut ev = Evaluator::new(NODE);
        // The counter appears at minute 3 with its first dead letter.
        let feed = (0..=30u64).map(|m| (m, if m < 3 { String::new() } else { dead_letters("search-index", 1) }));
        let got: Vec<_> = run(&mut ev, feed).into_iter().map(|(m, t)| (m, t.rule, t.action, t.summary)).collect();
        let summary = "Consumer search-index parked 1 dead letter(s)".to_string();
        assert_eq!(
            got,
            vec![
                (4, "InnkeepDeadLetters", Action::Fired, summary.clone()),
                // 15 minutes after minute 3 the series is no longer new.
                (18, "InnkeepDeadLetters", Action::Resolved, summary),
            ]
        );
    }

    #[test]
    fn a_money_consumer_dead_letter_is_the_critical_alert() {
        let mut ev = Evaluator::new(NODE);
        let feed = (0..=5u64).map(|m| (m, dead_letters("card-payments", m)));
        let got: Vec<_> = run(&mut ev, feed).into_iter().map(|(_, t)| (t.rule, t.severity)).collect();
        assert_eq!(got, vec![("InnkeepMoneyDeadLetters", Severity::Critical)]);
    }

    #[test]
    fn a_write_fault_fires_after_a_minute_naming_the_node_and_reason() {
        let mut ev = Evaluator::new(NODE);
        let text = "innkeep_store_write_fault{reason=\"storage_full\"} 1\ninnkeep_store_write_fault{reason=\"storage_error\"} 0\n";
        let feed = (0..=3u64).map(|m| (m, text.to_string()));
        let got: Vec<_> = run(&mut ev, feed).into_iter().map(|(m, t)| (m, t.summary)).collect();
        assert_eq!(got, vec![(1, "Writes fail on node-1: storage_full".to_string())]);
    }

    #[test]
    fn p99_is_interpolated_in_the_bucket_holding_the_rank() {
        let buckets = vec![(0.5, 90.0), (1.0, 95.0), (2.5, 100.0), (f64::INFINITY, 100.0)];
        // Rank 99 lies 4/5 into (1, 2.5].
        assert!((histogram_quantile(0.99, buckets) - 2.2).abs() < 1e-9);
        assert_eq!(histogram_quantile(0.99, vec![(1.0, 50.0), (f64::INFINITY, 100.0)]), 1.0);
        assert!(histogram_quantile(0.99, vec![(1.0, 0.0), (f64::INFINITY, 0.0)]).is_nan());
    }

    #[test]
    fn slow_requests_fire_the_latency_warning_after_ten_minutes() {
        let mut ev = Evaluator::new(NODE);
        // Every request takes between 1 and 2.5 s: p99 is near 2.5 s.
        let feed = (0..=12u64).map(|m| {
            let n = 100 * m;
            let line = |le: &str, v: u64| {
                format!(
                    "innkeep_http_request_duration_seconds_bucket{{route=\"/stays\",method=\"GET\",le=\"{le}\"}} {v}\n"
                )
            };
            (m, [line("0.5", 0), line("1", 0), line("2.5", n), line("+Inf", n)].concat())
        });
        let got: Vec<_> = run(&mut ev, feed).into_iter().map(|(m, t)| (m, t.rule, t.summary)).collect();
        assert_eq!(got, vec![(11, "InnkeepLatencyP99High", "Innkeep p99 latency is 2.485s".to_string())]);
    }

    fn transition(rule: &'static str, severity: Severity, action: Action) -> Transition {
        Transition { rule, severity, action, value: 0.1, summary: "10% of Innkeep requests answer 5xx".into() }
    }

    #[test]
    fn a_warning_goes_to_slack_only() {
        let t = transition("InnkeepLatencyP99High", Severity::Warning, Action::Fired);
        let got = messages(&t, NODE, at(0, MINUTE), true, true);
        assert_eq!(got.len(), 1);
        let m = &got[0];
        assert_eq!(
            (m.channel, m.recipient.as_str(), m.template.as_str()),
            (Channel::Slack, "slack", "alert.InnkeepLatencyP99High")
        );
        let text = m.content.json.as_ref().unwrap()["text"].as_str().unwrap().to_string();
        assert!(
            text.starts_with(":rotating_light: [FIRING] InnkeepLatencyP99High (warning) on node-1: 10% of"),
            "{text}"
        );
        assert_eq!(m.dedup_key, "alert/node-1/InnkeepLatencyP99High/fired/1700000000/slack");
        assert!(m.content.transactional);
        assert_eq!((m.not_before, m.created_at), (at(0, MINUTE), at(0, MINUTE)));
        assert!(m.tenant_id.is_none() && m.booking_id.is_none() && m.event_id.is_none() && m.webhook_id.is_none());
    }

    #[test]
    fn a_critical_alert_posts_and_pages_and_resolves_the_same_incident() {
        let fired = messages(
            &transition("InnkeepHttp5xxRatioHigh", Severity::Critical, Action::Fired),
            NODE,
            at(0, MINUTE),
            true,
            true,
        );
        let resolved = messages(
            &transition("InnkeepHttp5xxRatioHigh", Severity::Critical, Action::Resolved),
            NODE,
            at(9, MINUTE),
            true,
            true,
        );
        let channels = |ms: &[NewMessageRef]| ms.iter().map(|m| m.channel).collect::<Vec<_>>();
        assert_eq!(channels(&fired), vec![Channel::Slack, Channel::PagerDuty]);
        assert_eq!(channels(&resolved), vec![Channel::Slack, Channel::PagerDuty]);
        let trigger = fired[1].content.json.clone().unwrap();
        let resolve = resolved[1].content.json.clone().unwrap();
        assert_eq!(trigger["event_action"], "trigger");
        assert_eq!(resolve["event_action"], "resolve");
        assert_eq!(trigger["dedup_key"], "innkeep/node-1/InnkeepHttp5xxRatioHigh");
        assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
        assert_eq!(trigger["payload"]["severity"], "critical");
        assert_eq!(trigger["payload"]["source"], "node-1");
        assert!(trigger.get("routing_key").is_none());
        let slack = resolved[0].content.json.clone().unwrap();
        assert!(slack["text"].as_str().unwrap().starts_with(":white_check_mark: [RESOLVED] InnkeepHttp5xxRatioHigh"));
        let keys: HashSet<_> = fired.iter().chain(&resolved).map(|m| m.dedup_key.clone()).collect();
        assert_eq!(keys.len(), 4, "every message has its own key in the log");
    }

    #[test]
    fn a_critical_alert_without_slack_only_pages() {
        let t = transition("InnkeepStoreWriteFault", Severity::Critical, Action::Fired);
        let got: Vec<_> = messages(&t, NODE, at(0, MINUTE), false, true).into_iter().map(|m| m.channel).collect();
        assert_eq!(got, vec![Channel::PagerDuty]);
        let t = transition("InnkeepDeadLetters", Severity::Warning, Action::Fired);
        assert!(messages(&t, NODE, at(0, MINUTE), false, true).is_empty());
    }

    type NewMessageRef = innkeep_app::notify::NewMessage;

    #[test]
    fn every_summary_template_is_one_the_evaluator_renders() {
        for rule in rules() {
            assert!(summary::is_supported(rule.summary), "{}", rule.name);
        }
    }
}
