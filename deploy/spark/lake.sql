-- The Innkeep analytics lake as Hive tables, for Spark SQL on EMR (Glue or a Hive
-- metastore) and on OpenStack Sahara (Hive). Replace LAKE with the lake's location:
-- s3://BUCKET/lake on AWS, s3a://BUCKET/lake against Swift's or Ceph's S3 API.
-- Every file holds a subset of these columns (its family's); the others read as NULL.
-- Columns are only ever added (schema_version says which set a file was written with).

CREATE EXTERNAL TABLE IF NOT EXISTS lake (
  event_id STRING,
  occurred_at TIMESTAMP,
  schema_version INT,
  tenant_id STRING,
  seq BIGINT,
  aggregate_id STRING,
  payload STRING,
  booking_id STRING,
  status STRING,
  property_id STRING,
  room_type_id STRING,
  user_id STRING,
  check_in DATE,
  check_out DATE,
  nights INT,
  adults INT,
  children INT,
  rooms INT,
  total_minor BIGINT,
  currency STRING,
  created_at TIMESTAMP,
  received_at TIMESTAMP,
  client_id STRING,
  city STRING,
  data STRING
)
PARTITIONED BY (kind STRING, `date` DATE)
STORED AS PARQUET
LOCATION 'LAKE';

-- New kinds and days appear as new directories: pick them up.
MSCK REPAIR TABLE lake;

CREATE EXTERNAL TABLE IF NOT EXISTS properties (
  property_id STRING,
  tenant_id STRING,
  name STRING,
  city STRING,
  country STRING,
  property_type STRING,
  currency STRING,
  latitude DOUBLE,
  longitude DOUBLE,
  units BIGINT,
  room_types BIGINT
)
STORED AS PARQUET
LOCATION 'LAKE/_innkeep/dims';

CREATE OR REPLACE VIEW events AS
SELECT event_id, seq, kind, `date`, occurred_at, tenant_id, aggregate_id, payload, schema_version
FROM lake WHERE kind NOT IN ('search', 'view', 'click', 'funnel');

CREATE OR REPLACE VIEW booking_events AS
SELECT event_id, seq, kind, `date`, occurred_at, tenant_id, booking_id, status, property_id, room_type_id,
       user_id, check_in, check_out, nights, adults, children, COALESCE(rooms, 1) AS rooms, total_minor, currency,
       created_at
FROM lake
WHERE kind IN ('booking.held', 'booking.confirmed', 'booking.checked_in', 'booking.completed',
               'booking.expired', 'booking.cancelled', 'booking.no_show');

CREATE OR REPLACE VIEW client_events AS
SELECT event_id, kind, `date`, occurred_at, received_at, client_id, user_id, property_id, city, data
FROM lake WHERE kind IN ('search', 'view', 'click', 'funnel');

-- Each booking's latest state: its event with the highest position.
CREATE OR REPLACE VIEW bookings AS
SELECT e.booking_id, e.status, e.tenant_id, e.property_id, e.room_type_id, e.user_id, e.check_in, e.check_out,
       e.nights, e.adults, e.children, e.rooms, e.total_minor, e.currency, e.created_at, e.occurred_at AS updated_at
FROM booking_events e
JOIN (SELECT booking_id, MAX(seq) AS seq FROM booking_events GROUP BY booking_id) l
  ON e.booking_id = l.booking_id AND e.seq = l.seq;
