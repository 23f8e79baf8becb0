-- The runtime's sample worker (tests and benchmarks): one row per item, counting the
-- events applied to it, so a test can prove each event was applied exactly once.
CREATE TABLE sample_items (
    item_id       text    PRIMARY KEY,
    value         bigint  NOT NULL,
    updates       integer NOT NULL,
    last_event_id text    NOT NULL
);
