-- The union's 資格 decisions (koiki.qualification-decided), as received: each a row, a later one
-- replacing the view, never the history. The union's 被保険者番号 replaces a provisional one in
-- `residents`; the number it replaced is kept here.
CREATE TABLE union_qualifications (
    seq          bigserial PRIMARY KEY,
    atena_no     text    NOT NULL,
    insured_no   text    NOT NULL,
    decided_on   date    NOT NULL,
    periods      jsonb   NOT NULL,
    burden_ratio jsonb,
    event_id     text    NOT NULL UNIQUE,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX union_qualifications_person ON union_qualifications (atena_no);

CREATE TABLE insured_number_history (
    atena_no       text    NOT NULL,
    insured_number text    NOT NULL,
    replaced_on    date,
    replaced_by    text    NOT NULL,       -- the union decision's event id
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX insured_number_history_person ON insured_number_history (atena_no);

GRANT SELECT, INSERT ON union_qualifications, insured_number_history TO koki_resident;
GRANT USAGE ON SEQUENCE union_qualifications_seq_seq TO koki_resident;
GRANT SELECT, INSERT, UPDATE ON discrepancies TO koki_resident;
GRANT USAGE ON SEQUENCE discrepancies_id_seq TO koki_resident;
GRANT SELECT ON union_qualifications, insured_number_history TO koki_admin;
