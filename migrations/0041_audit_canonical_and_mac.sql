-- The transfer log's hash over an unambiguous text, and a keyed MAC beside the chain (security
-- review L1, H7).
-- 1. L1: rows written from now on (canon = 2) hash a JSON array — a value can no longer pass for
--    a separator ('|' in a legal basis, ',' in a field name). Older rows (canon = 1) keep the text
--    they were hashed with; `audit_hash` reads each row's version.
-- 2. H7: `audit_append` returns each new row's seq and hash, so the relay can add an HMAC of them
--    under a key the database never holds (KOKI_AUDIT_MAC_KEY_FILE) to `audit_macs`, through
--    `audit_mac_append`. Whoever rewrites rows and recomputes the chain — the owner, a superuser —
--    cannot recompute the MACs: `koki audit verify --mac-key-file` finds them.
GRANT koki_audit TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO koki_audit;

ALTER TABLE audit_log ADD COLUMN canon smallint NOT NULL DEFAULT 1;

-- Plain SQL functions without SET options (PostgreSQL inlines them into audit_append's loop and
-- into verify's scan); calls schema-qualified.
CREATE FUNCTION audit_content_v2(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array('audit-v2', a.seq, a.destination, a.event_id, a.event_type, a.atena_no, to_jsonb(a.fields),
                             a.legal_basis, to_char(a.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             a.relay_instance, to_jsonb(a.subjects))::text
$$;
CREATE OR REPLACE FUNCTION audit_hash(prev text, a audit_log) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE a.canon
        WHEN 2 THEN encode(sha256(convert_to(coalesce(prev, '') || chr(10) || public.audit_content_v2(a), 'UTF8')), 'hex')
        ELSE encode(sha256(convert_to(coalesce(prev, '') || '|' || public.audit_content(a), 'UTF8')), 'hex')
    END
$$;

DROP FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text);
CREATE FUNCTION audit_append(destinations text[], event_ids text[], event_types text[], atena_nos text[],
                             fields_json jsonb[], bases text[], subjects_json jsonb[], instance text)
    RETURNS TABLE (seq bigint, hash text) LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    prev text;
    next_seq bigint;
    rec public.audit_log;
    appended public.audit_log[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(1802465129 + 3, 0);
    SELECT a.hash, a.seq INTO prev, next_seq FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1;
    next_seq := coalesce(next_seq, 0);
    FOR i IN 1 .. coalesce(array_length(event_ids, 1), 0) LOOP
        next_seq := next_seq + 1;
        rec := ROW(next_seq, destinations[i], event_ids[i], event_types[i], atena_nos[i],
                   ARRAY(SELECT jsonb_array_elements_text(fields_json[i])), bases[i],
                   date_trunc('milliseconds', clock_timestamp()), instance, prev, '',
                   ARRAY(SELECT jsonb_array_elements_text(subjects_json[i])), 2)::public.audit_log;
        rec.hash := public.audit_hash(prev, rec);
        appended := appended || rec;
        prev := rec.hash;
    END LOOP;
    INSERT INTO public.audit_log SELECT * FROM unnest(appended);
    RETURN QUERY SELECT r.seq, r.hash FROM unnest(appended) AS r;
END $$;

CREATE TABLE audit_macs (
    seq bigint PRIMARY KEY,
    mac text   NOT NULL
);
CREATE TRIGGER audit_macs_append_only BEFORE UPDATE OR DELETE ON audit_macs
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER audit_macs_no_truncate BEFORE TRUNCATE ON audit_macs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
CREATE FUNCTION audit_mac_append(seqs bigint[], macs text[]) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO public.audit_macs (seq, mac) SELECT * FROM unnest(seqs, macs)
$$;

ALTER FUNCTION audit_content_v2(audit_log) OWNER TO koki_audit;
ALTER FUNCTION audit_hash(text, audit_log) OWNER TO koki_audit;
ALTER FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) OWNER TO koki_audit;
ALTER TABLE audit_macs OWNER TO koki_audit;
ALTER FUNCTION audit_mac_append(bigint[], text[]) OWNER TO koki_audit;
REVOKE EXECUTE ON FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) TO koki_relay;
REVOKE EXECUTE ON FUNCTION audit_mac_append(bigint[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_mac_append(bigint[], text[]) TO koki_relay;
GRANT SELECT ON audit_macs TO koki_relay, koki_admin;
REVOKE CREATE ON SCHEMA public FROM koki_audit;
REVOKE koki_audit FROM CURRENT_USER;
