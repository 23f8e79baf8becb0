-- What the dashboards and alert rules (ops/) need from the store, published by the relay as
-- gauges (counts and ages only, bounded labels, never a person): rows held now, the age of the
-- oldest row waiting, each worker's business date behind today in Tokyo, open dead letters per
-- consumer group, and the last `koki audit verify` (which now records its outcome).
CREATE TABLE audit_verifications (
    id          bigserial   PRIMARY KEY,
    verified_at timestamptz NOT NULL DEFAULT now(),
    ok          boolean     NOT NULL,
    rows        bigint      NOT NULL
);
GRANT SELECT, INSERT ON audit_verifications TO koki_admin;
GRANT USAGE ON SEQUENCE audit_verifications_id_seq TO koki_admin;

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
                0)::bigint
UNION ALL
SELECT 'koki_outbox_held_rows', '', '', (SELECT count(*) FROM outbox WHERE held_at IS NOT NULL)::bigint
UNION ALL
SELECT 'koki_outbox_oldest_unpublished_seconds', '', '',
       coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL AND held_at IS NULL), 0)::bigint
UNION ALL
SELECT 'koki_business_date_age_days', 'worker', w.worker,
       ((now() AT TIME ZONE 'Asia/Tokyo')::date - w.business_date)::bigint
FROM worker_calendars w
UNION ALL
SELECT 'koki_dead_letters_open', 'group', g.consumer_group,
       (SELECT count(*) FROM dead_letters d WHERE d.consumer_group = g.consumer_group AND d.status = 'open')::bigint
FROM (VALUES ('koki-resident-worker'), ('koki-tax-worker'), ('koki-payment-worker')) AS g(consumer_group)
UNION ALL
SELECT 'koki_audit_verification_failed', '', '',
       coalesce((SELECT CASE WHEN ok THEN 0 ELSE 1 END FROM audit_verifications ORDER BY id DESC LIMIT 1), 0)::bigint
UNION ALL
SELECT 'koki_audit_verification_age_seconds', '', '',
       coalesce((SELECT extract(epoch FROM now() - max(verified_at)) FROM audit_verifications), -1)::bigint;
