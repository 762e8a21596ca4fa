//! The built-in alert rules and the Prometheus rules (`deploy/prometheus/rules/
//! innkeep.rules.yml`) are one list: every built-in rule is a Prometheus alert with the same
//! `for`, severity, threshold, summary and the same series, and every Prometheus alert is
//! either built in or listed in `NEEDS_MONITORING_STACK` with the reason.

use innkeep_notify::alert::{NEEDS_MONITORING_STACK, Rule, RuleKind, Volume, rules};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    rules: Vec<PromRule>,
}

#[derive(Deserialize)]
struct PromRule {
    record: Option<String>,
    alert: Option<String>,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The file's alerts by name and its recording rules' expressions by the recorded name.
struct Prometheus {
    alerts: BTreeMap<String, PromRule>,
    records: HashMap<String, String>,
}

fn prometheus() -> Prometheus {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/prometheus/rules/innkeep.rules.yml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: RuleFile = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut alerts = BTreeMap::new();
    let mut records = HashMap::new();
    for rule in file.groups.into_iter().flat_map(|g| g.rules) {
        match (rule.alert.clone(), rule.record.clone()) {
            (Some(name), None) => {
                assert!(alerts.insert(name.clone(), rule).is_none(), "alert {name} twice");
            }
            (None, Some(name)) => {
                records.insert(name, rule.expr);
            }
            _ => panic!("a rule is either an alert or a recording rule: {}", rule.expr),
        }
    }
    Prometheus { alerts, records }
}

/// A Prometheus duration (`5m`, `1h30m`, `30s`).
fn duration(text: &str) -> Duration {
    let mut total = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().unwrap_or_else(|_| panic!("a number before the unit in {text}"));
        number.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            other => panic!("unit {other} in {text}"),
        };
    }
    assert!(number.is_empty(), "a unit after {text}");
    Duration::from_secs(total)
}

fn prometheus_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The expression on one line, single-spaced.
fn flat(expr: &str) -> String {
    expr.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text with label matchers (`{...}`) and ranges (`[...]`) taken out.
fn without_matchers(expr: &str) -> String {
    let mut out = String::new();
    let (mut depth, mut quoted) = (0, false);
    for c in expr.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '{' | '[' if !quoted => depth += 1,
            '}' | ']' if !quoted => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every comparison with a constant (`> 0.05`, `== 1`), in order.
fn comparisons(expr: &str) -> Vec<(String, f64)> {
    let chars: Vec<char> = without_matchers(expr).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = if [">=", "<=", "==", "!="].contains(&two.as_str()) {
            two
        } else if chars[i] == '>' || chars[i] == '<' {
            chars[i].to_string()
        } else {
            i += 1;
            continue;
        };
        i += op.len();
        let number: String = chars[i..]
            .iter()
            .skip_while(|c| c.is_whitespace())
            .take_while(|c| c.is_ascii_digit() || **c == '.')
            .collect();
        if let Ok(n) = number.parse() {
            out.push((op, n));
        }
    }
    out
}

/// The names in an expression: recorded series contain `:`.
fn names(expr: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices().chain([(expr.len(), ' ')]) {
        let word = c.is_ascii_alphanumeric() || c == '_' || c == ':';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((i, expr[s..i].to_string()));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The matchers written right after position `end` (`{a="x",b!~"y|z"}`), without spaces.
fn matchers_at(expr: &str, end: usize) -> BTreeSet<String> {
    let Some(rest) = expr[end..].strip_prefix('{') else { return BTreeSet::new() };
    let mut out = BTreeSet::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in rest.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' | '}' if !quoted => {
                if !current.is_empty() {
                    out.insert(std::mem::take(&mut current));
                }
                if c == '}' {
                    break;
                }
            }
            c if c.is_whitespace() && !quoted => {}
            c => current.push(c),
        }
    }
    out
}

/// The alert's expression followed by every recording rule it reads, through recording
/// rules that read other recording rules.
fn expanded(expr: &str, records: &HashMap<String, String>) -> String {
    let mut text = expr.to_string();
    let mut seen = BTreeSet::new();
    let mut todo = vec![expr.to_string()];
    while let Some(e) = todo.pop() {
        for (_, name) in names(&e) {
            if let Some(recorded) = records.get(&name)
                && seen.insert(name.clone())
            {
                text.push('\n');
                text.push_str(recorded);
                todo.push(recorded.clone());
            }
        }
    }
    text
}

/// The raw metrics an expression reads, each with its matchers plus the matchers the alert
/// puts on the recorded series (which keep the label). `up` is Prometheus's own.
fn metric_reads(alert_expr: &str, text: &str) -> BTreeSet<(String, BTreeSet<String>)> {
    let on_records: BTreeSet<String> = names(alert_expr)
        .into_iter()
        .filter(|(_, n)| n.contains(':'))
        .flat_map(|(end, _)| matchers_at(alert_expr, end))
        .collect();
    names(text)
        .into_iter()
        .filter(|(_, n)| n.starts_with("innkeep_") || n.starts_with("node_"))
        .map(|(end, n)| {
            let mut matchers = matchers_at(text, end);
            matchers.extend(on_records.iter().cloned());
            (n, matchers)
        })
        .collect()
}

fn builtin_reads(rule: &Rule) -> BTreeSet<(String, BTreeSet<String>)> {
    rule.kind
        .selectors()
        .into_iter()
        .map(|s| (s.metric.to_string(), s.matchers.iter().map(|m| m.to_string()).collect()))
        .collect()
}

/// The labels the expression groups by besides `job`, `instance` and `le`.
fn grouping(text: &str) -> BTreeSet<String> {
    let flat = flat(text);
    flat.split("by (")
        .skip(1)
        .flat_map(|rest| rest.split(')').next().unwrap_or("").split(',').map(|l| l.trim().to_string()))
        .filter(|l| !matches!(l.as_str(), "job" | "instance" | "le"))
        .collect()
}

fn ranges(text: &str) -> BTreeSet<String> {
    text.split('[').skip(1).filter_map(|rest| rest.split(']').next()).map(str::to_string).collect()
}

#[test]
fn every_builtin_rule_is_a_prometheus_alert_with_the_same_for_severity_threshold_and_summary() {
    let prom = prometheus();
    for rule in rules() {
        let alert = prom.alerts.get(rule.name).unwrap_or_else(|| panic!("{} is not in the rules file", rule.name));
        assert_eq!(
            alert.for_.as_deref().map(duration),
            Some(rule.for_),
            "{}: `for` differs from the Prometheus alert's",
            rule.name
        );
        assert_eq!(
            alert.labels.get("severity").map(String::as_str),
            Some(rule.severity.as_str()),
            "{}: severity differs",
            rule.name
        );
        assert_eq!(alert.annotations.get("summary").map(String::as_str), Some(rule.summary), "{}: summary", rule.name);

        let expr = flat(&alert.expr);
        let (condition, guard) = match expr.split_once(" and ") {
            Some((c, g)) => (c, Some(g)),
            None => (expr.as_str(), None),
        };
        let last = comparisons(condition).pop();
        assert_eq!(
            last,
            Some((rule.kind.comparison().as_str().to_string(), rule.threshold)),
            "{}: the threshold or comparison differs from `{condition}`",
            rule.name
        );
        let min_volume = match &rule.kind {
            RuleKind::Ratio { min_volume, .. } => *min_volume,
            _ => None,
        };
        match (min_volume, guard) {
            (None, None) => {}
            (Some(volume), Some(guard)) => {
                let expected = match volume {
                    Volume::RateAbove(x) => (">".to_string(), x),
                    Volume::IncreaseAtLeast(x) => (">=".to_string(), x),
                };
                assert_eq!(comparisons(guard).pop(), Some(expected), "{}: the volume guard differs", rule.name);
                let word = if matches!(volume, Volume::RateAbove(_)) { ":rate" } else { ":increase" };
                assert!(guard.contains(word), "{}: the guard `{guard}` is not a {word} figure", rule.name);
            }
            (mine, theirs) => panic!("{}: volume guard {mine:?} against `{theirs:?}`", rule.name),
        }
    }
}

#[test]
fn every_builtin_rule_reads_the_series_its_prometheus_alert_reads() {
    let prom = prometheus();
    for rule in rules() {
        let alert = &prom.alerts[rule.name];
        let text = expanded(&alert.expr, &prom.records);
        // The same metrics with the same matchers (route exclusions, status, consumers).
        assert_eq!(metric_reads(&alert.expr, &text), builtin_reads(&rule), "{}: the series read differ", rule.name);
        assert_eq!(
            grouping(&text),
            rule.kind.by().map(str::to_string).into_iter().collect(),
            "{}: grouped by other labels",
            rule.name
        );
        let windows: BTreeSet<String> = rule.kind.window().map(prometheus_duration).into_iter().collect();
        assert_eq!(ranges(&text), windows, "{}: the window differs", rule.name);
        let compact: String = text.split_whitespace().collect();
        match &rule.kind {
            RuleKind::Quantile { quantile, .. } => {
                assert!(
                    compact.contains(&format!("histogram_quantile({quantile},")),
                    "{}: not the same quantile",
                    rule.name
                )
            }
            RuleKind::GaugeCount { gauge, equals, .. } => assert!(
                compact.contains("countby(") && compact.contains(&format!("{}=={equals}", gauge.metric)),
                "{}: not a count of {} == {equals}",
                rule.name,
                gauge.metric
            ),
            RuleKind::Ratio { .. } => assert!(compact.contains('/'), "{}: not a ratio", rule.name),
            RuleKind::Increase { .. } => {
                assert!(compact.contains("increase(") || compact.contains("rate("), "{}: not an increase", rule.name)
            }
            RuleKind::Gauge { .. } => assert!(!compact.contains("rate("), "{}: not a gauge", rule.name),
        }
    }
}

#[test]
fn every_prometheus_alert_is_built_in_or_needs_the_monitoring_stack() {
    let prom = prometheus();
    let builtin: BTreeSet<&str> = rules().iter().map(|r| r.name).collect();
    let stack: BTreeSet<&str> = NEEDS_MONITORING_STACK.iter().map(|(name, _)| *name).collect();
    for name in prom.alerts.keys() {
        assert!(
            builtin.contains(name.as_str()) || stack.contains(name.as_str()),
            "{name} is neither a built-in rule nor in NEEDS_MONITORING_STACK"
        );
    }
    for name in &stack {
        assert!(prom.alerts.contains_key(*name), "NEEDS_MONITORING_STACK names {name}, which is not in the rules file");
    }
}

#[test]
fn no_alert_is_both_built_in_and_left_to_the_monitoring_stack() {
    let names: Vec<&str> = rules().iter().map(|r| r.name).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "a built-in rule is listed twice");
    for (name, why) in NEEDS_MONITORING_STACK {
        assert!(!unique.contains(name), "{name} is built in and also needs the monitoring stack");
        assert!(!why.is_empty(), "{name} needs a reason");
    }
}

#[test]
fn the_checks_read_prometheus_expressions_as_intended() {
    assert_eq!(duration("1h30m"), Duration::from_secs(5400));
    assert_eq!(
        comparisons(r#"count by (job, replica) (innkeep_db_replica_up == 0) > 0"#),
        vec![("==".to_string(), 0.0), (">".to_string(), 0.0)]
    );
    assert_eq!(comparisons(r#"x{a=~"b|c"} > 0.25"#), vec![(">".to_string(), 0.25)]);
    let m: Vec<String> = matchers_at(r#"m{ a="x", b!~"y|z,w" } > 1"#, 1).into_iter().collect();
    assert_eq!(m, vec![r#"a="x""#.to_string(), r#"b!~"y|z,w""#.to_string()]);
    assert_eq!(grouping("sum by (job, method) (rate(x[5m]))"), BTreeSet::from(["method".to_string()]));
}
