-- The worker runtime's bookkeeping: what each consumer group has applied (inbox), how far
-- it has read each partition (consumer_offsets — the source of truth; Kafka's committed
-- offsets are only a copy for lag tools), what it derived and must still publish (outbox),
-- and what it could not apply (dead_letters).

CREATE TABLE consumer_offsets (
    consumer_group text        NOT NULL,
    topic          text        NOT NULL,
    partition      integer     NOT NULL,
    -- The next offset to read; advanced by compare-and-set in the batch's transaction.
    next_offset    bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- One row per applied event per consumer group: a redelivered ce_id is skipped.
CREATE TABLE inbox (
    consumer_group text        NOT NULL,
    ce_id          text        NOT NULL,
    ce_type        text        NOT NULL,
    topic          text        NOT NULL,
    partition      integer     NOT NULL,
    "offset"       bigint      NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, ce_id)
);

-- Derived events waiting for koki-relay, in id order per message key. Relays own buckets
-- of keys (a hash computed by the runtime), so one key's rows are published in order by a
-- single relay while several relays share the work and take over a dead one's buckets.
CREATE TABLE outbox (
    id             bigserial   PRIMARY KEY,
    topic          text        NOT NULL,
    message_key    text,
    bucket         smallint    NOT NULL,
    ce_id          text        NOT NULL UNIQUE,
    ce_type        text        NOT NULL,
    -- Kafka headers as a JSON object of strings (ce_* attributes, causation, traceparent …).
    headers        jsonb       NOT NULL,
    payload        bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    published_partition integer,
    published_offset    bigint,
    -- Set when the relay's transfer policy refuses the row (no basis for its destination);
    -- a held row is never published unless an operator releases it.
    held_at        timestamptz,
    held_reason    text
);
CREATE INDEX outbox_unpublished ON outbox (bucket, id) WHERE published_at IS NULL AND held_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Events a worker could not apply, with the reason (never personal data in it).
CREATE TABLE dead_letters (
    id              bigserial   PRIMARY KEY,
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    "offset"        bigint      NOT NULL,
    message_key     text,
    ce_id           text,
    ce_type         text,
    headers         jsonb       NOT NULL,
    payload         bytea,
    error_kind      text        NOT NULL,
    reason          text        NOT NULL,
    event_time      timestamptz,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
    resolved_at     timestamptz,
    resolved_by     text,
    resolution_note text,
    UNIQUE (consumer_group, topic, partition, "offset")
);
CREATE INDEX dead_letters_open ON dead_letters (dead_lettered_at) WHERE status = 'open';
