-- The counter's role (security review, CLI least privilege): `koki person`, `koki premiums-paid`
-- and the 突合 queue (`koki reconcile` list and close) work as koki_clerk — they read the people's
-- records the counter answers from and write the access log, nothing else: no dead letters, no
-- outbox, no transfer or access log to read, no policy, no key material beyond what a masked
-- 個人番号 needs. Every other operator command works as koki_admin, which holds the clerk's
-- grants as well (a member of koki_clerk); `koki migrate` (and `koki keys rotate`, which rewrites
-- every sealed value as a migration does) works as the owner.
DO $$
BEGIN
    CREATE ROLE koki_clerk NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

-- Every table that holds a person's record (it has a 宛名番号) but the logs, the queues and the
-- dead letters; and the reference tables the counter's figures are computed with.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT DISTINCT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'atena_no'
          AND c.table_name NOT IN ('audit_log', 'access_log', 'outbox', 'inbox', 'dead_letters', 'data_subject_requests')
    LOOP
        EXECUTE format('GRANT SELECT ON %I TO koki_clerk', t);
    END LOOP;
END $$;
GRANT SELECT ON households, holidays, premium_rates, premium_year_settings, ordinary_schedule, late_fee_rates,
    refund_interest_rates, assessment_sources, installment_settlements TO koki_clerk;
-- The access log belongs to koki_audit: the migrating login acts as it for this grant only.
GRANT koki_audit TO CURRENT_USER;
GRANT INSERT ON access_log TO koki_clerk;
REVOKE koki_audit FROM CURRENT_USER;
GRANT UPDATE (closed_on, closed_reason, closed_by) ON discrepancies TO koki_clerk;
GRANT koki_clerk TO koki_admin;

-- koki_admin: 開示 exports every table that names the person (tables added after 0007 had no
-- grant for it), and 利用停止 records the request and the stop.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'atena_no'
                 AND table_name NOT IN ('audit_log', 'access_log')  -- koki_audit's, read by koki_admin already (0021, 0022)
    LOOP
        EXECUTE format('GRANT SELECT ON %I TO koki_admin', t);
    END LOOP;
END $$;
GRANT INSERT ON data_subject_requests TO koki_admin;
GRANT USAGE ON SEQUENCE data_subject_requests_id_seq TO koki_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_stops TO koki_admin;
