import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import Postgres

/// SQL for 所得, 特別徴収対象者, 減免 and the data the premium rules read (rates, holidays,
/// the 普通徴収 schedule).
public struct TaxStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    public func insertIncomes(_ rows: [(eventID: String, kind: String, record: IncomeRecord)]) throws {
        guard !rows.isEmpty else { return }
        // By the primary key's leading column (an expression over it would scan the table).
        let people = Array(Set(rows.map(\.record.atenaNo)))
        var last: [String: Int] = [:]
        for row in try tx.query("""
            SELECT atena_no, income_year, max(history_no) FROM incomes
            WHERE atena_no = ANY(\(people)::text[]) GROUP BY atena_no, income_year
            """) {
            last["\(try row.decode(String.self, at: 0))/\(try row.decode(Int.self, at: 1))"] = try row.decode(Int.self, at: 2)
        }
        var numbers: [Int] = []
        for row in rows {
            let key = "\(row.record.atenaNo)/\(row.record.incomeYear)"
            let next = (last[key] ?? 0) + 1
            last[key] = next
            numbers.append(next)
        }
        let r = rows.map(\.record)
        try tx.execute("""
            INSERT INTO incomes (atena_no, income_year, history_no, event_id, kind, declared, total_income,
                total_income_for_assessment, public_pension_income, salary_income, other_income, taxable_income,
                resident_tax_exempt)
            SELECT * FROM unnest(\(r.map(\.atenaNo))::text[], \(r.map(\.incomeYear))::int[], \(numbers)::int[],
                \(rows.map(\.eventID))::text[], \(rows.map(\.kind))::text[], \(r.map(\.declared))::bool[],
                \(r.map(\.totalIncome))::bigint[], \(r.map(\.totalIncomeForAssessment))::bigint[],
                \(r.map(\.publicPensionIncome))::bigint[], \(r.map(\.salaryIncome))::bigint[], \(r.map(\.otherIncome))::bigint[],
                \(r.map(\.taxableIncome))::bigint[], \(r.map(\.residentTaxExempt))::bool[])
            """)
    }

    public func insertTargets(_ rows: [(eventID: String, target: PensionDeductionTarget)]) throws {
        guard !rows.isEmpty else { return }
        let t = rows.map(\.target)
        try tx.execute("""
            INSERT INTO pension_deduction_targets (atena_no, fiscal_year, event_id, pension_annual, pension_per_payment,
                                                   ltc_deducted, ltc_per_payment)
            SELECT * FROM unnest(\(t.map(\.atenaNo))::text[], \(t.map(\.fiscalYear))::int[], \(rows.map(\.eventID))::text[],
                                 \(t.map(\.pensionAnnualAmount))::bigint[], \(t.map(\.pensionPerPayment))::bigint[],
                                 \(t.map(\.longTermCarePremiumDeducted))::bool[], \(t.map(\.longTermCarePremiumPerPayment))::bigint[])
            """)
    }

    public struct Exemption: Sendable {
        public let atenaNo, eventID, applicationNo, reason: String
        public let fiscalYear, percent: Int
        public let decidedDate: LocalDate
        /// The 期 due on or after this day are lowered (the application's date).
        public let fromDate: LocalDate

        public init(atenaNo: String, eventID: String, applicationNo: String, reason: String, fiscalYear: Int, percent: Int,
                    decidedDate: LocalDate, fromDate: LocalDate) {
            (self.atenaNo, self.eventID, self.applicationNo, self.reason) = (atenaNo, eventID, applicationNo, reason)
            (self.fiscalYear, self.percent, self.decidedDate, self.fromDate) = (fiscalYear, percent, decidedDate, fromDate)
        }
    }

    public func insertExemptions(_ rows: [Exemption]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO premium_exemptions (atena_no, fiscal_year, event_id, application_no, reason, percent, decided_date, from_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.fiscalYear))::int[], \(rows.map(\.eventID))::text[],
                                 \(rows.map(\.applicationNo))::text[], \(rows.map(\.reason))::text[],
                                 \(rows.map(\.percent))::int[], \(rows.map(\.decidedDate))::date[], \(rows.map(\.fromDate))::date[])
            """)
    }

    /// The rates of `fiscalYear` from the store; a later year not decided yet uses the
    /// latest known, marked provisional.
    public func rates(for fiscalYear: Int) throws -> FiscalYearRates? {
        guard let year = try tx.query("""
            SELECT max(fiscal_year) FROM premium_year_settings WHERE fiscal_year <= \(fiscalYear)
            """).first.flatMap({ try $0.decode(Int?.self, at: 0) }) else { return nil }
        guard let settings = try tx.query("""
            SELECT five_tenths_per_insured, two_tenths_per_insured, provisional FROM premium_year_settings
            WHERE fiscal_year = \(year)
            """).first else { return nil }
        let components = try tx.query("""
            SELECT component, per_capita, income_rate_percent::text, cap, low_income_rate_percent::text,
                   low_income_base_limit, continuing_cap, reduced_cap_born_by, reduced_cap_certified_by
            FROM premium_rates WHERE fiscal_year = \(year) ORDER BY component <> 'medical', component
            """).map { row in
            guard let rate = Rate(percent: try row.decode(String.self, at: 2)) else {
                throw PostgresError(.decode, "premium_rates.income_rate_percent is not a percentage")
            }
            return PremiumComponent(name: try row.decode(at: 0), perCapita: try row.decode(at: 1), incomeRate: rate,
                                    cap: try row.decode(at: 3),
                                    lowIncomeRate: try row.decode(String?.self, at: 4).flatMap(Rate.init(percent:)),
                                    lowIncomeBaseLimit: try row.decode(at: 5), reducedCap: try row.decode(at: 6),
                                    reducedCapBornOnOrBefore: try row.decode(at: 7), reducedCapCertifiedBy: try row.decode(at: 8))
        }
        return FiscalYearRates(fiscalYear: fiscalYear, components: components,
                               fiveTenthsPerInsured: try settings.decode(at: 0), twoTenthsPerInsured: try settings.decode(at: 1),
                               provisional: try settings.decode(Bool.self, at: 2) || year != fiscalYear)
    }

    public func holidays() throws -> Set<LocalDate> {
        Set(try tx.query("SELECT day FROM holidays").map { try $0.decode(LocalDate.self, at: 0) })
    }

    public func ordinarySchedule() throws -> Installments.OrdinarySchedule {
        let months = try tx.query("SELECT month, day FROM ordinary_schedule ORDER BY position").map {
            (month: try $0.decode(Int.self, at: 0), day: try $0.decode(Int?.self, at: 1))
        }
        return months.isEmpty ? .standard : Installments.OrdinarySchedule(months: months)
    }

    /// Whether the 本算定 of `fiscalYear` may run on provisional rates (an approval on record).
    public func provisionalRatesApproved(fiscalYear: Int) throws -> Bool {
        try tx.query("SELECT 1 FROM provisional_rate_approvals WHERE fiscal_year = \(fiscalYear)").first != nil
    }

    /// Records that the 本算定 of `fiscalYear` may run on provisional rates, and why.
    public func approveProvisionalRates(fiscalYear: Int, reason: String) throws {
        try tx.execute("""
            INSERT INTO provisional_rate_approvals (fiscal_year, reason) VALUES (\(fiscalYear), \(reason))
            ON CONFLICT (fiscal_year) DO UPDATE SET reason = EXCLUDED.reason, approved_by = session_user, approved_at = now()
            """)
    }

    /// The 年度 whose 本算定 has run.
    public func assessedYears() throws -> Set<Int> {
        Set(try tx.query("SELECT fiscal_year FROM assessment_runs").map { try $0.decode(Int.self, at: 0) })
    }

    /// The 年度 whose 仮徴収 is set.
    public func interimYears() throws -> Set<Int> {
        Set(try tx.query("SELECT fiscal_year FROM interim_runs").map { try $0.decode(Int.self, at: 0) })
    }

    public func recordInterimRun(fiscalYear: Int, on date: LocalDate, persons: Int) throws {
        try tx.execute("""
            INSERT INTO interim_runs (fiscal_year, run_on, persons) VALUES (\(fiscalYear), \(date), \(persons))
            ON CONFLICT (fiscal_year) DO NOTHING
            """)
    }

    /// The 平準化 threshold of `fiscalYear`'s 仮徴収 (the latest setting from that 年度 back), nil
    /// when the 仮徴収 is not evened out.
    public func levelingThreshold(fiscalYear: Int) throws -> Int? {
        try tx.query("""
            SELECT enabled, threshold FROM pension_leveling WHERE from_fiscal_year <= \(fiscalYear)
            ORDER BY from_fiscal_year DESC LIMIT 1
            """).first.flatMap { try $0.decode(Bool.self, at: 0) ? try $0.decode(Int.self, at: 1) : nil }
    }

    public func recordRun(fiscalYear: Int, on date: LocalDate, assessed: Int) throws {
        try tx.execute("""
            INSERT INTO assessment_runs (fiscal_year, run_on, assessed) VALUES (\(fiscalYear), \(date), \(assessed))
            ON CONFLICT (fiscal_year) DO NOTHING
            """)
    }

    /// Each person's income of `incomeYear` as it stands: the latest 更正, else the latest
    /// delivery; nil inside the dictionary for 未申告.
    public func incomes(of people: [String], incomeYear: Int) throws -> [String: IncomeRecord] {
        guard !people.isEmpty else { return [:] }
        var result: [String: IncomeRecord] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, declared, total_income, total_income_for_assessment,
                   public_pension_income, salary_income, other_income, taxable_income, resident_tax_exempt
            FROM incomes WHERE atena_no = ANY(\(people)::text[]) AND income_year = \(incomeYear)
            ORDER BY atena_no, kind = 'corrected' DESC, history_no DESC
            """) {
            let record = IncomeRecord(atenaNo: try row.decode(at: 0), incomeYear: incomeYear, declared: try row.decode(at: 1),
                                      totalIncome: try row.decode(at: 2), totalIncomeForAssessment: try row.decode(at: 3),
                                      publicPensionIncome: try row.decode(at: 4), salaryIncome: try row.decode(at: 5),
                                      otherIncome: try row.decode(at: 6), taxableIncome: try row.decode(at: 7),
                                      residentTaxExempt: try row.decode(at: 8))
            result[record.atenaNo] = record
        }
        return result
    }

    /// The latest 特別徴収対象者情報 per person for `fiscalYear`.
    public func targets(of people: [String], fiscalYear: Int) throws -> [String: PensionDeductionTarget] {
        guard !people.isEmpty else { return [:] }
        var result: [String: PensionDeductionTarget] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, pension_annual, pension_per_payment, ltc_deducted, ltc_per_payment
            FROM pension_deduction_targets WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear)
            ORDER BY atena_no, seq DESC
            """) {
            let target = PensionDeductionTarget(atenaNo: try row.decode(at: 0), fiscalYear: fiscalYear,
                                                pensionAnnualAmount: try row.decode(at: 1), pensionPerPayment: try row.decode(at: 2),
                                                longTermCarePremiumDeducted: try row.decode(at: 3),
                                                longTermCarePremiumPerPayment: try row.decode(at: 4))
            result[target.atenaNo] = target
        }
        return result
    }

    /// The latest 減免 percentage per person for `fiscalYear`.
    /// Each person's 減免 for the year as it stands (the latest decision): percent and the day from
    /// which the 期 due are lowered.
    public func exemptions(of people: [String], fiscalYear: Int) throws -> [String: (percent: Int, from: LocalDate)] {
        guard !people.isEmpty else { return [:] }
        var result: [String: (Int, LocalDate)] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, percent, from_date FROM premium_exemptions
            WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear) ORDER BY atena_no, seq DESC
            """) {
            result[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(LocalDate.self, at: 2))
        }
        return result
    }

    /// 元被扶養者: the last day each person was a dependant.
    public func formerDependents(of people: [String]) throws -> [String: LocalDate] {
        guard !people.isEmpty else { return [:] }
        var result: [String: LocalDate] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, dependent_until FROM former_dependents
            WHERE atena_no = ANY(\(people)::text[]) ORDER BY atena_no, seq DESC
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(LocalDate.self, at: 1)
        }
        return result
    }
}

extension TaxStore {
    /// Of these people, those whose income the insurer may receive: anyone ever insured, and
    /// the 世帯主 of a household with someone insured (the 軽減 test counts the head).
    public func incomeRecipients(_ people: [String]) throws -> Set<String> {
        guard !people.isEmpty else { return [] }
        // Key by key (`KeyedLookup`), and each household's members by the household's index.
        return Set(try tx.query("""
            SELECT q.atena_no FROM \(KeyedLookup.rows(of: "qualification_periods", where: "atena_no", in: people, as: "q",
                                                      selecting: "atena_no"))
            UNION
            SELECT m.atena_no FROM \(KeyedLookup.rows(of: "household_memberships", where: "atena_no", in: people, as: "m"))
            WHERE m.relationship_to_head = 'head'
              AND EXISTS (SELECT 1 FROM (SELECT atena_no FROM household_memberships WHERE household_no = m.household_no OFFSET 0) AS o
                          WHERE EXISTS (SELECT 1 FROM qualification_periods q WHERE q.atena_no = o.atena_no))
            """).map { try $0.decode(String.self, at: 0) })
    }

    /// The current income records of these people not sent to the insurer yet; marks them
    /// sent (the caller publishes them in the same transaction).
    public func unsentIncomes(of people: [String]) throws -> [IncomeRecord] {
        guard !people.isEmpty else { return [] }
        return try tx.query("""
            WITH current AS (
                SELECT DISTINCT ON (atena_no, income_year) * FROM incomes WHERE atena_no = ANY(\(people)::text[])
                ORDER BY atena_no, income_year, kind = 'corrected' DESC, history_no DESC),
            sent AS (
                INSERT INTO income_transfers (atena_no, income_year, history_no)
                SELECT atena_no, income_year, history_no FROM current ON CONFLICT DO NOTHING
                RETURNING atena_no, income_year, history_no)
            SELECT c.atena_no, c.income_year, c.declared, c.total_income, c.total_income_for_assessment,
                   c.public_pension_income, c.salary_income, c.other_income, c.taxable_income, c.resident_tax_exempt
            FROM current c JOIN sent s USING (atena_no, income_year, history_no) ORDER BY c.atena_no, c.income_year
            """).map { row in
            IncomeRecord(atenaNo: try row.decode(at: 0), incomeYear: try row.decode(at: 1), declared: try row.decode(at: 2),
                         totalIncome: try row.decode(at: 3), totalIncomeForAssessment: try row.decode(at: 4),
                         publicPensionIncome: try row.decode(at: 5), salaryIncome: try row.decode(at: 6),
                         otherIncome: try row.decode(at: 7), taxableIncome: try row.decode(at: 8),
                         residentTaxExempt: try row.decode(at: 9))
        }
    }

    /// The 世帯主 of the households these people belong to now.
    public func heads(of people: [String]) throws -> [String] {
        guard !people.isEmpty else { return [] }
        // Key by key, then household by household (`KeyedLookup`): joined as one, the planner
        // scanned every membership per batch until the table's first ANALYZE (8 ms a batch, most
        // of the tax worker's time under the latency benchmark).
        return try tx.query("""
            SELECT DISTINCT m.atena_no
            FROM \(KeyedLookup.rows(of: "household_memberships", where: "atena_no", in: people, as: "p"))
            CROSS JOIN LATERAL (SELECT atena_no, relationship_to_head, through_date FROM household_memberships
                                WHERE household_no = p.household_no OFFSET 0) AS m
            WHERE p.through_date IS NULL AND m.relationship_to_head = 'head' AND m.through_date IS NULL
            """).map { try $0.decode(String.self, at: 0) }
    }

    /// Serializes the assessment writes of one 年度 across the tax worker's partitions: two
    /// batches touching one household must not decide its premiums at the same time.
    public func lockAssessments(fiscalYear: Int) throws {
        _ = try tx.query("SELECT pg_advisory_xact_lock(\(0x6B6F_6B69 + 1), \(fiscalYear))")
    }
}
