-- The codes a channel manager names a tenant's hotels and room types by in OpenTravel
-- (OTA) messages: `HotelCode` per property, `InvTypeCode` per room type of it.
CREATE TABLE ota_hotels (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    hotel_code TEXT NOT NULL,
    property_id TEXT NOT NULL UNIQUE REFERENCES properties(id),
    PRIMARY KEY (tenant_id, hotel_code)
);

CREATE TABLE ota_room_types (
    property_id TEXT NOT NULL REFERENCES properties(id),
    code TEXT NOT NULL,
    room_type_id TEXT NOT NULL UNIQUE REFERENCES room_types(id),
    PRIMARY KEY (property_id, code)
);
