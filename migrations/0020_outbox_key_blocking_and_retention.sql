-- Rows Kafka refuses for good (too large, not authorized, no such topic, an invalid record) used
-- to be retried forever, and a later row of the same key could be published before the refused
-- one (the insurer would read 資格喪失 before 資格取得). Now such a row is held with the reason and
-- marks its key blocked: the key's later rows are held behind it, in order, until an operator
-- releases them (`koki outbox release`). The partial index serves the relay's "is this key
-- blocked?" look per row it reads: it holds only the blocked rows.
ALTER TABLE outbox ADD COLUMN blocks_key boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_key_blocked ON outbox (topic, message_key) WHERE blocks_key;

-- The inbox is kept for KOKI_INBOX_RETENTION_DAYS (the window in which a redelivered event is
-- recognised), purged by each worker for its own group.
CREATE INDEX inbox_applied_at ON inbox (consumer_group, applied_at);

-- Operators release held rows and discard them (koki outbox release|discard): koki_admin may.
GRANT UPDATE (held_at, held_reason, blocks_key), DELETE ON outbox TO koki_admin;
