-- Teams: a host tenant's members each have a role (owner, manager, front desk, accountant;
-- the older tenant_role only said owner or staff), owners invite colleagues by e-mail
-- (a single-use token, kept as its SHA-256), and API keys act for the tenant with scopes
-- (kept as their SHA-256; the key itself is shown once).
ALTER TABLE users ADD COLUMN staff_role TEXT CHECK (staff_role IN ('owner', 'manager', 'front_desk', 'accountant'));
UPDATE users SET staff_role = 'owner' WHERE role = 'host' AND tenant_id IS NOT NULL;

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL,
    staff_role TEXT NOT NULL CHECK (staff_role IN ('owner', 'manager', 'front_desk', 'accountant')),
    invited_by TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT REFERENCES users(id)
);
CREATE INDEX invitations_tenant ON invitations(tenant_id, created_at);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at);
