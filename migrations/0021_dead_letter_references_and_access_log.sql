-- Dead letters without personal data outside their table (security review H4). The
-- `<topic>.dlq` topics now carry a reference only (topic, partition, offset, ce_id, ce_type,
-- group, reason): the body — a name, an address, a 個人番号 in clear — stays in dead_letters,
-- is dropped when the letter is replayed or discarded, and after KOKI_DEAD_LETTER_RETENTION_DAYS
-- when nobody resolved it. Bodies of letters already resolved are dropped here.
-- The body is sealed to the operators' public key (KOKI_DLQ_PUBLIC_KEY; HPKE): the workers that
-- write it cannot read it back, and only `koki dlq` with the private key opens it. Bodies of
-- letters written before this migration stay in clear until resolved or purged.
ALTER TABLE dead_letters ADD COLUMN payload_sealed boolean NOT NULL DEFAULT false;
UPDATE dead_letters SET payload = NULL WHERE status <> 'open';
CREATE INDEX dead_letters_bodies ON dead_letters (consumer_group, dead_lettered_at) WHERE payload IS NOT NULL;
-- The copies the old code put in the outbox for `.dlq` (key, headers, body) go: the letters stay.
DELETE FROM outbox WHERE topic LIKE '%.dlq' AND ce_type <> 'koki.dead-letter';

-- Each worker drops its own group's old bodies. The workers may not read dead_letters (a body
-- written before this migration is in clear), so they do it through this function, which reads
-- nothing back to them.
CREATE FUNCTION purge_dead_letter_bodies(group_name text, older_than_days int) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH purged AS (
        UPDATE public.dead_letters SET payload = NULL
        WHERE consumer_group = group_name AND payload IS NOT NULL
          AND dead_lettered_at < now() - make_interval(days => older_than_days)
        RETURNING 1)
    SELECT count(*)::int FROM purged
$$;
REVOKE EXECUTE ON FUNCTION purge_dead_letter_bodies(text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_dead_letter_bodies(text, int) TO koki_resident, koki_tax, koki_payment;

-- Who read what, why and when (security review M5; the 番号法 guidelines' 安全管理措置): every
-- read of a person's data by a person — `koki person`, `koki disclose`, a dead letter's body —
-- writes a row first, in the read's transaction. Append-only for every role: corrections are new
-- rows. `koki disclose` shows the person who looked at their data.
CREATE TABLE access_log (
    id            bigserial   PRIMARY KEY,
    accessed_at   timestamptz NOT NULL DEFAULT now(),
    -- The database login that read, not a name the operator types.
    session_login text        NOT NULL DEFAULT session_user,
    -- The name the operator gave (--operator-name / $USER), for the report.
    operator      text        NOT NULL,
    command       text        NOT NULL,
    -- What was read: `person:<宛名番号>` or `dead_letter:<id>`.
    subject       text        NOT NULL,
    -- The kinds of data shown (the command's sections), for the person's 開示.
    fields        text[]      NOT NULL DEFAULT '{}',
    -- Why: a case or request reference, required.
    purpose       text        NOT NULL CHECK (btrim(purpose) <> '')
);
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
GRANT SELECT, INSERT ON access_log TO koki_admin;
GRANT USAGE ON SEQUENCE access_log_id_seq TO koki_admin;
CREATE INDEX access_log_subject ON access_log (subject, accessed_at);

-- The transfer policy is data; who changed it, when, from what to what is kept (a rule widened
-- for an hour and put back used to leave no trace). Every role that may edit the policy tables
-- writes here through the trigger; nobody may edit the history.
CREATE TABLE transfer_policy_history (
    id            bigserial   PRIMARY KEY,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    session_login text        NOT NULL DEFAULT session_user,
    table_name    text        NOT NULL,
    operation     text        NOT NULL,
    old_row       jsonb,
    new_row       jsonb
);
CREATE FUNCTION transfer_policy_record() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.transfer_policy_history (table_name, operation, old_row, new_row)
    VALUES (TG_TABLE_NAME, TG_OP,
            CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP IN ('UPDATE', 'INSERT') THEN to_jsonb(NEW) END);
    RETURN NULL;
END $$;
CREATE TRIGGER transfer_rules_history AFTER INSERT OR UPDATE OR DELETE ON transfer_rules
    FOR EACH ROW EXECUTE FUNCTION transfer_policy_record();
CREATE TRIGGER transfer_destinations_history AFTER INSERT OR UPDATE OR DELETE ON transfer_destinations
    FOR EACH ROW EXECUTE FUNCTION transfer_policy_record();
CREATE TRIGGER transfer_policy_history_append_only BEFORE UPDATE OR DELETE ON transfer_policy_history
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER transfer_policy_history_no_truncate BEFORE TRUNCATE ON transfer_policy_history
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
GRANT SELECT ON transfer_policy_history TO koki_admin;
