import KokiBase
import KokiDomain
import Testing

let r5 = SaitamaRates.rates(for: 2023)!
let r6 = SaitamaRates.rates(for: 2024)!
let fullYear = Array(1...12)

/// A single insured person, 65+, pension only: the official R5 examples' shape.
func singlePensioner(_ pension: Int, rates: FiscalYearRates, months: [Int] = fullYear, formerDependentSince: LocalDate? = nil,
                     birth: LocalDate = d("1949-06-01"), certifiedOn: LocalDate? = nil) -> Premium.Assessment {
    let income = PersonIncome.estimate(pensionRevenue: pension, salaryRevenue: 0, otherIncome: 0, aged65: true,
                                       incomeYear: rates.fiscalYear - 1)
    let reduction = LowIncomeReduction.judge([.init(insured: true, head: true, birthDate: birth, income: income)],
                                             fiscalYear: rates.fiscalYear, rates: rates)
    return Premium.assess(.init(birthDate: birth, income: income, months: months, formerDependentSince: formerDependentSince,
                                disabilityCertifiedOn: certifiedOn), reduction: reduction, rates: rates)
}

@Suite("保険料 — the premium engine")
struct PremiumTests {
    @Test("official R5 examples (single, 65+, pension only)", arguments: [
        (1_530_000, 13_200, LowIncomeReduction.seventy), (1_680_000, 25_800, .seventy),
        (1_970_000, 58_900, .fifty), (2_210_000, 92_300, .twenty), (2_400_000, 117_000, .none),
        (3_000_000, 167_300, .none), (9_720_000, 660_000, .none),
    ])
    func officialExamples(_ pension: Int, _ premium: Int, _ reduction: LowIncomeReduction) {
        let assessment = singlePensioner(pension, rates: r5)
        #expect(assessment.premium == premium)
        #expect(assessment.reduction == reduction)
    }

    @Test func fiveTenthsBoundaryIsInclusive() {
        // 1.97 M: test income 870,000 − 150,000 = 720,000 = 430,000 + 290,000 exactly.
        #expect(singlePensioner(1_970_000, rates: r5).reduction == .fifty)
        #expect(singlePensioner(1_970_001, rates: r5).reduction == .twenty)
    }

    @Test func moneyIsExact() {
        #expect(Rate(percent: "8.42")!.of(150_000) == 12_630)
        #expect(Rate(percent: "9.03")!.of(1_470_000) == 132_741)
        #expect(Rate(percent: "8.42")!.description == "8.42")
        #expect(Rate(percent: "8.4.2") == nil && Rate(percent: "-1") == nil && Rate(percent: "1e3") == nil)
    }

    @Test func monthlyForASeptemberEntrant() {
        let months = FiscalMonths.insured([(d("2023-09-15"), nil)], fiscalYear: 2023)
        #expect(months == Array(6...12))
        let a = singlePensioner(1_530_000, rates: r5, months: months)
        #expect(a.premium == 7_700 && a.monthlyReduction == 5_500 && a.months == 7)
    }

    @Test func deathInJuly() {
        // Died 7/31 → lost 8/1 → April–July.
        let months = FiscalMonths.insured([(d("2015-01-10"), d("2023-08-01"))], fiscalYear: 2023)
        #expect(months == [1, 2, 3, 4])
        #expect(singlePensioner(2_400_000, rates: r5, months: months).premium == 39_000)
        // Died 7/15 → lost 7/16: July does not count.
        #expect(FiscalMonths.insured([(d("2015-01-10"), d("2023-07-16"))], fiscalYear: 2023) == [1, 2, 3])
    }

    @Test func formerDependentAgainstSeventyPercent() {
        // Low income: 7割 is larger than the dependant's 5割.
        let low = singlePensioner(1_530_000, rates: r5, formerDependentSince: d("2023-04-01"))
        #expect(low.premium == 13_200 && low.reduction == .seventy)
        // No low-income reduction: 50 % off 均等割 and no 所得割.
        let high = singlePensioner(2_400_000, rates: r5, formerDependentSince: d("2023-04-01"))
        #expect(high.incomeShare == 0 && high.perCapitaAfterReduction == 22_085 && high.premium == 22_000)
        // Two years after joining, the 50 % ends; 所得割 stays 0.
        let later = singlePensioner(2_400_000, rates: r5, formerDependentSince: d("2021-10-01"))
        #expect(later.premium == Yen.floorTo100((22_000 * 6 + 44_100 * 6) / 12) && later.incomeShare == 0)
    }

    @Test func undeclaredIncomeBlocksReductionAndAssessesPerCapitaOnly() {
        let birth = d("1945-06-01")
        let reduction = LowIncomeReduction.judge([.init(insured: true, head: true, birthDate: birth, income: nil)],
                                                 fiscalYear: 2023, rates: r5)
        #expect(reduction == .none)
        let a = Premium.assess(.init(birthDate: birth, income: nil, months: fullYear), reduction: reduction, rates: r5)
        #expect(a.premium == 44_100 && a.provisional)
        // One member's unknown income blocks the whole household.
        let known = PersonIncome.estimate(pensionRevenue: 800_000, salaryRevenue: 0, otherIncome: 0, aged65: true, incomeYear: 2022)
        #expect(LowIncomeReduction.judge([.init(insured: true, head: true, birthDate: birth, income: known),
                                          .init(insured: true, head: false, birthDate: birth, income: nil)],
                                         fiscalYear: 2023, rates: r5) == .none)
    }

    @Test func r6TransitionalRateAndCap() {
        // Base ≤ 580,000: 8.42 % (2.11 M pension → income 1,010,000 → base 580,000).
        let low = singlePensioner(2_110_000, rates: r6)
        #expect(low.incomeBase == 580_000 && low.incomeShare == 48_836)
        #expect(singlePensioner(2_120_000, rates: r6).incomeShare == Rate(percent: "9.03")!.of(590_000))
        #expect(singlePensioner(15_000_000, rates: r6, birth: d("1949-03-31")).components[0].capExcess > 0)
    }

    /// R6 transitional cap: 730,000 「令和6年度に限り、昭和24年3月31日までに生まれた方および令和7年3月31日
    /// までに障害認定により資格を取得された方」 (兵庫県・静岡県後期高齢者医療広域連合; 埼玉: 「生年月日が
    /// 昭和24年3月31日以前の人は、令和6年度は73万円」) — whoever insured them at the end of R5;
    /// 800,000 for everyone else.
    @Test("R6 cap by birth date and 障害認定 date", arguments: [
        ("1949-03-31", nil as String?, 730_000),   // the last birth date with the lower cap
        ("1949-04-01", nil, 800_000),              // the day after: 75 only in R6
        ("1950-06-01", "2025-03-31", 730_000),     // certified on the last day
        ("1950-06-01", "2025-04-01", 800_000),     // certified the day after
        ("1940-01-01", nil, 730_000),              // a mover from another prefecture: born early is enough
    ])
    func r6ReducedCap(_ birth: String, _ certified: String?, _ cap: Int) {
        #expect(singlePensioner(15_000_000, rates: r6, birth: d(birth), certifiedOn: certified.map(d)).premium == cap)
        // R7 has no transitional cap: 800,000 for everyone.
        #expect(singlePensioner(15_000_000, rates: SaitamaRates.rates(for: 2025)!, birth: d(birth),
                                certifiedOn: certified.map(d)).premium == 800_000)
    }

    @Test func nonInsuredHeadCountsInTheHouseholdTest() {
        let insured = LowIncomeReduction.Judged(insured: true, head: false, birthDate: d("1945-06-01"),
            income: PersonIncome.estimate(pensionRevenue: 1_530_000, salaryRevenue: 0, otherIncome: 0, aged65: true, incomeYear: 2022))
        #expect(LowIncomeReduction.judge([insured], fiscalYear: 2023, rates: r5) == .seventy)
        let head = LowIncomeReduction.Judged(insured: false, head: true, birthDate: d("1966-01-01"),
            income: PersonIncome.estimate(pensionRevenue: 0, salaryRevenue: 3_000_000, otherIncome: 0, aged65: false, incomeYear: 2022))
        #expect(LowIncomeReduction.judge([insured, head], fiscalYear: 2023, rates: r5) == .none)
        // A modest head's salary: 給与所得者等 twice → base 530,000.
        let modest = LowIncomeReduction.Judged(insured: false, head: true, birthDate: d("1966-01-01"),
            income: PersonIncome.estimate(pensionRevenue: 0, salaryRevenue: 600_000, otherIncome: 0, aged65: false, incomeYear: 2022))
        let earner = LowIncomeReduction.Judged(insured: true, head: false, birthDate: d("1945-06-01"),
            income: PersonIncome.estimate(pensionRevenue: 1_600_000, salaryRevenue: 0, otherIncome: 0, aged65: true, incomeYear: 2022))
        // test income: 50,000 + (500,000 − 150,000) = 400,000 ≤ 530,000.
        #expect(LowIncomeReduction.judge([earner, modest], fiscalYear: 2023, rates: r5) == .seventy)
    }

    @Test func exemptionByPercentage() {
        let birth = d("1945-06-01")
        let income = PersonIncome.estimate(pensionRevenue: 2_400_000, salaryRevenue: 0, otherIncome: 0, aged65: true, incomeYear: 2022)
        let half = Premium.assess(.init(birthDate: birth, income: income, months: fullYear, exemptionPercent: 50),
                                  reduction: .none, rates: r5)
        #expect(half.premium == 58_500 && half.exemption == 58_500)
        let all = Premium.assess(.init(birthDate: birth, income: income, months: fullYear, exemptionPercent: 100),
                                 reduction: .none, rates: r5)
        #expect(all.premium == 0)
    }

    @Test func r8HasTwoComponents() {
        let r8 = SaitamaRates.rates(for: 2026)!
        #expect(r8.provisional && r8.components.map(\.name) == ["medical", "child-support"])
        #expect(SaitamaRates.rates(for: 2027)!.provisional)
        let a = singlePensioner(2_400_000, rates: r8)
        #expect(a.components.count == 2 && a.premium == a.components.reduce(0) { $0 + $1.premium })
    }
}

@Suite("所得 — deductions")
struct IncomeDeductionTests {
    @Test("公的年金等控除", arguments: [
        (1_100_000, true, 0), (3_300_000, true, 2_200_000), (4_000_000, true, 2_725_000), (5_000_000, true, 3_565_000),
        (9_720_000, true, 7_779_000), (12_000_000, true, 10_045_000), (1_300_000, false, 700_000), (1_400_000, false, 775_000),
    ])
    func pension(_ revenue: Int, _ aged65: Bool, _ income: Int) {
        #expect(IncomeDeductions.pensionIncome(revenue: revenue, aged65: aged65) == income)
    }

    @Test("給与所得", arguments: [
        (1_000_000, 2022, 450_000), (1_625_000, 2022, 1_075_000), (1_800_000, 2022, 1_180_000), (1_803_999, 2022, 1_180_000), (1_804_000, 2022, 1_182_800),
        (3_600_000, 2022, 2_440_000), (6_600_000, 2022, 4_840_000), (8_500_000, 2022, 6_550_000), (10_000_000, 2022, 8_050_000),
        (1_000_000, 2025, 350_000), (1_700_000, 2025, 1_050_000), (1_900_000, 2025, 1_250_000),
    ])
    func salary(_ revenue: Int, _ year: Int, _ income: Int) {
        #expect(IncomeDeductions.salaryIncome(revenue: revenue, incomeYear: year) == income)
    }

    @Test func basicDeductionBands() {
        #expect(IncomeDeductions.basic(totalIncome: 24_000_000) == 430_000)
        #expect(IncomeDeductions.basic(totalIncome: 24_000_001) == 290_000)
        #expect(IncomeDeductions.basic(totalIncome: 25_000_000) == 150_000)
        #expect(IncomeDeductions.basic(totalIncome: 25_000_001) == 0)
    }

    @Test func salaryAndPensionAdjustment() {
        #expect(IncomeDeductions.incomeAdjustment(salaryIncome: 450_000, pensionIncome: 200_000) == 100_000)
        #expect(IncomeDeductions.incomeAdjustment(salaryIncome: 30_000, pensionIncome: 50_000) == 0)
        #expect(IncomeDeductions.incomeAdjustment(salaryIncome: 80_000, pensionIncome: 60_000) == 40_000)
    }
}

@Suite("負担割合")
struct BurdenRatioTests {
    static func income(taxable: Int, pension: Int, salary: Int = 0, other: Int = 0) -> PersonIncome {
        let estimated = PersonIncome.estimate(pensionRevenue: pension, salaryRevenue: salary, otherIncome: other, aged65: true,
                                              incomeYear: 2025)
        return PersonIncome(totalIncome: estimated.totalIncome, totalIncomeForAssessment: estimated.totalIncomeForAssessment,
                            pensionRevenue: pension, pensionIncome: estimated.pensionIncome, salaryRevenue: salary,
                            taxableIncome: taxable, otherIncome: other)
    }

    @Test func ratios() {
        let old = d("1940-01-01"), young = d("1950-01-01")
        #expect(BurdenRatio.judge([.init(birthDate: old, income: Self.income(taxable: 1_500_000, pension: 4_000_000))]) == 30)
        // 収入 under 3.83 M (single): not 3割; pension ≥ 2 M with 課税所得 ≥ 280,000: 2割.
        #expect(BurdenRatio.judge([.init(birthDate: old, income: Self.income(taxable: 1_500_000, pension: 3_700_000))]) == 20)
        #expect(BurdenRatio.judge([.init(birthDate: old, income: Self.income(taxable: 300_000, pension: 2_100_000))]) == 20)
        #expect(BurdenRatio.judge([.init(birthDate: old, income: Self.income(taxable: 300_000, pension: 1_900_000))]) == 10)
        // Two insured: 5.2 M and 3.2 M.
        let pair = [BurdenRatio.Insured(birthDate: old, income: Self.income(taxable: 1_500_000, pension: 4_000_000)),
                    BurdenRatio.Insured(birthDate: old, income: Self.income(taxable: 0, pension: 1_000_000))]
        #expect(BurdenRatio.judge(pair) == 20)
        // Born on or after 1945-01-02 with 基礎控除後の総所得金額等 ≤ 2.1 M: not 3割.
        // (pension 2 M + salary 1.9 M: 収入 3.9 M, 所得 2.05 M after 所得金額調整控除.)
        let mixed = Self.income(taxable: 1_500_000, pension: 2_000_000, salary: 1_900_000)
        #expect(mixed.totalIncome == 2_050_000)
        #expect(BurdenRatio.judge([.init(birthDate: young, income: mixed)]) == 20)
        #expect(BurdenRatio.judge([.init(birthDate: old, income: mixed)]) == 30)
        #expect(BurdenRatio.judge([.init(birthDate: young, income: nil)]) == 10)
    }
}
