//! The operators' cost page: the monthly cost of the mid-size example profile (or of a
//! profile pasted into the form) on a public and on a private cloud, the break-even load
//! and the chart; the numbers come from `innkeep-cost`, as `innkeep cost` prints them.

use crate::page::{Ctx, Fields, PageError, PageResult, render, render_status};
use crate::session::Visitor;
use askama::Template;
use axum::http::StatusCode;
use innkeep_core::Role;
use innkeep_cost::{Measured, Prices, Profile, Report, examples, usd};

/// A bill line for the tables: (tier, item, per month).
type Row = (String, String, String);

#[derive(Template)]
#[template(path = "ops_cost.html")]
struct CostPage {
    ctx: Ctx,
    profile: String,
    error: String,
    shown: bool,
    name: String,
    public_monthly: String,
    private_monthly: String,
    commitment: String,
    years: String,
    cheaper: String,
    break_even: String,
    capacity: String,
    prices: String,
    /// The chart, drawn by `innkeep-cost` with every text escaped.
    svg: String,
    public_lines: Vec<Row>,
    private_lines: Vec<Row>,
    checks: Vec<String>,
    grows: Vec<String>,
    warnings: Vec<String>,
}

fn operator(v: &Visitor) -> Result<(), PageError> {
    if v.actor()?.role != Role::Admin {
        return Err(PageError::Forbidden(crate::i18n::t("Only operators can see this page.").into()));
    }
    Ok(())
}

fn rows(b: &innkeep_cost::bill::Bill) -> Vec<Row> {
    b.lines.iter().map(|l| (l.tier.clone(), l.item.clone(), usd(l.monthly))).collect()
}

/// The page for a profile's text: its report, or the error naming the field and line.
fn view(v: &Visitor, text: &str) -> (StatusCode, CostPage) {
    let mut page = CostPage {
        ctx: v.ctx("Cost"),
        profile: text.to_string(),
        error: String::new(),
        shown: false,
        name: String::new(),
        public_monthly: String::new(),
        private_monthly: String::new(),
        commitment: String::new(),
        years: String::new(),
        cheaper: String::new(),
        break_even: String::new(),
        capacity: String::new(),
        prices: String::new(),
        svg: String::new(),
        public_lines: Vec::new(),
        private_lines: Vec::new(),
        checks: Vec::new(),
        grows: Vec::new(),
        warnings: Vec::new(),
    };
    let report = Profile::parse(text).map_err(|e| e.to_string()).and_then(|p| {
        // The capacity measured for the examples, unless the profile enters its own.
        let measured = if p.capacity.is_some() { None } else { Measured::parse(examples::CAPACITY).ok() };
        let prices = Prices::bundled().map_err(|e| e.to_string())?;
        Report::build(&p, measured.as_ref(), &prices).map_err(|e| e.to_string())
    });
    let r = match report {
        Ok(r) => r,
        Err(e) => {
            page.error = e;
            return (StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    page.shown = true;
    page.name = r.profile.clone();
    page.public_monthly = usd(r.public_monthly);
    page.private_monthly = usd(r.private_monthly);
    page.commitment = r.commitment.clone();
    page.years = format!("{}", r.private.terms.amortisation_years);
    page.cheaper = r.cheaper.clone();
    page.break_even = r.break_even_sentence();
    let c = &r.capacity;
    page.capacity = format!(
        "{} vCPU per web node, {}: {:.0} bookings/s, {:.0} searches/s, {:.0} availability requests/s, {:.0} client events/s",
        c.node_vcpus, c.source, c.bookings_per_s, c.search_req_per_s, c.availability_req_per_s, c.events_per_s
    );
    page.prices = format!(
        "AWS {} list prices of {} ({}); private cloud defaults of {} ({}).",
        r.prices.aws_region, r.prices.aws_date, r.prices.aws_status, r.prices.openstack_date, r.prices.openstack_status
    );
    page.svg = r.svg();
    page.public_lines = rows(&r.public);
    page.private_lines = rows(&r.private.bill);
    page.checks = r.private.checks.clone();
    page.grows =
        r.grows_first.iter().map(|g| format!("at {:.2} x: {} {} -> {}", g.multiplier, g.what, g.from, g.to)).collect();
    page.warnings = r.warnings.clone();
    (StatusCode::OK, page)
}

/// GET /ops/cost: the mid-size example.
pub async fn show(v: Visitor) -> PageResult {
    operator(&v)?;
    let (status, page) = view(&v, examples::MID_SIZE);
    Ok(render_status(status, &page))
}

/// POST /ops/cost: a pasted profile.
pub async fn compute(v: Visitor, f: Fields) -> PageResult {
    operator(&v)?;
    let (status, page) = view(&v, &f.raw("profile"));
    Ok(if status == StatusCode::OK { render(&page) } else { render_status(status, &page) })
}
