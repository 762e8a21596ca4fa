//! Charts drawn on the server as inline SVG (no script, no CDN): bars for counts over
//! days or minutes, lines for latency. Each chart also carries its numbers as a table
//! for screen readers.

/// Width and height of every chart's view box, and the plot area inside it.
const W: f64 = 360.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 138.0;
const LEFT: f64 = 4.0;

/// One bar.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub label: String,
    pub value: String,
    /// Whether the label is printed under the bar (every few bars, so they do not overlap).
    pub tick: bool,
    pub tick_x: String,
    /// How the tick label is anchored (so the ones at the edges stay inside).
    pub anchor: &'static str,
}

fn anchor(x: f64) -> &'static str {
    if x > W - 24.0 {
        "end"
    } else if x < 24.0 {
        "start"
    } else {
        "middle"
    }
}

/// A bar chart.
pub struct BarChart {
    pub id: String,
    pub title: String,
    /// The figure the chart is about, in words ("3 today").
    pub summary: String,
    pub max_label: String,
    pub bars: Vec<Bar>,
    pub empty: bool,
}

/// The top of a scale: the smallest 1, 2 or 5 times a power of ten at or above both `max`
/// and `floor`, so that a chart of tiny values (0.01%) is not drawn at full height.
fn scale_top(max: f64, floor: f64) -> f64 {
    let want = max.max(floor);
    if want <= 0.0 || !want.is_finite() {
        return 0.0;
    }
    let mut step = 10f64.powf(want.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * step >= want * (1.0 - 1e-9) {
            step *= m;
            break;
        }
    }
    step
}

/// Every how many points a tick label is printed so that labels never overlap: the widest
/// label (about 7 units a character at the labels' 12 px) and a gap must fit its slots.
fn tick_every<'a>(labels: impl Iterator<Item = &'a str>, slot: f64) -> usize {
    let widest = labels.map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let need = widest * 7.0 + 8.0;
    if slot <= 0.0 { 1 } else { ((need / slot).ceil() as usize).max(1) }
}

/// The words over a chart: its largest value and the top of its scale.
fn max_label(max: f64, top: f64, unit: &str) -> String {
    if max <= 0.0 { "no data yet".into() } else { format!("max {}{unit} · scale 0–{}{unit}", trim(max), trim(top)) }
}

/// Bars for `(label, value, shown value)` points, oldest first, on a scale that reaches at
/// least `floor` (0 for counts; a percentage chart passes 1 so 0.01% looks small).
pub fn bars(
    id: &str,
    title: &str,
    summary: String,
    unit: &str,
    floor: f64,
    points: &[(String, f64, String)],
) -> BarChart {
    let max = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let top = if max > 0.0 { scale_top(max, floor) } else { 0.0 };
    let scale = if top > 0.0 { (BOTTOM - TOP) / top } else { 0.0 };
    let n = points.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let every = tick_every(points.iter().map(|p| p.0.as_str()), slot);
    BarChart {
        id: id.to_string(),
        title: title.to_string(),
        summary,
        max_label: max_label(max, top, unit),
        empty: max <= 0.0,
        bars: points
            .iter()
            .enumerate()
            .map(|(i, (label, v, shown))| {
                let h = (v * scale).max(if *v > 0.0 { 1.0 } else { 0.0 });
                let x = LEFT + slot * i as f64 + slot * 0.12;
                Bar {
                    x: format!("{x:.1}"),
                    y: format!("{:.1}", BOTTOM - h),
                    w: format!("{:.1}", slot * 0.76),
                    h: format!("{h:.1}"),
                    label: label.clone(),
                    value: shown.clone(),
                    tick: (points.len() - 1 - i).is_multiple_of(every),
                    tick_x: format!("{:.1}", x + slot * 0.38),
                    anchor: anchor(x + slot * 0.38),
                }
            })
            .collect(),
    }
}

fn trim(v: f64) -> String {
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// One line of a line chart.
pub struct Series {
    pub name: String,
    pub class: String,
    pub points: String,
}

/// A line chart over labelled x positions.
pub struct LineChart {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub max_label: String,
    pub series: Vec<Series>,
    /// Tick labels: x, anchor, text.
    pub ticks: Vec<(String, &'static str, String)>,
    /// Rows of the screen-reader table: label, then one value per series.
    pub rows: Vec<(String, Vec<String>)>,
    pub empty: bool,
}

/// Lines for `(name, css class, values)` over `labels`; a missing value breaks no line
/// (the point is skipped).
pub fn lines(
    id: &str,
    title: &str,
    summary: String,
    unit: &str,
    labels: &[String],
    series: &[(&str, &str, Vec<Option<f64>>)],
) -> LineChart {
    let max = series.iter().flat_map(|s| s.2.iter().flatten()).fold(0.0f64, |a, b| a.max(*b));
    let top = scale_top(max, 0.0);
    let scale = if top > 0.0 { (BOTTOM - TOP) / top } else { 0.0 };
    let n = labels.len().max(2) as f64;
    let step = (W - LEFT - 4.0) / (n - 1.0);
    let every = tick_every(labels.iter().map(String::as_str), step);
    LineChart {
        id: id.to_string(),
        title: title.to_string(),
        summary,
        max_label: max_label(max, top, unit),
        empty: max <= 0.0,
        series: series
            .iter()
            .map(|(name, class, values)| Series {
                name: name.to_string(),
                class: class.to_string(),
                points: values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", LEFT + step * i as f64, BOTTOM - v * scale)))
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
        ticks: labels
            .iter()
            .enumerate()
            .filter(|(i, _)| (labels.len() - 1 - i).is_multiple_of(every))
            .map(|(i, l)| {
                let x = LEFT + step * i as f64;
                (format!("{x:.1}"), anchor(x), l.clone())
            })
            .collect(),
        rows: labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let vals = series
                    .iter()
                    .map(|s| s.2.get(i).copied().flatten().map(|v| format!("{}{unit}", trim(v))).unwrap_or("—".into()))
                    .collect();
                (l.clone(), vals)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_round_top_at_or_above_the_largest_value() {
        let pts: Vec<(String, f64, String)> =
            [0.0, 5.0, 10.0].iter().map(|v| (format!("d{v}"), *v, v.to_string())).collect();
        let c = bars("b", "Bookings", "10 today".into(), "", 0.0, &pts);
        assert_eq!(c.bars[0].h, "0.0");
        assert_eq!(c.bars[2].h, format!("{:.1}", BOTTOM - TOP));
        assert_eq!(c.bars[1].h, format!("{:.1}", (BOTTOM - TOP) / 2.0));
        assert_eq!(c.max_label, "max 10 · scale 0–10");
        assert!(!c.empty);
        assert!(bars("e", "Empty", String::new(), "", 0.0, &[("a".into(), 0.0, "0".into())]).empty);
        // 7 of at most 10: the scale is 10, the bar 70% high.
        let c = bars("b", "B", String::new(), "", 0.0, &[("a".into(), 7.0, "7".into())]);
        assert_eq!(c.bars[0].h, format!("{:.1}", (BOTTOM - TOP) * 0.7));
    }

    #[test]
    fn a_tiny_percentage_is_drawn_small_not_full_height() {
        let c = bars("o", "Occupancy", String::new(), "%", 1.0, &[("a".into(), 0.01, "0.01%".into())]);
        assert_eq!(c.bars[0].h, "1.2", "0.01 of a 1% scale is a sliver (at least 1 unit)");
        assert_eq!(c.max_label, "max 0.01% · scale 0–1%");
        assert_eq!(scale_top(0.3, 0.0), 0.5);
        assert_eq!(scale_top(120.0, 0.0), 200.0);
        assert_eq!(scale_top(50.0, 1.0), 50.0);
    }

    #[test]
    fn tick_labels_never_overlap() {
        let labels: Vec<String> = (1..=30).map(|d| format!("{d} Nov")).collect();
        let pts: Vec<(String, f64, String)> = labels.iter().map(|l| (l.clone(), 1.0, "1".into())).collect();
        let c = bars("b", "B", String::new(), "", 0.0, &pts);
        let xs: Vec<f64> = c.bars.iter().filter(|b| b.tick).map(|b| b.tick_x.parse().unwrap()).collect();
        assert!(xs.len() >= 3, "{xs:?}");
        for pair in xs.windows(2) {
            assert!(pair[1] - pair[0] >= 6.0 * 7.0 + 8.0, "labels of 6 characters overlap: {xs:?}");
        }
    }

    #[test]
    fn lines_skip_missing_points() {
        let labels: Vec<String> = (0..3).map(|i| i.to_string()).collect();
        let c =
            lines("l", "Latency", String::new(), " ms", &labels, &[("p99", "p99", vec![Some(2.0), None, Some(4.0)])]);
        assert_eq!(c.series[0].points.split(' ').count(), 2);
        assert_eq!(c.rows[1].1[0], "—");
        assert_eq!(c.max_label, "max 4 ms · scale 0–5 ms");
    }
}
