-- 開示・訂正・利用停止 (seed IV): requests are recorded; a recorded 利用停止 stops every transfer
-- about the person that no statute requires (transfer_rules.required_by_statute); the
-- transfer log names every person a transfer was about, so a disclosure lists them all.

CREATE TABLE data_subject_requests (
    id          bigserial   PRIMARY KEY,
    atena_no    text        NOT NULL CHECK (atena_no ~ '^[0-9]{10}$'),
    kind        text        NOT NULL CHECK (kind IN ('disclosure', 'usage-stop', 'usage-stop-lifted')),
    received_on date        NOT NULL,
    recorded_by text        NOT NULL,
    reference   text,       -- the city's 受付番号
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_subject_requests_person ON data_subject_requests (atena_no, id);

-- People whose 利用停止 is in force (a row per person; lifting removes it, the requests keep the history).
CREATE TABLE usage_stops (
    atena_no   text        PRIMARY KEY,
    request_id bigint      NOT NULL REFERENCES data_subject_requests (id),
    since      timestamptz NOT NULL DEFAULT now()
);

-- Every 宛名番号 a published transfer was about (the key, members of a 住基情報, a deceased
-- person of a 葬祭費 application …). NULL on rows written before this migration.
ALTER TABLE audit_log ADD COLUMN subjects text[];
CREATE INDEX audit_log_subjects ON audit_log USING gin (subjects);

-- The hash covers the subjects too; concat_ws skips NULL, so rows from before hash as they did.
CREATE OR REPLACE FUNCTION audit_content(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', a.seq, a.destination, a.event_id, a.event_type, coalesce(a.atena_no, ''),
                     array_to_string(a.fields, ','), a.legal_basis,
                     to_char(a.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.relay_instance,
                     CASE WHEN a.subjects IS NOT NULL THEN 'subjects=' || array_to_string(a.subjects, ',') END)
$$;

DROP FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], text);
CREATE FUNCTION audit_append(destinations text[], event_ids text[], event_types text[], atena_nos text[],
                             fields_json jsonb[], bases text[], subjects_json jsonb[], instance text)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    prev text;
    next_seq bigint;
    rec audit_log;
BEGIN
    PERFORM pg_advisory_xact_lock(1802465129 + 3, 0);
    SELECT hash, seq INTO prev, next_seq FROM audit_log ORDER BY seq DESC LIMIT 1;
    next_seq := coalesce(next_seq, 0);
    FOR i IN 1 .. coalesce(array_length(event_ids, 1), 0) LOOP
        next_seq := next_seq + 1;
        rec := ROW(next_seq, destinations[i], event_ids[i], event_types[i], atena_nos[i],
                   ARRAY(SELECT jsonb_array_elements_text(fields_json[i])), bases[i],
                   date_trunc('milliseconds', clock_timestamp()), instance, prev, '',
                   ARRAY(SELECT jsonb_array_elements_text(subjects_json[i])))::audit_log;
        rec.hash := audit_hash(prev, rec);
        INSERT INTO audit_log VALUES (rec.*);
        prev := rec.hash;
    END LOOP;
END $$;

GRANT SELECT ON usage_stops TO koki_relay;
GRANT SELECT ON data_subject_requests, usage_stops TO koki_admin;
