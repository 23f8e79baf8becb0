-- The published checkpoint also records where the transfer log's MACs start (security review
-- H7): whoever can rewrite rows and drop every MAC would otherwise leave a log the verifier
-- reads as "no MAC yet"; against a checkpoint that names the first MAC'd row, a row from there
-- on without its MAC is found.
DROP FUNCTION audit_heads();
GRANT koki_audit TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO koki_audit;
CREATE FUNCTION audit_heads(OUT seq bigint, OUT hash text, OUT access_id bigint, OUT access_hash text, OUT taken_at text,
                            OUT mac_from bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT (SELECT a.seq FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1),
           (SELECT a.hash FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1),
           (SELECT r.id FROM public.access_log r ORDER BY r.id DESC LIMIT 1),
           (SELECT r.hash FROM public.access_log r ORDER BY r.id DESC LIMIT 1),
           to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           (SELECT min(m.seq) FROM public.audit_macs m)
$$;
ALTER FUNCTION audit_heads() OWNER TO koki_audit;
REVOKE EXECUTE ON FUNCTION audit_heads() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_heads() TO koki_clock, koki_admin;
REVOKE CREATE ON SCHEMA public FROM koki_audit;
REVOKE koki_audit FROM CURRENT_USER;
