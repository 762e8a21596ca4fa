-- Tenants, users, sessions, properties, room types, inventory, bookings, idempotency keys, outbox.
-- Timestamps are Unix milliseconds; dates are ISO 'YYYY-MM-DD' text (which sorts by date).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('guest', 'host', 'admin')),
    tenant_id TEXT REFERENCES tenants(id),
    tenant_role TEXT CHECK (tenant_role IN ('owner', 'staff')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE properties (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX properties_tenant ON properties(tenant_id, created_at);
CREATE INDEX properties_created ON properties(created_at);
CREATE INDEX properties_city ON properties(city);

CREATE TABLE room_types (
    id TEXT PRIMARY KEY,
    property_id TEXT NOT NULL REFERENCES properties(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    units BIGINT NOT NULL CHECK (units > 0),
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX room_types_property ON room_types(property_id);

-- One row per room type and night that has an override or a sale; absent means none.
-- units NULL means the room type's units; sold <= units is enforced by the conditional
-- update that sells a night.
CREATE TABLE inventory (
    room_type_id TEXT NOT NULL REFERENCES room_types(id),
    night TEXT NOT NULL,
    sold BIGINT NOT NULL DEFAULT 0 CHECK (sold >= 0),
    units BIGINT CHECK (units >= 0),
    price_minor BIGINT,
    closed BIGINT,
    min_stay BIGINT,
    PRIMARY KEY (room_type_id, night)
);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    property_id TEXT NOT NULL REFERENCES properties(id),
    room_type_id TEXT NOT NULL REFERENCES room_types(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    check_in TEXT NOT NULL,
    check_out TEXT NOT NULL,
    hold_expires_at BIGINT,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX bookings_user ON bookings(user_id, created_at);
CREATE INDEX bookings_tenant ON bookings(tenant_id, created_at);
CREATE INDEX bookings_holds ON bookings(status, hold_expires_at);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    version BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    tenant_id TEXT,
    aggregate_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
