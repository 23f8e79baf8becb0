-- The heads of the transfer log and the access log in one read, for a checkpoint published
-- outside the database (security review H7): the scheduler (koki_clock) publishes one with each
-- business day it publishes, without any right to read either log.
CREATE FUNCTION audit_heads(OUT seq bigint, OUT hash text, OUT access_id bigint, OUT access_hash text, OUT taken_at text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT (SELECT a.seq FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1),
           (SELECT a.hash FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1),
           (SELECT r.id FROM public.access_log r ORDER BY r.id DESC LIMIT 1),
           (SELECT r.hash FROM public.access_log r ORDER BY r.id DESC LIMIT 1),
           to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
GRANT koki_audit TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO koki_audit;
ALTER FUNCTION audit_heads() OWNER TO koki_audit;
REVOKE EXECUTE ON FUNCTION audit_heads() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_heads() TO koki_clock, koki_admin;
REVOKE CREATE ON SCHEMA public FROM koki_audit;
REVOKE koki_audit FROM CURRENT_USER;
