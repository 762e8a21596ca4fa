//! Reading the Prometheus text exposition format (what the node renders at `/metrics`)
//! into samples.

/// One series: its name and its labels, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

impl SeriesKey {
    /// The value of a label, `""` when the series has none (as PromQL matches it).
    pub fn label(&self, name: &str) -> &str {
        self.labels.iter().find(|(l, _)| l == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The sample lines of an exposition whose name passes `keep`; comments, blank lines and
/// lines that do not parse are skipped.
pub(crate) fn parse(text: &str, keep: impl Fn(&str) -> bool) -> Vec<(SeriesKey, f64)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
            if !keep(&line[..name_end]) {
                return None;
            }
            parse_line(line)
        })
        .collect()
}

fn parse_line(line: &str) -> Option<(SeriesKey, f64)> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    labels.sort();
    Some((SeriesKey { name, labels }, value))
}

/// Reads `a="x",b="y"}` into `labels`; answers what follows the `}`.
fn parse_labels<'a>(mut rest: &'a str, labels: &mut Vec<(String, String)>) -> Option<&'a str> {
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some(after);
        }
        let eq = rest.find('=')?;
        let label = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((label, value));
        rest = &rest[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_lines_of_the_exporter_parse_with_sorted_labels() {
        let text = "# TYPE innkeep_http_request_duration_seconds histogram\n\
            innkeep_http_request_duration_seconds_bucket{route=\"/stays\",method=\"GET\",le=\"0.5\"} 3\n\
            innkeep_http_request_duration_seconds_bucket{route=\"/stays\",method=\"GET\",le=\"+Inf\"} 4\n\
            innkeep_http_request_duration_seconds_sum{route=\"/stays\",method=\"GET\"} 1.25\n\
            \n\
            innkeep_holds_expired_total 7\n";
        let parsed = parse(text, |_| true);
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].0.labels[0], ("le".to_string(), "0.5".to_string()));
        assert_eq!(parsed[0].0.label("route"), "/stays");
        assert_eq!(parsed[1].1, 4.0);
        assert_eq!(parsed[3], (SeriesKey { name: "innkeep_holds_expired_total".into(), labels: vec![] }, 7.0));
    }

    #[test]
    fn escaped_label_values_are_unescaped_and_broken_lines_skipped() {
        let text = "m{reason=\"a \\\"quoted\\\" \\\\ b\\nc\"} 1 1700000000000\nbroken{a=\"x\" 2\nm{} nope\n";
        let parsed = parse(text, |_| true);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0.label("reason"), "a \"quoted\" \\ b\nc");
        assert_eq!(parsed[0].1, 1.0);
    }

    #[test]
    fn only_kept_names_are_read() {
        let parsed = parse("a 1\nb 2\n", |name| name == "b");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0.name, "b");
    }
}
