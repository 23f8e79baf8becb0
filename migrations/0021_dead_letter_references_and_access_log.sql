-- Dead letters without personal data outside their table (security review H4). The
-- `<topic>.dlq` topics now carry a reference only (topic, partition, offset, ce_id, ce_type,
-- group, reason): the body — a name, an address, a 個人番号 in clear — stays in dead_letters,
-- is dropped when the letter is replayed or discarded, and after KOKI_DEAD_LETTER_RETENTION_DAYS
-- when nobody resolved it. Bodies of letters already resolved are dropped here.
UPDATE dead_letters SET payload = NULL WHERE status <> 'open';
GRANT UPDATE (payload) ON dead_letters TO koki_resident, koki_tax, koki_payment;
CREATE INDEX dead_letters_bodies ON dead_letters (consumer_group, dead_lettered_at) WHERE payload IS NOT NULL;

-- Who read what, why and when: a person's read of raw input (`koki dlq show --payload`) writes
-- a row first. Append-only for every role: corrections are new rows.
CREATE TABLE access_log (
    id            bigserial   PRIMARY KEY,
    accessed_at   timestamptz NOT NULL DEFAULT now(),
    -- The database login that read, not a name the operator types.
    session_login text        NOT NULL DEFAULT session_user,
    -- The name the operator gave (--operator-name / $USER), for the report.
    operator      text        NOT NULL,
    command       text        NOT NULL,
    -- What was read: `dead_letter:<id>`, later `person:<宛名番号>`.
    subject       text        NOT NULL,
    -- Why: a case or request reference, required.
    purpose       text        NOT NULL CHECK (btrim(purpose) <> '')
);
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
GRANT SELECT, INSERT ON access_log TO koki_admin;
GRANT USAGE ON SEQUENCE access_log_id_seq TO koki_admin;
