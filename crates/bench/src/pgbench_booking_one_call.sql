-- The booking of `innkeep bench postgres` as the engine's best correct one: the single
-- statement the server sends on PostgreSQL (`innkeep_hold`, migration 0022: idempotency
-- check, inventory rows, conditional sale of the night, the check that its price is the one
-- quoted, booking, outbox event; one round trip, one transaction), run by raw pgbench
-- (pgbench -M prepared -f this -D rts=N -D user=ID -D clients=C -D i=0). The room type is
-- looked up in the same statement, and the quoted price and minimum stay are read there
-- too (the node reads them just before its call). Each client books its own room type
-- and night (no contention, like the HTTP phase), from 2030 on, clear of the other phases.
\set i :i + 1
\set idx :i * :clients + :client_id
\set k :idx % :rts + 1
\set d :idx / :rts
SELECT h.outcome FROM bench_rt r, LATERAL innkeep_hold(
    r.id, :user, to_char(DATE '2030-01-01' + :d::int, 'YYYY-MM-DD'), to_char(DATE '2030-01-01' + :d::int + 1, 'YYYY-MM-DD'),
    NULL, 'bench',
    COALESCE((SELECT COALESCE(v.price_minor::text, '') || ':' || COALESCE(v.min_stay::text, '') FROM inventory v
              WHERE v.room_type_id = r.id AND v.night = to_char(DATE '2030-01-01' + :d::int, 'YYYY-MM-DD')), ':'),
    FALSE, gen_random_uuid()::text, 'held', r.tenant_id, r.property_id, 4102444800000, 10600, 'EUR',
    '{"pad":"' || repeat('x', 1100) || '"}', 0, 0,
    gen_random_uuid()::text, 'booking.held', 1, 0, r.tenant_id, gen_random_uuid()::text,
    '{"pad":"' || repeat('x', 1100) || '"}') h
WHERE r.n = :k;
