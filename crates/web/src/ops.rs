//! The operator dashboard: booking counts by status (all time and with a night today),
//! live holds, catalogue size and database health, drawn as server-side SVG bar charts.
//! Replicas, bus lag and the other scale-out figures are not wired yet and say so.

use crate::page::{Ctx, PageError, PageResult, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::State;
use innkeep_app::booking::list_bookings;
use innkeep_app::store::BookingFilter;
use innkeep_app::{Actor, AppError, Ports};
use innkeep_core::{BookingStatus, Role};
use innkeep_http::AppState;
use jiff::civil::Date;

/// Most rows counted per figure; beyond it the page says "at least".
const COUNT_CAP: u32 = 10_000;

struct Bar {
    label: String,
    value: String,
    y: i32,
    width: i32,
}

struct Chart {
    title: String,
    height: i32,
    bars: Vec<Bar>,
}

fn chart(title: &str, data: &[(String, u32, bool)]) -> Chart {
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    Chart {
        title: title.to_string(),
        height: 28 * data.len() as i32 + 8,
        bars: data
            .iter()
            .enumerate()
            .map(|(i, (label, n, capped))| Bar {
                label: label.clone(),
                value: if *capped { format!("≥{n}") } else { n.to_string() },
                y: 28 * i as i32 + 4,
                width: ((f64::from(*n) / f64::from(max)) * 220.0).round() as i32,
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    ctx: Ctx,
    db_ready: bool,
    db_error: String,
    properties: String,
    active_holds: String,
    charts: Vec<Chart>,
}

async fn count(ports: &Ports, a: &Actor, mut filter: BookingFilter) -> Result<(u32, bool), AppError> {
    let mut n = 0u32;
    filter.limit = 200;
    loop {
        filter.offset = n;
        let page = list_bookings(ports, a, filter.clone()).await?.len() as u32;
        n += page;
        if page < 200 {
            return Ok((n, false));
        }
        if n >= COUNT_CAP {
            return Ok((n, true));
        }
    }
}

/// GET /ops (admins only)
pub async fn dashboard(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = v.actor()?;
    if a.role != Role::Admin {
        return Err(PageError::Forbidden("Only operators can see this page.".into()));
    }
    let now = s.ports.clock.now();
    let today: Date = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let tomorrow = today.tomorrow().unwrap_or(today);
    let (db_ready, db_error) = match s.ports.store.ready().await {
        Ok(()) => (true, String::new()),
        Err(e) => (false, e.to_string()),
    };
    let mut all = Vec::new();
    let mut tonight = Vec::new();
    if db_ready {
        for st in BookingStatus::ALL {
            let label = st.as_str().replace('_', " ");
            let (n, capped) =
                count(&s.ports, &a, BookingFilter { status: Some(st), ..BookingFilter::default() }).await?;
            all.push((label.clone(), n, capped));
            let f =
                BookingFilter { status: Some(st), from: Some(today), to: Some(tomorrow), ..BookingFilter::default() };
            let (n, capped) = count(&s.ports, &a, f).await?;
            tonight.push((label, n, capped));
        }
    }
    let mut props = 0u32;
    let mut capped = false;
    while db_ready && !capped {
        let page = s.ports.store.list_properties(None, 200, props).await.map_err(AppError::from)?.len() as u32;
        props += page;
        if page < 200 {
            break;
        }
        if props >= COUNT_CAP {
            capped = true;
            break;
        }
    }
    let holds = all.iter().find(|d| d.0 == "held").map(|d| d.1).unwrap_or(0);
    Ok(render(&OpsPage {
        ctx: v.ctx("Operations"),
        db_ready,
        db_error,
        properties: if capped { format!("≥{props}") } else { props.to_string() },
        active_holds: holds.to_string(),
        charts: vec![
            chart("Bookings by status, all time", &all),
            chart(&format!("Bookings with a night on {today} (UTC), by status"), &tonight),
        ],
    }))
}
