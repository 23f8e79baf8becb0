-- Deduplication by what CloudEvents makes unique: source + id, per topic. The inbox keyed a
-- group's events by ce_id alone, so two upstream systems that both number their events 1, 2, 3
-- (legal: their sources differ) lost each other's events as "duplicates", one upstream could
-- suppress another's (a counter application claiming the id business-day:2026-07-01), and a
-- corrected event republished under its old id was dropped without a trace. Each row now keeps
-- the body's SHA-256: the same key with another body is dead-lettered as a conflict, never
-- skipped.
--
-- Upgrade note: rows recorded before this migration keep ce_source '' and no hash, so an
-- upstream republishing an event applied before the upgrade is not recognised as a duplicate.
ALTER TABLE inbox ADD COLUMN ce_source text NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN body_hash bytea;
ALTER TABLE inbox ALTER COLUMN ce_source DROP DEFAULT;
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (consumer_group, topic, ce_source, ce_id);

-- The crash-loop breaker: before a worker applies a batch it records, per partition, the first
-- offset and the process instance working on it. A later instance that finds the same offset
-- under another instance knows the earlier one died there (a handled failure keeps its
-- instance; a success moves the offset on), and counts it. After one crash the batch is applied
-- event by event; an event that took KOKI_CRASH_LIMIT processes down is dead-lettered with the
-- reason. Unlogged: a count lost with a database crash only delays the breaker, and the row
-- written before every batch costs no WAL flush.
CREATE UNLOGGED TABLE batch_attempts (
    consumer_group text    NOT NULL,
    topic          text    NOT NULL,
    partition      integer NOT NULL,
    -- The first offset of the batch (or the single event) in work.
    first_offset   bigint  NOT NULL,
    -- How many events from first_offset the work covers.
    events         integer NOT NULL,
    -- The process instance that last began it.
    instance       text    NOT NULL,
    -- Instances that began it and never finished (the current one included).
    crashes        integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
GRANT SELECT, INSERT, UPDATE ON batch_attempts TO koki_resident, koki_tax, koki_payment;
GRANT SELECT ON batch_attempts TO koki_admin;
