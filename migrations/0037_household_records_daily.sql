-- 住基情報 goes to the union daily (DOMAIN.md "Who does what"): a resident event marks its
-- household (old and new) and the business day sends each marked household once, as it
-- stands that day. Sending one per batch made the count depend on how events fell into
-- batches; one per household and day does not.
ALTER TABLE households ADD COLUMN record_due boolean NOT NULL DEFAULT false;
CREATE INDEX households_record_due ON households (household_no) WHERE record_due;
