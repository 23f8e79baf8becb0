-- A refund decided from a payment that is then reversed (口座振替不能) is cancelled while it is
-- still unpaid: the money never arrived. The ledger holds the cancellation (a negative 'refund'
-- entry); the refund row says when. Found by koki dev's synthetic year.
ALTER TABLE refunds ADD COLUMN cancelled_on date;
GRANT UPDATE (cancelled_on) ON refunds TO koki_payment;
