-- The booking transaction of `innkeep bench --postgres`, as raw pgbench runs it
-- (pgbench -M prepared -f this -D rts=N -D user=ID): sell one night of a room type with
-- the same conditional update the server uses (`sold < units`, returning the nights it
-- prices the stay from), insert the booking and
-- its outbox event, commit. The docs stand in for the server's JSON of similar size (JSON,
-- so the nodes of a later phase read past these events; the holds do not expire during the
-- run). The nights start in 2028, clear of the nights the HTTP phases book.
\set k random(1, :rts)
\set d random(0, 700)
SELECT id AS rt, property_id AS pid, tenant_id AS tid FROM bench_rt WHERE n = :k \gset
BEGIN;
INSERT INTO inventory (room_type_id, night, sold) VALUES (:rt, to_char(DATE '2028-01-01' + :d::int, 'YYYY-MM-DD'), 0) ON CONFLICT (room_type_id, night) DO NOTHING;
UPDATE inventory SET sold = sold + 1 WHERE room_type_id = :rt AND night >= to_char(DATE '2028-01-01' + :d::int, 'YYYY-MM-DD') AND night < to_char(DATE '2028-01-01' + :d::int + 1, 'YYYY-MM-DD') AND COALESCE(closed, 0) = 0 AND sold < COALESCE(units, (SELECT units FROM room_types WHERE id = :rt)) RETURNING night, sold, units, price_minor, closed, min_stay;
INSERT INTO bookings (id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out, hold_expires_at, total_minor, currency, doc, created_at, updated_at) VALUES (gen_random_uuid()::text, 'held', :tid, :pid, :rt, :user, to_char(DATE '2028-01-01' + :d::int, 'YYYY-MM-DD'), to_char(DATE '2028-01-01' + :d::int + 1, 'YYYY-MM-DD'), 4102444800000, 10600, 'EUR', '{"pad":"' || repeat('x', 1100) || '"}', 0, 0);
INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload) VALUES (gen_random_uuid()::text, 'booking.held', 1, 0, :tid, gen_random_uuid()::text, '{"pad":"' || repeat('x', 1100) || '"}');
COMMIT;
