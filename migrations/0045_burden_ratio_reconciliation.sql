-- 突合 of the 負担割合 (BurdenRatioReconciliation): the resident worker, which keeps the union's
-- 資格 decisions, reads koki's judgment; the tax worker, which judges, reads the union's.
GRANT SELECT ON burden_ratios TO koki_resident;
GRANT SELECT ON union_qualifications TO koki_tax;
