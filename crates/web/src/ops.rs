//! The operator dashboard: KPIs (bookings made today, occupancy, revenue booked, error
//! rate, latency p50/p99) drawn as server-side SVG charts, alerts derived from what the
//! node can see (parts down or behind, dead letters, bursts of server errors, slow
//! requests), and the health of each part (the probes the binary configured).
//!
//! Booking figures come from the store (paged, capped at `COUNT_CAP` bookings per figure);
//! request figures from this node's rolling window of measured requests; the messages
//! panel from the newest `MESSAGES_READ` messages of the delivery log.

use crate::chart::{BarChart, LineChart, bars, lines};
use crate::host::MessageRow;
use crate::page::{Ctx, PageError, PageResult, amount, money, render};
use crate::session::Visitor;
use askama::Template;
use axum::extract::State;
use innkeep_app::booking::list_bookings;
use innkeep_app::health::{PartHealth, Status, check_all};
use innkeep_app::node::AppState;
use innkeep_app::notify::{DeliveryFilter, DeliveryStatus, deliveries};
use innkeep_app::report::{Revenue, made_per_day, occupancy_pct, occupied_per_night, revenue_per_day, utc_day};
use innkeep_app::store::{Booking, BookingFilter};
use innkeep_app::{Actor, AppError, Ports};
use innkeep_core::Role;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

/// Most bookings read per figure; beyond it the page says "at least".
const COUNT_CAP: usize = 10_000;
/// Days of booking history charted.
const DAYS: i64 = 14;
/// Server errors in one minute that make a burst worth an alert.
const BURST: u64 = 5;
/// Requests needed in the window before latency and error rate raise alerts.
const MIN_REQUESTS: u64 = 20;
/// Newest messages of the delivery log counted by status (the most one read answers).
const MESSAGES_READ: u32 = 200;
/// Parked messages listed.
const PARKED_SHOWN: u32 = 20;
/// How long past due a pending message is overdue: longer than a send's lease (2 minutes)
/// plus the dispatcher's idle poll, so a message being sent is never counted.
const OVERDUE_AFTER: SignedDuration = SignedDuration::from_mins(5);

/// Total units of every room type, and whether the count stopped at its cap (a scan of
/// the catalogue, shared for a minute).
async fn total_units(ports: &Ports) -> Result<(u64, bool), AppError> {
    let (mut units, mut rows, mut after) = (0u64, 0usize, None);
    let capped = loop {
        let page = ports.store.all_room_types(after, 5_000).await?;
        after = page.last().map(|r| r.id);
        rows += page.len();
        units += page.iter().map(|r| u64::from(r.draft.units)).sum::<u64>();
        if page.len() < 5_000 {
            break false;
        }
        if rows >= 20 * COUNT_CAP {
            break true;
        }
    };
    Ok((units, capped))
}

/// Bookings matching a filter, newest first, until `stop` says so or the cap; (list, capped).
async fn scan(
    ports: &Ports,
    a: &Actor,
    mut filter: BookingFilter,
    stop: impl Fn(&Booking) -> bool,
) -> Result<(Vec<Booking>, bool), AppError> {
    let mut out = Vec::new();
    filter.limit = 200;
    loop {
        filter.offset = out.len() as u32;
        let page = list_bookings(ports, a, filter.clone()).await?;
        let n = page.len();
        for b in page {
            if stop(&b) {
                return Ok((out, false));
            }
            out.push(b);
        }
        if n < 200 {
            return Ok((out, false));
        }
        if out.len() >= COUNT_CAP {
            return Ok((out, true));
        }
    }
}

struct Kpi {
    label: String,
    value: String,
    note: String,
}

struct Alert {
    severity: &'static str,
    text: String,
}

struct PartRow {
    part: String,
    status: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    ctx: Ctx,
    kpis: Vec<Kpi>,
    bar_charts: Vec<BarChart>,
    line_charts: Vec<LineChart>,
    alerts: Vec<Alert>,
    parts: Vec<PartRow>,
    /// (when, amount, method, why)
    failed_payments: Vec<(String, String, String, String)>,
    lines_to_review: Vec<LineRow>,
    messages: MessagesPanel,
}

/// The delivery log at a glance: failing notifications stand out.
#[derive(Default)]
struct MessagesPanel {
    /// Whether the store answered (the panel is left out when it did not).
    shown: bool,
    /// (status, tone, how many) among the newest `read` messages
    counts: Vec<(&'static str, &'static str, usize)>,
    read: usize,
    /// The newest parked messages, with their last error.
    parked: Vec<MessageRow>,
    /// Pending messages overdue ("" when none).
    overdue: String,
}

fn plus(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

fn at_least(n: usize, capped: bool) -> String {
    if capped { format!("≥{n}") } else { n.to_string() }
}

fn hhmm(unix_minute: i64) -> String {
    Timestamp::from_second(unix_minute * 60)
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// GET /ops (admins only)
pub async fn dashboard(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = v.actor()?;
    if a.role != Role::Admin {
        return Err(PageError::Forbidden(crate::i18n::t("Only operators can see this page.").into()));
    }
    let now = s.ports.clock.now();
    let today = utc_day(now);
    let health = check_all(&s.probes).await;
    let db_ok = s.ports.store.ready().await.is_ok();
    let mut kpis = Vec::new();
    let mut bar_charts = Vec::new();
    let mut alerts = Vec::new();

    if db_ok {
        // Bookings made over the last DAYS days (newest first, so stop at the first older one).
        let first_day = plus(today, 1 - DAYS);
        let (recent, capped) =
            scan(&s.ports, &a, BookingFilter::default(), |b| utc_day(b.created_at) < first_day).await?;
        let days: Vec<Date> = (0..DAYS).map(|i| plus(first_day, i)).collect();
        let per_day = made_per_day(&recent, &days);
        let made_today = per_day.last().copied().unwrap_or(0);
        kpis.push(Kpi {
            label: crate::i18n::t("Bookings made today").into(),
            value: at_least(made_today, capped),
            note: format!("{} in {DAYS} days (UTC)", at_least(recent.len(), capped)),
        });
        let day_label = |d: &Date| d.strftime("%-d %b").to_string();
        bar_charts.push(bars(
            "bookings",
            &crate::i18n::tf("Bookings made per day, last {} days (UTC)", &[&DAYS]),
            format!("{made_today} today"),
            "",
            0.0,
            &days.iter().zip(&per_day).map(|(d, n)| (day_label(d), *n as f64, n.to_string())).collect::<Vec<_>>(),
        ));

        // Revenue booked: confirmed (or later) bookings by the day they were made, in the
        // currency that has the most of them; other currencies are listed, not converted.
        if let Some(Revenue { currency: cur, per_day_minor, others: rest }) = revenue_per_day(&recent, &days) {
            let major = 10f64.powi(i32::from(cur.exponent()));
            let today_minor = per_day_minor.last().copied().unwrap_or(0);
            let mut others: Vec<String> =
                rest.iter().take(3).map(|(c, m, _)| format!("{} {}", c.code(), amount(*m, *c))).collect();
            if rest.len() > 3 {
                others.push(format!("and {} more currencies", rest.len() - 3));
            }
            kpis.push(Kpi {
                label: crate::i18n::tf("Revenue booked today ({})", &[&cur.code()]),
                value: amount(today_minor, cur),
                note: if others.is_empty() {
                    format!("confirmed bookings; {DAYS} days: {}", amount(per_day_minor.iter().sum(), cur))
                } else {
                    format!("{DAYS} days, other currencies: {}", others.join(", "))
                },
            });
            bar_charts.push(bars(
                "revenue",
                &crate::i18n::tf("Revenue booked per day in {}, last {} days", &[&cur.code(), &DAYS]),
                format!("{} today", amount(today_minor, cur)),
                "",
                0.0,
                &days
                    .iter()
                    .zip(&per_day_minor)
                    .map(|(d, m)| (day_label(d), *m as f64 / major, amount(*m, cur)))
                    .collect::<Vec<_>>(),
            ));
        } else {
            kpis.push(Kpi {
                label: crate::i18n::t("Revenue booked today").into(),
                value: "0".into(),
                note: format!("no confirmed bookings in {DAYS} days"),
            });
        }

        // Occupancy of the next DAYS nights: units held or sold per night over all units.
        let (units, units_capped) = *v.web.units.get(now, || total_units(&s.ports)).await?;
        let nights: Vec<Date> = (0..DAYS).map(|i| plus(today, i)).collect();
        let filter = BookingFilter { from: Some(today), to: Some(plus(today, DAYS)), ..BookingFilter::default() };
        let (staying, staying_capped) = scan(&s.ports, &a, filter, |_| false).await?;
        let per_night = occupied_per_night(&staying, &nights);
        let pct = |n: usize| occupancy_pct(n, units);
        let tonight = per_night.first().copied().unwrap_or(0);
        kpis.push(Kpi {
            label: crate::i18n::t("Occupancy tonight").into(),
            value: format!("{:.2}%", pct(tonight)),
            note: format!(
                "{} of {}{} units (base units; holds count)",
                at_least(tonight, staying_capped),
                units,
                if units_capped { "+" } else { "" }
            ),
        });
        bar_charts.push(bars(
            "occupancy",
            &crate::i18n::tf("Occupancy of the next {} nights (%)", &[&DAYS]),
            format!("{:.2}% tonight", pct(tonight)),
            "%",
            1.0,
            &nights
                .iter()
                .zip(&per_night)
                .map(|(d, n)| (day_label(d), pct(*n), format!("{:.2}%", pct(*n))))
                .collect::<Vec<_>>(),
        ));

        let dead = s.ports.store.dead_letters(None).await.map_err(AppError::from)?;
        if let Some(latest) = dead.iter().max_by_key(|d| d.created_at) {
            alerts.push(Alert {
                severity: "warning",
                text: format!(
                    "{} dead letter{} parked; latest for consumer {} at {} ({} attempts): {}",
                    dead.len(),
                    if dead.len() == 1 { "" } else { "s" },
                    latest.consumer,
                    latest.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    latest.attempts,
                    latest.error
                ),
            });
        }
    }

    // Requests measured on this node.
    let total = s.requests.total();
    let per_minute = s.requests.per_minute();
    kpis.push(Kpi {
        label: crate::i18n::t("Error rate (5xx), 30 min").into(),
        value: format!("{:.2}%", 100.0 * total.error_rate()),
        note: format!("{} of {} requests", total.server_errors, total.requests),
    });
    let ms = |v: Option<f64>| v.map(|v| format!("{v:.1} ms")).unwrap_or("—".into());
    kpis.push(Kpi {
        label: crate::i18n::t("Latency p50 / p99, 30 min").into(),
        value: format!("{} / {}", ms(total.p50_ms), ms(total.p99_ms)),
        note: "pages and API on this node".into(),
    });
    let labels: Vec<String> = per_minute.iter().map(|m| hhmm(m.minute)).collect();
    let line_charts = vec![lines(
        "latency",
        crate::i18n::t("Latency per minute, p50 and p99 (ms, UTC)"),
        format!("p50 {}, p99 {} over 30 minutes", ms(total.p50_ms), ms(total.p99_ms)),
        " ms",
        &labels,
        &[
            ("p50", "p50", per_minute.iter().map(|m| m.p50_ms).collect()),
            ("p99", "p99", per_minute.iter().map(|m| m.p99_ms).collect()),
        ],
    )];
    bar_charts.push(bars(
        "requests",
        crate::i18n::t("Requests per minute (UTC)"),
        format!("{} in 30 minutes", total.requests),
        "",
        0.0,
        &per_minute.iter().map(|m| (hhmm(m.minute), m.requests as f64, m.requests.to_string())).collect::<Vec<_>>(),
    ));
    bar_charts.push(bars(
        "errors",
        crate::i18n::t("Server errors (5xx) per minute, % of requests"),
        format!("{:.2}% over 30 minutes", 100.0 * total.error_rate()),
        "%",
        1.0,
        &per_minute
            .iter()
            .map(|m| {
                let p = 100.0 * m.error_rate();
                (hhmm(m.minute), p, format!("{p:.1}% ({} of {})", m.server_errors, m.requests))
            })
            .collect::<Vec<_>>(),
    ));
    for m in per_minute.iter().filter(|m| m.server_errors >= BURST) {
        alerts.push(Alert {
            severity: "critical",
            text: format!(
                "{} server errors of {} requests in the minute at {} UTC",
                m.server_errors,
                m.requests,
                hhmm(m.minute)
            ),
        });
    }
    if total.requests >= MIN_REQUESTS {
        if total.error_rate() > 0.05 {
            alerts.push(Alert {
                severity: "critical",
                text: format!("error rate {:.1}% over the last 30 minutes", 100.0 * total.error_rate()),
            });
        }
        if total.p99_ms.is_some_and(|p| p > 1000.0) {
            alerts.push(Alert {
                severity: "warning",
                text: format!("latency p99 {} over the last 30 minutes", ms(total.p99_ms)),
            });
        }
    }
    for p in &health {
        match p.status {
            Status::Down => {
                alerts.insert(0, Alert { severity: "critical", text: format!("{} is down: {}", p.part, p.detail) })
            }
            Status::Warn => alerts.push(Alert { severity: "warning", text: format!("{}: {}", p.part, p.detail) }),
            Status::Ok | Status::Off => {}
        }
    }
    let parts = health
        .into_iter()
        .map(|PartHealth { part, status, detail }| PartRow { part, status: status.as_str(), detail })
        .collect();
    let (failed_payments, lines_to_review) = if db_ok { money_to_review(&s).await? } else { Default::default() };
    let messages = if db_ok { messages_to_review(&s.ports, &a, now).await? } else { MessagesPanel::default() };
    if let Some(latest) = messages.parked.first() {
        let n = messages.parked.len();
        alerts.push(Alert {
            severity: "warning",
            text: format!(
                "{} parked message{} (given up on); latest {} by {} at {} UTC: {} (see Messages below)",
                at_least(n, n >= PARKED_SHOWN as usize),
                if n == 1 { "" } else { "s" },
                latest.template,
                latest.channel,
                latest.when,
                latest.error
            ),
        });
    }
    if !messages.overdue.is_empty() {
        alerts.push(Alert { severity: "warning", text: format!("{}: is the dispatcher running?", messages.overdue) });
    }
    if !failed_payments.is_empty() || !lines_to_review.is_empty() {
        alerts.push(Alert {
            severity: "warning",
            text: format!(
                "{} failed payments and {} statement lines to review (see Money below)",
                failed_payments.len(),
                lines_to_review.len()
            ),
        });
    }
    Ok(render(&OpsPage {
        ctx: v.ctx("Operations"),
        kpis,
        bar_charts,
        line_charts,
        alerts,
        parts,
        failed_payments,
        lines_to_review,
        messages,
    }))
}

/// The delivery log's newest messages by status, the latest parked ones, and the pending
/// ones overdue.
async fn messages_to_review(ports: &Ports, a: &Actor, now: Timestamp) -> Result<MessagesPanel, PageError> {
    let newest = DeliveryFilter { limit: MESSAGES_READ, ..DeliveryFilter::default() };
    let newest = deliveries(ports, a, newest).await?;
    let counts = DeliveryStatus::ALL
        .iter()
        .map(|st| (st.as_str(), crate::host::tone(*st), newest.iter().filter(|d| d.status == *st).count()))
        .collect();
    let parked =
        DeliveryFilter { status: Some(DeliveryStatus::Parked), limit: PARKED_SHOWN, ..DeliveryFilter::default() };
    let parked = deliveries(ports, a, parked).await?;
    let pending =
        DeliveryFilter { status: Some(DeliveryStatus::Pending), limit: MESSAGES_READ, ..DeliveryFilter::default() };
    let pending = deliveries(ports, a, pending).await?;
    let late: Vec<Timestamp> =
        pending.iter().map(|d| d.next_attempt_at).filter(|at| *at < now - OVERDUE_AFTER).collect();
    let overdue = match late.iter().min() {
        None => String::new(),
        Some(oldest) => format!(
            "{} pending message{} overdue by more than {} minutes, the oldest due since {} UTC",
            // Only the newest pending messages were read: older ones are likely overdue too.
            at_least(late.len(), pending.len() >= MESSAGES_READ as usize),
            if late.len() == 1 { "" } else { "s" },
            OVERDUE_AFTER.as_mins(),
            oldest.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M")
        ),
    };
    Ok(MessagesPanel {
        shown: true,
        counts,
        read: newest.len(),
        parked: parked.iter().map(MessageRow::of).collect(),
        overdue,
    })
}

type Rows = Vec<(String, String, String, String)>;

/// A statement line to review; `id` set on one that matched nothing (it gets a match form).
pub(super) struct LineRow {
    when: String,
    amount: String,
    outcome: String,
    reference: String,
    id: String,
}

/// The latest failed payments and the statement lines no payment took.
async fn money_to_review(s: &AppState) -> Result<(Rows, Vec<LineRow>), PageError> {
    use innkeep_app::payment::LineOutcome;
    let when = |t: Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M").to_string();
    let failed =
        s.ports.store.payments_with_status(innkeep_core::PaymentStatus::Failed, 20).await.map_err(AppError::from)?;
    let failed = failed
        .iter()
        .map(|p| {
            (
                when(p.updated_at),
                money(p.amount),
                p.method.as_str().replace('_', " "),
                p.failure.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut lines = Vec::new();
    for outcome in [
        LineOutcome::Unmatched,
        LineOutcome::Underpaid,
        LineOutcome::Overpaid,
        LineOutcome::NotOpen,
        LineOutcome::WrongCurrency,
    ] {
        for l in s.ports.store.statement_lines(Some(outcome), 20).await.map_err(AppError::from)? {
            let id = if outcome == LineOutcome::Unmatched { l.id.to_string() } else { String::new() };
            lines.push((l.created_at, money(l.amount), outcome.as_str().replace('_', " "), l.reference, id));
        }
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    lines.truncate(20);
    let lines = lines
        .into_iter()
        .map(|(t, amount, outcome, reference, id)| LineRow { when: when(t), amount, outcome, reference, id })
        .collect();
    Ok((failed, lines))
}

/// POST /ops/statement-lines/{id}/match: an operator says which bank transfer a line that
/// matched nothing was for (its `RF...` reference), and the money pays it.
pub async fn match_line(
    State(s): State<AppState>,
    v: Visitor,
    axum::extract::Path(id): axum::extract::Path<String>,
    f: crate::page::Fields,
) -> PageResult {
    let a = crate::people::operator_of(&v)?;
    let line: uuid::Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    let said = |m: String| PageError::Message(axum::http::StatusCode::UNPROCESSABLE_ENTITY, m);
    let typed = f.get("reference");
    let reference = innkeep_core::payment::parse_rf(&typed).ok_or_else(|| {
        said(format!("{typed:?} is not a payment reference: type the RF reference of the bank transfer it pays."))
    })?;
    let payment = s
        .ports
        .store
        .payment_by_reference(&reference)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| said(crate::i18n::tf("No bank transfer has the reference {}.", &[&reference])))?;
    match innkeep_app::payment::match_line(&s.ports, &a, line, payment.id, s.ports.clock.now()).await {
        Ok(_) => Ok(crate::redirect::to("/ops?matched=1#statement-lines")),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid { .. })) => Err(said(crate::page::words(&e))),
        Err(e) => Err(e.into()),
    }
}
