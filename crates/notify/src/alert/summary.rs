//! Rendering a rule's summary: the Prometheus annotation's template, with the value and
//! labels filled in as Prometheus's template functions would.

/// Fills `{{ $value }}`, `{{ $value | humanizePercentage }}`, `{{ $value | humanizeDuration }}`,
/// `{{ $value | humanize }}` and `{{ $labels.NAME }}` (`instance` is the node, `job`
/// `innkeep`, `group` the value of the rule's `by` label); anything else renders empty.
pub(crate) fn render(template: &str, value: f64, group: Option<(&str, &str)>, node: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&action(rest[start + 2..start + len].trim(), value, group, node));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether every `{{ ... }}` of a template is one `render` knows.
#[cfg(test)]
pub(crate) fn is_supported(template: &str) -> bool {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { return false };
        let action = rest[start + 2..start + len].trim();
        let known = matches!(
            action,
            "$value" | "$value | humanizePercentage" | "$value | humanizeDuration" | "$value | humanize"
        ) || action.strip_prefix("$labels.").is_some_and(|l| !l.is_empty() && !l.contains(' '));
        if !known {
            return false;
        }
        rest = &rest[start + len + 2..];
    }
    true
}

fn action(action: &str, value: f64, group: Option<(&str, &str)>, node: &str) -> String {
    match action {
        "$value" => plain(value),
        "$value | humanizePercentage" => format!("{}%", g4(value * 100.0)),
        "$value | humanizeDuration" => humanize_duration(value),
        "$value | humanize" => humanize(value),
        other => match other.strip_prefix("$labels.") {
            Some("instance") => node.to_string(),
            Some("job") => "innkeep".to_string(),
            Some(label) => group.filter(|(l, _)| *l == label).map(|(_, v)| v.to_string()).unwrap_or_default(),
            None => String::new(),
        },
    }
}

/// Go's `%v` of a float, which is what `{{ $value }}` prints: the shortest form.
fn plain(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// Go's `%.4g`: four significant digits, trailing zeros dropped.
fn g4(v: f64) -> String {
    if !v.is_finite() {
        return plain(v);
    }
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..4).contains(&exp) {
        let s = format!("{:.3e}", v);
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{}e{}{:02}", trim_zeros(mantissa), sign, exponent.abs());
    }
    let decimals = (3 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

/// Prometheus's `humanize`: SI prefixes for large and small numbers.
fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return g4(v);
    }
    if v.abs() >= 1.0 {
        let mut prefix = "";
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
        return format!("{}{prefix}", g4(v));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", g4(v))
}

/// Prometheus's `humanizeDuration` of seconds: `2.5s`, `1m 30s`, `250ms`.
fn humanize_duration(mut v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let whole = v as i64;
        let (seconds, minutes, hours, days) = (whole % 60, whole / 60 % 60, whole / 3600 % 24, whole / 86400);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", g4(v))
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_as_prometheus_templates_do() {
        let r = |t: &str, v: f64| render(t, v, Some(("consumer", "search-index")), "node-1");
        assert_eq!(r("{{ $value | humanizePercentage }} fail", 0.1), "10% fail");
        assert_eq!(r("{{ $value | humanizePercentage }}", 0.123456), "12.35%");
        assert_eq!(r("{{ $value | humanizeDuration }}", 2.5), "2.5s");
        assert_eq!(r("{{ $value | humanizeDuration }}", 90.0), "1m 30s");
        assert_eq!(r("{{ $value | humanizeDuration }}", 0.25), "250ms");
        assert_eq!(r("{{ $value | humanize }}", 1500.0), "1.5k");
        assert_eq!(r("{{ $labels.consumer }} is {{ $value }} behind", 1500.0), "search-index is 1500 behind");
        assert_eq!(r("on {{ $labels.instance }} ({{ $labels.reason }})", 1.0), "on node-1 ()");
        assert_eq!(g4(12340.0), "1.234e+04");
    }

    #[test]
    fn unknown_template_actions_are_reported() {
        assert!(is_supported("{{ $labels.call }}: {{ $value | humanizePercentage }}"));
        assert!(!is_supported("{{ $value | printf \"%.2f\" }}"));
        assert!(!is_supported("{{ $value "));
    }
}
