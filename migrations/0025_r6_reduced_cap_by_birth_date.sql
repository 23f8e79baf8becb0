-- The R6 transitional cap (730,000) belongs to people born on or before 1949-03-31 (75 before
-- R6 began, whoever insured them then — here or another prefecture's union) and to people
-- insured by 障害認定 on or before 2025-03-31 (「令和7年3月31日までに障害認定により資格を取得された方」:
-- 兵庫県 and 静岡県 後期高齢者医療広域連合); not to "insured here at the end of R5".
-- `continuing_cap` keeps its name: the cap those people have.
ALTER TABLE premium_rates ADD COLUMN reduced_cap_born_by date, ADD COLUMN reduced_cap_certified_by date;
UPDATE premium_rates SET reduced_cap_born_by = '1949-03-31', reduced_cap_certified_by = '2025-03-31'
WHERE fiscal_year = 2024 AND component = 'medical';
