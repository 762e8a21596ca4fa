-- Readers follow the outbox by `seq`. A sequence number taken at insert can be overtaken:
-- a transaction that took seq 100 may commit after one that took seq 101, and a reader that
-- went past 101 would never see 100. So rows are now inserted without a number, and each is
-- numbered (from the same sequence) only once no running transaction is older than its own:
-- then nothing can commit before it any more, and numbers are handed out in commit order.
ALTER TABLE outbox ALTER COLUMN seq DROP DEFAULT;
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
ALTER TABLE outbox ALTER COLUMN seq DROP NOT NULL;
CREATE UNIQUE INDEX outbox_seq ON outbox(seq);
CREATE INDEX outbox_unnumbered ON outbox(txid) WHERE seq IS NULL;
