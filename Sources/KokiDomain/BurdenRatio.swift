import KokiBase

/// 負担割合 — the share of medical costs an insured person pays (1, 2 or 3 割), judged on
/// the insured members of the household (DOMAIN.md), effective each 1 August on the previous
/// year's income.
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

    /// 10, 20 or 30 (percent) for every insured member of the household.
    public static func judge(_ insured: [Insured]) -> Int {
        let incomes = insured.map { $0.income }
        let taxable = incomes.map { $0?.taxableIncome ?? 0 }
        let single = insured.count <= 1
        if taxable.contains(where: { $0 >= 1_450_000 }) {
            // 収入: pension and salary revenue plus the other income.
            let revenue = incomes.reduce(0) { $0 + ($1.map { $0.pensionRevenue + $0.salaryRevenue + $0.otherIncome } ?? 0) }
            let lowRevenue = revenue < (single ? 3_830_000 : 5_200_000)
            let bornLate = insured.allSatisfy { $0.birthDate >= LocalDate(year: 1945, month: 1, day: 2)! }
            let afterBasic = incomes.reduce(0) { $0 + ($1.map { max(0, $0.totalIncomeForAssessment - 430_000) } ?? 0) }
            if !lowRevenue && !(bornLate && afterBasic <= 2_100_000) { return 30 }
        }
        if taxable.contains(where: { $0 >= 280_000 }) {
            let pensionPlusOther = incomes.reduce(0) { $0 + ($1.map { $0.pensionRevenue + $0.otherThanPension } ?? 0) }
            if pensionPlusOther >= (single ? 2_000_000 : 3_200_000) { return 20 }
        }
        return 10
    }
}
