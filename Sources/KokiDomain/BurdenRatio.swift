import KokiBase

/// 負担割合 — the share of medical costs an insured person pays (1, 2 or 3 割), judged on the
/// insured members of the household (DOMAIN.md; 高確法 67条, 施行令 7条), effective each
/// 1 August on the previous year's income, and from the first of the month after a change of
/// household (an income correction goes back to 1 August).
public enum BurdenRatio {
    public struct Insured: Sendable, Hashable {
        public let birthDate: LocalDate
        /// nil: not known (judged as no income until it is).
        public let income: PersonIncome?

        public init(birthDate: LocalDate, income: PersonIncome?) {
            self.birthDate = birthDate
            self.income = income
        }
    }

    /// 基準収入額 (3割 → 1割/2割): 収入 under 3,830,000 for one insured person, under 5,200,000
    /// for two or more — or, for one insured person living with people aged 70–74 (in 国保 or
    /// another insurance), their 収入 together under 5,200,000.
    public static let singleRevenueLimit = 3_830_000
    public static let householdRevenueLimit = 5_200_000
    /// The 210万 rule: a household with an insured person born on or after 1945-01-02 whose
    /// insured members' 総所得金額等 after 基礎控除 total at most 2,100,000 (施行令 7条; from
    /// 2015-01-01).
    public static let bornOnOrAfter = LocalDate(year: 1945, month: 1, day: 2)!
    public static let afterBasicLimit = 2_100_000

    /// 収入 by type, as the 基準収入額 reads it: 公的年金等の収入, 給与収入, and the other income
    /// (delivered as 所得: koki receives no other revenue, so it is taken as the 収入).
    static func revenue(_ income: PersonIncome?) -> Int {
        income.map { $0.pensionRevenue + $0.salaryRevenue + $0.otherIncome } ?? 0
    }

    /// 10, 20 or 30 (percent) for every insured member of the household. `aged70to74` are the
    /// household's members aged 70–74 who are not insured here (their 収入, for the 5,200,000
    /// test of a household with one insured person).
    public static func judge(_ insured: [Insured], aged70to74: [PersonIncome?] = []) -> Int {
        let incomes = insured.map { $0.income }
        let taxable = incomes.map { $0?.taxableIncome ?? 0 }
        let single = insured.count <= 1
        if taxable.contains(where: { $0 >= 1_450_000 }) {
            let revenue = incomes.reduce(0) { $0 + Self.revenue($1) }
            let lowRevenue = single
                ? revenue < singleRevenueLimit
                    || (!aged70to74.isEmpty && revenue + aged70to74.reduce(0) { $0 + Self.revenue($1) } < householdRevenueLimit)
                : revenue < householdRevenueLimit
            let bornLate = insured.contains { $0.birthDate >= bornOnOrAfter }
            let afterBasic = incomes.reduce(0) {
                $0 + ($1.map { max(0, $0.totalIncomeForAssessment - IncomeDeductions.basic(totalIncome: $0.totalIncome)) } ?? 0)
            }
            if !lowRevenue && !(bornLate && afterBasic <= afterBasicLimit) { return 30 }
        }
        if taxable.contains(where: { $0 >= 280_000 }) {
            let pensionPlusOther = incomes.reduce(0) { $0 + ($1.map { $0.pensionRevenue + otherForTwoTenths($0) } ?? 0) }
            if pensionPlusOther >= (single ? 2_000_000 : 3_200_000) { return 20 }
        }
        return 10
    }

    /// 「その他の合計所得金額」 of the 2割 test: the 合計所得金額 less the pension income, with 100,000
    /// off a salary income (給与所得がある場合は給与所得から10万円を控除; 厚生労働省's 2割負担 guidance
    /// [verify the 施行令's wording]).
    static func otherForTwoTenths(_ income: PersonIncome) -> Int {
        let salary = max(0, income.totalIncome - income.pensionIncome - income.otherIncome)
        return max(0, salary - 100_000) + income.otherIncome
    }

    /// When a re-judgment takes effect: 1 August for the year's judgment and for an income
    /// correction (it goes back to the 基準日); the first of the month after a change of household
    /// (「変更の事由のあった月の翌月1日から」); never before the person's 取得日.
    public static func effectiveFrom(fiscalYear: Int, acquiredOn: LocalDate?, householdChangedOn: LocalDate?) -> LocalDate {
        let august = LocalDate(year: fiscalYear, month: 8, day: 1)!
        let afterChange = householdChangedOn.map { $0.firstOfMonth.adding(months: 1) } ?? august
        return max(august, afterChange, acquiredOn ?? august)
    }
}
