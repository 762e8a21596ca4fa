-- The availability reads of `innkeep bench --postgres`, as raw pgbench runs them
-- (pgbench -M prepared -f this -D props=N): the property, its room types, and their
-- nights of a two-night stay.
\set k random(1, :props)
\set d random(5, 54)
SELECT id AS p FROM bench_prop WHERE n = :k \gset
SELECT doc FROM properties WHERE id = :p;
SELECT id, doc FROM room_types WHERE property_id = :p;
SELECT room_type_id, night, sold, units, price_minor, closed, min_stay FROM inventory WHERE room_type_id IN (SELECT id FROM room_types WHERE property_id = :p) AND night >= to_char(CURRENT_DATE + :d::int, 'YYYY-MM-DD') AND night < to_char(CURRENT_DATE + :d::int + 2, 'YYYY-MM-DD');
