//! The chart: monthly cost against load for both clouds, with the break-even point and the
//! profile's own load marked, as a standalone SVG (presentation attributes only, no CSS or
//! script, so it can be inlined under a strict Content-Security-Policy).

use crate::Report;
use std::fmt::Write;

const W: f64 = 760.0;
const H: f64 = 440.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 72.0;
pub const PUBLIC_COLOUR: &str = "#c2410c";
pub const PRIVATE_COLOUR: &str = "#0f766e";

/// Text made safe for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Dollars in short form for the axis: $800, $12k, $1.5M.
pub fn short_usd(v: f64) -> String {
    if v >= 1e6 {
        format!("${}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("${}k", trim(v / 1e3))
    } else {
        format!("${v:.0}")
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn load_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", trim(v / 1000.0))
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        trim(v)
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

/// The chart for a report.
pub fn svg(r: &Report) -> String {
    let pts = &r.curve;
    let x_of = |p: &crate::Point| p.peak_searches_per_s.max(1e-9);
    let (x0, x1) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) if x_of(b) > x_of(a) => (x_of(a).log10(), x_of(b).log10()),
        _ => (0.0, 1.0),
    };
    // Costs span orders of magnitude over the range: a log scale for both axes.
    let costs = pts.iter().flat_map(|p| [p.public, p.private]).filter(|c| *c > 0.0);
    let (lo, hi) = costs.fold((f64::INFINITY, 0.0f64), |(lo, hi), c| (lo.min(c), hi.max(c)));
    let (y0, y1) = if lo.is_finite() && hi > lo { (lo.log10().floor(), hi.log10().ceil()) } else { (0.0, 1.0) };
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |v: f64| LEFT + (v.max(1e-9).log10() - x0) / (x1 - x0) * pw;
    let sy = |v: f64| TOP + ph - (v.max(1e-9).log10() - y0) / (y1 - y0) * ph;

    let mut s = String::new();
    let title = format!("Monthly cost against load: {}", r.profile);
    let desc = match &r.break_even {
        Some(b) => format!(
            "Public cloud (AWS) and private cloud (OpenStack) monthly cost in USD against peak searches per second. They cross at about {} searches/s ({} a month).",
            load_label(b.peak_searches_per_s),
            short_usd(b.monthly)
        ),
        None => "Public cloud (AWS) and private cloud (OpenStack) monthly cost in USD against peak searches per second; they do not cross in this range.".into(),
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="cost-title cost-desc" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ =
        write!(s, r#"<title id="cost-title">{}</title><desc id="cost-desc">{}</desc>"#, escape(&title), escape(&desc));
    let _ = write!(s, r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="24" font-size="16" font-weight="bold" fill="#111827">{}</text>"##,
        escape(&title)
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="42" fill="#4b5563">USD per month (log scale); AWS prices of {}, private defaults of {} ({} commitment on AWS)</text>"##,
        escape(&r.prices.aws_date),
        escape(&r.prices.openstack_date),
        escape(&r.commitment)
    );

    // Horizontal grid and the cost axis at 1, 2 and 5 times powers of ten.
    let mut e = y0 as i32;
    while f64::from(e) <= y1 {
        for m in [1.0, 2.0, 5.0] {
            let val = m * 10f64.powi(e);
            let lv = val.log10();
            if lv < y0 - 1e-9 || lv > y1 + 1e-9 {
                continue;
            }
            let y = sy(val);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}"/>"##,
                W - RIGHT,
                if m == 1.0 { "#e5e7eb" } else { "#f3f4f6" }
            );
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#374151">{}</text>"##,
                LEFT - 6.0,
                y + 4.0,
                short_usd(val)
            );
        }
        e += 1;
    }
    // Vertical grid at 1, 2 and 5 times powers of ten.
    let mut e = x0.floor() as i32;
    while f64::from(e) <= x1 {
        for m in [1.0, 2.0, 5.0] {
            let val = m * 10f64.powi(e);
            let lv = val.log10();
            if lv < x0 - 1e-9 || lv > x1 + 1e-9 {
                continue;
            }
            let x = sx(val);
            let _ = write!(s, r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#f3f4f6"/>"##, TOP + ph);
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#374151">{}</text>"##,
                TOP + ph + 18.0,
                load_label(val)
            );
        }
        e += 1;
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#6b7280"/>"##,
        TOP + ph,
        W - RIGHT,
        TOP + ph
    );
    let _ = write!(s, r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="#6b7280"/>"##, TOP + ph);
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#111827">load: searches per second at peak (log scale; bookings, events and data grow in proportion)</text>"##,
        LEFT + pw / 2.0,
        H - 30.0
    );

    // The profile's own load.
    if let Some(here) = pts.iter().min_by(|a, b| (a.multiplier.ln().abs()).total_cmp(&b.multiplier.ln().abs())) {
        let x = sx(here.peak_searches_per_s / here.multiplier);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#9ca3af" stroke-dasharray="2 3"/>"##,
            TOP + ph
        );
        let _ = write!(s, r##"<text x="{:.1}" y="{:.1}" fill="#4b5563">this profile</text>"##, x + 4.0, TOP + 12.0);
    }

    for (name, colour, pick) in
        [("public cloud (AWS)", PUBLIC_COLOUR, 0usize), ("private cloud (OpenStack)", PRIVATE_COLOUR, 1usize)]
    {
        let points: Vec<String> = pts
            .iter()
            .map(|p| {
                let c = if pick == 0 { p.public } else { p.private };
                format!("{:.1},{:.1}", sx(x_of(p)), sy(c))
            })
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"><title>{name}</title></polyline>"#,
            points.join(" ")
        );
        let lx = LEFT + 12.0 + pick as f64 * 210.0;
        let ly = H - 10.0;
        let _ = write!(
            s,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/>"#,
            ly - 4.0,
            lx + 22.0,
            ly - 4.0
        );
        let _ = write!(s, r##"<text x="{:.1}" y="{ly:.1}" fill="#111827">{name}</text>"##, lx + 28.0);
    }

    if let Some(b) = &r.break_even {
        let x = sx(b.peak_searches_per_s);
        let y = sy(b.monthly);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111827" stroke-dasharray="5 4"/>"##,
            TOP + ph
        );
        let _ = write!(
            s,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="#ffffff" stroke="#111827" stroke-width="2"><title>break-even</title></circle>"##
        );
        let anchor = if x > LEFT + pw * 0.5 { "end" } else { "start" };
        let dx = if anchor == "end" { -10.0 } else { 10.0 };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-weight="bold" fill="#111827">break-even: {} searches/s, {} a month</text>"##,
            x + dx,
            (y - 14.0).max(TOP + 28.0),
            load_label(b.peak_searches_per_s),
            short_usd(b.monthly)
        );
    }
    s.push_str("</svg>\n");
    s
}
