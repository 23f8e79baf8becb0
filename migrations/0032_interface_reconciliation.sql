-- Daily interface reconciliation (会計 and the union's 突合 ask for it when something goes missing
-- between systems): per inbound source and per destination, what was received, applied,
-- dead-lettered and sent on each business day, with the money where money moves.
--
-- A business day's window for a worker runs from the moment the worker reached that day to the
-- moment it reached the next one (the clock events are the day boundaries).
CREATE TABLE business_day_marks (
    worker        text    NOT NULL,
    business_date date    NOT NULL,
    reached_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (worker, business_date)
);
GRANT SELECT, INSERT ON business_day_marks TO koki_resident, koki_tax, koki_payment;
GRANT SELECT ON business_day_marks TO koki_admin;

-- A reconciliation as recorded (`koki reconcile interfaces --date D --record`): one row per line.
CREATE TABLE interface_reconciliations (
    business_date date    NOT NULL,
    direction     text    NOT NULL CHECK (direction IN ('inbound', 'outbound', 'money')),
    interface     text    NOT NULL,     -- topic (inbound), destination (outbound), ledger entry (money)
    party         text    NOT NULL,     -- consumer group / ce_source (inbound), event type (outbound), '' (money)
    received      bigint  NOT NULL,
    applied       bigint  NOT NULL,
    dead_lettered bigint  NOT NULL,
    amount        bigint,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   text    NOT NULL DEFAULT session_user,
    PRIMARY KEY (business_date, direction, interface, party)
);
GRANT SELECT, INSERT ON interface_reconciliations TO koki_admin;

-- The gauges gain how many business days the recorded reconciliation is behind the calendar
-- (alert when above 1: "the daily reconciliation did not run").
CREATE OR REPLACE VIEW store_gauges AS
SELECT 'koki_reconcile_open'::text AS name, 'kind'::text AS label, k.kind AS label_value,
       (SELECT count(*) FROM discrepancies d WHERE d.kind = k.kind AND d.closed_on IS NULL)::bigint AS value
FROM (VALUES ('annual-premium'), ('reduction'), ('beyond-limit'), ('qualification'), ('burden-ratio'),
             ('unknown-to-union'), ('unknown-to-koki')) AS k(kind)
UNION ALL
SELECT 'koki_late_fee_pending', '', '', (SELECT count(*) FROM late_fee_pending)::bigint
UNION ALL
SELECT 'koki_interface_reconciliation_behind_days', '', '',
       coalesce((SELECT count(*) FROM (SELECT DISTINCT business_date FROM business_day_marks) m
                 WHERE m.business_date < (SELECT max(business_date) FROM business_day_marks)
                   AND m.business_date > coalesce((SELECT max(business_date) FROM interface_reconciliations), DATE '0001-01-01')),
                0)::bigint;
