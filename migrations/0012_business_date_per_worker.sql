-- Each worker keeps its own business date. One shared row let the first worker to apply a
-- clock event advance it for all: the next worker then saw no change of day (the payment
-- worker missed the turn of the year, so 市民税課 was not told the premiums paid). Found by
-- koki dev's synthetic year.
CREATE TABLE worker_calendars (
    worker        text PRIMARY KEY CHECK (worker IN ('resident', 'tax', 'payment')),
    business_date date NOT NULL
);
INSERT INTO worker_calendars (worker, business_date)
SELECT w, business_date FROM business_calendar, unnest(ARRAY['resident', 'tax', 'payment']) AS w;
DROP TABLE business_calendar;

GRANT SELECT, INSERT, UPDATE ON worker_calendars TO koki_resident, koki_tax, koki_payment;
GRANT SELECT ON worker_calendars TO koki_admin;
