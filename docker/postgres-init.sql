-- Runs once, when the PostgreSQL container first creates its data directory. One login per
-- koki executable; `koki migrate` (as the owner, koki) then creates the NOLOGIN roles with
-- their grants, and the db-grants step makes each login a member of its role.
-- The passwords are the compose example's: set real ones (secrets) for any real deployment.
CREATE ROLE resident_app LOGIN PASSWORD 'resident-app';
CREATE ROLE tax_app LOGIN PASSWORD 'tax-app';
CREATE ROLE payment_app LOGIN PASSWORD 'payment-app';
CREATE ROLE relay_app LOGIN PASSWORD 'relay-app';
CREATE ROLE clock_app LOGIN PASSWORD 'clock-app';
