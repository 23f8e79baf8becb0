-- The access log is hash-chained like the transfer log (security review M5): each row carries
-- the previous row's hash and its own, over an unambiguous canonical text (a JSON array, so no
-- value can pass for a separator). The row's number, time and database login are set by the
-- chain's trigger, not by the reader: nobody can back-date a read or give it another login.
-- Its owner becomes koki_audit (NOLOGIN, as the transfer log's); `koki audit verify` recomputes
-- the chain and `koki audit checkpoint` records its head outside the database.
ALTER TABLE access_log ADD COLUMN prev_hash text, ADD COLUMN hash text;
ALTER TABLE access_log ALTER COLUMN id DROP DEFAULT;

CREATE FUNCTION access_content(a access_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array('access-v1', a.id, to_char(a.accessed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             a.session_login, a.operator, a.command, a.subject, to_jsonb(a.fields), a.purpose)::text
$$;
CREATE FUNCTION access_hash(prev text, a access_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(prev, '') || chr(10) || public.access_content(a), 'UTF8')), 'hex')
$$;

-- One append at a time (a transaction-scoped lock: the next reader's row follows this one's
-- once it commits); volatile, so its reads see what committed while it waited.
CREATE FUNCTION access_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7370, 1);  -- koki's access log
    NEW.id := nextval('public.access_log_id_seq');
    NEW.accessed_at := now();
    NEW.session_login := session_user;
    NEW.prev_hash := (SELECT hash FROM public.access_log ORDER BY id DESC LIMIT 1);
    NEW.hash := public.access_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END $$;

-- Rows from before the chain: chained in their order.
ALTER TABLE access_log DISABLE TRIGGER access_log_append_only;
DO $$
DECLARE
    r access_log;
    prev text;
BEGIN
    FOR r IN SELECT * FROM access_log ORDER BY id LOOP
        r.prev_hash := prev;
        prev := access_hash(prev, r);
        UPDATE access_log SET prev_hash = r.prev_hash, hash = prev WHERE id = r.id;
    END LOOP;
END $$;
ALTER TABLE access_log ENABLE TRIGGER access_log_append_only;
ALTER TABLE access_log ALTER COLUMN hash SET NOT NULL;

CREATE TRIGGER access_log_chain BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION access_log_chain();

GRANT koki_audit TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO koki_audit;
ALTER TABLE access_log OWNER TO koki_audit;
ALTER FUNCTION access_content(access_log) OWNER TO koki_audit;
ALTER FUNCTION access_hash(text, access_log) OWNER TO koki_audit;
ALTER FUNCTION access_log_chain() OWNER TO koki_audit;
REVOKE CREATE ON SCHEMA public FROM koki_audit;
REVOKE koki_audit FROM CURRENT_USER;
