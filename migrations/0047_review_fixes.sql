-- Found on a second read:
-- 1. `koki rates approve-provisional` works as koki_admin: its upsert needs UPDATE, and the
--    approval names the login (session_user), not the role it works as.
GRANT UPDATE (reason, approved_by, approved_at) ON provisional_rate_approvals TO koki_admin;
ALTER TABLE provisional_rate_approvals ALTER COLUMN approved_by SET DEFAULT session_user;
