-- 宛名・世帯・資格: what koki-resident-worker keeps (the seed's 別添1 <宛名> and <資格>).
-- Facts are kept as history — one row per event, never overwritten; the current picture
-- (residents, qualification_periods) is recomputed from them by effective date, so the
-- order in which events arrive does not matter.

-- 宛名 履歴: one row per resident-register event (the whole record after the change).
CREATE TABLE resident_history (
    atena_no                 text        NOT NULL,               -- 宛名番号
    history_no               integer     NOT NULL,               -- 履歴番号 (arrival order)
    event_id                 text        NOT NULL UNIQUE,
    change_type              text        NOT NULL,               -- 異動事由 (the ce_type)
    effective_date           date        NOT NULL,               -- 異動日
    notified_date            date,                               -- 届出日
    household_no             text        NOT NULL,               -- 世帯番号
    name_kanji               text        NOT NULL,               -- 氏名漢字
    name_kana                text        NOT NULL,               -- 氏名カナ
    sex                      text        NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date               date        NOT NULL,               -- 生年月日
    relationship_to_head     text        NOT NULL,               -- 続柄
    resident_status          text        NOT NULL,               -- 住民区分
    postal_code              text,                               -- 郵便番号
    city_code                text,                               -- 自治省コード
    prefecture               text,
    address_line             text,                               -- 現住所
    katagaki                 text,                               -- 方書
    previous_postal_code     text,                               -- 前住地郵便番号
    previous_city_code       text,                               -- 前住地自治省コード
    previous_prefecture      text,
    previous_address_line    text,                               -- 前住地
    previous_katagaki        text,                               -- 前住地方書
    next_postal_code         text,                               -- 転先地郵便番号
    next_city_code           text,                               -- 転先地自治省コード
    next_prefecture          text,
    next_address_line        text,                               -- 転先地
    next_katagaki            text,                               -- 転先地方書
    next_starts_on           date,
    death_date               date,
    recorded_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, history_no)
);

-- One row per person: the current record (the history row with the latest effective date)
-- and what the eligibility rules derived from all of it. 個人番号 lives in this one column
-- only, so protecting it at rest is a local change.
CREATE TABLE residents (
    atena_no           text    PRIMARY KEY,
    my_number          text    CHECK (my_number ~ '^[0-9]{12}$'),  -- 個人番号
    current_history_no integer,
    household_no       text,
    birth_date         date,
    death_date         date,
    -- Registered as living in the city on as_of (alive, not moved out, not 住登外).
    lives_here         boolean NOT NULL DEFAULT false,
    -- Insured (a qualification period open) on as_of.
    insured            boolean NOT NULL DEFAULT false,
    -- 被保険者番号: provisional, the last eight digits of the 宛名番号 (the union's own
    -- number replaces it when it arrives).
    insured_number     text    UNIQUE,
    -- The business date the qualification was last computed for, and the next date on
    -- which it can change (a birthday, a period's edge): the clock re-checks the person then.
    as_of              date,
    next_review_on     date
);
CREATE INDEX residents_household ON residents (household_no);
CREATE INDEX residents_review ON residents (next_review_on) WHERE next_review_on IS NOT NULL;
CREATE INDEX residents_birth_date ON residents (birth_date) WHERE lives_here;

-- 世帯: one row per household, locked while its members are recomputed.
CREATE TABLE households (
    household_no text PRIMARY KEY,
    head_atena_no text
);

-- 世帯 membership over time, rebuilt from the person's history.
CREATE TABLE household_memberships (
    atena_no             text NOT NULL,
    household_no         text NOT NULL,
    relationship_to_head text NOT NULL,
    from_date            date NOT NULL,
    through_date         date,
    PRIMARY KEY (atena_no, from_date)
);
CREATE INDEX household_memberships_household ON household_memberships (household_no);

-- 生活保護, 障害認定, 住所地特例, 元被扶養者 and department enrollments: each notice as
-- received. Periods are derived from them by date (koki person shows them).
CREATE TABLE public_assistance_notices (
    atena_no       text NOT NULL,
    event_id       text NOT NULL UNIQUE,
    kind           text NOT NULL CHECK (kind IN ('started', 'ended', 'suspended', 'resumed')),
    case_no        text NOT NULL,
    household_no   text,
    effective_date date NOT NULL,
    seq            bigserial PRIMARY KEY
);
CREATE INDEX public_assistance_notices_person ON public_assistance_notices (atena_no);

CREATE TABLE disability_notices (
    atena_no       text NOT NULL,
    event_id       text NOT NULL UNIQUE,
    application_no text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('certified', 'withdrawn')),
    effective_date date NOT NULL,      -- 認定日, or the first day without it
    grade          text,
    received_date  date NOT NULL,
    seq            bigserial PRIMARY KEY
);
CREATE INDEX disability_notices_person ON disability_notices (atena_no);

CREATE TABLE special_address_notices (
    atena_no         text NOT NULL,
    event_id         text NOT NULL UNIQUE,
    application_no   text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('started', 'ended')),
    effective_date   date NOT NULL,
    facility_name    text NOT NULL,
    previous_insurer text NOT NULL,
    received_date    date NOT NULL,
    seq              bigserial PRIMARY KEY
);
CREATE INDEX special_address_notices_person ON special_address_notices (atena_no);

CREATE TABLE former_dependents (
    atena_no        text NOT NULL,
    event_id        text NOT NULL UNIQUE,
    application_no  text NOT NULL,
    insurer_name    text NOT NULL,
    dependent_until date NOT NULL,
    received_date   date NOT NULL,
    seq             bigserial PRIMARY KEY
);
CREATE INDEX former_dependents_person ON former_dependents (atena_no);

CREATE TABLE department_enrollments (
    atena_no       text NOT NULL,
    event_id       text NOT NULL UNIQUE,
    department     text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('enrolled', 'unenrolled')),
    program        text NOT NULL,
    effective_date date NOT NULL,
    seq            bigserial PRIMARY KEY
);
CREATE INDEX department_enrollments_person ON department_enrollments (atena_no);

-- Benefit applications (高額療養費, 葬祭費 …) forwarded to the insurer as received.
CREATE TABLE forwarded_applications (
    event_id       text PRIMARY KEY,
    atena_no       text NOT NULL,
    application_no text NOT NULL,
    kind           text NOT NULL,
    received_date  date NOT NULL
);

-- 資格: the current periods, one row per period, and their history (履歴番号 with the
-- previous one) — every acquisition, loss and correction is a new history row.
CREATE TABLE qualification_periods (
    atena_no           text NOT NULL,
    acquired_on        date NOT NULL,   -- 取得年月日
    acquisition_reason text NOT NULL,   -- 取得事由
    lost_on            date,            -- 喪失年月日
    loss_reason        text,            -- 喪失事由
    history_no         integer NOT NULL,
    PRIMARY KEY (atena_no, acquired_on),
    CHECK (lost_on IS NULL OR lost_on > acquired_on)
);

CREATE TABLE qualification_history (
    atena_no            text        NOT NULL,
    history_no          integer     NOT NULL,     -- 履歴番号
    previous_history_no integer,                  -- 前履歴番号
    insured_number      text        NOT NULL,     -- 被保険者番号
    change              text        NOT NULL CHECK (change IN ('acquired', 'lost', 'changed', 'withdrawn')),
    acquired_on         date        NOT NULL,
    acquisition_reason  text        NOT NULL,
    lost_on             date,
    loss_reason         text,
    event_id            text        NOT NULL,     -- the event that caused it
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, history_no)
);

-- 資格確認書: one issuance per qualification period (sent to the insurer to print).
CREATE TABLE qualification_certificates (
    atena_no       text NOT NULL,
    acquired_on    date NOT NULL,
    insured_number text NOT NULL,
    valid_from     date NOT NULL,
    event_id       text NOT NULL,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, acquired_on)
);

-- The business calendar as the clock events told it: the latest business date.
CREATE TABLE business_calendar (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    business_date date NOT NULL
);
