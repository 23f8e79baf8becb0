import KokiBase

/// 均等割軽減 — the household's low-income reduction of the per-capita part.
public enum LowIncomeReduction: String, Sendable, Hashable, Codable, CaseIterable {
    case seventy = "70"
    case fifty = "50"
    case twenty = "20"
    case none

    /// How much of the 均等割 it takes off, in percent.
    public var percent: Int {
        switch self {
        case .seventy: 70
        case .fifty: 50
        case .twenty: 20
        case .none: 0
        }
    }

    /// A person the household test counts: every insured member and the 世帯主 (insured or not).
    public struct Judged: Sendable, Hashable {
        public let insured: Bool
        public let head: Bool
        public let birthDate: LocalDate
        /// nil: 未申告 or not known yet.
        public let income: PersonIncome?

        public init(insured: Bool, head: Bool, birthDate: LocalDate, income: PersonIncome?) {
            self.insured = insured
            self.head = head
            self.birthDate = birthDate
            self.income = income
        }
    }

    /// Judges a household as it was on the judgment date (1 April, or the 取得日 of a
    /// mid-year entrant). DOMAIN.md: total 総所得金額等 of the insured and the 世帯主, with
    /// 150,000 off the pension income of those 65+; base 430,000 + 100,000 × (k − 1) for
    /// k ≥ 2 給与所得者等; 7割 ≤ base, 5割 ≤ base + X·n, 2割 ≤ base + Y·n; none if any income
    /// is unknown.
    public static func judge(_ household: [Judged], fiscalYear: Int, rates: FiscalYearRates) -> LowIncomeReduction {
        explain(household, fiscalYear: fiscalYear, rates: rates).reduction
    }

    /// The household test with its figures (計算根拠), for the counter and the auditor.
    public struct Test: Sendable, Hashable, Codable {
        public let reduction: LowIncomeReduction
        /// Insured persons in the household (n).
        public let insured: Int
        /// 給与所得者等 among the counted (k).
        public let earners: Int
        /// Σ 総所得金額等 of the insured and the 世帯主, with 150,000 off 65+ pension income; nil if
        /// any is unknown (no 軽減).
        public let total: Int?
        /// 430,000 + 100,000 × (k − 1).
        public let base: Int
        public let fiveTenthsLimit: Int
        public let twoTenthsLimit: Int
    }

    public static func explain(_ household: [Judged], fiscalYear: Int, rates: FiscalYearRates) -> Test {
        let counted = household.filter { $0.insured || $0.head }
        let insured = household.filter(\.insured).count
        var total = 0
        var earners = 0
        var unknown = false
        // Ages as of 31 December of the income year, as the law counts them.
        let ageDay = LocalDate(year: fiscalYear - 1, month: 12, day: 31)!
        for member in counted {
            guard let income = member.income else { unknown = true; continue }
            let aged65 = member.birthDate.legalAge(on: ageDay) >= 65
            total += max(0, income.totalIncomeForAssessment - (aged65 ? min(income.pensionIncome, 150_000) : 0))
            if income.salaryRevenue > 550_000 || income.pensionRevenue > (aged65 ? 1_250_000 : 600_000) { earners += 1 }
        }
        let base = 430_000 + 100_000 * max(0, earners - 1)
        let five = base + rates.fiveTenthsPerInsured * insured, two = base + rates.twoTenthsPerInsured * insured
        let reduction: LowIncomeReduction
        if insured == 0 || unknown { reduction = .none }
        else if total <= base { reduction = .seventy }
        else if total <= five { reduction = .fifty }
        else if total <= two { reduction = .twenty }
        else { reduction = .none }
        return Test(reduction: reduction, insured: insured, earners: earners, total: unknown ? nil : total, base: base,
                    fiveTenthsLimit: five, twoTenthsLimit: two)
    }
}
