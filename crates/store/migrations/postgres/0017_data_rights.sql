-- Data rights: when a person's account was erased (their bookings are kept for accounting,
-- with the person's details removed), and the currency a person prefers to see prices in.
ALTER TABLE users ADD COLUMN erased_at BIGINT;
ALTER TABLE users ADD COLUMN currency TEXT;
