-- The union's 賦課 decisions (koiki.assessment-decided on koiki.decisions.v1): authoritative for
-- money. Each decision is a row with its revision (a later snapshot replaces the view, never the
-- history, and a revision repeated is kept too); `applied` is false for one refused for billing (beyond the 2-year limit, or older than
-- the revision already applied).
CREATE TABLE union_assessments (
    seq               bigserial PRIMARY KEY,
    atena_no          text    NOT NULL,
    fiscal_year       integer NOT NULL,
    revision          integer NOT NULL,
    insured_no        text    NOT NULL,
    decided_on        date    NOT NULL,
    reason            text    NOT NULL,
    annual_premium    bigint  NOT NULL CHECK (annual_premium >= 0),
    reduction         text    NOT NULL,
    components        jsonb   NOT NULL,
    collecting_months integer[] NOT NULL,
    applied           boolean NOT NULL,
    refused_reason    text,
    event_id          text    NOT NULL UNIQUE,
    received_on       date,                       -- the business date it was applied on
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX union_assessments_person ON union_assessments (atena_no, fiscal_year, revision);

-- Whether koki may bill its own figure until the union's arrives, per 年度: `provisional` (bill
-- koki's figure, marked provisional) or `union` (wait for the union). A 年度 without a row is
-- `provisional`.
CREATE TABLE assessment_sources (
    fiscal_year integer PRIMARY KEY,
    source      text    NOT NULL CHECK (source IN ('union', 'provisional'))
);

-- Whose figure a 期割 plan bills: koki's own (provisional until the union decides) or the union's.
ALTER TABLE installment_plans ADD COLUMN basis text NOT NULL DEFAULT 'koki' CHECK (basis IN ('koki', 'union'));

-- 突合: every disagreement between a union decision and koki's own computation is a work item,
-- open until a later fact makes them agree (closed automatically) or a clerk closes it with a
-- reason. One open row per person, 年度 and kind.
CREATE TABLE discrepancies (
    id             bigserial PRIMARY KEY,
    atena_no       text    NOT NULL,
    fiscal_year    integer,
    kind           text    NOT NULL CHECK (kind IN ('annual-premium', 'reduction', 'beyond-limit', 'qualification',
                                                    'burden-ratio', 'unknown-to-union', 'unknown-to-koki')),
    koki_value     text,
    union_value    text,
    opened_on      date    NOT NULL,
    closed_on      date,
    closed_reason  text,
    closed_by      text,
    event_id       text    NOT NULL
);
CREATE UNIQUE INDEX discrepancies_open ON discrepancies (atena_no, coalesce(fiscal_year, 0), kind) WHERE closed_on IS NULL;
CREATE INDEX discrepancies_person ON discrepancies (atena_no);

GRANT SELECT, INSERT ON union_assessments TO koki_tax;
GRANT USAGE ON SEQUENCE union_assessments_seq_seq TO koki_tax;
GRANT SELECT ON assessment_sources TO koki_tax;
GRANT SELECT, INSERT, UPDATE ON discrepancies TO koki_tax;
GRANT USAGE ON SEQUENCE discrepancies_id_seq TO koki_tax;
GRANT SELECT ON union_assessments, assessment_sources, discrepancies TO koki_admin;
GRANT INSERT, UPDATE, DELETE ON assessment_sources TO koki_admin;
GRANT UPDATE (closed_on, closed_reason, closed_by) ON discrepancies TO koki_admin;

-- Gauges the relay publishes from the store (counts only): open discrepancies by kind (every kind,
-- zeros included), and late fees waiting for a rate.
CREATE VIEW store_gauges AS
SELECT 'koki_reconcile_open'::text AS name, 'kind'::text AS label, k.kind AS label_value,
       (SELECT count(*) FROM discrepancies d WHERE d.kind = k.kind AND d.closed_on IS NULL)::bigint AS value
FROM (VALUES ('annual-premium'), ('reduction'), ('beyond-limit'), ('qualification'), ('burden-ratio'),
             ('unknown-to-union'), ('unknown-to-koki')) AS k(kind)
UNION ALL
SELECT 'koki_late_fee_pending', '', '', (SELECT count(*) FROM late_fee_pending)::bigint;
GRANT SELECT ON store_gauges TO koki_relay, koki_admin;

-- 期割情報 says whether the plan bills koki's own figure (provisional) or the union's.
UPDATE transfer_rules SET fields = fields || ARRAY['provisional']
WHERE destination = 'koiki' AND event_type = 'koiki.installments' AND NOT ('provisional' = ANY(fields));
