//! The report as Markdown, JSON and CSV, and the chart.

use crate::{CostError, Report};
use std::fmt::Write;

/// $12,345 (whole dollars, thousands separated).
pub fn usd(v: f64) -> String {
    let n = v.round();
    let neg = n < 0.0;
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if neg { "-" } else { "" })
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        usd(v).trim_start_matches('$').to_string()
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A cell of a Markdown table (pipes would split it).
/// A month's bill as a Markdown section: a line per item, then the total.
fn month_table(s: &mut String, title: &str, bill: &crate::bill::Bill, total: f64) {
    let _ = writeln!(s, "\n## {title}\n\n| tier | item | quantity | unit | per month |\n|---|---|---:|---|---:|");
    for l in &bill.lines {
        let _ =
            writeln!(s, "| {} | {} | {} | {} | {} |", l.tier, cell(&l.item), num(l.quantity), l.unit, usd(l.monthly));
    }
    let _ = writeln!(s, "| **total** | | | | **{}** |", usd(total));
}

fn cell(s: &str) -> String {
    s.replace('|', "/").replace('\n', " ")
}

impl Report {
    /// One sentence: both totals, which is cheaper, and the break-even.
    pub fn summary(&self) -> String {
        let (cheap, dear) = if self.cheaper == "public" {
            (self.public_monthly, self.private_monthly)
        } else {
            (self.private_monthly, self.public_monthly)
        };
        let pct = if dear > 0.0 { (dear - cheap) / dear * 100.0 } else { 0.0 };
        format!(
            "Public cloud (AWS {}, {}): {} a month. Private cloud (OpenStack, {} years): {} a month. The {} cloud is cheaper by {} ({pct:.0}%). {}",
            self.prices.aws_region,
            self.commitment,
            usd(self.public_monthly),
            self.private.terms.amortisation_years,
            usd(self.private_monthly),
            self.cheaper,
            usd(dear - cheap),
            self.break_even_sentence()
        )
    }

    pub fn break_even_sentence(&self) -> String {
        match &self.break_even {
            Some(b) => format!(
                "Break-even at {:.2} x this load ({:.0} searches/s and {:.0} bookings/hour at peak), about {} a month on either; below it the {} cloud is cheaper{}.",
                b.multiplier,
                b.peak_searches_per_s,
                b.peak_bookings_per_hour,
                usd(b.monthly),
                b.cheaper_below,
                if b.crossings > 1 {
                    format!(" (the curves cross {} times: steps of whole servers)", b.crossings)
                } else {
                    String::new()
                }
            ),
            None => format!(
                "No break-even between {} x and {} x this load: the {} cloud is cheaper throughout.",
                crate::CURVE_FROM,
                crate::CURVE_TO,
                self.cheaper
            ),
        }
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let p = &self.plan;
        let d = &p.demand;
        let _ = writeln!(s, "# Cost: {}\n", cell(&self.profile));
        let _ = writeln!(s, "| | per month (USD) |\n|---|---:|");
        let _ = writeln!(
            s,
            "| public cloud: AWS {}, {} | {} |",
            self.prices.aws_region,
            self.commitment,
            usd(self.public_monthly)
        );
        let _ = writeln!(
            s,
            "| private cloud: OpenStack, {} years | {} |",
            self.private.terms.amortisation_years,
            usd(self.private_monthly)
        );
        let _ = writeln!(s, "\n{}\n", self.summary());
        let c = &self.capacity;
        let _ = writeln!(
            s,
            "Capacity of one web node ({} vCPU), {}: {:.0} bookings/s, {:.0} searches/s, {:.0} availability requests/s, {:.0} client events/s.\n",
            c.node_vcpus,
            cell(&c.source),
            c.bookings_per_s,
            c.search_req_per_s,
            c.availability_req_per_s,
            c.events_per_s
        );
        let _ = writeln!(
            s,
            "Prices: AWS list prices of {} ({}); private cloud defaults of {} ({}).\n",
            self.prices.aws_date, self.prices.aws_status, self.prices.openstack_date, self.prices.openstack_status
        );
        for w in &self.warnings {
            let _ = writeln!(s, "> Warning: {}\n", cell(w));
        }

        let _ = writeln!(s, "## Load at peak\n\n| | |\n|---|---:|");
        let _ = writeln!(s, "| bookings/s (peak hour) | {:.2} |", d.bookings_per_s);
        let _ = writeln!(s, "| searches/s | {:.1} |", d.searches_per_s);
        let _ = writeln!(s, "| availability requests/s | {:.1} |", d.availability_per_s);
        let _ = writeln!(s, "| client events/s | {:.0} |", d.events_per_s);
        let _ = writeln!(s, "| peak hour / average hour | {:.2} |", d.peak_factor);
        let _ = writeln!(s, "| web nodes' worth of work at 100% | {:.2} |", d.node_equivalents);

        let _ = writeln!(
            s,
            "\n## Sizing (per region; {} region(s), {} zone(s), target utilisation {:.0}%)\n",
            p.regions,
            p.zones,
            p.target_utilisation * 100.0
        );
        let _ = writeln!(s, "| tier | size |\n|---|---|");
        let _ = writeln!(
            s,
            "| web | {} x {} ({} needed at peak, {} per zone with one spare) |",
            p.web.nodes, p.web.instance.name, p.web.needed, p.web.per_zone
        );
        let pg = &p.postgres;
        let _ = writeln!(
            s,
            "| PostgreSQL | primary {} with a standby in another zone, {} read replica(s); {:.0} GB of data at the end of retention, {:.0} GB allocated; {:.2} vCPU for writes, {:.2} for replica reads |",
            pg.class.name, pg.replicas, pg.data_gb, pg.allocated_gb, pg.write_vcpus, pg.read_vcpus
        );
        let _ = writeln!(s, "| cache | {} x {} for {:.1} GB |", p.cache.nodes, p.cache.node.name, p.cache.memory_gb);
        let _ = writeln!(
            s,
            "| bus | {} x {} NATS JetStream, {:.0} msgs/s, {:.0} GB each |",
            p.bus.servers, p.bus.instance.name, p.bus.msgs_per_s, p.bus.volume_gb_each
        );
        let o = &p.objects;
        let _ = writeln!(
            s,
            "| object storage | photos {:.0} GB, lake {:.0} GB, backups {:.0} GB |",
            o.photos_gb, o.lake_gb, o.backups_gb
        );
        let a = &p.analytics;
        let _ = writeln!(
            s,
            "| analytics | nightly job over {:.1} GB: {:.0} core node-hours a month (public); {} workers kept (private) |",
            a.scan_gb_per_day, a.core_node_hours_month, a.private_workers
        );
        let t = &p.traffic;
        let _ = writeln!(
            s,
            "| traffic | {:.1} M requests, {:.0} GB pages and API, {:.0} GB photos a month; {:.0} Mbps at peak; {:.2} ALB capacity units |",
            t.requests_month / 1e6,
            t.api_gb_month,
            t.photo_gb_month,
            t.peak_mbps,
            t.lcu
        );

        month_table(&mut s, "Public cloud: the month", &self.public, self.public_monthly);

        let pc = &self.private;
        let _ = writeln!(
            s,
            "\n## Private cloud: bill of materials (per region)\n\n| class | what | count | unit price | capital |\n|---|---|---:|---:|---:|"
        );
        for b in &pc.bom {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                b.class,
                cell(&b.what),
                b.count,
                usd(b.unit_price),
                usd(b.capex)
            );
        }
        let _ = writeln!(
            s,
            "\nVMs: {} vCPU and {:.0} GiB in all.\n\n| VM | count | vCPU | GiB | volume GB |\n|---|---:|---:|---:|---:|",
            pc.vm_vcpus, pc.vm_memory_gib
        );
        for v in pc.vms.iter().filter(|v| v.count > 0) {
            let _ = writeln!(s, "| {} | {} | {} | {} | {:.0} |", v.role, v.count, v.vcpus, v.memory_gib, v.volume_gb);
        }
        month_table(&mut s, "Private cloud: the month", &pc.bill, self.private_monthly);

        let _ = writeln!(s, "\n## Capacity planner\n");
        for c in &pc.checks {
            let _ = writeln!(s, "- {}", cell(c));
        }
        let _ = writeln!(s, "\nWhat grows first as load grows (up to 10 x):\n");
        if self.grows_first.is_empty() {
            let _ = writeln!(s, "- nothing changes up to 10 x this load");
        }
        for g in &self.grows_first {
            let _ = writeln!(s, "- at {:.2} x: {} {} -> {}", g.multiplier, g.what, g.from, g.to);
        }

        let sn = &self.sensitivity;
        let _ = writeln!(s, "\n## Sensitivity\n\n| target utilisation | public | private |\n|---:|---:|---:|");
        for (u, a, b) in &sn.utilisation {
            let _ = writeln!(s, "| {:.0}% | {} | {} |", u * 100.0, usd(*a), usd(*b));
        }
        let _ = writeln!(s, "\n| AWS commitment | public |\n|---|---:|");
        for (c, a) in &sn.commitment {
            let _ = writeln!(s, "| {c} | {} |", usd(*a));
        }
        let _ = writeln!(s, "\n| amortisation | private |\n|---:|---:|");
        for (y, b) in &sn.amortisation {
            let _ = writeln!(s, "| {y:.0} years | {} |", usd(*b));
        }
        let _ =
            writeln!(s, "\n## Cost against load\n\n| x load | searches/s | public | private |\n|---:|---:|---:|---:|");
        for pt in self.curve.iter().step_by(10) {
            let _ = writeln!(
                s,
                "| {:.2} | {:.1} | {} | {} |",
                pt.multiplier,
                pt.peak_searches_per_s,
                usd(pt.public),
                usd(pt.private)
            );
        }
        let _ = writeln!(s, "\nAWS price sources (transcribed list prices, to be checked):\n");
        for src in &self.prices.aws_sources {
            let _ = writeln!(s, "- {src}");
        }
        s
    }

    /// The whole report as JSON.
    pub fn json(&self) -> Result<String, CostError> {
        serde_json::to_string_pretty(self).map(|s| s + "\n").map_err(|e| CostError::Output(e.to_string()))
    }

    /// The bills, totals, break-even, curve and sensitivity as one CSV table.
    pub fn csv(&self) -> Result<String, CostError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let e = |e: csv::Error| CostError::Output(e.to_string());
        w.write_record(["section", "tier", "item", "quantity", "unit", "usd_per_month"]).map_err(e)?;
        let mut rec = |a: &str, b: &str, c: &str, q: f64, u: &str, m: f64| {
            w.write_record([a, b, c, &format!("{q:.4}"), u, &format!("{m:.2}")]).map_err(e)
        };
        for l in &self.public.lines {
            rec("public", &l.tier, &l.item, l.quantity, &l.unit, l.monthly)?;
        }
        for l in &self.private.bill.lines {
            rec("private", &l.tier, &l.item, l.quantity, &l.unit, l.monthly)?;
        }
        rec("total", "public", &self.commitment, 1.0, "month", self.public_monthly)?;
        rec("total", "private", "", 1.0, "month", self.private_monthly)?;
        if let Some(b) = &self.break_even {
            rec(
                "break-even",
                "multiplier",
                &format!("cheaper below: {}", b.cheaper_below),
                b.multiplier,
                "x load",
                b.monthly,
            )?;
            rec("break-even", "peak searches/s", "", b.peak_searches_per_s, "searches/s", b.monthly)?;
        }
        for pt in &self.curve {
            rec("curve", "public", "", pt.multiplier, "x load", pt.public)?;
            rec("curve", "private", "", pt.multiplier, "x load", pt.private)?;
        }
        for (u, a, b) in &self.sensitivity.utilisation {
            rec("sensitivity utilisation", "public", "", *u, "target", *a)?;
            rec("sensitivity utilisation", "private", "", *u, "target", *b)?;
        }
        for (c, a) in &self.sensitivity.commitment {
            rec("sensitivity commitment", "public", c, 1.0, "", *a)?;
        }
        for (y, b) in &self.sensitivity.amortisation {
            rec("sensitivity amortisation", "private", "", *y, "years", *b)?;
        }
        let bytes = w.into_inner().map_err(|e| CostError::Output(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| CostError::Output(e.to_string()))
    }

    /// The chart of monthly cost against load (SVG).
    pub fn svg(&self) -> String {
        crate::chart::svg(self)
    }
}
