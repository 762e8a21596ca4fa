-- Work one node of a cluster does at a time (the analytics lake writer): the node holding
-- a lease renews it while it works; when it stops renewing (it died), another takes it
-- once it has run out.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
