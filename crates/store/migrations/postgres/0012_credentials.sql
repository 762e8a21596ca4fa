-- Credentials: whether a user's e-mail address is verified, and the single-use tokens of
-- password resets and e-mail verification (only their SHA-256 is kept).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens(user_id, purpose);
CREATE INDEX sessions_user ON sessions(user_id);
