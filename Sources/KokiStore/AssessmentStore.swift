import Foundation
import KokiBase
import KokiDomain
import Postgres

/// SQL for 賦課, 期割 and 負担割合, and the 資格 and 世帯 facts an assessment reads.
public struct AssessmentStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    public struct Period: Sendable, Hashable {
        public let acquiredOn: LocalDate
        public let lostOn: LocalDate?
        public let reason: String
    }

    /// Qualification periods that overlap `fiscalYear`, for `people` (nil: everyone).
    public func periods(fiscalYear: Int, people: [String]?) throws -> [String: [Period]] {
        let start = LocalDate(year: fiscalYear, month: 4, day: 1)!, end = LocalDate(year: fiscalYear + 1, month: 4, day: 1)!
        let filter: SQL = people.map { "AND atena_no = ANY(\($0)::text[])" } ?? ""
        var result: [String: [Period]] = [:]
        for row in try tx.query("""
            SELECT atena_no, acquired_on, lost_on, acquisition_reason FROM qualification_periods
            WHERE acquired_on < \(end) AND (lost_on IS NULL OR lost_on > \(start)) \(filter)
            ORDER BY atena_no, acquired_on
            """) {
            result[try row.decode(String.self, at: 0), default: []].append(
                Period(acquiredOn: try row.decode(at: 1), lostOn: try row.decode(at: 2), reason: try row.decode(at: 3)))
        }
        return result
    }

    /// 世帯 memberships overlapping `fiscalYear` of these people or households.
    public func memberships(fiscalYear: Int, people: [String], households: [String]) throws -> [ResidentStore.Membership] {
        let start = LocalDate(year: fiscalYear, month: 4, day: 1)!, end = LocalDate(year: fiscalYear + 1, month: 3, day: 31)!
        return try tx.query("""
            SELECT atena_no, household_no, relationship_to_head, from_date, through_date FROM household_memberships
            WHERE (atena_no = ANY(\(people)::text[]) OR household_no = ANY(\(households)::text[]))
              AND from_date <= \(end) AND (through_date IS NULL OR through_date >= \(start))
            """).map {
            ResidentStore.Membership(atenaNo: try $0.decode(at: 0), householdNo: try $0.decode(at: 1),
                                     relationshipToHead: try $0.decode(at: 2), from: try $0.decode(at: 3),
                                     through: try $0.decode(at: 4))
        }
    }

    /// Birth date and 被保険者番号 per person.
    public func people(_ people: [String]) throws -> [String: (birthDate: LocalDate, insuredNumber: String?)] {
        guard !people.isEmpty else { return [:] }
        var result: [String: (LocalDate, String?)] = [:]
        for row in try tx.query("""
            SELECT atena_no, birth_date, insured_number FROM residents
            WHERE atena_no = ANY(\(people)::text[]) AND birth_date IS NOT NULL
            """) {
            result[try row.decode(String.self, at: 0)] = (try row.decode(LocalDate.self, at: 1), try row.decode(String?.self, at: 2))
        }
        return result
    }

    /// A stored 賦課 decision, as the next one compares with and quotes as 変更前.
    public struct Stored: Sendable {
        public let historyNo: Int
        public let reduction: String
        public let formerDependent: Bool
        public let provisional: Bool
        public let incomeBase, perCapita, perCapitaReduction, incomeShare, calculated, capExcess, annual: Int
        public let months: Int
        public let monthlyReduction, exemption, premium: Int

        public init(historyNo: Int, reduction: String, formerDependent: Bool, provisional: Bool, incomeBase: Int,
                    perCapita: Int, perCapitaReduction: Int, incomeShare: Int, calculated: Int, capExcess: Int, annual: Int,
                    months: Int, monthlyReduction: Int, exemption: Int, premium: Int) {
            (self.historyNo, self.reduction, self.formerDependent, self.provisional) = (historyNo, reduction, formerDependent, provisional)
            (self.incomeBase, self.perCapita, self.perCapitaReduction, self.incomeShare) = (incomeBase, perCapita, perCapitaReduction, incomeShare)
            (self.calculated, self.capExcess, self.annual, self.months) = (calculated, capExcess, annual, months)
            (self.monthlyReduction, self.exemption, self.premium) = (monthlyReduction, exemption, premium)
        }

        /// The figures a person is told about: a change to any of them is a new decision.
        public var figures: [Int] {
            [incomeBase, perCapita, perCapitaReduction, incomeShare, calculated, capExcess, annual, months, monthlyReduction,
             exemption, premium, formerDependent ? 1 : 0, provisional ? 1 : 0]
        }
    }

    public func current(of people: [String], fiscalYear: Int) throws -> [String: Stored] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Stored] = [:]
        for row in try tx.query("""
            SELECT h.atena_no, h.history_no, h.reduction, h.former_dependent, h.provisional, h.income_base, h.per_capita,
                   h.per_capita_reduction, h.income_share, h.calculated, h.cap_excess, h.annual, h.months,
                   h.monthly_reduction, h.exemption, h.premium
            FROM assessments a JOIN assessment_history h
              ON h.atena_no = a.atena_no AND h.fiscal_year = a.fiscal_year AND h.history_no = a.history_no
            WHERE a.atena_no = ANY(\(people)::text[]) AND a.fiscal_year = \(fiscalYear)
            """) {
            result[try row.decode(String.self, at: 0)] = Stored(
                historyNo: try row.decode(at: 1), reduction: try row.decode(at: 2), formerDependent: try row.decode(at: 3),
                provisional: try row.decode(at: 4), incomeBase: try row.decode(at: 5), perCapita: try row.decode(at: 6),
                perCapitaReduction: try row.decode(at: 7), incomeShare: try row.decode(at: 8), calculated: try row.decode(at: 9),
                capExcess: try row.decode(at: 10), annual: try row.decode(at: 11), months: try row.decode(at: 12),
                monthlyReduction: try row.decode(at: 13), exemption: try row.decode(at: 14), premium: try row.decode(at: 15))
        }
        return result
    }

    /// One new 賦課 decision.
    public struct Decision: Sendable {
        public let atenaNo: String
        public let fiscalYear: Int
        public let historyNo: Int
        public let insuredNumber: String?
        public let decidedOn: LocalDate
        public let reason: String
        public let householdNo: String?
        public let new: Stored
        public let incomeRate: String
        public let components: String
        public let before: Stored?
        public let eventID: String

        public init(atenaNo: String, fiscalYear: Int, historyNo: Int, insuredNumber: String?, decidedOn: LocalDate,
                    reason: String, householdNo: String?, new: Stored, incomeRate: String, components: String,
                    before: Stored?, eventID: String) {
            self.atenaNo = atenaNo
            self.fiscalYear = fiscalYear
            self.historyNo = historyNo
            self.insuredNumber = insuredNumber
            self.decidedOn = decidedOn
            self.reason = reason
            self.householdNo = householdNo
            self.new = new
            self.incomeRate = incomeRate
            self.components = components
            self.before = before
            self.eventID = eventID
        }
    }

    public func record(_ decisions: [Decision]) throws {
        guard !decisions.isEmpty else { return }
        let d = decisions
        func new(_ f: (Stored) -> Int) -> [Int] { d.map { f($0.new) } }
        func old(_ f: (Stored) -> Int) -> [Int?] { d.map { $0.before.map(f) } }
        try tx.execute("""
            INSERT INTO assessment_history (atena_no, fiscal_year, history_no, previous_history_no, insured_number, decided_on,
                reason, household_no, reduction, former_dependent, provisional, income_rate, income_base, per_capita,
                per_capita_reduction, income_share, calculated, cap_excess, annual, months, monthly_reduction, exemption,
                premium, components, income_base_before, per_capita_before, per_capita_reduction_before, income_share_before,
                calculated_before, cap_excess_before, annual_before, months_before, monthly_reduction_before, exemption_before,
                premium_before, reduction_before, event_id)
            SELECT * FROM unnest(\(d.map(\.atenaNo))::text[], \(d.map(\.fiscalYear))::int[], \(d.map(\.historyNo))::int[],
                \(d.map { $0.before?.historyNo })::int[], \(d.map(\.insuredNumber))::text[], \(d.map(\.decidedOn))::date[],
                \(d.map(\.reason))::text[], \(d.map(\.householdNo))::text[], \(d.map(\.new.reduction))::text[],
                \(d.map(\.new.formerDependent))::bool[], \(d.map(\.new.provisional))::bool[], \(d.map(\.incomeRate))::text[],
                \(new(\.incomeBase))::bigint[], \(new(\.perCapita))::bigint[], \(new(\.perCapitaReduction))::bigint[],
                \(new(\.incomeShare))::bigint[], \(new(\.calculated))::bigint[], \(new(\.capExcess))::bigint[],
                \(new(\.annual))::bigint[], \(new(\.months))::int[], \(new(\.monthlyReduction))::bigint[],
                \(new(\.exemption))::bigint[], \(new(\.premium))::bigint[], \(d.map(\.components))::jsonb[],
                \(old(\.incomeBase))::bigint[], \(old(\.perCapita))::bigint[], \(old(\.perCapitaReduction))::bigint[],
                \(old(\.incomeShare))::bigint[], \(old(\.calculated))::bigint[], \(old(\.capExcess))::bigint[],
                \(old(\.annual))::bigint[], \(old(\.months))::int[], \(old(\.monthlyReduction))::bigint[],
                \(old(\.exemption))::bigint[], \(old(\.premium))::bigint[], \(d.map { $0.before?.reduction })::text[],
                \(d.map(\.eventID))::text[])
            """)
        try tx.execute("""
            INSERT INTO assessments (atena_no, fiscal_year, history_no, premium)
            SELECT * FROM unnest(\(d.map(\.atenaNo))::text[], \(d.map(\.fiscalYear))::int[], \(d.map(\.historyNo))::int[],
                                 \(new(\.premium))::bigint[])
            ON CONFLICT (atena_no, fiscal_year) DO UPDATE SET history_no = EXCLUDED.history_no, premium = EXCLUDED.premium
            """)
    }

    /// A person's current 期割 plan: its revision, installments, and whose figure it bills
    /// (`koki`, `union`, or `interim` — the 仮徴収 before the 本算定).
    public struct CurrentPlan: Sendable {
        public let revision: Int
        public var installments: [Installments.Installment]
        public let basis: String

        public var isInterim: Bool { basis == "interim" }

        public init(revision: Int, installments: [Installments.Installment], basis: String) {
            self.revision = revision
            self.installments = installments
            self.basis = basis
        }
    }

    /// Each person's current 期割 plan for `fiscalYear`.
    public func plans(of people: [String], fiscalYear: Int) throws -> [String: CurrentPlan] {
        guard !people.isEmpty else { return [:] }
        var result: [String: CurrentPlan] = [:]
        for row in try tx.query("""
            SELECT p.atena_no, p.revision, p.basis, i.method, i.installment_no, i.due_date, i.amount, i.before_exemption
            FROM installment_plans p LEFT JOIN installments i
              ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.atena_no = ANY(\(people)::text[]) AND p.fiscal_year = \(fiscalYear)
            ORDER BY p.atena_no, i.due_date, i.method
            """) {
            let atenaNo = try row.decode(String.self, at: 0)
            var plan = try result[atenaNo] ?? CurrentPlan(revision: row.decode(at: 1), installments: [], basis: row.decode(at: 2))
            if let method = try row.decode(String?.self, at: 3).flatMap(Installments.Method.init(rawValue:)) {
                plan.installments.append(Installments.Installment(no: try row.decode(at: 4), dueDate: try row.decode(at: 5),
                                                                  amount: try row.decode(at: 6), method: method,
                                                                  beforeExemption: try row.decode(at: 7)))
            }
            result[atenaNo] = plan
        }
        return result
    }

    /// Who gets 仮徴収 in `fiscalYear`: the people whose current plan of the year before had a
    /// pension 期 in February, insured on 1 April, without a plan for the year yet and without a
    /// 口座振替 asked for (the 中止 sent with it stopped the deductions) — with that
    /// February amount and the previous 年度's premium (for 平準化).
    public func interimCandidates(fiscalYear: Int) throws -> [(atenaNo: String, february: Int, previousAnnual: Int)] {
        let april = LocalDate(year: fiscalYear, month: 4, day: 1)!
        return try tx.query("""
            SELECT p.atena_no, f.amount, (SELECT coalesce(sum(amount), 0) FROM installments a
                                          WHERE a.atena_no = p.atena_no AND a.fiscal_year = p.fiscal_year AND a.revision = p.revision)
            FROM installment_plans p
            JOIN installments f ON f.atena_no = p.atena_no AND f.fiscal_year = p.fiscal_year AND f.revision = p.revision
                               AND f.method = 'pension' AND extract(month FROM f.due_date) = 2 AND f.amount > 0
            WHERE p.current AND p.fiscal_year = \(fiscalYear - 1)
              AND EXISTS (SELECT 1 FROM qualification_periods q WHERE q.atena_no = p.atena_no AND q.acquired_on <= \(april)
                          AND (q.lost_on IS NULL OR q.lost_on > \(april)))
              AND NOT EXISTS (SELECT 1 FROM installment_plans n WHERE n.atena_no = p.atena_no AND n.fiscal_year = \(fiscalYear))
              AND NOT EXISTS (SELECT 1 FROM payment_method_changes m WHERE m.atena_no = p.atena_no)
            ORDER BY p.atena_no
            """).map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2)) }
    }

    /// Who may start 特別徴収 in April of `fiscalYear` by the 1/6 rule: a 特別徴収対象者情報 for the
    /// year, insured on 1 April, no plan for the year yet, no 口座振替 asked for, and a premium last
    /// 年度 that no pension paid in February — with that premium.
    public func newStartCandidates(fiscalYear: Int) throws -> [(atenaNo: String, previousAnnual: Int, insuredSince: LocalDate)] {
        let april = LocalDate(year: fiscalYear, month: 4, day: 1)!
        return try tx.query("""
            SELECT p.atena_no, sum(i.amount)::bigint,
                   (SELECT max(q.acquired_on) FROM qualification_periods q WHERE q.atena_no = p.atena_no AND q.acquired_on <= \(april)
                      AND (q.lost_on IS NULL OR q.lost_on > \(april)))
            FROM installment_plans p
            JOIN installments i ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.fiscal_year = \(fiscalYear - 1)
              AND EXISTS (SELECT 1 FROM pension_deduction_targets t WHERE t.atena_no = p.atena_no AND t.fiscal_year = \(fiscalYear))
              AND EXISTS (SELECT 1 FROM qualification_periods q WHERE q.atena_no = p.atena_no AND q.acquired_on <= \(april)
                          AND (q.lost_on IS NULL OR q.lost_on > \(april)))
              AND NOT EXISTS (SELECT 1 FROM installment_plans n WHERE n.atena_no = p.atena_no AND n.fiscal_year = \(fiscalYear))
              AND NOT EXISTS (SELECT 1 FROM payment_method_changes m WHERE m.atena_no = p.atena_no)
            GROUP BY p.atena_no
            HAVING sum(i.amount) > 0 AND NOT bool_or(i.method = 'pension' AND extract(month FROM i.due_date) = 2 AND i.amount > 0)
            ORDER BY p.atena_no
            """).map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2)) }
    }

    /// What each premium 期 of these people has received (payments and 充当), for a 減額更正 to
    /// lower the unpaid 期 first. Read through `installment_settlements`, the one view of 収納 the
    /// tax worker has.
    public func settled(of people: [String], fiscalYear: Int) throws -> [String: [Installments.Key: Int]] {
        guard !people.isEmpty else { return [:] }
        var result: [String: [Installments.Key: Int]] = [:]
        for row in try tx.query("""
            SELECT atena_no, method, installment_no, settled FROM installment_settlements
            WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear)
            """) {
            guard let method = Installments.Method(rawValue: try row.decode(String.self, at: 1)) else { continue }
            result[try row.decode(String.self, at: 0), default: [:]][.init(method: method, no: try row.decode(at: 2))] =
                try row.decode(Int.self, at: 3)
        }
        return result
    }

    /// Whose figure the person's current plan for the 年度 bills (`koki` or `union`), if there is one.
    public func planBasis(of person: String, fiscalYear: Int) throws -> String? {
        try tx.query("""
            SELECT basis FROM installment_plans WHERE atena_no = \(person) AND fiscal_year = \(fiscalYear) AND current
            """).first.map { try $0.decode(String.self, at: 0) }
    }

    public struct Plan: Sendable {
        public let atenaNo: String
        public let fiscalYear: Int
        public let revision: Int
        public let decidedOn: LocalDate
        public let assessmentHistoryNo: Int
        public let installments: [Installments.Installment]
        /// Whose figure it bills: `koki` (provisional until the union decides) or `union`.
        public let basis: String

        public init(atenaNo: String, fiscalYear: Int, revision: Int, decidedOn: LocalDate, assessmentHistoryNo: Int,
                    installments: [Installments.Installment], basis: String = "koki") {
            self.atenaNo = atenaNo
            self.fiscalYear = fiscalYear
            self.revision = revision
            self.decidedOn = decidedOn
            self.assessmentHistoryNo = assessmentHistoryNo
            self.installments = installments
            self.basis = basis
        }
    }

    /// Makes each plan the person's current one for the year (the previous stays as history).
    public func record(_ plans: [Plan]) throws {
        guard !plans.isEmpty else { return }
        try tx.execute("""
            UPDATE installment_plans p SET current = false
            FROM unnest(\(plans.map(\.atenaNo))::text[], \(plans.map(\.fiscalYear))::int[]) AS v(a, f)
            WHERE p.atena_no = v.a AND p.fiscal_year = v.f AND p.current
            """)
        try tx.execute("""
            INSERT INTO installment_plans (atena_no, fiscal_year, revision, decided_on, assessment_history_no, current, basis)
            SELECT a, f, r, d, h, true, b FROM unnest(\(plans.map(\.atenaNo))::text[], \(plans.map(\.fiscalYear))::int[],
                \(plans.map(\.revision))::int[], \(plans.map(\.decidedOn))::date[], \(plans.map(\.assessmentHistoryNo))::int[],
                \(plans.map(\.basis))::text[]) AS v(a, f, r, d, h, b)
            """)
        let rows = plans.flatMap { plan in plan.installments.map { (plan, $0) } }
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO installments (atena_no, fiscal_year, revision, method, installment_no, due_date, amount, before_exemption)
            SELECT * FROM unnest(\(rows.map(\.0.atenaNo))::text[], \(rows.map(\.0.fiscalYear))::int[],
                \(rows.map(\.0.revision))::int[], \(rows.map(\.1.method.rawValue))::text[], \(rows.map(\.1.no))::int[],
                \(rows.map(\.1.dueDate))::date[], \(rows.map(\.1.amount))::bigint[], \(rows.map(\.1.beforeExemption))::bigint[])
            """)
    }

    /// The last 特別徴収 of the previous 年度 (February), the amount 仮徴収 repeats.
    public func previousFebruary(of people: [String], fiscalYear: Int) throws -> [String: Int] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT i.atena_no, i.amount FROM installment_plans p JOIN installments i
              ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.fiscal_year = \(fiscalYear - 1) AND p.atena_no = ANY(\(people)::text[])
              AND i.method = 'pension' AND extract(month FROM i.due_date) = 2
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }

    /// The 負担割合 each person has from `effectiveFrom`, with its last 履歴番号.
    public func burdenRatios(of people: [String], effectiveFrom: LocalDate) throws -> [String: (ratio: Int, historyNo: Int)] {
        guard !people.isEmpty else { return [:] }
        var result: [String: (Int, Int)] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, ratio, history_no FROM burden_ratios
            WHERE atena_no = ANY(\(people)::text[]) AND effective_from = \(effectiveFrom) ORDER BY atena_no, history_no DESC
            """) {
            result[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2))
        }
        return result
    }

    /// The 負担割合 in force on `day` per person: the latest row effective on or before it.
    public func burdenRatiosInForce(of people: [String], on day: LocalDate) throws
        -> [String: (effectiveFrom: LocalDate, ratio: Int, historyNo: Int)] {
        guard !people.isEmpty else { return [:] }
        var result: [String: (LocalDate, Int, Int)] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, effective_from, ratio, history_no FROM burden_ratios
            WHERE atena_no = ANY(\(people)::text[]) AND effective_from <= \(day)
            ORDER BY atena_no, effective_from DESC, history_no DESC
            """) {
            result[try row.decode(String.self, at: 0)] = (try row.decode(LocalDate.self, at: 1), try row.decode(Int.self, at: 2),
                                                          try row.decode(Int.self, at: 3))
        }
        return result
    }

    public func recordBurdenRatios(_ rows: [(atenaNo: String, effectiveFrom: LocalDate, historyNo: Int, ratio: Int, eventID: String)]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO burden_ratios (atena_no, effective_from, history_no, ratio, event_id)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.effectiveFrom))::date[], \(rows.map(\.historyNo))::int[],
                                 \(rows.map(\.ratio))::int[], \(rows.map(\.eventID))::text[])
            """)
    }

    /// The last 賦課 履歴番号 per person for the year.
    public func lastHistoryNumbers(_ people: [String], fiscalYear: Int) throws -> [String: Int] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT atena_no, max(history_no) FROM assessment_history
            WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear) GROUP BY atena_no
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }
}
