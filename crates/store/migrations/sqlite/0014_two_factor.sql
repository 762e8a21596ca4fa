-- Two-factor sign-in: each user's TOTP secret (base32; kept as is, since codes are checked
-- against it; never shown again after enrolment), the last step a code was used for (no
-- replay), the single-use recovery codes (only their SHA-256 is kept), and sessions that
-- may only set up two-factor sign-in (an operator or owner who must have it and has not).
CREATE TABLE two_factor (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    secret TEXT NOT NULL,
    enabled_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE two_factor_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

ALTER TABLE sessions ADD COLUMN two_factor_pending INTEGER NOT NULL DEFAULT 0;
