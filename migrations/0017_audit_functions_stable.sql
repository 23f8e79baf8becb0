-- audit_hash and audit_content were declared IMMUTABLE, but concat_ws, to_char and
-- array_to_string are only STABLE, so PostgreSQL never inlined them: audit_append planned both
-- again for every row, about half of the ~80 µs each published transfer cost the relay. Declared
-- STABLE (what they are), they are inlined into audit_append's statement, planned once per
-- session; the canonical text stays defined once, in audit_content, which `koki audit verify`
-- recomputes. audit_append also inserts a batch's rows at once.
ALTER FUNCTION audit_content(audit_log) STABLE;
ALTER FUNCTION audit_hash(text, audit_log) STABLE;

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
        rec.hash := audit_hash(prev, rec);
        appended := appended || rec;
        prev := rec.hash;
    END LOOP;
    INSERT INTO audit_log SELECT * FROM unnest(appended);
END $$;
