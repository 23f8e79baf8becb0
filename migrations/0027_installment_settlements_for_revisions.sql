-- A 減額更正 lowers the unpaid 期 first (DOMAIN.md 徴収), so the tax worker must know what each
-- premium 期 has received. It gets this one view of 収納 — per 期, the sum of payments and 充当 —
-- and nothing else of the ledger (the view runs with its owner's rights).
CREATE VIEW installment_settlements AS
SELECT r.atena_no, r.fiscal_year, r.method, r.installment_no,
       coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('payment', 'appropriation')), 0)::bigint AS settled
FROM receivables r JOIN ledger l ON l.receivable_id = r.id
WHERE r.kind = 'premium'
GROUP BY r.atena_no, r.fiscal_year, r.method, r.installment_no;
GRANT SELECT ON installment_settlements TO koki_tax, koki_admin;
