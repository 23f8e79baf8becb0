-- 延滞金: a rate for every year a 納期 can still be open. 後期高齢者医療 began in April 2008;
-- 地方税法 附則3条の2 (延滞金の割合等の特例), the same table as 国税's 延滞税: up to 2013 the
-- 特例 lowered only the first tier (the later one stayed at 14.6 %). A year missing here is an
-- error the payment worker reports, never a silent 7.3 % / 14.6 % (see late_fee_pending).
INSERT INTO late_fee_rates VALUES
    (2008, 4.7, 14.6), (2009, 4.5, 14.6), (2010, 4.3, 14.6), (2011, 4.3, 14.6), (2012, 4.3, 14.6), (2013, 4.3, 14.6),
    (2014, 2.9, 9.2), (2015, 2.8, 9.1), (2016, 2.8, 9.1), (2017, 2.7, 9.0), (2018, 2.6, 8.9), (2019, 2.6, 8.9),
    (2020, 2.6, 8.9), (2021, 2.5, 8.8)
ON CONFLICT (year) DO NOTHING;

-- A late fee that could not be computed for want of a rate: charged on the first business day
-- after the rate is added. The person is found through the receivable; nothing personal here.
CREATE TABLE late_fee_pending (
    receivable_id bigint  PRIMARY KEY REFERENCES receivables (id),
    paid_on       date    NOT NULL,
    missing_year  integer NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON late_fee_pending TO koki_payment;
GRANT SELECT ON late_fee_pending TO koki_admin;
