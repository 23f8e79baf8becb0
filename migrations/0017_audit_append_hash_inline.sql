-- audit_append hashed each row through audit_hash and audit_content: SQL functions that
-- PostgreSQL does not inline (concat_ws is only STABLE, and they are declared IMMUTABLE), so
-- each was planned again for every row — about half of the ~80 µs a published transfer cost
-- the relay. The loop now computes the same canonical text itself (one plan per session) and
-- inserts the batch's rows at once. audit_content and audit_hash stay the definition that
-- `koki audit verify` recomputes; a test holds the rows audit_append writes to them.
CREATE OR REPLACE FUNCTION audit_append(destinations text[], event_ids text[], event_types text[], atena_nos text[],
                                        fields_json jsonb[], bases text[], subjects_json jsonb[], instance text)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    prev text;
    next_seq bigint;
    rec audit_log;
    appended audit_log[] := '{}';
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
        -- audit_hash(prev, rec), spelled out.
        rec.hash := encode(sha256(convert_to(coalesce(prev, '') || '|' || concat_ws('|',
                        rec.seq, rec.destination, rec.event_id, rec.event_type, coalesce(rec.atena_no, ''),
                        array_to_string(rec.fields, ','), rec.legal_basis,
                        to_char(rec.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), rec.relay_instance,
                        CASE WHEN rec.subjects IS NOT NULL THEN 'subjects=' || array_to_string(rec.subjects, ',') END),
                        'UTF8')), 'hex');
        appended := appended || rec;
        prev := rec.hash;
    END LOOP;
    INSERT INTO audit_log SELECT * FROM unnest(appended);
END $$;
