-- 所得・賦課・期割・負担割合: what koki-tax-worker keeps (the seed's 別添1 <賦課>), and the
-- data the premium rules read: rates per 年度, national holidays, the 普通徴収 schedule.

-- National holidays (for due dates), 2024–2030; add years by a new migration.
CREATE TABLE holidays (
    day  date PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO holidays (day, name) VALUES
    ('2024-01-01', '元日'),
    ('2024-01-08', '成人の日'),
    ('2024-02-11', '建国記念の日'),
    ('2024-02-12', '振替休日'),
    ('2024-02-23', '天皇誕生日'),
    ('2024-03-20', '春分の日'),
    ('2024-04-29', '昭和の日'),
    ('2024-05-03', '憲法記念日'),
    ('2024-05-04', 'みどりの日'),
    ('2024-05-05', 'こどもの日'),
    ('2024-05-06', '振替休日'),
    ('2024-07-15', '海の日'),
    ('2024-08-11', '山の日'),
    ('2024-08-12', '振替休日'),
    ('2024-09-16', '敬老の日'),
    ('2024-09-22', '秋分の日'),
    ('2024-09-23', '振替休日'),
    ('2024-10-14', 'スポーツの日'),
    ('2024-11-03', '文化の日'),
    ('2024-11-04', '振替休日'),
    ('2024-11-23', '勤労感謝の日'),
    ('2025-01-01', '元日'),
    ('2025-01-13', '成人の日'),
    ('2025-02-11', '建国記念の日'),
    ('2025-02-23', '天皇誕生日'),
    ('2025-02-24', '振替休日'),
    ('2025-03-20', '春分の日'),
    ('2025-04-29', '昭和の日'),
    ('2025-05-03', '憲法記念日'),
    ('2025-05-04', 'みどりの日'),
    ('2025-05-05', 'こどもの日'),
    ('2025-05-06', '振替休日'),
    ('2025-07-21', '海の日'),
    ('2025-08-11', '山の日'),
    ('2025-09-15', '敬老の日'),
    ('2025-09-23', '秋分の日'),
    ('2025-10-13', 'スポーツの日'),
    ('2025-11-03', '文化の日'),
    ('2025-11-23', '勤労感謝の日'),
    ('2025-11-24', '振替休日'),
    ('2026-01-01', '元日'),
    ('2026-01-12', '成人の日'),
    ('2026-02-11', '建国記念の日'),
    ('2026-02-23', '天皇誕生日'),
    ('2026-03-20', '春分の日'),
    ('2026-04-29', '昭和の日'),
    ('2026-05-03', '憲法記念日'),
    ('2026-05-04', 'みどりの日'),
    ('2026-05-05', 'こどもの日'),
    ('2026-05-06', '振替休日'),
    ('2026-07-20', '海の日'),
    ('2026-08-11', '山の日'),
    ('2026-09-21', '敬老の日'),
    ('2026-09-22', '国民の休日'),
    ('2026-09-23', '秋分の日'),
    ('2026-10-12', 'スポーツの日'),
    ('2026-11-03', '文化の日'),
    ('2026-11-23', '勤労感謝の日'),
    ('2027-01-01', '元日'),
    ('2027-01-11', '成人の日'),
    ('2027-02-11', '建国記念の日'),
    ('2027-02-23', '天皇誕生日'),
    ('2027-03-21', '春分の日'),
    ('2027-03-22', '振替休日'),
    ('2027-04-29', '昭和の日'),
    ('2027-05-03', '憲法記念日'),
    ('2027-05-04', 'みどりの日'),
    ('2027-05-05', 'こどもの日'),
    ('2027-07-19', '海の日'),
    ('2027-08-11', '山の日'),
    ('2027-09-20', '敬老の日'),
    ('2027-09-23', '秋分の日'),
    ('2027-10-11', 'スポーツの日'),
    ('2027-11-03', '文化の日'),
    ('2027-11-23', '勤労感謝の日'),
    ('2028-01-01', '元日'),
    ('2028-01-10', '成人の日'),
    ('2028-02-11', '建国記念の日'),
    ('2028-02-23', '天皇誕生日'),
    ('2028-03-20', '春分の日'),
    ('2028-04-29', '昭和の日'),
    ('2028-05-03', '憲法記念日'),
    ('2028-05-04', 'みどりの日'),
    ('2028-05-05', 'こどもの日'),
    ('2028-07-17', '海の日'),
    ('2028-08-11', '山の日'),
    ('2028-09-18', '敬老の日'),
    ('2028-09-22', '秋分の日'),
    ('2028-10-09', 'スポーツの日'),
    ('2028-11-03', '文化の日'),
    ('2028-11-23', '勤労感謝の日'),
    ('2029-01-01', '元日'),
    ('2029-01-08', '成人の日'),
    ('2029-02-11', '建国記念の日'),
    ('2029-02-12', '振替休日'),
    ('2029-02-23', '天皇誕生日'),
    ('2029-03-20', '春分の日'),
    ('2029-04-29', '昭和の日'),
    ('2029-04-30', '振替休日'),
    ('2029-05-03', '憲法記念日'),
    ('2029-05-04', 'みどりの日'),
    ('2029-05-05', 'こどもの日'),
    ('2029-07-16', '海の日'),
    ('2029-08-11', '山の日'),
    ('2029-09-17', '敬老の日'),
    ('2029-09-23', '秋分の日'),
    ('2029-09-24', '振替休日'),
    ('2029-10-08', 'スポーツの日'),
    ('2029-11-03', '文化の日'),
    ('2029-11-23', '勤労感謝の日'),
    ('2030-01-01', '元日'),
    ('2030-01-14', '成人の日'),
    ('2030-02-11', '建国記念の日'),
    ('2030-02-23', '天皇誕生日'),
    ('2030-03-20', '春分の日'),
    ('2030-04-29', '昭和の日'),
    ('2030-05-03', '憲法記念日'),
    ('2030-05-04', 'みどりの日'),
    ('2030-05-05', 'こどもの日'),
    ('2030-05-06', '振替休日'),
    ('2030-07-15', '海の日'),
    ('2030-08-11', '山の日'),
    ('2030-08-12', '振替休日'),
    ('2030-09-16', '敬老の日'),
    ('2030-09-23', '秋分の日'),
    ('2030-10-14', 'スポーツの日'),
    ('2030-11-03', '文化の日'),
    ('2030-11-04', '振替休日'),
    ('2030-11-23', '勤労感謝の日')
;

-- Rates per 年度 and component (医療分; from R8 also 子ども・子育て支援金分). Percentages are
-- exact decimals. `provisional`: not decided by the union yet (R8 repeats R7's medical
-- rates under the national cap, and the support component is zero until it is known).
CREATE TABLE premium_rates (
    fiscal_year             integer      NOT NULL,
    component               text         NOT NULL CHECK (component IN ('medical', 'child-support')),
    per_capita              integer      NOT NULL CHECK (per_capita >= 0),        -- 均等割額
    income_rate_percent     numeric(9,6) NOT NULL CHECK (income_rate_percent >= 0), -- 所得割率
    cap                     integer      NOT NULL CHECK (cap >= 0),               -- 賦課限度額
    low_income_rate_percent numeric(9,6),                                         -- R6: 8.42
    low_income_base_limit   integer,                                              -- R6: 580,000
    continuing_cap          integer,                                              -- R6: 730,000
    PRIMARY KEY (fiscal_year, component)
);
CREATE TABLE premium_year_settings (
    fiscal_year             integer PRIMARY KEY,
    five_tenths_per_insured integer NOT NULL,   -- 5割軽減 (X)
    two_tenths_per_insured  integer NOT NULL,   -- 2割軽減 (Y)
    provisional             boolean NOT NULL DEFAULT false
);
INSERT INTO premium_rates VALUES
    (2022, 'medical', 44170, 8.38, 660000, NULL, NULL, NULL),
    (2023, 'medical', 44170, 8.38, 660000, NULL, NULL, NULL),
    (2024, 'medical', 45930, 9.03, 800000, 8.42, 580000, 730000),
    (2025, 'medical', 45930, 9.03, 800000, NULL, NULL, NULL),
    (2026, 'medical', 45930, 9.03, 850000, NULL, NULL, NULL),
    (2026, 'child-support', 0, 0, 0, NULL, NULL, NULL);
INSERT INTO premium_year_settings VALUES
    (2022, 285000, 520000, false), (2023, 290000, 535000, false), (2024, 295000, 545000, false),
    (2025, 305000, 560000, false), (2026, 305000, 560000, true);

-- The 普通徴収 schedule [assumed]: 8 期, July–February, month end, 28 December.
CREATE TABLE ordinary_schedule (
    position integer PRIMARY KEY,
    month    integer NOT NULL CHECK (month BETWEEN 1 AND 12),
    day      integer CHECK (day BETWEEN 1 AND 31)     -- NULL: the month's last day
);
INSERT INTO ordinary_schedule VALUES (1, 7, NULL), (2, 8, NULL), (3, 9, NULL), (4, 10, NULL), (5, 11, NULL), (6, 12, 28),
                                     (7, 1, NULL), (8, 2, NULL);

-- 所得: each delivery and each 更正 as received (a 更正 never overwrites).
CREATE TABLE incomes (
    atena_no                     text    NOT NULL,
    income_year                  integer NOT NULL,
    history_no                   integer NOT NULL,
    event_id                     text    NOT NULL UNIQUE,
    kind                         text    NOT NULL CHECK (kind IN ('assessed', 'corrected')),
    declared                     boolean NOT NULL,      -- false: 未申告
    total_income                 bigint  NOT NULL,      -- 合計所得金額
    total_income_for_assessment  bigint  NOT NULL,      -- 総所得金額等
    public_pension_income        bigint  NOT NULL,      -- 公的年金等収入
    salary_income                bigint  NOT NULL,      -- 給与収入
    other_income                 bigint  NOT NULL,
    taxable_income               bigint  NOT NULL,      -- 課税所得
    resident_tax_exempt          boolean NOT NULL,
    recorded_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, income_year, history_no)
);

-- 特別徴収対象者情報 and 減免 decisions, as received.
CREATE TABLE pension_deduction_targets (
    atena_no                 text    NOT NULL,
    fiscal_year              integer NOT NULL,
    event_id                 text    NOT NULL UNIQUE,
    pension_annual           bigint  NOT NULL,
    pension_per_payment      bigint  NOT NULL,
    ltc_deducted             boolean NOT NULL,
    ltc_per_payment          bigint  NOT NULL,
    seq                      bigserial PRIMARY KEY
);
CREATE INDEX pension_deduction_targets_person ON pension_deduction_targets (atena_no, fiscal_year);

CREATE TABLE premium_exemptions (
    atena_no       text    NOT NULL,
    fiscal_year    integer NOT NULL,
    event_id       text    NOT NULL UNIQUE,
    application_no text    NOT NULL,
    reason         text    NOT NULL,
    percent        integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
    decided_date   date    NOT NULL,
    seq            bigserial PRIMARY KEY
);
CREATE INDEX premium_exemptions_person ON premium_exemptions (atena_no, fiscal_year);

-- 賦課: one history row per decision (履歴番号, 前履歴番号), with the 変更前 values the seed
-- lists next to the new ones; `assessments` points at each person's current row per 年度.
CREATE TABLE assessment_history (
    atena_no                  text    NOT NULL,
    fiscal_year               integer NOT NULL,     -- 相当年度
    history_no                integer NOT NULL,
    previous_history_no       integer,
    insured_number            text,
    decided_on                date    NOT NULL,     -- 賦課決定年月日 (the business date)
    reason                    text    NOT NULL,     -- 賦課事由: honsantei | income | qualification | household | exemption | …
    household_no              text,
    reduction                 text    NOT NULL,     -- 減額区分: 70 | 50 | 20 | none
    former_dependent          boolean NOT NULL,     -- 特別軽減区分 (被扶養者軽減)
    provisional               boolean NOT NULL,     -- 暫定 (均等割 only: income not known)
    income_rate               text    NOT NULL,     -- 所得割率
    income_base               bigint  NOT NULL,     -- 賦課のもととなる所得金額
    per_capita                bigint  NOT NULL,     -- 均等割額 (after 軽減)
    per_capita_reduction      bigint  NOT NULL,     -- 均等割軽減額
    income_share              bigint  NOT NULL,     -- 所得割額
    calculated                bigint  NOT NULL,     -- 算出額
    cap_excess                bigint  NOT NULL,     -- 限度超過額
    annual                    bigint  NOT NULL,     -- 年保険料額
    months                    integer NOT NULL,     -- 月数
    monthly_reduction         bigint  NOT NULL,     -- 月割減額
    exemption                 bigint  NOT NULL,     -- 減免額
    premium                   bigint  NOT NULL,     -- 後期高齢者医療保険料
    components                jsonb   NOT NULL,
    income_base_before        bigint,               -- (変更前)
    per_capita_before         bigint,
    per_capita_reduction_before bigint,
    income_share_before       bigint,
    calculated_before         bigint,
    cap_excess_before         bigint,
    annual_before             bigint,
    months_before             integer,
    monthly_reduction_before  bigint,
    exemption_before          bigint,
    premium_before            bigint,
    reduction_before          text,
    event_id                  text    NOT NULL,
    recorded_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, fiscal_year, history_no)
);

CREATE TABLE assessments (
    atena_no    text    NOT NULL,
    fiscal_year integer NOT NULL,
    history_no  integer NOT NULL,
    premium     bigint  NOT NULL,
    PRIMARY KEY (atena_no, fiscal_year)
);

-- 期割: each plan is a revision; a change makes a new revision and keeps the old.
CREATE TABLE installment_plans (
    atena_no              text    NOT NULL,
    fiscal_year           integer NOT NULL,
    revision              integer NOT NULL,
    decided_on            date    NOT NULL,     -- 期割決定日
    assessment_history_no integer NOT NULL,
    current               boolean NOT NULL,
    PRIMARY KEY (atena_no, fiscal_year, revision)
);
CREATE UNIQUE INDEX installment_plans_current ON installment_plans (atena_no, fiscal_year) WHERE current;

CREATE TABLE installments (
    atena_no       text    NOT NULL,
    fiscal_year    integer NOT NULL,
    revision       integer NOT NULL,
    method         text    NOT NULL CHECK (method IN ('ordinary', 'pension')),   -- 徴収区分
    installment_no integer NOT NULL,                                             -- 期別
    due_date       date    NOT NULL,                                             -- 納期限
    amount         bigint  NOT NULL CHECK (amount >= 0),                         -- 調定額
    PRIMARY KEY (atena_no, fiscal_year, revision, method, installment_no)
);

-- 負担割合, effective each 1 August; history per person.
CREATE TABLE burden_ratios (
    atena_no       text    NOT NULL,
    effective_from date    NOT NULL,
    history_no     integer NOT NULL,
    ratio          integer NOT NULL CHECK (ratio IN (10, 20, 30)),
    event_id       text    NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_no, effective_from, history_no)
);

-- The yearly 本算定 (July), once per 年度.
CREATE TABLE assessment_runs (
    fiscal_year integer PRIMARY KEY,
    run_on      date    NOT NULL,
    assessed    integer NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);

-- Which income records the insurer has received (each once: on arrival if the person is
-- insured or heads an insured household, or when they become so).
CREATE TABLE income_transfers (
    atena_no    text    NOT NULL,
    income_year integer NOT NULL,
    history_no  integer NOT NULL,
    PRIMARY KEY (atena_no, income_year, history_no)
);
