-- 収納: what koki-payment-worker keeps (the seed's 別添1 <収納>). Money moves only by new
-- ledger rows; nothing is edited. `koki ledger verify` proves the sums.

-- 延滞金 rates by calendar year (特例基準割合); other years use the statute's 7.3 % / 14.6 %.
CREATE TABLE late_fee_rates (
    year               integer PRIMARY KEY,
    first_tier_percent numeric(6,3) NOT NULL,
    later_percent      numeric(6,3) NOT NULL
);
INSERT INTO late_fee_rates VALUES (2022, 2.4, 8.7), (2023, 2.4, 8.7), (2024, 2.4, 8.7), (2025, 2.4, 8.7), (2026, 2.8, 9.1);

-- The city's collection settings, by the date they take effect.
CREATE TABLE collection_settings (
    effective_from              date    PRIMARY KEY,
    dunning_days_after_due      integer NOT NULL CHECK (dunning_days_after_due BETWEEN 1 AND 20),  -- 督促: ≤ 20 days
    dunning_deadline_days       integer NOT NULL CHECK (dunning_deadline_days BETWEEN 1 AND 60),   -- 督促納期限
    dunning_fee                 integer NOT NULL CHECK (dunning_fee >= 0),                         -- 督促手数料
    reminder_days_after_dunning integer NOT NULL CHECK (reminder_days_after_dunning >= 1),          -- 催告
    late_fee_first_tier_months  integer NOT NULL CHECK (late_fee_first_tier_months BETWEEN 1 AND 12)
);
INSERT INTO collection_settings VALUES ('2000-01-01', 20, 10, 0, 30, 1);

-- Every payment event as received (収入).
CREATE TABLE payments (
    event_id       text    PRIMARY KEY,
    payment_id     text    NOT NULL,
    kind           text    NOT NULL CHECK (kind IN ('received', 'transfer-failed', 'pension-deducted', 'refund-paid')),
    atena_no       text    NOT NULL,
    fiscal_year    integer,
    installment_no integer,
    amount         bigint  NOT NULL CHECK (amount >= 0),
    paid_on        date    NOT NULL,    -- 領収日
    credited_on    date,                -- 収入日
    channel        text    NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_person ON payments (atena_no);
CREATE INDEX payments_payment_id ON payments (payment_id);

-- What is owed: a premium installment (期別), a late fee (延滞金) or a 督促手数料.
CREATE TABLE receivables (
    id             bigserial PRIMARY KEY,
    atena_no       text    NOT NULL,
    fiscal_year    integer NOT NULL,
    method         text    NOT NULL CHECK (method IN ('ordinary', 'pension')),
    installment_no integer NOT NULL,
    kind           text    NOT NULL CHECK (kind IN ('premium', 'late-fee', 'dunning-fee')),
    due_date       date    NOT NULL,
    UNIQUE (atena_no, fiscal_year, method, installment_no, kind)
);

-- The ledger. Receivable entries: charge (調定, ± for corrections), payment (収入; negative
-- for 口座振替不能), appropriation (充当), write-off (不納欠損), and the dated markers dunning
-- (督促) and reminder (催告) with amount 0. Person entries without a receivable: overpayment
-- (過誤納), refund (還付 decided), refund-paid, suspense (保留) and suspense-release.
CREATE TABLE ledger (
    id            bigserial PRIMARY KEY,
    atena_no      text    NOT NULL,
    receivable_id bigint  REFERENCES receivables (id),
    entry         text    NOT NULL CHECK (entry IN ('charge', 'payment', 'appropriation', 'write-off', 'dunning', 'reminder',
                                                    'overpayment', 'refund', 'refund-paid', 'suspense', 'suspense-release')),
    amount        bigint  NOT NULL,
    on_date       date    NOT NULL,        -- 領収日, 督促発付日 …
    booked_on     date,                    -- the business date
    payment_event text,                    -- the payment it moves, if any
    event_id      text    NOT NULL,        -- the event that caused it
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_person ON ledger (atena_no);
CREATE INDEX ledger_receivable ON ledger (receivable_id);

-- 還付: decided refunds, open until `payment.refund-paid`.
CREATE TABLE refunds (
    id          bigserial PRIMARY KEY,
    atena_no    text    NOT NULL,
    amount      bigint  NOT NULL CHECK (amount > 0),
    decided_on  date    NOT NULL,
    for_heirs   boolean NOT NULL,          -- a deceased person's balance goes to the heirs
    paid_on     date,
    event_id    text    NOT NULL
);

-- 期割 plans already turned into charges.
CREATE TABLE charge_sync (
    atena_no    text    NOT NULL,
    fiscal_year integer NOT NULL,
    revision    integer NOT NULL,
    PRIMARY KEY (atena_no, fiscal_year)
);

-- 分納誓約, 徴収猶予, 換価猶予, 滞納処分の停止, 差押え … and the stops of 督促/催告 (別添1
-- <収納>): markers an officer sets on a person's installment for a period. koki honours
-- dunning-stopped and reminder-stopped; the others are recorded for the officer and the insurer.
CREATE TABLE collection_markers (
    id             bigserial PRIMARY KEY,
    atena_no       text    NOT NULL,
    fiscal_year    integer,                 -- NULL: every year
    installment_no integer,                 -- NULL: every installment
    marker         text    NOT NULL CHECK (marker IN ('installment-pledge', 'collection-deferred', 'conversion-deferred',
                                                      'enforcement-suspended', 'seizure', 'participating-seizure',
                                                      'delivery-request', 'dunning-stopped', 'reminder-stopped',
                                                      'payment-entrusted')),
    from_date      date    NOT NULL,
    to_date        date,
    note           text
);
CREATE INDEX collection_markers_person ON collection_markers (atena_no);
