-- Billing hosts: commission rates, the commission of each completed stay, monthly
-- invoices numbered without gaps per tenant and year, payout accounts and payouts.
CREATE TABLE commission_rates (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    rate_bp BIGINT NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    updated_at BIGINT NOT NULL
);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    number TEXT NOT NULL,
    month TEXT NOT NULL,
    currency TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    vat_bp BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    UNIQUE (tenant_id, year, seq),
    UNIQUE (tenant_id, month, currency)
);
CREATE INDEX invoices_tenant ON invoices(tenant_id, issued_at);

-- The last number given per tenant and year, taken in the invoice's transaction.
CREATE TABLE invoice_counters (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    year BIGINT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

-- One commission per booking, metered at check-out.
CREATE TABLE commissions (
    booking_id TEXT PRIMARY KEY REFERENCES bookings(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    month TEXT NOT NULL,
    check_in TEXT NOT NULL,
    check_out TEXT NOT NULL,
    base_minor BIGINT NOT NULL,
    rate_bp BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    invoice_id TEXT REFERENCES invoices(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX commissions_uninvoiced ON commissions(month, tenant_id) WHERE invoice_id IS NULL;
CREATE INDEX commissions_invoice ON commissions(invoice_id);

CREATE TABLE payout_accounts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    name TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE payouts (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    name TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX payouts_tenant ON payouts(tenant_id, created_at);
CREATE INDEX payouts_batch ON payouts(batch_id);
