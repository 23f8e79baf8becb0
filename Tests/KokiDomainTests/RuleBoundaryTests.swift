import Foundation
import KokiBase
import KokiDomain
import Testing

/// Rules at their boundaries, each with its source (DOMAIN.md; docs/rules.md).
@Suite("rules at their boundaries")
struct RuleBoundaryTests {
    func estimate(_ json: String) throws -> PremiumEstimate.Output {
        try PremiumEstimate.compute(JSONDecoder().decode(PremiumEstimate.Input.self, from: Data(json.utf8)))
    }

    /// 年齢計算ニ関スル法律 (民法143条 準用): an age is reached at the end of the day before the
    /// birthday — on 31 December 2024 someone born on 1 January 1960 is 65.
    @Test("legal age (年齢計算ニ関スル法律)", arguments: [
        ("1960-01-01", "2024-12-31", 65),
        ("1960-01-02", "2024-12-31", 64),
        ("1960-01-02", "2025-01-01", 65),   // reached at the end of 1 January
        ("1960-02-29", "2025-02-28", 65),   // born 29 February: the end of 28 February in other years
        ("1960-02-29", "2025-02-27", 64),
        ("1960-02-29", "2024-02-28", 64),   // in a leap year, the end of 28 February (the day before the 29th)
    ])
    func legalAge(_ birth: String, _ on: String, _ age: Int) {
        #expect(d(birth).legalAge(on: d(on)) == age)
    }

    /// "65 or over on 31 December of the income year" (公的年金等控除 and the 15万 of the 軽減
    /// test) includes those born on 1 January 65 years earlier. R6, single, pension 1,550,000:
    /// 65+ → 所得 450,000, test income 300,000 ≤ 430,000 → 7割; 64 → 所得 887,500 → 2割.
    @Test("born on 1 January counts as 65 on 31 December", arguments: [
        ("1959-01-01", "70", 450_000 - 430_000),
        ("1959-01-02", "20", 887_500 - 430_000),
    ])
    func firstOfJanuaryIs65(_ birth: String, _ reduction: String, _ base: Int) throws {
        let out = try estimate("""
            {"fiscalYear": 2024, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "\(birth)",
             "publicPensionIncome": 1550000, "salaryIncome": 0, "otherIncome": 0}]}
            """)
        #expect(out.members[0].reduction == reduction)
        #expect(out.members[0].incomeBase == base)
    }

    /// 地方自治法 4条の2 (休日: 土日, 祝日, 年末年始 by the city's 休日条例 — 12月29日から翌年1月3日;
    /// 4項: a 期限 on a 休日 is the next day that is not one).
    @Test("closed days 29 December – 3 January", arguments: [
        ("2026-12-28", false), ("2026-12-29", true), ("2026-12-31", true), ("2027-01-03", true), ("2027-01-04", false),
    ])
    func yearEndClosure(_ day: String, _ closed: Bool) {
        #expect(Installments.isClosed(d(day), holidays: []) == closed)
    }

    @Test func aDecemberDueDateOnASundayMovesPastNewYear() {
        // FY2025: the 6th 期 is due 2025-12-28, a Sunday; 29 December – 3 January are closed, 4 January a Sunday.
        let plan = Installments.ordinary(80_000, fiscalYear: 2025, holidays: [d("2026-01-01")])
        #expect(plan[5].dueDate == d("2026-01-05"))
        // A schedule due on 30 December moves too (2026-12-30 is a Wednesday).
        let late = Installments.ordinary(10_000, fiscalYear: 2026, schedule: .init(months: [(12, 30)]), holidays: [])
        #expect(late[0].dueDate == d("2027-01-04"))
    }

    /// 所得税法 35条4項: the 公的年金等控除 is 100,000 smaller when the 合計所得金額 other than
    /// pensions exceeds 10,000,000 — that is the salary's 所得 and the other 所得, not the total
    /// less the other income. Pension 3,000,000 (65+) with a salary whose 所得 is 9,000,000:
    /// no adjustment, pension 所得 1,900,000; with 10,000,001 of other 所得: 2,000,000.
    @Test func pensionDeductionReadsTheIncomeOtherThanPensions() {
        func delivered(salary: Int, other: Int) -> PersonIncome {
            let estimate = PersonIncome.estimate(pensionRevenue: 3_000_000, salaryRevenue: salary, otherIncome: other, aged65: true,
                                                 incomeYear: 2024)
            return PersonIncome.delivered(totalIncome: estimate.totalIncome, totalIncomeForAssessment: estimate.totalIncome,
                                          pensionRevenue: 3_000_000, salaryRevenue: salary, otherIncome: other, taxableIncome: 0,
                                          aged65: true, incomeYear: 2024)
        }
        let salaried = delivered(salary: 10_950_000, other: 0)
        #expect(salaried.totalIncome == 8_900_000 + 1_900_000)   // 所得金額調整控除 100,000 off the salary
        #expect(salaried.pensionIncome == 1_900_000)
        #expect(delivered(salary: 0, other: 10_000_000).pensionIncome == 1_900_000)
        #expect(delivered(salary: 0, other: 10_000_001).pensionIncome == 2_000_000)
    }
}

/// 時効 (高確法 160条; 民法 152条 through 地方自治法 236条): two years from the day after the
/// 納期限, renewed by a 督促 (from the day after its deadline) and by the person's 承認.
@Suite("時効 — prescription")
struct PrescriptionTests {
    @Test func twoYearsFromTheLatestRenewal() {
        let due = d("2026-07-31")
        #expect(Prescription.completesOn(dueDate: due, dunningDeadline: nil) == d("2028-08-01"))
        #expect(Prescription.completesOn(dueDate: due, dunningDeadline: d("2026-08-30")) == d("2028-08-31"))
        // A partial payment after the 督促's deadline renews it from the day after the payment.
        #expect(Prescription.completesOn(dueDate: due, dunningDeadline: d("2026-08-30"), acknowledgedOn: d("2026-09-15"))
                    == d("2028-09-16"))
        // An 承認 before the deadline changes nothing: the later renewal counts.
        #expect(Prescription.completesOn(dueDate: due, dunningDeadline: d("2026-08-30"), acknowledgedOn: d("2026-08-10"))
                    == d("2028-08-31"))
        // A 分納誓約 two years on starts another two years.
        #expect(Prescription.completesOn(dueDate: due, dunningDeadline: nil, acknowledgedOn: d("2028-07-31")) == d("2030-08-01"))
    }
}

/// 負担割合 (高確法 67条, 施行令 7条; DOMAIN.md): 3割 with 課税所得 ≥ 1,450,000 unless the
/// 基準収入額 (383万 single, 520万 two or more, 520万 with the household's 70–74s) or the 210万
/// rule (an insured member born on or after 1945-01-02) says otherwise.
@Suite("負担割合 — boundaries")
struct BurdenRatioBoundaryTests {
    func person(_ birth: String, revenue: Int, taxable: Int = 1_450_000, assessed: Int = 3_000_000) -> BurdenRatio.Insured {
        .init(birthDate: d(birth), income: PersonIncome(totalIncome: assessed, totalIncomeForAssessment: assessed,
                                                        pensionRevenue: revenue, pensionIncome: assessed, salaryRevenue: 0,
                                                        taxableIncome: taxable))
    }

    @Test("single: 収入 under 3,830,000", arguments: [(3_829_999, 20), (3_830_000, 30)])
    func single(_ revenue: Int, _ ratio: Int) {
        #expect(BurdenRatio.judge([person("1940-01-01", revenue: revenue)]) == ratio)
    }

    @Test("single with a member aged 70–74: together under 5,200,000", arguments: [(1_199_999, 20), (1_200_000, 30)])
    func withSeventyToSeventyFour(_ memberRevenue: Int, _ ratio: Int) {
        let member = PersonIncome(totalIncome: 0, totalIncomeForAssessment: 0, pensionRevenue: memberRevenue, pensionIncome: 0,
                                  salaryRevenue: 0, taxableIncome: 0)
        #expect(BurdenRatio.judge([person("1940-01-01", revenue: 4_000_000)], aged70to74: [member]) == ratio)
        #expect(BurdenRatio.judge([person("1940-01-01", revenue: 4_000_000)]) == 30, "without the member: 3割")
    }

    @Test("two insured: together under 5,200,000", arguments: [(5_199_999, 20), (5_200_000, 30)])
    func two(_ total: Int, _ ratio: Int) {
        #expect(BurdenRatio.judge([person("1940-01-01", revenue: total - 1_000_000),
                                   person("1941-01-01", revenue: 1_000_000, taxable: 0, assessed: 0)]) == ratio)
    }

    /// 210万: 「昭和20年1月2日以降に生まれた被保険者で、本人及び同一世帯の被保険者の基礎控除後の総所得金額等の
    /// 合計が210万円以下」 — one insured member born then is enough; the sum is over the insured.
    @Test("the 210万 rule", arguments: [
        ("1945-01-02", 2_100_000 + 430_000, 10),   // at the limit: 1割 (revenue under the 2割 line is not tested here)
        ("1945-01-02", 2_100_001 + 430_000, 30),
        ("1945-01-01", 2_100_000 + 430_000, 30),   // nobody born on or after 1945-01-02
    ])
    func twoPointOneMillion(_ birth: String, _ assessed: Int, _ ratio: Int) {
        let a = person(birth, revenue: 6_000_000, assessed: assessed)
        let b = BurdenRatio.Insured(birthDate: d("1940-01-01"), income: nil)
        let judged = BurdenRatio.judge([a, b])
        // Under the 2割 line the rule gives 1割 or 2割: the 2割 test reads pension + other income.
        #expect(ratio == 30 ? judged == 30 : judged != 30)
    }

    /// 2割: 課税所得 ≥ 280,000 and 年金収入 + その他の合計所得金額 ≥ 2,000,000 (single) — a salary's
    /// 所得 counts less 100,000. Pension 1,500,000 (所得 400,000) + salary 所得 600,000: 1,500,000 +
    /// 500,000 = 2,000,000 → 2割; with 1 yen less of salary 所得: 1割.
    @Test("2割 with a salary", arguments: [(600_000, 20), (599_999, 10)])
    func twoTenthsWithASalary(_ salary: Int, _ ratio: Int) {
        let income = PersonIncome(totalIncome: 400_000 + salary, totalIncomeForAssessment: 400_000 + salary, pensionRevenue: 1_500_000,
                                  pensionIncome: 400_000, salaryRevenue: 1_200_000, taxableIncome: 300_000)
        #expect(BurdenRatio.judge([.init(birthDate: d("1940-01-01"), income: income)]) == ratio)
    }

    /// 「負担割合の変更は…変更の事由のあった月の翌月1日から」; the year's judgment on 1 August.
    @Test("effective from", arguments: [
        (nil as String?, nil as String?, "2026-08-01"),
        (nil, "2026-05-20", "2026-08-01"),        // a change before August: the yearly judgment reads it
        (nil, "2026-10-15", "2026-11-01"),
        (nil, "2026-10-01", "2026-11-01"),        // on the 1st: still the next month
        (nil, "2027-01-31", "2027-02-01"),
        ("2026-09-10", nil, "2026-09-10"),        // a mid-year entrant from the 取得日
    ])
    func effectiveFrom(_ acquired: String?, _ changed: String?, _ expected: String) {
        #expect(BurdenRatio.effectiveFrom(fiscalYear: 2026, acquiredOn: acquired.map(d), householdChangedOn: changed.map(d)) == d(expected))
    }
}

/// 還付加算金 (地方税法 17条の4; rounding as 20条の4の2; rates as data) and the refund's 時効.
@Suite("還付加算金 — refund interest")
struct RefundInterestTests {
    @Test func periodStartsByCause() {
        // 1号 (lowered after payment): from the day after the payment, or the 納期限 if paid early.
        #expect(RefundInterest.lastDayWithout(.lowered, paidOn: d("2026-07-20"), dueDate: d("2026-07-31")) == d("2026-07-31"))
        #expect(RefundInterest.lastDayWithout(.lowered, paidOn: d("2026-08-05"), dueDate: d("2026-07-31")) == d("2026-08-05"))
        // その他の過誤納: one month after the day after the payment (民法143 counting).
        #expect(RefundInterest.lastDayWithout(.overpaid, paidOn: d("2026-07-20")) == d("2026-08-20"))
        #expect(RefundInterest.lastDayWithout(.overpaid, paidOn: d("2026-07-31")) == d("2026-08-31"))
    }

    @Test("amounts at the rounding boundaries", arguments: [
        (1_999, "2026-07-31", "2026-12-31", 0),            // under 2,000: none
        (100_000, "2026-07-31", "2026-12-31", 0),          // 153 days × 1.3 % = 544.9: under 1,000
        (1_000_999, "2026-07-31", "2026-12-31", 5_400),    // base 1,000,000: 5,449.3 → 5,400
        (1_000_000, "2025-10-31", "2026-02-28", 3_600),    // 61 days at 0.9 % + 59 at 1.3 % = 3,605.5
        (1_000_000, "2026-07-31", "2026-07-31", 0),        // decided the same day
    ])
    func amounts(_ amount: Int, _ after: String, _ decided: String, _ interest: Int) throws {
        #expect(try RefundInterest.compute(amount: amount, after: d(after), decidedOn: d(decided)).interest == interest)
    }

    @Test func aYearWithoutARateIsAnErrorAndRefundsLapseAfterTwoYears() {
        #expect(throws: LateFee.MissingRate(year: 2027)) {
            try RefundInterest.compute(amount: 1_000_000, after: d("2026-12-01"), decidedOn: d("2027-01-10"))
        }
        #expect(RefundInterest.lapsesOn(decidedOn: d("2026-12-01")) == d("2028-12-02"))
    }
}

/// 減免 (DOMAIN.md 徴収): the 期 due on or after the application (disaster) date, not the year.
@Suite("減免 — exemption from its date")
struct ExemptionTests {
    @Test("the 期 due on the date are lowered, the day before are not", arguments: [
        ("2026-09-30", 6), ("2026-10-01", 5), ("2027-03-02", 0),
    ])
    func fromItsDate(_ from: String, _ lowered: Int) {
        let plan = Installments.ordinary(62_400, fiscalYear: 2026, holidays: [])   // 7,800 × 8
        let exempted = Installments.exempt(plan, percent: 50, from: d(from))
        #expect(exempted.filter { $0.beforeExemption != nil }.count == lowered)
        #expect(plan.reduce(0) { $0 + $1.amount } - exempted.reduce(0) { $0 + $1.amount } == 3_900 * lowered)
        #expect(exempted.map(\.withoutExemption) == plan, "a later 更正 revises the plan as it stands without the 減免")
    }

    @Test func fullExemptionAndAnAssessmentsFigures() {
        let plan = Installments.ordinary(62_400, fiscalYear: 2026, holidays: [])
        #expect(Installments.exempt(plan, percent: 100, from: d("2026-04-01")).allSatisfy { $0.amount == 0 })
        let assessment = singlePensioner(1_970_000, rates: r5)
        let lowered = assessment.exempted(by: 20_000)
        #expect(lowered.premium == assessment.premium - 20_000 && lowered.exemption == assessment.exemption + 20_000)
        #expect(lowered.components.reduce(0) { $0 + $1.premium } == lowered.premium)
    }
}
