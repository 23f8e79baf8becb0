-- 口座振替 on request (高確法施行令 23条3号): the person's 特別徴収 stops from the next payment a
-- 中止 can reach, what it would have deducted is billed by 普通徴収 (口座振替), and no later 依頼
-- starts it again. The account itself stays with the counter system: koki keeps its reference.
CREATE TABLE payment_method_changes (
    event_id         text    PRIMARY KEY,
    atena_no         text    NOT NULL,
    application_no   text    NOT NULL,
    received_date    date    NOT NULL,
    effective_date   date    NOT NULL,
    bank_account_ref text    NOT NULL,
    recorded_on      date                      -- the business date it was applied
);
CREATE INDEX payment_method_changes_person ON payment_method_changes (atena_no);

GRANT SELECT, INSERT ON payment_method_changes TO koki_tax;
GRANT SELECT ON payment_method_changes TO koki_admin;
