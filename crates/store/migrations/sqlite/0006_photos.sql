-- Photos of a property: the record here, the bytes in object storage under object_key.
-- (Numbered 0006 to leave 0004 and 0005 to parts built in parallel.)
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    property_id TEXT NOT NULL REFERENCES properties(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    alt TEXT NOT NULL,
    object_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX photos_property ON photos(property_id, created_at);
