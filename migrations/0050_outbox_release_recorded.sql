-- Releasing a held outbox row is recorded like discarding one (`koki outbox release --reason`).
ALTER TABLE operator_actions DROP CONSTRAINT operator_actions_action_check;
ALTER TABLE operator_actions ADD CONSTRAINT operator_actions_action_check
    CHECK (action IN ('offset-set', 'outbox-discard', 'outbox-release'));
