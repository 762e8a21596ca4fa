-- Reviews of stays: one per booking (a guest reviews a completed stay once), scores per
-- aspect from 1 to 10, the overall score in tenths, the host's one answer, an operator's
-- hiding; and who reported which review (one report per person and review).
CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL UNIQUE,
    property_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    author TEXT NOT NULL,
    score_cleanliness BIGINT NOT NULL,
    score_location BIGINT NOT NULL,
    score_value BIGINT NOT NULL,
    score_staff BIGINT NOT NULL,
    score_comfort BIGINT NOT NULL,
    overall BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    reply TEXT,
    replied_at BIGINT,
    hidden_at BIGINT,
    reports BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX reviews_property ON reviews(property_id, created_at);
CREATE INDEX reviews_user ON reviews(user_id);

CREATE TABLE review_reports (
    review_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);
