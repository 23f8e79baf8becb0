-- 仮徴収: the April, June and August pension deductions of a 年度, at the previous February's
-- amount, are receivables from April (DOMAIN.md 徴収). The plan that holds them until the July
-- 本算定 is the law's carry-over, neither koki's figure nor the union's.
ALTER TABLE installment_plans DROP CONSTRAINT installment_plans_basis_check;
ALTER TABLE installment_plans ADD CONSTRAINT installment_plans_basis_check CHECK (basis IN ('koki', 'union', 'interim'));

-- The 仮徴収 of each 年度 is set once, on its first business day.
CREATE TABLE interim_runs (
    fiscal_year integer PRIMARY KEY,
    run_on      date    NOT NULL,
    persons     integer NOT NULL CHECK (persons >= 0)
);

-- 平準化 (介護保険法 140条2項 ただし書, applied by 高確法 110条), configuration per 年度 from a
-- 年度 on: whether the June and August 仮徴収 are evened out toward half of the previous 年度's
-- premium, and the least difference from April's amount that makes it worth a notice (秋田市
-- publishes 1,000 yen, 横浜市 3,000; the 広域連合's own is to be confirmed). A 年度 before the
-- first row: no 平準化.
CREATE TABLE pension_leveling (
    from_fiscal_year integer PRIMARY KEY,
    enabled          boolean NOT NULL,
    threshold        integer NOT NULL CHECK (threshold >= 0)
);

GRANT SELECT, INSERT ON interim_runs TO koki_tax;
GRANT SELECT ON interim_runs TO koki_payment, koki_resident;
GRANT SELECT ON pension_leveling TO koki_tax, koki_payment, koki_resident;
