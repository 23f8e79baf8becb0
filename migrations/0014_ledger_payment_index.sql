-- What a payment moved is found by its event: `koki ledger verify` checks every payment that
-- way, and a 口座振替不能 looks up what it must take back. Without these indexes each lookup
-- scanned the ledger (a minute for a small city's year).
CREATE INDEX ledger_payment_event ON ledger (payment_event) WHERE payment_event IS NOT NULL;
CREATE INDEX ledger_event ON ledger (event_id);
