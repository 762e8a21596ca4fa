-- Payments of bookings, their refunds, and the double-entry ledger.
-- Money is integer minor units with its currency; timestamps are Unix milliseconds.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    method TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    -- What was received (a transfer may pay less or more than asked) and refunded.
    received_minor BIGINT NOT NULL DEFAULT 0,
    refunded_minor BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= received_minor),
    -- The ISO 11649 reference a bank transfer quotes; the provider's id of a card payment.
    reference TEXT UNIQUE,
    provider_id TEXT UNIQUE,
    failure TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX payments_booking ON payments(booking_id, created_at);
CREATE INDEX payments_user ON payments(user_id, created_at);
CREATE INDEX payments_status ON payments(status, updated_at);
-- At most one open payment per booking, however many requests race.
CREATE UNIQUE INDEX payments_one_open ON payments(booking_id) WHERE status = 'requires_action';

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Who asked (a user id, or 'system' for a cancellation's refund) and their key.
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (scope, idempotency_key)
);
CREATE INDEX refunds_payment ON refunds(payment_id, created_at);

-- Imported statement lines, matched or not (an operator sees the unmatched ones).
CREATE TABLE statement_lines (
    id TEXT PRIMARY KEY,
    -- What makes a line the same line when a statement is imported again.
    fingerprint TEXT NOT NULL UNIQUE,
    statement_id TEXT NOT NULL,
    booking_date TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    credit BIGINT NOT NULL,
    reference TEXT NOT NULL,
    payment_id TEXT REFERENCES payments(id),
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX statement_lines_outcome ON statement_lines(outcome, created_at);

-- The ledger: append-only. An entry's lines sum to zero per currency (checked when
-- written and by `innkeep ledger check`); balances are kept in the same transaction.
CREATE TABLE ledger_entries (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    -- The payment, refund or payout the entry records; the entry it reverses, if any.
    subject_id TEXT NOT NULL,
    reverses TEXT REFERENCES ledger_entries(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_entries_subject ON ledger_entries(subject_id);

CREATE TABLE ledger_lines (
    entry_id TEXT NOT NULL REFERENCES ledger_entries(id),
    n BIGINT NOT NULL,
    account TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
    currency TEXT NOT NULL,
    PRIMARY KEY (entry_id, n)
);
CREATE INDEX ledger_lines_account ON ledger_lines(account, currency);

CREATE TABLE ledger_balances (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    PRIMARY KEY (account, currency)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END;
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
