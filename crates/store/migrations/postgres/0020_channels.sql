-- Calendar sync with other channels (iCalendar, RFC 5545).
-- A room type's export feed: its busy nights at a secret URL the host gives Airbnb or
-- Booking.com. A new token replaces the old one (the old URL stops working at once).
CREATE TABLE ical_exports (
    room_type_id TEXT PRIMARY KEY REFERENCES room_types(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- A feed of another channel imported into a room type, fetched on a schedule.
CREATE TABLE ical_feeds (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    room_type_id TEXT NOT NULL REFERENCES room_types(id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    -- The validators of the last answer, for a conditional GET.
    etag TEXT,
    last_modified TEXT,
    next_sync_at BIGINT NOT NULL,
    -- A node fetching it holds it until then; another takes it once that has passed.
    lease_until BIGINT,
    last_sync_at BIGINT,
    -- ok | not_modified | error
    last_status TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ical_feeds_room_type ON ical_feeds(room_type_id, created_at);
CREATE INDEX ical_feeds_due ON ical_feeds(next_sync_at);

-- The nights a feed blocks: each holds one unit of the room type (`applied`), or could
-- not because none was left (a conflict the host is told about; no booking changes).
CREATE TABLE ical_blocks (
    feed_id TEXT NOT NULL REFERENCES ical_feeds(id),
    room_type_id TEXT NOT NULL REFERENCES room_types(id),
    night TEXT NOT NULL,
    uid TEXT NOT NULL,
    applied INTEGER NOT NULL,
    PRIMARY KEY (feed_id, night)
);
CREATE INDEX ical_blocks_room_type ON ical_blocks(room_type_id, night);
