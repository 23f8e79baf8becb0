-- The July 本算定 does not run on rates the union has not decided (premium_year_settings.provisional,
-- or a 年度 without its own rows) unless someone approved it explicitly, with a reason — a
-- city that bills before the union's rates are known does so on purpose and on the record.
CREATE TABLE provisional_rate_approvals (
    fiscal_year integer PRIMARY KEY,
    reason      text    NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    approved_by text    NOT NULL DEFAULT current_user,
    approved_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON provisional_rate_approvals TO koki_tax;
GRANT SELECT, INSERT, DELETE ON provisional_rate_approvals TO koki_admin;
