-- The transfer log an operator cannot rewrite from the database side (security review H7).
-- 1. Its own owner, a role nobody logs in as: the table and the function that appends to it
--    belong to koki_audit, and audit_append runs as that owner (SECURITY DEFINER, with a fixed
--    search_path), so the relay needs no INSERT on the table: it may only call the function,
--    which computes seq, time and hash itself.
-- 2. The guard compares the caller with the table's owner by the table's oid, not by a name
--    looked up in current_schema() (a role with TEMP could shadow audit_log with a temporary
--    table of its own and pass); TRUNCATE is refused too.
-- What a superuser does is outside any database guard: the chain's checkpoints outside the
-- database are what shows that (see `koki audit verify`).
-- Roles are cluster-wide, so creating it tolerates an existing one (as 0007 does).
DO $$
BEGIN
    CREATE ROLE koki_audit NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;
-- The migrating login must be able to act as the new owner for ALTER … OWNER; it gives that up
-- right after.
GRANT koki_audit TO CURRENT_USER;
-- A new owner needs CREATE on the schema (PostgreSQL 15); only for these statements.
GRANT CREATE ON SCHEMA public TO koki_audit;
ALTER TABLE audit_log OWNER TO koki_audit;
ALTER FUNCTION audit_content(audit_log) OWNER TO koki_audit;
ALTER FUNCTION audit_hash(text, audit_log) OWNER TO koki_audit;
ALTER FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) OWNER TO koki_audit;
ALTER FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text)
    SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
REVOKE EXECUTE ON FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text[], text[], text[], text[], jsonb[], text[], jsonb[], text) TO koki_relay;
REVOKE INSERT ON audit_log FROM koki_relay;
GRANT SELECT ON audit_log TO koki_relay, koki_admin;

CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog AS $$
BEGIN
    IF (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
       <> (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'public.audit_log'::regclass) THEN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
ALTER FUNCTION audit_log_guard() OWNER TO koki_audit;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE CREATE ON SCHEMA public FROM koki_audit;
REVOKE koki_audit FROM CURRENT_USER;
