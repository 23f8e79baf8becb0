-- 減免 lowers the 期 due on or after the application (or disaster) date, not the whole year
-- (DOMAIN.md 徴収). The day is kept with the decision; each 期 keeps its amount before the 減免 so
-- a later 更正 revises the plan as it would stand without it and the 減免 is applied again.
ALTER TABLE premium_exemptions ADD COLUMN from_date date;
UPDATE premium_exemptions SET from_date = decided_date WHERE from_date IS NULL;
ALTER TABLE premium_exemptions ALTER COLUMN from_date SET NOT NULL;
ALTER TABLE installments ADD COLUMN before_exemption bigint CHECK (before_exemption >= amount);
