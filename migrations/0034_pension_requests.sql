-- 特別徴収 requests to the 年金保険者, through 国保連 (the 経由機関): the 依頼 of the 本徴収, a
-- 変更 of amounts (平準化, a 更正), and the 中止 (資格喪失, a lowered premium, a switch to 口座振替)
-- — each with the answer the 年金保険者 sends back (`pension.request-result`). The city's own
-- record of what it asked and what it was told: the person's history and `koki person` read it.
CREATE SEQUENCE pension_request_seq;
CREATE TABLE pension_requests (
    request_id      text    PRIMARY KEY,       -- PR<年度>-<n>: names no person
    atena_no        text    NOT NULL,
    fiscal_year     integer NOT NULL,
    kind            text    NOT NULL CHECK (kind IN ('request', 'change', 'stop')),
    sent_on         date    NOT NULL,
    amounts         jsonb   NOT NULL,          -- [{month, amount}] asked for (empty for a 中止)
    reason          text,                      -- why a 中止 (or a 変更) was sent
    event_id        text    NOT NULL,
    accepted        boolean,                   -- null until the result arrives
    result_reason   text,
    result_amounts  jsonb,
    result_on       date,
    result_event_id text
);
CREATE INDEX pension_requests_person ON pension_requests (atena_no, fiscal_year);

-- 国保連 as a destination: what it may receive is the request itself (who, the 年度, the
-- amounts per payment month) and nothing else of the person.
INSERT INTO transfer_destinations (destination, name, topic, legal_basis, active_from, active_to) VALUES
    ('kokuhoren', '埼玉県国民健康保険団体連合会 (経由機関: 年金保険者への特別徴収の通知)', 'transfer.kokuhoren.v1',
     '高齢者の医療の確保に関する法律 第110条 (介護保険法 第134条第7項, 第136条, 第138条, 第140条の準用: 連合会を経由した通知)',
     '2008-04-01', NULL);
INSERT INTO transfer_rules VALUES
    ('kokuhoren', 'kokuhoren.pension-request',
     ARRAY['requestId', 'atenaNo', 'fiscalYear', 'kind', 'sentOn', 'amounts[].month', 'amounts[].amount', 'reason'], false, true);

GRANT SELECT, INSERT, UPDATE ON pension_requests TO koki_tax;
GRANT USAGE ON SEQUENCE pension_request_seq TO koki_tax;
GRANT SELECT ON pension_requests TO koki_admin;
