-- Notifications: each user's language, the delivery log (every message Innkeep sends,
-- written once, rendered, before it is sent) and integrators' webhooks.
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
-- Reminders are not transactional: a user may stop them with the link each one carries.
ALTER TABLE users ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN unsubscribe_token TEXT;
CREATE UNIQUE INDEX users_unsubscribe_token ON users(unsubscribe_token);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks(tenant_id, created_at);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    -- What makes it one message: written twice (a consumer retried, two nodes), kept once.
    dedup_key TEXT NOT NULL UNIQUE,
    event_id TEXT,
    tenant_id TEXT,
    booking_id TEXT,
    webhook_id TEXT,
    template TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'slack', 'pagerduty')),
    recipient TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'parked', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    -- A node sending the message holds it until then; after a crash it falls due again.
    leased_until INTEGER,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
-- The dispatcher's question: what is due now.
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_tenant ON notifications(tenant_id, id);
CREATE INDEX notifications_webhook ON notifications(webhook_id, id);
CREATE INDEX notifications_booking ON notifications(booking_id);
