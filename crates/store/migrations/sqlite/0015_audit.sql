-- The audit log: who did what, when and from where (sign-ins and their failures, account,
-- team and key changes, staff changes to rates, availability, bookings and properties).
-- Each entry is also an `audit.recorded` outbox event, written in the same transaction.
CREATE TABLE audit_log (
    -- A UUID v7: its order is the log's.
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    tenant_id TEXT,
    actor_user_id TEXT,
    actor_key_id TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    address TEXT,
    user_agent TEXT
);
-- A tenant's owners read their tenant's log, newest first; operators read everything.
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id);
CREATE INDEX audit_log_actor ON audit_log(actor_user_id, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
