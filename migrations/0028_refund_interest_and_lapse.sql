-- 還付加算金 (地方税法 17条の4, by the city's ordinance) and the lapse of unclaimed refunds (時効,
-- 2 years). Rates by calendar year: 2008–2013 the 特例 rate, 2014–2020 特例基準割合, from 2021
-- 平均貸付割合 + 0.5 % (2025 and 2026 from the published 平均貸付割合). A year missing here holds
-- the refund's interest until it is added, like late_fee_rates.
CREATE TABLE refund_interest_rates (
    year    integer PRIMARY KEY,
    percent numeric(6,3) NOT NULL CHECK (percent >= 0)
);
INSERT INTO refund_interest_rates VALUES
    (2008, 4.7), (2009, 4.5), (2010, 4.3), (2011, 4.3), (2012, 4.3), (2013, 4.3), (2014, 1.9), (2015, 1.8), (2016, 1.8),
    (2017, 1.7), (2018, 1.6), (2019, 1.6), (2020, 1.6), (2021, 1.0), (2022, 0.9), (2023, 0.9), (2024, 0.9), (2025, 0.9),
    (2026, 1.3);

-- A refund carries its 還付加算金, decided with it (and the first day it counted). The ledger
-- records 'refund-interest' (the city's money, paid out with the refund) and 'refund-lapsed' (unpaid
-- refunds nobody claimed within two years: oldest first, as payments settle the oldest first).
ALTER TABLE refunds ADD COLUMN interest bigint NOT NULL DEFAULT 0 CHECK (interest >= 0),
                    ADD COLUMN interest_from date;
ALTER TABLE ledger DROP CONSTRAINT ledger_entry_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_entry_check CHECK (entry IN (
    'charge', 'payment', 'appropriation', 'write-off', 'dunning', 'reminder', 'overpayment', 'refund', 'refund-paid',
    'suspense', 'suspense-release', 'refund-interest', 'refund-lapsed'));

GRANT SELECT ON refund_interest_rates TO koki_payment;
GRANT INSERT, UPDATE, DELETE ON refund_interest_rates TO koki_admin;
GRANT SELECT ON refund_interest_rates TO koki_admin;
