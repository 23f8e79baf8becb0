-- Runs once, when the PostgreSQL container first creates its data directory (production
-- overlay). The schema's owner is koki_owner, a login that is not a superuser: CREATEROLE for the
-- NOLOGIN roles the migrations create, nothing more. One login per koki executable. Every
-- password is read from its secret file (psql's backquote runs in the container, the value never
-- appears in this file, the compose file or a process list).
\set owner_pw `cat /run/secrets/pg-owner`
\set resident_pw `cat /run/secrets/pg-resident`
\set tax_pw `cat /run/secrets/pg-tax`
\set payment_pw `cat /run/secrets/pg-payment`
\set relay_pw `cat /run/secrets/pg-relay`
\set clock_pw `cat /run/secrets/pg-clock`
CREATE ROLE koki_owner LOGIN NOSUPERUSER CREATEROLE NOCREATEDB PASSWORD :'owner_pw';
ALTER DATABASE koki OWNER TO koki_owner;
\connect koki
ALTER SCHEMA public OWNER TO koki_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE ROLE resident_app LOGIN PASSWORD :'resident_pw';
CREATE ROLE tax_app LOGIN PASSWORD :'tax_pw';
CREATE ROLE payment_app LOGIN PASSWORD :'payment_pw';
CREATE ROLE relay_app LOGIN PASSWORD :'relay_pw';
CREATE ROLE clock_app LOGIN PASSWORD :'clock_pw';
