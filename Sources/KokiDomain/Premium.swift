import KokiBase

/// 保険料 — one insured person's premium for one 年度 (DOMAIN.md): per component, 均等割
/// (after the household's 軽減 or the 被扶養者軽減, whichever is larger) + 所得割, capped at
/// the 賦課限度額 and rounded down to 100 yen; then 月割 over the insured months, then 減免.
public enum Premium {
    public struct Insured: Sendable, Hashable {
        public let birthDate: LocalDate
        /// nil while the income is unknown (未申告, or a 転入者 not yet reported): 均等割 only.
        public let income: PersonIncome?
        /// Months of the 年度 insured (April = 1 … March = 12).
        public let months: [Int]
        /// 元被扶養者: the day they joined (the 2-year 50 % window counts from its month).
        public let formerDependentSince: LocalDate?
        /// The day the union certified the person disabled (障害認定), if it did — for the
        /// transitional cap of a year that has one.
        public let disabilityCertifiedOn: LocalDate?
        /// 減免 decided by the union, in percent.
        public let exemptionPercent: Int

        public init(birthDate: LocalDate, income: PersonIncome?, months: [Int], formerDependentSince: LocalDate? = nil,
                    disabilityCertifiedOn: LocalDate? = nil, exemptionPercent: Int = 0) {
            self.birthDate = birthDate
            self.income = income
            self.months = months
            self.formerDependentSince = formerDependentSince
            self.disabilityCertifiedOn = disabilityCertifiedOn
            self.exemptionPercent = exemptionPercent
        }
    }

    /// One component's figures (the seed's 賦課 items).
    public struct ComponentFigures: Sendable, Hashable, Codable {
        public let name: String
        /// 均等割額 after the reduction (full-year, for the months' state of April).
        public let perCapitaAfterReduction: Int
        /// 均等割軽減額.
        public let perCapitaReduction: Int
        /// 所得割率.
        public let incomeRate: Rate
        /// 所得割額.
        public let incomeShare: Int
        /// 算出額 = 均等割 + 所得割.
        public let calculated: Int
        /// 限度超過額.
        public let capExcess: Int
        /// 年保険料額 (full year, after the cap, rounded down to 100).
        public let annual: Int
        /// After 月割 and 減免.
        public let premium: Int
    }

    public struct Assessment: Sendable, Hashable, Codable {
        public let fiscalYear: Int
        public let reduction: LowIncomeReduction
        /// 被扶養者軽減 applied in at least one month.
        public let formerDependentReduction: Bool
        /// 賦課のもととなる所得金額.
        public let incomeBase: Int
        public let months: Int
        public let components: [ComponentFigures]
        /// 年保険料額 for a full year (all components).
        public let annual: Int
        /// 月割減額.
        public let monthlyReduction: Int
        /// 減免額.
        public let exemption: Int
        /// What the person owes for the 年度.
        public let premium: Int
        /// Assessed on 均等割 only because the income is not known yet.
        public let provisional: Bool

        public var perCapitaAfterReduction: Int { components.reduce(0) { $0 + $1.perCapitaAfterReduction } }

        /// The assessment with a 減免 of `amount` yen taken off (the sum of what it took off the 期
        /// due from its date), from the components in order.
        public func exempted(by amount: Int) -> Assessment {
            guard amount > 0 else { return self }
            var left = amount
            let lowered = components.map { c -> ComponentFigures in
                let cut = min(left, c.premium)
                left -= cut
                return ComponentFigures(name: c.name, perCapitaAfterReduction: c.perCapitaAfterReduction,
                                        perCapitaReduction: c.perCapitaReduction, incomeRate: c.incomeRate, incomeShare: c.incomeShare,
                                        calculated: c.calculated, capExcess: c.capExcess, annual: c.annual, premium: c.premium - cut)
            }
            return Assessment(fiscalYear: fiscalYear, reduction: reduction, formerDependentReduction: formerDependentReduction,
                              incomeBase: incomeBase, months: months, components: lowered, annual: annual,
                              monthlyReduction: monthlyReduction, exemption: exemption + amount - left, premium: premium - amount + left,
                              provisional: provisional)
        }
        public var incomeShare: Int { components.reduce(0) { $0 + $1.incomeShare } }
    }

    public static func assess(_ person: Insured, reduction: LowIncomeReduction, rates: FiscalYearRates) -> Assessment {
        let income = person.income
        let incomeBase = income.map { max(0, $0.totalIncomeForAssessment - IncomeDeductions.basic(totalIncome: $0.totalIncome)) } ?? 0
        // 被扶養者軽減: 50 % off 均等割 in the months within two years of the joining month.
        let windowEnd = person.formerDependentSince.map { $0.firstOfMonth.adding(months: 24) }
        func dependentMonth(_ index: Int) -> Bool {
            guard let windowEnd else { return false }
            return FiscalMonths.firstDay(of: index, in: rates.fiscalYear) < windowEnd
        }
        let dependentMonths = person.months.filter(dependentMonth)
        var figures: [ComponentFigures] = []
        var total = 0, fullYear = 0, exemption = 0
        for component in rates.components {
            func annual(dependent: Bool) -> (perCapita: Int, reductionAmount: Int, incomeShare: Int, calculated: Int,
                                              excess: Int, annual: Int) {
                let rate = max(reduction.percent, dependent ? 50 : 0)
                let reductionAmount = Rate.percent(rate).of(component.perCapita)
                let perCapita = component.perCapita - reductionAmount
                let incomeRate = component.lowIncomeBaseLimit.map { incomeBase <= $0 } == true
                    ? component.lowIncomeRate ?? component.incomeRate : component.incomeRate
                // A former dependant pays no 所得割, with no time limit.
                let share = person.formerDependentSince == nil ? incomeRate.of(incomeBase) : 0
                let calculated = perCapita + share
                let cap = component.cap(birthDate: person.birthDate, certifiedOn: person.disabilityCertifiedOn)
                let capped = min(calculated, cap)
                return (perCapita, reductionAmount, share, calculated, calculated - capped, Yen.floorTo100(capped))
            }
            let plain = annual(dependent: false), dependent = annual(dependent: true)
            // 月割: the sum over the insured months of one twelfth of that month's annual amount.
            let monthly = person.months.reduce(0) { $0 + (dependentMonth($1) ? dependent.annual : plain.annual) }
            let premium = person.months.count == 12 && dependentMonths.isEmpty ? plain.annual : Yen.floorTo100(monthly / 12)
            let afterExemption = Yen.floorTo100(premium * (100 - person.exemptionPercent) / 100)
            let april = dependentMonth(person.months.first ?? 1) ? dependent : plain
            figures.append(ComponentFigures(name: component.name, perCapitaAfterReduction: april.perCapita,
                                            perCapitaReduction: april.reductionAmount, incomeRate: component.incomeRate,
                                            incomeShare: april.incomeShare, calculated: april.calculated,
                                            capExcess: april.excess, annual: april.annual, premium: afterExemption))
            total += afterExemption
            fullYear += april.annual
            exemption += premium - afterExemption
        }
        return Assessment(fiscalYear: rates.fiscalYear, reduction: reduction, formerDependentReduction: !dependentMonths.isEmpty,
                          incomeBase: incomeBase, months: person.months.count, components: figures, annual: fullYear,
                          monthlyReduction: fullYear - total - exemption, exemption: exemption, premium: total,
                          provisional: income == nil)
    }
}
