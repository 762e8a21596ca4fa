//! The reports as SQL over the lake's views. The same statements run on Spark over the
//! same files (`deploy/spark/reports.sql`), which is how the two engines are compared.
//!
//! Definitions (the industry's usual ones):
//! - a booking *earns* when its latest state is confirmed, checked in or completed;
//! - *sold nights* are the nights of earning bookings, each counted in its own month;
//! - *available nights* are a property's units times the days of the month;
//! - occupancy = sold / available; ADR (average daily rate) = room revenue / sold nights;
//!   RevPAR = room revenue / available nights; revenue is a booking's total spread evenly
//!   over its nights, in minor units of the property's currency.
//! - Months are those with at least one sold night in the scope.

use innkeep_app::analytics::{Grouping, Report};
use innkeep_core::TenantId;

const EARNING: &str = "('confirmed','checked_in','completed')";

/// The scope's condition on a table alias with a `tenant_id` column (`TRUE` for all).
fn scope(alias: &str, tenant: Option<TenantId>) -> String {
    match tenant {
        // A UUID's text is hex digits and dashes: nothing to escape.
        Some(t) => format!("{alias}.tenant_id = '{}'", t.0),
        None => "TRUE".into(),
    }
}

/// The nights of earning bookings, one row per booking and month it has nights in (a stay
/// over a month's end is two rows), with the nights in that month and their share of the
/// revenue. A row per month rather than per night: the same sums from one or two rows a stay.
fn nights(tenant: Option<TenantId>) -> String {
    format!(
        "SELECT property_id, currency, month, nights * rooms AS nights, CAST(total_minor AS DOUBLE) / stay_nights * nights AS revenue \
         FROM (SELECT property_id, currency, total_minor, stay_nights, rooms, month, \
                 LEAST(check_out, CAST(CAST(month AS TIMESTAMP) + INTERVAL '1 month' AS DATE)) - GREATEST(check_in, month) AS nights \
               FROM (SELECT b.property_id, b.currency, b.total_minor, b.nights AS stay_nights, b.rooms, b.check_in, b.check_out, \
                       CAST(unnest(generate_series(CAST(date_trunc('month', CAST(b.check_in AS TIMESTAMP)) AS DATE), \
                         b.check_out - INTERVAL '1 day', INTERVAL '1 month')) AS DATE) AS month \
                     FROM bookings b WHERE b.status IN {EARNING} AND b.nights > 0 AND {}) t) u",
        scope("b", tenant)
    )
}

/// The SQL of a report over one tenant or all.
pub fn sql(report: Report, tenant: Option<TenantId>) -> String {
    match report {
        Report::Occupancy(g) => occupancy(g, tenant),
        Report::LeadTime => format!(
            "SELECT band, COUNT(*) AS bookings, ROUND(CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (), 4) AS share \
             FROM (SELECT CASE WHEN d <= 1 THEN '0-1 days' WHEN d <= 7 THEN '2-7 days' WHEN d <= 30 THEN '8-30 days' \
                   WHEN d <= 90 THEN '31-90 days' ELSE '91+ days' END AS band, \
                   CASE WHEN d <= 1 THEN 1 WHEN d <= 7 THEN 2 WHEN d <= 30 THEN 3 WHEN d <= 90 THEN 4 ELSE 5 END AS k \
                   FROM (SELECT CAST(b.check_in AS BIGINT) - CAST(CAST(b.created_at AS DATE) AS BIGINT) AS d \
                         FROM bookings b WHERE b.status IN {EARNING} AND {}) t) u \
             GROUP BY band, k ORDER BY k",
            scope("b", tenant)
        ),
        Report::LengthOfStay => format!(
            "SELECT band, COUNT(*) AS bookings, ROUND(CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (), 4) AS share \
             FROM (SELECT CASE WHEN nights = 1 THEN '1 night' WHEN nights = 2 THEN '2 nights' \
                   WHEN nights = 3 THEN '3 nights' WHEN nights <= 6 THEN '4-6 nights' \
                   WHEN nights <= 13 THEN '7-13 nights' ELSE '14+ nights' END AS band, \
                   CASE WHEN nights <= 3 THEN nights WHEN nights <= 6 THEN 4 WHEN nights <= 13 THEN 5 ELSE 6 END AS k \
                   FROM bookings b WHERE b.status IN {EARNING} AND {}) t \
             GROUP BY band, k ORDER BY k",
            scope("b", tenant)
        ),
        Report::Cancellations => format!(
            "SELECT CAST(date_trunc('month', b.created_at) AS DATE) AS month, COUNT(*) AS confirmed, \
               SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled, \
               ROUND(CAST(SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*), 4) AS cancellation_rate \
             FROM bookings b \
             WHERE b.booking_id IN (SELECT booking_id FROM booking_events WHERE kind = 'booking.confirmed') AND {} \
             GROUP BY 1 ORDER BY 1",
            scope("b", tenant)
        ),
        Report::Funnel => "SELECT month, \
               SUM(CASE WHEN step = 'search' THEN n ELSE 0 END) AS searches, \
               SUM(CASE WHEN step = 'view' THEN n ELSE 0 END) AS views, \
               SUM(CASE WHEN step = 'hold' THEN n ELSE 0 END) AS holds, \
               SUM(CASE WHEN step = 'confirmed' THEN n ELSE 0 END) AS confirmed \
             FROM ( \
               SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month, kind AS step, COUNT(*) AS n \
                 FROM client_events WHERE kind IN ('search','view') GROUP BY 1, 2 \
               UNION ALL \
               SELECT CAST(date_trunc('month', occurred_at) AS DATE), \
                      CASE WHEN kind = 'booking.held' THEN 'hold' ELSE 'confirmed' END, COUNT(DISTINCT booking_id) \
                 FROM booking_events WHERE kind IN ('booking.held','booking.confirmed') GROUP BY 1, 2 \
             ) t GROUP BY month ORDER BY month"
            .into(),
        Report::TopDestinations => format!(
            "SELECT p.city, p.country, COUNT(*) AS bookings, SUM(b.nights) AS nights \
             FROM bookings b JOIN properties p ON p.property_id = b.property_id \
             WHERE b.status IN {EARNING} AND {} \
             GROUP BY p.city, p.country ORDER BY bookings DESC, nights DESC, p.city LIMIT 20",
            scope("b", tenant)
        ),
        Report::RevenuePerTenant => format!(
            "SELECT b.tenant_id, b.currency, COUNT(*) AS bookings, SUM(b.nights) AS nights, \
               SUM(b.total_minor) AS revenue_minor \
             FROM bookings b WHERE b.status IN {EARNING} AND {} \
             GROUP BY b.tenant_id, b.currency ORDER BY revenue_minor DESC, b.tenant_id",
            scope("b", tenant)
        ),
    }
}

fn occupancy(g: Grouping, tenant: Option<TenantId>) -> String {
    let (shared, rest) = occupancy_steps(g, tenant);
    format!("WITH {SOLD} AS ({shared}), {rest}")
}

/// The name of the occupancy reports' sold nights and revenue per property and month.
const SOLD: &str = "sold";

/// An occupancy report in two steps: the sold nights and revenue per property and month
/// (every booking read once; the rest reads it twice: for the months and for the grid of
/// properties and months), and the rest of the statement over it as a table named [`SOLD`].
fn occupancy_steps(g: Grouping, tenant: Option<TenantId>) -> (String, String) {
    let (keys, select) = match g {
        Grouping::Property => {
            ("s.month, p.property_id, p.name, p.city, p.currency", "s.month, p.property_id, p.name, p.city, p.currency")
        }
        Grouping::City => ("s.month, p.city, p.country, p.currency", "s.month, p.city, p.country, p.currency"),
        Grouping::Month => ("s.month, p.currency", "s.month, p.currency"),
    };
    let sold = format!(
        "SELECT property_id, month, SUM(nights) AS sold, SUM(revenue) AS revenue FROM ({nights}) n GROUP BY 1, 2",
        nights = nights(tenant)
    );
    let rest = format!(
        "months AS (SELECT DISTINCT month FROM {SOLD}), \
         s AS (SELECT m.month, p.property_id, \
                 CAST(date_part('day', CAST(m.month AS TIMESTAMP) + INTERVAL '1 month' - INTERVAL '1 day') AS BIGINT) * p.units AS available, \
                 COALESCE(x.sold, 0) AS sold, COALESCE(x.revenue, 0) AS revenue \
               FROM months m CROSS JOIN properties p \
               LEFT JOIN {SOLD} x ON x.property_id = p.property_id AND x.month = m.month \
               WHERE {scope} AND p.units > 0) \
         SELECT {select}, SUM(s.sold) AS sold_nights, SUM(s.available) AS available_nights, \
           ROUND(CAST(SUM(s.sold) AS DOUBLE) / SUM(s.available), 4) AS occupancy, \
           ROUND(SUM(s.revenue)) AS room_revenue_minor, \
           ROUND(CASE WHEN SUM(s.sold) > 0 THEN SUM(s.revenue) / SUM(s.sold) END) AS adr_minor, \
           ROUND(SUM(s.revenue) / SUM(s.available)) AS revpar_minor \
         FROM s JOIN properties p ON p.property_id = s.property_id \
         GROUP BY {keys} ORDER BY {keys}",
        scope = scope("p", tenant),
    );
    (sold, rest)
}

/// A report whose statement reads one of its parts twice, as two steps: (the part's name,
/// its query, the rest of the statement reading it as a table). An engine that does not keep
/// a common table expression read twice (DataFusion computes it again for each read) runs
/// the part once, keeps it, then runs the rest; the answer is that of [`sql`].
pub fn steps(report: Report, tenant: Option<TenantId>) -> Option<(&'static str, String, String)> {
    match report {
        Report::Occupancy(g) => {
            let (shared, rest) = occupancy_steps(g, tenant);
            Some((SOLD, shared, format!("WITH {rest}")))
        }
        _ => None,
    }
}
