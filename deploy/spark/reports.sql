-- The reports in Spark SQL, over the views of lake.sql: the same definitions as
-- `innkeep analytics report NAME` (crates/analytics/src/reports.rs), in Spark's dialect.
-- A booking earns when its latest state is confirmed, checked in or completed; its total
-- is spread evenly over its nights; a booking of several rooms sells that many units a night;
-- available nights are units times the month's days.

-- report: occupancy-by-month
WITH n AS (
  SELECT property_id, currency, month, nights * rooms AS nights, CAST(total_minor AS DOUBLE) / stay_nights * nights AS revenue
  FROM (SELECT b.property_id, b.currency, b.total_minor, b.nights AS stay_nights, b.rooms, t.month,
               datediff(least(b.check_out, add_months(t.month, 1)), greatest(b.check_in, t.month)) AS nights
        FROM bookings b
        LATERAL VIEW explode(sequence(trunc(b.check_in, 'MM'), trunc(date_sub(b.check_out, 1), 'MM'), interval 1 month)) t AS month
        WHERE b.status IN ('confirmed', 'checked_in', 'completed') AND b.nights > 0) u
),
sold AS (SELECT property_id, month, SUM(nights) AS sold, SUM(revenue) AS revenue FROM n GROUP BY property_id, month),
months AS (SELECT DISTINCT month FROM sold),
s AS (
  SELECT m.month, p.property_id, CAST(day(last_day(m.month)) AS BIGINT) * p.units AS available,
         COALESCE(x.sold, 0) AS sold, COALESCE(x.revenue, 0) AS revenue
  FROM months m CROSS JOIN properties p
  LEFT JOIN sold x ON x.property_id = p.property_id AND x.month = m.month
  WHERE p.units > 0
)
SELECT s.month, p.currency, SUM(s.sold) AS sold_nights, SUM(s.available) AS available_nights,
       ROUND(CAST(SUM(s.sold) AS DOUBLE) / SUM(s.available), 4) AS occupancy,
       ROUND(SUM(s.revenue)) AS room_revenue_minor,
       ROUND(CASE WHEN SUM(s.sold) > 0 THEN SUM(s.revenue) / SUM(s.sold) END) AS adr_minor,
       ROUND(SUM(s.revenue) / SUM(s.available)) AS revpar_minor
FROM s JOIN properties p ON p.property_id = s.property_id
GROUP BY s.month, p.currency ORDER BY s.month, p.currency;

-- report: length-of-stay
SELECT band, COUNT(*) AS bookings, ROUND(CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (), 4) AS share
FROM (SELECT CASE WHEN nights = 1 THEN '1 night' WHEN nights = 2 THEN '2 nights'
                  WHEN nights = 3 THEN '3 nights' WHEN nights <= 6 THEN '4-6 nights'
                  WHEN nights <= 13 THEN '7-13 nights' ELSE '14+ nights' END AS band,
             CASE WHEN nights <= 3 THEN nights WHEN nights <= 6 THEN 4 WHEN nights <= 13 THEN 5 ELSE 6 END AS k
      FROM bookings WHERE status IN ('confirmed', 'checked_in', 'completed')) t
GROUP BY band, k ORDER BY k;

-- report: cancellations
SELECT CAST(trunc(CAST(b.created_at AS DATE), 'MM') AS DATE) AS month, COUNT(*) AS confirmed,
       SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
       ROUND(CAST(SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*), 4) AS cancellation_rate
FROM bookings b
WHERE b.booking_id IN (SELECT booking_id FROM booking_events WHERE kind = 'booking.confirmed')
GROUP BY 1 ORDER BY 1;

-- report: funnel
SELECT month,
       SUM(CASE WHEN step = 'search' THEN n ELSE 0 END) AS searches,
       SUM(CASE WHEN step = 'view' THEN n ELSE 0 END) AS views,
       SUM(CASE WHEN step = 'hold' THEN n ELSE 0 END) AS holds,
       SUM(CASE WHEN step = 'confirmed' THEN n ELSE 0 END) AS confirmed
FROM (
  SELECT trunc(CAST(occurred_at AS DATE), 'MM') AS month, kind AS step, COUNT(*) AS n
  FROM client_events WHERE kind IN ('search', 'view') GROUP BY 1, 2
  UNION ALL
  SELECT trunc(CAST(occurred_at AS DATE), 'MM'),
         CASE WHEN kind = 'booking.held' THEN 'hold' ELSE 'confirmed' END, COUNT(DISTINCT booking_id)
  FROM booking_events WHERE kind IN ('booking.held', 'booking.confirmed') GROUP BY 1, 2
) t GROUP BY month ORDER BY month;

-- report: revenue-per-tenant
SELECT tenant_id, currency, COUNT(*) AS bookings, SUM(nights) AS nights, SUM(total_minor) AS revenue_minor
FROM bookings WHERE status IN ('confirmed', 'checked_in', 'completed')
GROUP BY tenant_id, currency ORDER BY revenue_minor DESC, tenant_id;
