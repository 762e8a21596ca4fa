-- Operators suspend users and tenants: a suspended user (or any member of a suspended
-- tenant) cannot sign in, and the API keys of a suspended tenant, or made by a suspended
-- user, are refused.
ALTER TABLE users ADD COLUMN suspended_at BIGINT;
ALTER TABLE tenants ADD COLUMN suspended_at BIGINT;
