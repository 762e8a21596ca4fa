-- Card payments through a provider: the client secret the paying guest confirms with, the
-- provider events handled (each once), and refunds the provider refused.
ALTER TABLE payments ADD COLUMN client_secret TEXT;
-- A card payment the provider is processing is open too: still one open payment a booking.
DROP INDEX payments_one_open;
CREATE UNIQUE INDEX payments_one_open ON payments(booking_id) WHERE status IN ('requires_action', 'processing');
ALTER TABLE refunds ADD COLUMN failure TEXT;
CREATE INDEX refunds_status ON refunds(status, created_at);

CREATE TABLE provider_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payment_id TEXT REFERENCES payments(id),
    received_at INTEGER NOT NULL
);
