import KokiBase

/// One component of the premium (医療分; from R8 also 子ども・子育て支援金分), each with its
/// own 均等割, 所得割率 and 賦課限度額.
public struct PremiumComponent: Sendable, Hashable, Codable {
    /// `medical` or `child-support`.
    public let name: String
    /// 均等割額 (per capita).
    public let perCapita: Int
    /// 所得割率.
    public let incomeRate: Rate
    /// 賦課限度額.
    public let cap: Int
    /// A lower 所得割率 for bases at or under `lowIncomeBaseLimit` (R6: 8.42 % up to 580,000).
    public let lowIncomeRate: Rate?
    public let lowIncomeBaseLimit: Int?
    /// A lower, transitional cap (R6: 730,000) for people born on or before
    /// `reducedCapBornOnOrBefore` (1949-03-31: 75 before R6 began, wherever they were insured —
    /// here or by another prefecture's union) and for people insured by 障害認定 on or before
    /// `reducedCapCertifiedBy`. Data, by 年度. R6: 「令和6年度に限り、昭和24年3月31日までに生まれた方
    /// および令和7年3月31日までに障害認定により資格を取得された方の賦課限度額 73万円」
    /// (兵庫県後期高齢者医療広域連合; 静岡県後期高齢者医療広域連合 the same, citing 高確法50条2号) — so
    /// the certification date is 2025-03-31, not DOMAIN.md's 2024-03-31.
    public let reducedCap: Int?
    public let reducedCapBornOnOrBefore: LocalDate?
    public let reducedCapCertifiedBy: LocalDate?

    public init(name: String, perCapita: Int, incomeRate: Rate, cap: Int, lowIncomeRate: Rate? = nil,
                lowIncomeBaseLimit: Int? = nil, reducedCap: Int? = nil, reducedCapBornOnOrBefore: LocalDate? = nil,
                reducedCapCertifiedBy: LocalDate? = nil) {
        self.name = name
        self.perCapita = perCapita
        self.incomeRate = incomeRate
        self.cap = cap
        self.lowIncomeRate = lowIncomeRate
        self.lowIncomeBaseLimit = lowIncomeBaseLimit
        self.reducedCap = reducedCap
        self.reducedCapBornOnOrBefore = reducedCapBornOnOrBefore
        self.reducedCapCertifiedBy = reducedCapCertifiedBy
    }

    /// The cap for someone born on `birthDate`, certified disabled on `certifiedOn` (if ever).
    public func cap(birthDate: LocalDate, certifiedOn: LocalDate?) -> Int {
        guard let reducedCap else { return cap }
        let byBirth = reducedCapBornOnOrBefore.map { birthDate <= $0 } ?? false
        let byCertification = zip2(certifiedOn, reducedCapCertifiedBy).map { $0 <= $1 } ?? false
        return byBirth || byCertification ? reducedCap : cap
    }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// The rates of one 年度 (April–March): the components and the 軽減 thresholds.
public struct FiscalYearRates: Sendable, Hashable, Codable {
    public let fiscalYear: Int
    public let components: [PremiumComponent]
    /// 5割軽減: per insured person added to the base (X).
    public let fiveTenthsPerInsured: Int
    /// 2割軽減: per insured person added to the base (Y).
    public let twoTenthsPerInsured: Int
    /// True while the union has not decided them (koki then uses the latest known values).
    public let provisional: Bool

    public init(fiscalYear: Int, components: [PremiumComponent], fiveTenthsPerInsured: Int, twoTenthsPerInsured: Int,
                provisional: Bool = false) {
        self.fiscalYear = fiscalYear
        self.components = components
        self.fiveTenthsPerInsured = fiveTenthsPerInsured
        self.twoTenthsPerInsured = twoTenthsPerInsured
        self.provisional = provisional
    }
}

/// 埼玉県後期高齢者医療広域連合's rates (DOMAIN.md). The store's `premium_rates` table is
/// seeded by a migration with the same values (a test holds the two together); the workers
/// read the table, `koki estimate` reads this.
public enum SaitamaRates {
    static func medical(_ perCapita: Int, _ rate: String, cap: Int, lowRate: String? = nil, lowLimit: Int? = nil,
                        reducedCap: Int? = nil, bornBy: String? = nil, certifiedBy: String? = nil) -> PremiumComponent {
        PremiumComponent(name: "medical", perCapita: perCapita, incomeRate: Rate(percent: rate)!, cap: cap,
                         lowIncomeRate: lowRate.flatMap(Rate.init(percent:)), lowIncomeBaseLimit: lowLimit,
                         reducedCap: reducedCap, reducedCapBornOnOrBefore: bornBy.flatMap(LocalDate.init(iso:)),
                         reducedCapCertifiedBy: certifiedBy.flatMap(LocalDate.init(iso:)))
    }

    public static let all: [FiscalYearRates] = [
        FiscalYearRates(fiscalYear: 2022, components: [medical(44_170, "8.38", cap: 660_000)],
                        fiveTenthsPerInsured: 285_000, twoTenthsPerInsured: 520_000),
        FiscalYearRates(fiscalYear: 2023, components: [medical(44_170, "8.38", cap: 660_000)],
                        fiveTenthsPerInsured: 290_000, twoTenthsPerInsured: 535_000),
        FiscalYearRates(fiscalYear: 2024, components: [medical(45_930, "9.03", cap: 800_000, lowRate: "8.42", lowLimit: 580_000,
                                                               reducedCap: 730_000, bornBy: "1949-03-31",
                                                               certifiedBy: "2025-03-31")],
                        fiveTenthsPerInsured: 295_000, twoTenthsPerInsured: 545_000),
        FiscalYearRates(fiscalYear: 2025, components: [medical(45_930, "9.03", cap: 800_000)],
                        fiveTenthsPerInsured: 305_000, twoTenthsPerInsured: 560_000),
        // R8 is not decided: the R7 medical rates under the national cap of 850,000, and a
        // 子ども・子育て支援金分 whose rates are not known (zero until the union sets them).
        FiscalYearRates(fiscalYear: 2026, components: [medical(45_930, "9.03", cap: 850_000),
                                                       PremiumComponent(name: "child-support", perCapita: 0,
                                                                        incomeRate: Rate(0, over: 100), cap: 0)],
                        fiveTenthsPerInsured: 305_000, twoTenthsPerInsured: 560_000, provisional: true),
    ]

    /// The rates of `fiscalYear`: its own, or — for a later year not decided yet — the
    /// latest known, marked provisional.
    public static func rates(for fiscalYear: Int, in table: [FiscalYearRates] = all) -> FiscalYearRates? {
        if let exact = table.first(where: { $0.fiscalYear == fiscalYear }) { return exact }
        guard let latest = table.filter({ $0.fiscalYear < fiscalYear }).max(by: { $0.fiscalYear < $1.fiscalYear }) else {
            return nil
        }
        return FiscalYearRates(fiscalYear: fiscalYear, components: latest.components,
                               fiveTenthsPerInsured: latest.fiveTenthsPerInsured,
                               twoTenthsPerInsured: latest.twoTenthsPerInsured, provisional: true)
    }
}
