//! The built-in alert rules: the alerts of `deploy/prometheus/rules/innkeep.rules.yml` that a
//! node can evaluate on its own metrics, in the same words (`tests/alert_rules.rs` keeps the
//! two lists agreeing).

use std::fmt;
use std::time::Duration;

/// How urgent an alert is: the `severity` label of the Prometheus rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Pages (PagerDuty) and is posted to Slack.
    Critical,
    /// Posted to Slack only.
    Warning,
}

impl Severity {
    /// The label value (`critical`, `warning`), also PagerDuty's severity.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// How a rule's value is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `value > threshold`
    Above,
    /// `value >= threshold`
    AtLeast,
    /// `value == threshold`
    Equal,
    /// `value < threshold`
    Below,
}

impl Comparison {
    /// The PromQL operator (`>`, `>=`, `==`, `<`).
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Equal => "==",
            Comparison::Below => "<",
        }
    }

    /// Whether `value` meets `threshold`; NaN never does.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
            Comparison::Equal => value == threshold,
            Comparison::Below => value < threshold,
        }
    }
}

/// How a label matcher compares, as in PromQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    /// The PromQL operator.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One label matcher of a selector, written as in the Prometheus rules.
///
/// A regex value is the subset the rules use: alternatives separated by `|`, each a literal
/// that may end with `.*` (a prefix), matched against the whole label value as PromQL
/// anchors regexes. A missing label matches as the empty string, as in PromQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matcher {
    /// The label name.
    pub label: &'static str,
    /// How it compares.
    pub op: MatchOp,
    /// The value or the regex.
    pub value: &'static str,
}

impl Matcher {
    /// Whether a label value (`""` for a missing label) passes.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => regex_matches(self.value, value),
            MatchOp::NotRegex => !regex_matches(self.value, value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"{}\"", self.label, self.op.as_str(), self.value)
    }
}

fn regex_matches(pattern: &str, value: &str) -> bool {
    pattern.split('|').any(|alternative| match alternative.strip_suffix(".*") {
        Some(prefix) => value.starts_with(prefix),
        None => value == alternative,
    })
}

/// Which series of a metric a rule reads: a PromQL instant selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// The series' name as rendered (`innkeep_http_request_duration_seconds_bucket`).
    pub metric: &'static str,
    /// The matchers, all of which must pass.
    pub matchers: &'static [Matcher],
}

impl Selector {
    /// Whether a series with this name and these labels is selected.
    pub fn selects(&self, name: &str, labels: &[(String, String)]) -> bool {
        name == self.metric
            && self.matchers.iter().all(|m| {
                let value = labels.iter().find(|(l, _)| l == m.label).map_or("", |(_, v)| v.as_str());
                m.matches(value)
            })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metric)?;
        if !self.matchers.is_empty() {
            let matchers: Vec<String> = self.matchers.iter().map(Matcher::to_string).collect();
            write!(f, "{{{}}}", matchers.join(","))?;
        }
        Ok(())
    }
}

/// The least traffic a ratio needs before it means anything (the `and on (...)` guard of
/// the Prometheus rule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    /// The denominator's rate, per second over the rule's window, above this (PromQL
    /// `rate(...) > x`); measured over the unscaled window, so a drill with `speedup`
    /// needs the same number of events.
    RateAbove(f64),
    /// The denominator's increase over the window at least this (`increase(...) >= x`).
    IncreaseAtLeast(f64),
}

/// What a rule computes from the node's samples.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// `increase(numerator) / increase(denominator)` over `window`, per value of the `by`
    /// label; no value while the denominator did not move (or is under `min_volume`).
    Ratio {
        /// The counters counted as bad.
        numerator: Selector,
        /// The counters of all that counts.
        denominator: Selector,
        /// How far back.
        window: Duration,
        /// The label the Prometheus rule keeps besides `job` (`method`), if any.
        by: Option<&'static str>,
        /// The guard on the denominator, if the rule has one.
        min_volume: Option<Volume>,
    },
    /// The increase of a counter over `window`, per value of the `by` label. A series that
    /// appears inside the window counts with its whole value (a counter is created by its
    /// first increment), and a drop is a reset (a restart), never a negative increase.
    Increase {
        /// The counters.
        counter: Selector,
        /// How far back.
        window: Duration,
        /// The label the Prometheus rule keeps besides `job`, if any.
        by: Option<&'static str>,
    },
    /// A gauge's latest value per value of the `by` label (the highest one, the lowest for
    /// `Below`) compared with the threshold by `compare`.
    Gauge {
        /// The gauges.
        gauge: Selector,
        /// The label the Prometheus rule keeps besides `job`, if any.
        by: Option<&'static str>,
        /// How the value meets the threshold.
        compare: Comparison,
    },
    /// How many series of a gauge equal `equals` now, per value of the `by` label
    /// (`count(gauge == equals)`).
    GaugeCount {
        /// The gauges.
        gauge: Selector,
        /// The value counted.
        equals: f64,
        /// The label the Prometheus rule keeps besides `job`, if any.
        by: Option<&'static str>,
    },
    /// A quantile of a histogram's observations over `window`, from the increases of its
    /// `_bucket` series summed by `le`, interpolated as PromQL's `histogram_quantile`.
    Quantile {
        /// The `_bucket` series.
        buckets: Selector,
        /// 0.99 for the p99.
        quantile: f64,
        /// How far back.
        window: Duration,
    },
}

impl RuleKind {
    /// The selectors the rule reads.
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            RuleKind::Ratio { numerator, denominator, .. } => vec![numerator, denominator],
            RuleKind::Increase { counter, .. } => vec![counter],
            RuleKind::Gauge { gauge, .. } | RuleKind::GaugeCount { gauge, .. } => vec![gauge],
            RuleKind::Quantile { buckets, .. } => vec![buckets],
        }
    }

    /// The window a rule looks back over (unscaled); none for gauges, which read the latest
    /// sample.
    pub fn window(&self) -> Option<Duration> {
        match self {
            RuleKind::Ratio { window, .. } | RuleKind::Increase { window, .. } | RuleKind::Quantile { window, .. } => {
                Some(*window)
            }
            RuleKind::Gauge { .. } | RuleKind::GaugeCount { .. } => None,
        }
    }

    /// The label the rule groups by, if any.
    pub fn by(&self) -> Option<&'static str> {
        match self {
            RuleKind::Ratio { by, .. }
            | RuleKind::Increase { by, .. }
            | RuleKind::Gauge { by, .. }
            | RuleKind::GaugeCount { by, .. } => *by,
            RuleKind::Quantile { .. } => None,
        }
    }

    /// How the value meets the threshold: `>` except for gauges that say otherwise.
    pub fn comparison(&self) -> Comparison {
        match self {
            RuleKind::Gauge { compare, .. } => *compare,
            _ => Comparison::Above,
        }
    }
}

/// One alert the node raises itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The Prometheus alert's name (`InnkeepHttp5xxRatioHigh`).
    pub name: &'static str,
    /// Its `severity` label.
    pub severity: Severity,
    /// How long the condition must hold before the alert fires (the rule's `for:`).
    pub for_: Duration,
    /// The constant of the alert's comparison.
    pub threshold: f64,
    /// What is computed and compared with the threshold.
    pub kind: RuleKind,
    /// The Prometheus rule's `summary` annotation, template and all (`{{ $value |
    /// humanizePercentage }}`, `{{ $labels.consumer }}`): rendered for each transition.
    pub summary: &'static str,
}

/// Routes that the node's own request window leaves out, and the request rules with it:
/// load balancer probes would dilute every ratio.
const NOT_PROBES: Matcher =
    Matcher { label: "route", op: MatchOp::NotRegex, value: "/static/.*|/metrics|/healthz|/readyz" };
const STATUS_5XX: Matcher = Matcher { label: "status", op: MatchOp::Equal, value: "5xx" };
const BOOKING_POST: Matcher = Matcher { label: "method", op: MatchOp::Equal, value: "POST" };
const BOOKING_ROUTES: Matcher = Matcher { label: "route", op: MatchOp::Regex, value: "/api/v1/bookings|/checkout" };
/// The consumers that move money: their dead letters page.
const MONEY_CONSUMERS: &str = "card-payments|cancellation-refunds|commission-meter";

const fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// Every alert of the Prometheus rules that one node can evaluate on its own metrics.
pub fn rules() -> Vec<Rule> {
    let requests = "innkeep_http_requests_total";
    vec![
        Rule {
            name: "InnkeepHttp5xxRatioHigh",
            severity: Severity::Critical,
            for_: minutes(5),
            threshold: 0.05,
            kind: RuleKind::Ratio {
                numerator: Selector { metric: requests, matchers: &[NOT_PROBES, STATUS_5XX] },
                denominator: Selector { metric: requests, matchers: &[NOT_PROBES] },
                window: minutes(5),
                by: None,
                min_volume: None,
            },
            summary: "{{ $value | humanizePercentage }} of Innkeep requests answer 5xx",
        },
        Rule {
            name: "InnkeepLatencyP99High",
            severity: Severity::Warning,
            for_: minutes(10),
            threshold: 1.0,
            kind: RuleKind::Quantile {
                buckets: Selector { metric: "innkeep_http_request_duration_seconds_bucket", matchers: &[NOT_PROBES] },
                quantile: 0.99,
                window: minutes(5),
            },
            summary: "Innkeep p99 latency is {{ $value | humanizeDuration }}",
        },
        Rule {
            name: "InnkeepBookingsFailing",
            severity: Severity::Critical,
            for_: minutes(5),
            threshold: 0.05,
            kind: RuleKind::Ratio {
                numerator: Selector { metric: requests, matchers: &[BOOKING_POST, BOOKING_ROUTES, STATUS_5XX] },
                denominator: Selector { metric: requests, matchers: &[BOOKING_POST, BOOKING_ROUTES] },
                window: minutes(5),
                by: None,
                min_volume: None,
            },
            summary: "{{ $value | humanizePercentage }} of booking attempts answer 5xx",
        },
        Rule {
            name: "InnkeepBookingsRefusedHigh",
            severity: Severity::Warning,
            for_: minutes(30),
            threshold: 0.5,
            kind: RuleKind::Ratio {
                numerator: Selector {
                    metric: "innkeep_bookings_total",
                    matchers: &[Matcher { label: "outcome", op: MatchOp::Equal, value: "refused" }],
                },
                denominator: Selector { metric: "innkeep_bookings_total", matchers: &[] },
                window: minutes(15),
                by: None,
                min_volume: Some(Volume::RateAbove(0.01)),
            },
            summary: "{{ $value | humanizePercentage }} of booking attempts are refused as sold out",
        },
        Rule {
            name: "InnkeepConsumerLagHigh",
            severity: Severity::Warning,
            for_: minutes(10),
            threshold: 1000.0,
            kind: RuleKind::Gauge {
                gauge: Selector { metric: "innkeep_consumer_lag_events", matchers: &[] },
                by: Some("consumer"),
                compare: Comparison::Above,
            },
            summary: "Consumer {{ $labels.consumer }} is {{ $value }} events behind",
        },
        Rule {
            name: "InnkeepDeadLetters",
            severity: Severity::Warning,
            for_: minutes(1),
            threshold: 0.0,
            kind: RuleKind::Increase {
                counter: Selector {
                    metric: "innkeep_dead_letters_total",
                    matchers: &[Matcher { label: "consumer", op: MatchOp::NotRegex, value: MONEY_CONSUMERS }],
                },
                window: minutes(15),
                by: Some("consumer"),
            },
            summary: "Consumer {{ $labels.consumer }} parked {{ $value }} dead letter(s)",
        },
        Rule {
            name: "InnkeepMoneyDeadLetters",
            severity: Severity::Critical,
            for_: minutes(1),
            threshold: 0.0,
            kind: RuleKind::Increase {
                counter: Selector {
                    metric: "innkeep_dead_letters_total",
                    matchers: &[Matcher { label: "consumer", op: MatchOp::Regex, value: MONEY_CONSUMERS }],
                },
                window: minutes(15),
                by: Some("consumer"),
            },
            summary: "Money consumer {{ $labels.consumer }} parked {{ $value }} dead letter(s)",
        },
        Rule {
            name: "InnkeepDbReplicaDown",
            severity: Severity::Warning,
            for_: minutes(2),
            threshold: 0.0,
            kind: RuleKind::GaugeCount {
                gauge: Selector { metric: "innkeep_db_replica_up", matchers: &[] },
                equals: 0.0,
                by: Some("replica"),
            },
            summary: "Database replica {{ $labels.replica }} is down",
        },
        Rule {
            name: "InnkeepDbReplicaLagHigh",
            severity: Severity::Warning,
            for_: minutes(5),
            threshold: 10.0,
            kind: RuleKind::Gauge {
                gauge: Selector { metric: "innkeep_db_replica_lag_seconds", matchers: &[] },
                by: Some("replica"),
                compare: Comparison::Above,
            },
            summary: "Database replica {{ $labels.replica }} is {{ $value | humanizeDuration }} behind",
        },
        Rule {
            name: "InnkeepStoreWriteFault",
            severity: Severity::Critical,
            for_: minutes(1),
            threshold: 1.0,
            kind: RuleKind::Gauge {
                gauge: Selector { metric: "innkeep_store_write_fault", matchers: &[] },
                by: Some("reason"),
                compare: Comparison::Equal,
            },
            summary: "Writes fail on {{ $labels.instance }}: {{ $labels.reason }}",
        },
        // A warning, not a page: the sign-in limiter and the refusals already hold the attack
        // off; blocking an address or telling a tenant can wait for working hours.
        Rule {
            name: "InnkeepAccessBurst",
            severity: Severity::Warning,
            for_: minutes(1),
            threshold: 0.0,
            kind: RuleKind::Gauge {
                gauge: Selector { metric: "innkeep_access_bursts", matchers: &[] },
                by: Some("scope"),
                compare: Comparison::Above,
            },
            summary: "Unauthorized-access burst on {{ $labels.instance }}: {{ $value }} {{ $labels.scope }}(s) over the threshold",
        },
        Rule {
            name: "InnkeepPaymentFailuresHigh",
            severity: Severity::Warning,
            for_: minutes(15),
            threshold: 0.25,
            kind: RuleKind::Ratio {
                numerator: Selector {
                    metric: "innkeep_payments_total",
                    matchers: &[Matcher { label: "status", op: MatchOp::Equal, value: "failed" }],
                },
                denominator: Selector {
                    metric: "innkeep_payments_total",
                    matchers: &[Matcher { label: "status", op: MatchOp::Regex, value: "succeeded|failed" }],
                },
                window: minutes(30),
                by: Some("method"),
                min_volume: Some(Volume::IncreaseAtLeast(10.0)),
            },
            summary: "{{ $value | humanizePercentage }} of {{ $labels.method }} payments fail",
        },
        Rule {
            name: "InnkeepPaymentProviderUnavailable",
            severity: Severity::Warning,
            for_: minutes(10),
            threshold: 0.0,
            kind: RuleKind::Increase {
                counter: Selector { metric: "innkeep_provider_retries_total", matchers: &[] },
                window: minutes(5),
                by: Some("call"),
            },
            summary: "The card provider has been unavailable for 10 minutes ({{ $labels.call }})",
        },
        Rule {
            name: "InnkeepNotificationFailuresHigh",
            severity: Severity::Warning,
            for_: minutes(15),
            threshold: 0.1,
            kind: RuleKind::Ratio {
                numerator: Selector {
                    metric: "innkeep_notifications_total",
                    matchers: &[Matcher { label: "status", op: MatchOp::Equal, value: "failed" }],
                },
                denominator: Selector {
                    metric: "innkeep_notifications_total",
                    matchers: &[Matcher { label: "status", op: MatchOp::Regex, value: "sent|failed" }],
                },
                window: minutes(15),
                by: Some("channel"),
                min_volume: None,
            },
            summary: "{{ $value | humanizePercentage }} of {{ $labels.channel }} notifications fail",
        },
    ]
}

/// The Prometheus alerts the node cannot raise itself, and why: they need Prometheus
/// (several nodes, or a node that cannot report) or node_exporter.
pub const NEEDS_MONITORING_STACK: &[(&str, &str)] = &[
    ("InnkeepDown", "no node answers: a dead node cannot report itself; only Prometheus's `up` sees it"),
    ("InnkeepNodeDown", "a node that cannot be scraped cannot report itself; only Prometheus's `up` sees it"),
    (
        "InnkeepNodeHttp5xxRatioHigh",
        "compares one node within a job of several; on one node it is InnkeepHttp5xxRatioHigh, which inhibits it",
    ),
    (
        "InnkeepNodeLatencyP99High",
        "compares one node within a job of several; on one node it is InnkeepLatencyP99High, which inhibits it",
    ),
    ("InnkeepDiskSpaceLow", "file system space comes from node_exporter, not from the node's metrics"),
    ("InnkeepDiskSpaceCritical", "file system space comes from node_exporter, not from the node's metrics"),
];
