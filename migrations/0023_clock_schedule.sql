-- `koki clock`, the business-day scheduler: the last day it published, so a restart catches up
-- the days it missed, in order, and never publishes one twice (the ids are the day's anyway).
CREATE TABLE clock_schedule (
    id             integer PRIMARY KEY CHECK (id = 1),
    last_published date    NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The scheduler's role: the holidays it skips, its own schedule, nothing else.
DO $$
BEGIN
    CREATE ROLE koki_clock NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;
GRANT SELECT ON holidays TO koki_clock;
GRANT SELECT, INSERT, UPDATE ON clock_schedule TO koki_clock;
GRANT SELECT ON clock_schedule TO koki_admin;
