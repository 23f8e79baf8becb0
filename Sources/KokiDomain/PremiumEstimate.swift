import KokiBase

/// The counter's 試算 (`koki estimate`): one household's premiums from revenues, with the
/// union's rates or rates to simulate. Pure: no store, no clock.
public enum PremiumEstimate {
    public struct Input: Decodable, Sendable {
        public struct Member: Decodable, Sendable {
            public let id: String
            public let insured: Bool
            public let head: Bool
            public let birthDate: LocalDate
            public let publicPensionIncome: Int
            public let salaryIncome: Int
            public let otherIncome: Int
            /// Mid-year entrants: the 取得日.
            public let acquiredOn: LocalDate?
            public let formerDependent: Bool?
            /// 障害認定: the day the union certified the member (for a year's transitional cap).
            public let disabilityCertifiedOn: LocalDate?
        }

        /// Rates to simulate instead of the union's.
        public struct Rates: Decodable, Sendable {
            public let perCapita: Int
            public let incomeRatePercent: String
            public let cap: Int
            public let fiveTenthsPerInsured: Int
            public let twoTenthsPerInsured: Int
        }

        public let fiscalYear: Int
        public let members: [Member]
        public let rates: Rates?
    }

    public struct Output: Encodable, Sendable {
        public struct Member: Encodable, Sendable {
            public let id: String
            public let reduction: String
            public let perCapitaAfterReduction: Int
            public let incomeBase: Int
            public let incomeShare: Int
            public let months: Int
            public let annualPremium: Int
            /// 計算根拠: each step from revenue to premium (nil for a member not insured).
            public let basis: Basis?
        }

        /// 計算根拠 of one insured member's premium.
        public struct Basis: Encodable, Sendable {
            /// 65 or over at the end of 31 December of the income year (年齢計算ニ関スル法律).
            public let aged65: Bool
            public let pensionRevenue: Int
            /// 公的年金等控除 (所得税法 35条4項, as DOMAIN.md lists it).
            public let pensionDeduction: Int
            public let pensionIncome: Int
            public let salaryRevenue: Int
            /// 給与所得 after 給与所得控除 (所得税法 別表第五) and 所得金額調整控除.
            public let salaryIncome: Int
            public let otherIncome: Int
            /// 合計所得金額 = 総所得金額等 here.
            public let totalIncome: Int
            /// 基礎控除 by 合計所得金額.
            public let basicDeduction: Int
            /// 賦課のもととなる所得金額 = 総所得金額等 − 基礎控除.
            public let incomeBase: Int
            public let components: [Premium.ComponentFigures]
            /// The cap that applied (a year's transitional cap by birth or 障害認定 date).
            public let caps: [Int]
            public let insuredMonths: Int
            public let monthlyReduction: Int
        }

        public let fiscalYear: Int
        /// True when the year's rates are not decided yet (the latest known are used).
        public let provisionalRates: Bool
        public let members: [Member]
        /// The household's 均等割軽減 test with its figures.
        public let reductionTest: LowIncomeReduction.Test
        /// The rules applied, each with its source.
        public let rules: [String]
    }

    public static let rules = [
        "所得: 公的年金等控除 (65歳以上は12月31日の年齢、年齢計算ニ関スル法律) と給与所得控除 (所得税法別表第五)、両方あれば所得金額調整控除",
        "賦課のもととなる所得金額 = 総所得金額等 − 基礎控除 (合計所得金額 2,400万円以下 43万円)",
        "所得割 = 賦課のもととなる所得金額 × 所得割率 (円未満切捨て)",
        "均等割軽減: 被保険者と世帯主の総所得金額等 (65歳以上の年金所得は15万円控除) が 43万円+10万円×(給与所得者等−1) 以下で7割、+5割基準額×被保険者数以下で5割、+2割基準額×被保険者数以下で2割",
        "年保険料 = 均等割 + 所得割、賦課限度額まで、100円未満切捨て",
        "月割: 資格取得月から (喪失月は含まない)、年額 × 月数 ÷ 12、100円未満切捨て",
    ]

    /// What is wrong with the input, naming the field (never a value).
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public static func compute(_ input: Input) throws(Invalid) -> Output {
        let rates = try self.rates(input)
        let fy = input.fiscalYear
        try validate(input)
        let ageDay = LocalDate(year: fy - 1, month: 12, day: 31)!
        let incomes = input.members.map { member in
            PersonIncome.estimate(pensionRevenue: member.publicPensionIncome, salaryRevenue: member.salaryIncome,
                                  otherIncome: member.otherIncome, aged65: member.birthDate.legalAge(on: ageDay) >= 65,
                                  incomeYear: fy - 1)
        }
        let test = LowIncomeReduction.explain(zip(input.members, incomes).map {
            .init(insured: $0.insured, head: $0.head, birthDate: $0.birthDate, income: $1)
        }, fiscalYear: fy, rates: rates)
        let reduction = test.reduction
        return Output(fiscalYear: fy, provisionalRates: rates.provisional, members: zip(input.members, incomes).map { member, income in
            guard member.insured else {
                return .init(id: member.id, reduction: LowIncomeReduction.none.rawValue, perCapitaAfterReduction: 0,
                             incomeBase: 0, incomeShare: 0, months: 0, annualPremium: 0, basis: nil)
            }
            let months = FiscalMonths.insured([(member.acquiredOn ?? LocalDate(year: fy, month: 4, day: 1)!, nil)], fiscalYear: fy)
            let assessment = Premium.assess(
                .init(birthDate: member.birthDate, income: income, months: months,
                      formerDependentSince: member.formerDependent == true
                          ? member.acquiredOn ?? LocalDate(year: fy, month: 4, day: 1)! : nil,
                      disabilityCertifiedOn: member.disabilityCertifiedOn),
                reduction: reduction, rates: rates)
            let aged65 = member.birthDate.legalAge(on: ageDay) >= 65
            let salary = income.totalIncome - income.pensionIncome - income.otherIncome
            let basis = Output.Basis(
                aged65: aged65, pensionRevenue: member.publicPensionIncome,
                pensionDeduction: member.publicPensionIncome - income.pensionIncome, pensionIncome: income.pensionIncome,
                salaryRevenue: member.salaryIncome, salaryIncome: salary, otherIncome: member.otherIncome,
                totalIncome: income.totalIncome, basicDeduction: IncomeDeductions.basic(totalIncome: income.totalIncome),
                incomeBase: assessment.incomeBase, components: assessment.components,
                caps: rates.components.map { $0.cap(birthDate: member.birthDate, certifiedOn: member.disabilityCertifiedOn) },
                insuredMonths: assessment.months, monthlyReduction: assessment.monthlyReduction)
            return .init(id: member.id, reduction: assessment.reduction.rawValue,
                         perCapitaAfterReduction: assessment.perCapitaAfterReduction, incomeBase: assessment.incomeBase,
                         incomeShare: assessment.incomeShare, months: assessment.months, annualPremium: assessment.premium,
                         basis: basis)
        }, reductionTest: test, rules: rules)
    }

    static func rates(_ input: Input) throws(Invalid) -> FiscalYearRates {
        guard (2008...2100).contains(input.fiscalYear) else { throw Invalid(description: "fiscalYear is out of range (2008–2100)") }
        guard let given = input.rates else {
            guard let rates = SaitamaRates.rates(for: input.fiscalYear) else {
                throw Invalid(description: "fiscalYear has no rates: give \"rates\"")
            }
            return rates
        }
        guard let rate = Rate(percent: given.incomeRatePercent) else {
            throw Invalid(description: "rates.incomeRatePercent is not a decimal percentage")
        }
        for (value, field) in [(given.perCapita, "perCapita"), (given.cap, "cap"),
                               (given.fiveTenthsPerInsured, "fiveTenthsPerInsured"),
                               (given.twoTenthsPerInsured, "twoTenthsPerInsured")] where value < 0 {
            throw Invalid(description: "rates.\(field) must not be negative")
        }
        return FiscalYearRates(fiscalYear: input.fiscalYear,
                               components: [PremiumComponent(name: "medical", perCapita: given.perCapita, incomeRate: rate,
                                                             cap: given.cap)],
                               fiveTenthsPerInsured: given.fiveTenthsPerInsured, twoTenthsPerInsured: given.twoTenthsPerInsured)
    }

    static func validate(_ input: Input) throws(Invalid) {
        guard !input.members.isEmpty else { throw Invalid(description: "members is empty") }
        guard input.members.count <= 20 else { throw Invalid(description: "members has more than 20 people") }
        guard input.members.filter(\.head).count <= 1 else { throw Invalid(description: "members has more than one head") }
        guard input.members.contains(where: \.insured) else { throw Invalid(description: "members has no insured person") }
        var ids = Set<String>()
        let start = LocalDate(year: input.fiscalYear, month: 4, day: 1)!, end = LocalDate(year: input.fiscalYear + 1, month: 3, day: 31)!
        for (i, m) in input.members.enumerated() {
            let field = "members[\(i)]"
            guard !m.id.isEmpty, ids.insert(m.id).inserted else { throw Invalid(description: "\(field).id is empty or repeated") }
            guard m.birthDate.year >= 1880, m.birthDate <= end else { throw Invalid(description: "\(field).birthDate is out of range") }
            for (value, name) in [(m.publicPensionIncome, "publicPensionIncome"), (m.salaryIncome, "salaryIncome"),
                                  (m.otherIncome, "otherIncome")] {
                guard value >= 0 else { throw Invalid(description: "\(field).\(name) must not be negative") }
                guard value <= 10_000_000_000 else { throw Invalid(description: "\(field).\(name) is too large") }
            }
            if let acquired = m.acquiredOn, acquired < start || acquired > end {
                throw Invalid(description: "\(field).acquiredOn is not in fiscal year \(input.fiscalYear)")
            }
        }
    }
}
