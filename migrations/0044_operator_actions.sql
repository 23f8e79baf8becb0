-- What operators change by hand outside the workers' flow, recorded (issue: operations tooling):
-- a partition's position moved (`koki offsets set`: workers read their position from
-- consumer_offsets, so a reset in a Kafka UI does nothing), a held outbox row discarded (`koki
-- outbox discard`). Who (the database login and the name given), what, from what to what, why;
-- append-only. No payload and no person: a subject is a partition or an outbox row's id.
CREATE TABLE operator_actions (
    id            bigserial   PRIMARY KEY,
    acted_at      timestamptz NOT NULL DEFAULT now(),
    session_login text        NOT NULL DEFAULT session_user,
    operator      text        NOT NULL,
    action        text        NOT NULL CHECK (action IN ('offset-set', 'outbox-discard')),
    subject       text        NOT NULL,
    detail        jsonb       NOT NULL,
    reason        text        NOT NULL CHECK (btrim(reason) <> '')
);
CREATE TRIGGER operator_actions_append_only BEFORE UPDATE OR DELETE ON operator_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER operator_actions_no_truncate BEFORE TRUNCATE ON operator_actions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
GRANT SELECT, INSERT ON operator_actions TO koki_admin;
GRANT USAGE ON SEQUENCE operator_actions_id_seq TO koki_admin;
GRANT UPDATE (next_offset, updated_at) ON consumer_offsets TO koki_admin;
GRANT DELETE ON outbox TO koki_admin;
