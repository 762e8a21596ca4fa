#!/usr/bin/env python3
"""The reference side of `innkeep bench analytics`: DuckDB over the same Parquet lake,
running the very SQL DataFusion ran (read as JSON from stdin: [{"name": .., "sql": ..}]),
with the lake's views defined as deploy/spark/lake.sql defines them for Hive. DuckDB at its
best: each report runs with both ways of writing the `bookings` view (each booking's latest
event by a join with its highest position, as lake.sql has it, and by a row_number() window,
which DuckDB may run faster), and the faster one's times are reported.

    python3 duckdb_reports.py LAKE RUNS < reports.json

Prints JSON: {"name": {"ms": [each run], "form": "join" | "window", "columns": [...], "rows": [[...], ...]}}."""
import json
import sys
import time

import duckdb

BOOKING_KINDS = ("'booking.held','booking.confirmed','booking.checked_in','booking.completed',"
                 "'booking.expired','booking.cancelled','booking.no_show'")
CLIENT_KINDS = "'search','view','click','funnel'"


BOOKINGS = {
    "join": """CREATE OR REPLACE VIEW bookings AS
        SELECT e.booking_id, e.status, e.tenant_id, e.property_id, e.room_type_id, e.user_id, e.check_in, e.check_out,
               e.nights, e.adults, e.children, e.rooms, e.total_minor, e.currency, e.created_at, e.occurred_at AS updated_at
        FROM booking_events e
        JOIN (SELECT booking_id, MAX(seq) AS seq FROM booking_events GROUP BY booking_id) l
          ON e.booking_id = l.booking_id AND e.seq = l.seq""",
    "window": """CREATE OR REPLACE VIEW bookings AS
        SELECT booking_id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out, nights,
               adults, children, rooms, total_minor, currency, created_at, occurred_at AS updated_at
        FROM (SELECT *, row_number() OVER (PARTITION BY booking_id ORDER BY seq DESC) AS rn FROM booking_events) t
        WHERE rn = 1""",
}


def views(con, lake):
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""CREATE VIEW lake AS SELECT * FROM read_parquet('{lake}/kind=*/date=*/*.parquet',
                    hive_partitioning = true, union_by_name = true)""")
    con.execute(f"CREATE VIEW properties AS SELECT * FROM read_parquet('{lake}/_innkeep/dims/properties.parquet')")
    con.execute(f"""CREATE VIEW booking_events AS
        SELECT event_id, seq, kind, "date", occurred_at, tenant_id, booking_id, status, property_id, room_type_id,
               user_id, check_in, check_out, nights, adults, children, COALESCE(rooms, 1) AS rooms, total_minor,
               currency, created_at
        FROM lake WHERE kind IN ({BOOKING_KINDS})""")
    con.execute(f"""CREATE VIEW client_events AS
        SELECT event_id, kind, "date", occurred_at, received_at, client_id, user_id, property_id, city, data
        FROM lake WHERE kind IN ({CLIENT_KINDS})""")


def best(ms):
    """The fastest timed run (the first run is the warm-up)."""
    return min(ms[1:] or ms)


def cell(v):
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def main(argv):
    lake, runs = argv[1].rstrip("/"), int(argv[2])
    reports = json.load(sys.stdin)
    con = duckdb.connect()
    views(con, lake)
    out = {}
    for r in reports:
        for form, view in BOOKINGS.items():
            con.execute(view)
            times, result = [], None
            for _ in range(runs):
                t = time.perf_counter()
                cur = con.execute(r["sql"])
                rows = cur.fetchall()
                times.append((time.perf_counter() - t) * 1000)
                result = {"columns": [d[0] for d in cur.description], "rows": [[cell(v) for v in row] for row in rows]}
            print(f"duckdb {r['name']}: bookings view by {form}, best {best(times):.0f} ms", file=sys.stderr)
            if r["name"] not in out or best(times) < best(out[r["name"]]["ms"]):
                out[r["name"]] = {"ms": times, "form": form, **result}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
