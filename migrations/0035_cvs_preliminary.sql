-- コンビニ速報: a convenience store's 速報 (`payment.cvs-preliminary`) is kept as received; it
-- moves no money but holds 督促 and 催告 for its 期 until the 確報 (`payment.received` with the
-- same paymentId) arrives, or `cvs_hold_days` after the day the store took the money [assumed:
-- 確報 come within about a week; the city's contract with its 収納代行 sets it].
ALTER TABLE payments DROP CONSTRAINT payments_kind_check;
ALTER TABLE payments ADD CONSTRAINT payments_kind_check
    CHECK (kind IN ('received', 'transfer-failed', 'pension-deducted', 'refund-paid', 'cvs-preliminary'));
ALTER TABLE collection_settings ADD COLUMN cvs_hold_days integer NOT NULL DEFAULT 14
    CHECK (cvs_hold_days BETWEEN 1 AND 60);
CREATE INDEX payments_preliminary ON payments (atena_no) WHERE kind = 'cvs-preliminary';
