//! The reports as pages: a host's over its own properties (`/host/analytics`), an
//! operator's over every tenant (`/ops/analytics`), charted on the server from the same
//! reports the API answers (`/api/v1/analytics/reports/...`).

use crate::chart::{BarChart, bars};
use crate::page::{Ctx, PageError, PageResult, money, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::State;
use innkeep_app::analytics::{self, Grouping, Report, Table};
use innkeep_app::node::AppState;
use innkeep_core::{Currency, Money, Role};
use serde_json::Value;

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    ctx: Ctx,
    operator: bool,
    enabled: bool,
    kpis: Vec<(String, String, String)>,
    bar_charts: Vec<BarChart>,
    tables: Vec<TableOf>,
}

/// A table on the page: (id, caption, header, rows).
type TableOf = (String, String, Vec<String>, Vec<Vec<String>>);

/// The rows of a table by column name.
fn records(t: &Table) -> Vec<serde_json::Map<String, Value>> {
    t.rows.iter().map(|r| t.columns.iter().cloned().zip(r.iter().cloned()).collect()).collect()
}

/// A cell of a record (null if the column is missing).
fn f<'a>(r: &'a serde_json::Map<String, Value>, name: &str) -> &'a Value {
    r.get(name).unwrap_or(&Value::Null)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// "2027-02-01" as "Feb 27".
fn month_label(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<jiff::civil::Date>().ok())
        .map(|d| d.strftime("%b %y").to_string())
        .unwrap_or_else(|| text(v))
}

fn price(minor: &Value, currency: &Value) -> String {
    match (minor.as_f64(), currency.as_str().and_then(|c| Currency::parse(c).ok())) {
        (Some(m), Some(c)) => money(Money::new(m.round() as i64, c)),
        _ => String::new(),
    }
}

/// GET /host/analytics (hosts who may see the tenant's money)
pub async fn host(state: State<AppState>, v: Visitor) -> PageResult {
    if v.actor()?.role != Role::Host {
        return Err(PageError::Forbidden(crate::i18n::t("Only hosts can see their reports.").into()));
    }
    page(state, v, false).await
}

/// GET /ops/analytics (operators)
pub async fn ops(state: State<AppState>, v: Visitor) -> PageResult {
    if v.actor()?.role != Role::Admin {
        return Err(PageError::Forbidden(crate::i18n::t("Only operators can see this page.").into()));
    }
    page(state, v, true).await
}

async fn page(State(s): State<AppState>, v: Visitor, operator: bool) -> PageResult {
    let a = v.actor()?;
    let mut page = AnalyticsPage {
        ctx: v.ctx("Reports"),
        operator,
        enabled: s.analytics.is_some(),
        kpis: Vec::new(),
        bar_charts: Vec::new(),
        tables: Vec::new(),
    };
    let Some(engine) = s.analytics.as_deref() else { return Ok(render(&page)) };
    let report = |r: Report| analytics::report(engine, &a, r, None);

    // Occupancy per month, every currency together; ADR and RevPAR in the currency with the
    // most sold nights.
    let by_month = report(Report::Occupancy(Grouping::Month)).await?;
    let month_rows = records(&by_month);
    let mut months: Vec<(Value, f64, f64)> = Vec::new();
    for r in month_rows.iter() {
        match months.iter_mut().find(|m| m.0 == f(r, "month").clone()) {
            Some(m) => {
                m.1 += num(f(r, "sold_nights"));
                m.2 += num(f(r, "available_nights"));
            }
            None => months.push((f(r, "month").clone(), num(f(r, "sold_nights")), num(f(r, "available_nights")))),
        }
    }
    let occupancy: Vec<(String, f64, String)> = months
        .iter()
        .map(|(m, sold, avail)| {
            let o = if *avail > 0.0 { sold / avail } else { 0.0 };
            (month_label(m), o * 100.0, percent(o))
        })
        .collect();
    let (sold, avail) = months.iter().fold((0.0, 0.0), |t, m| (t.0 + m.1, t.1 + m.2));
    page.kpis.push((
        crate::i18n::t("Occupancy").into(),
        if avail > 0.0 { percent(sold / avail) } else { "–".into() },
        format!("{sold} of {avail} room-nights sold, months with sales"),
    ));
    page.bar_charts.push(bars(
        "occupancy",
        crate::i18n::t("Occupancy per month"),
        occupancy.last().map(|o| format!("{} in {}", o.2, o.0)).unwrap_or_default(),
        "%",
        1.0,
        &occupancy,
    ));
    let mut currencies: Vec<(String, f64)> = Vec::new();
    for r in month_rows.iter() {
        let c = text(f(r, "currency"));
        match currencies.iter_mut().find(|x| x.0 == c) {
            Some(x) => x.1 += num(f(r, "sold_nights")),
            None => currencies.push((c, num(f(r, "sold_nights")))),
        }
    }
    currencies.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some((main, _)) = currencies.first() {
        let rows: Vec<_> = month_rows.iter().filter(|r| text(f(r, "currency")) == *main).collect();
        let adr: Vec<(String, f64, String)> = rows
            .iter()
            .map(|r| (month_label(f(r, "month")), num(f(r, "adr_minor")), price(f(r, "adr_minor"), f(r, "currency"))))
            .collect();
        page.bar_charts.push(bars(
            "adr",
            &crate::i18n::tf("Average daily rate per month ({})", &[&main]),
            adr.last().map(|a| format!("{} in {}", a.2, a.0)).unwrap_or_default(),
            "",
            0.0,
            &adr,
        ));
        let revpar: Vec<(String, f64, String)> = rows
            .iter()
            .map(|r| {
                (month_label(f(r, "month")), num(f(r, "revpar_minor")), price(f(r, "revpar_minor"), f(r, "currency")))
            })
            .collect();
        page.bar_charts.push(bars(
            "revpar",
            &crate::i18n::tf("Revenue per available room-night ({})", &[&main]),
            revpar.last().map(|a| format!("{} in {}", a.2, a.0)).unwrap_or_default(),
            "",
            0.0,
            &revpar,
        ));
    }

    for (r, id, title) in [
        (Report::LeadTime, "lead-time", crate::i18n::t("Days booked ahead")),
        (Report::LengthOfStay, "length-of-stay", crate::i18n::t("Nights per booking")),
    ] {
        let t = report(r).await?;
        let points: Vec<(String, f64, String)> = records(&t)
            .iter()
            .map(|r| {
                (
                    text(f(r, "band")),
                    num(f(r, "bookings")),
                    format!("{} ({})", text(f(r, "bookings")), percent(num(f(r, "share")))),
                )
            })
            .collect();
        let top = points.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|p| format!("most: {}", p.0));
        page.bar_charts.push(bars(id, title, top.unwrap_or_default(), "", 0.0, &points));
    }

    let c = report(Report::Cancellations).await?;
    let (confirmed, cancelled) =
        records(&c).iter().fold((0.0, 0.0), |t, r| (t.0 + num(f(r, "confirmed")), t.1 + num(f(r, "cancelled"))));
    page.kpis.push((
        crate::i18n::t("Cancellation rate").into(),
        if confirmed > 0.0 { percent(cancelled / confirmed) } else { "–".into() },
        format!("{cancelled} of {confirmed} confirmed bookings cancelled"),
    ));

    if operator {
        let funnel = report(Report::Funnel).await?;
        let steps = ["searches", "views", "holds", "confirmed"];
        let totals: Vec<f64> = steps.iter().map(|k| records(&funnel).iter().map(|r| num(f(r, k))).sum()).collect();
        let points: Vec<(String, f64, String)> =
            steps.iter().zip(&totals).map(|(k, n)| (k.to_string(), *n, format!("{n}"))).collect();
        let conversion = if totals[0] > 0.0 { percent(totals[3] / totals[0]) } else { "–".into() };
        page.bar_charts.push(bars(
            "funnel",
            crate::i18n::t("Funnel: searches, views, holds, confirmed"),
            format!("{conversion} of searches end confirmed"),
            "",
            0.0,
            &points,
        ));
        let t = report(Report::RevenuePerTenant).await?;
        let rows = records(&t)
            .iter()
            .take(20)
            .map(|r| {
                vec![
                    text(f(r, "tenant_id")),
                    text(f(r, "bookings")),
                    text(f(r, "nights")),
                    price(f(r, "revenue_minor"), f(r, "currency")),
                ]
            })
            .collect();
        let header = [
            crate::i18n::t("Tenant"),
            crate::i18n::t("Bookings"),
            crate::i18n::t("Nights"),
            crate::i18n::t("Room revenue"),
        ]
        .map(String::from)
        .to_vec();
        page.tables.push(("revenue".into(), crate::i18n::t("Revenue per tenant (top 20)").into(), header, rows));
    }

    let grouping = if operator { Grouping::City } else { Grouping::Property };
    let t = report(Report::Occupancy(grouping)).await?;
    let mut rows: Vec<Vec<String>> = records(&t)
        .iter()
        .map(|r| {
            let place =
                if operator { text(f(r, "city")) } else { format!("{} ({})", text(f(r, "name")), text(f(r, "city"))) };
            vec![
                month_label(f(r, "month")),
                place,
                percent(num(f(r, "occupancy"))),
                price(f(r, "adr_minor"), f(r, "currency")),
                price(f(r, "revpar_minor"), f(r, "currency")),
            ]
        })
        .collect();
    rows.reverse();
    rows.truncate(60);
    let header = [
        crate::i18n::t("Month"),
        if operator { crate::i18n::t("City") } else { crate::i18n::t("Property") },
        crate::i18n::t("Occupancy"),
        "ADR",
        crate::i18n::t("RevPAR"),
    ]
    .map(String::from)
    .to_vec();
    let caption = if operator {
        crate::i18n::t("Occupancy per city and month")
    } else {
        crate::i18n::t("Occupancy per property and month")
    };
    page.tables.push(("occupancy".into(), caption.into(), header, rows));

    let t = report(Report::TopDestinations).await?;
    let rows = records(&t)
        .iter()
        .map(|r| {
            vec![
                format!("{}, {}", text(f(r, "city")), text(f(r, "country"))),
                text(f(r, "bookings")),
                text(f(r, "nights")),
            ]
        })
        .collect();
    let header = [crate::i18n::t("Destination"), crate::i18n::t("Bookings"), crate::i18n::t("Nights")]
        .map(String::from)
        .to_vec();
    page.tables.push(("destinations".into(), crate::i18n::t("Top destinations").into(), header, rows));
    Ok(render(&page))
}
