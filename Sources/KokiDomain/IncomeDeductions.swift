/// 所得 from 収入: the deductions the income tax law sets, as DOMAIN.md lists them.
public enum IncomeDeductions {
    /// 公的年金等控除. `aged65` is the age on 31 December of the income year; `otherIncome` is
    /// the 合計所得金額 other than pensions: above 10 M the deduction is 100,000 smaller, above
    /// 20 M 200,000 smaller (所得税法 35条4項, from income year 2020).
    public static func publicPension(revenue: Int, aged65: Bool, otherIncome: Int = 0) -> Int {
        let deduction: Int
        switch revenue {
        case ...(aged65 ? 3_300_000 : 1_300_000): deduction = aged65 ? 1_100_000 : 600_000
        case ...4_100_000: deduction = revenue * 25 / 100 + 275_000
        case ...7_700_000: deduction = revenue * 15 / 100 + 685_000
        case ...10_000_000: deduction = revenue * 5 / 100 + 1_455_000
        default: deduction = 1_955_000
        }
        let adjustment = otherIncome > 20_000_000 ? 200_000 : otherIncome > 10_000_000 ? 100_000 : 0
        return deduction - adjustment
    }

    /// 公的年金等に係る雑所得.
    public static func pensionIncome(revenue: Int, aged65: Bool, otherIncome: Int = 0) -> Int {
        max(0, revenue - publicPension(revenue: revenue, aged65: aged65, otherIncome: otherIncome))
    }

    /// 給与所得 (income years 2020+). Below 6,600,000 the statute's table (所得税法 別表第五)
    /// steps the revenue down to 4,000-yen units; the minimum deduction is 550,000, or
    /// 650,000 from income year 2025 (DOMAIN.md: check before use).
    public static func salaryIncome(revenue: Int, incomeYear: Int) -> Int {
        let minimum = incomeYear >= 2025 ? 650_000 : 550_000
        guard revenue > 1_625_000 else { return max(0, revenue - minimum) }
        let income: Int
        if revenue < 6_600_000 {
            let stepped = revenue / 4000 * 4000
            switch stepped {
            case ...1_800_000: income = stepped * 60 / 100 + 100_000
            case ...3_600_000: income = stepped * 70 / 100 - 80_000
            default: income = stepped * 80 / 100 - 440_000
            }
        } else if revenue <= 8_500_000 {
            income = revenue * 90 / 100 - 1_100_000
        } else {
            income = revenue - 1_950_000
        }
        return min(income, max(0, revenue - minimum))
    }

    /// 所得金額調整控除 for someone with both salary and pension income (租税特別措置法
    /// 41条の3の3第2項): (salary income, at most 100,000) + (pension income, at most 100,000)
    /// − 100,000, taken off the salary income.
    public static func incomeAdjustment(salaryIncome: Int, pensionIncome: Int) -> Int {
        guard salaryIncome > 0, pensionIncome > 0 else { return 0 }
        return max(0, min(salaryIncome, 100_000) + min(pensionIncome, 100_000) - 100_000)
    }

    /// 基礎控除 for the premium's base, by 合計所得金額.
    public static func basic(totalIncome: Int) -> Int {
        switch totalIncome {
        case ...24_000_000: 430_000
        case ...24_500_000: 290_000
        case ...25_000_000: 150_000
        default: 0
        }
    }
}

/// One person's income for a year as the premium rules read it (from 個人住民税, or
/// estimated from revenues at the counter).
public struct PersonIncome: Sendable, Hashable {
    /// 合計所得金額.
    public let totalIncome: Int
    /// 総所得金額等.
    public let totalIncomeForAssessment: Int
    /// 公的年金等の収入金額.
    public let pensionRevenue: Int
    /// 公的年金等に係る所得 (for the 150,000 off in the 軽減 test).
    public let pensionIncome: Int
    /// 給与収入.
    public let salaryRevenue: Int
    /// 課税所得 (for 負担割合).
    public let taxableIncome: Int
    /// 所得 other than pensions and salary (事業, 不動産 …), taken as received.
    public let otherIncome: Int
    /// 合計所得 other than pensions (for 負担割合's "other 合計所得").
    public var otherThanPension: Int { max(0, totalIncome - pensionIncome) }

    public init(totalIncome: Int, totalIncomeForAssessment: Int, pensionRevenue: Int, pensionIncome: Int,
                salaryRevenue: Int, taxableIncome: Int, otherIncome: Int = 0) {
        self.totalIncome = totalIncome
        self.totalIncomeForAssessment = totalIncomeForAssessment
        self.pensionRevenue = pensionRevenue
        self.pensionIncome = pensionIncome
        self.salaryRevenue = salaryRevenue
        self.taxableIncome = taxableIncome
        self.otherIncome = otherIncome
    }

    /// Income as 市民税課 delivers it (`tax.income-assessed`): 所得 totals as assessed, pension
    /// and salary as revenues, `otherIncome` as 所得. The 公的年金等に係る雑所得 is recomputed for
    /// the 軽減 test's 15万, and its 35条4項 adjustment reads the 合計所得金額 other than pensions —
    /// the salary's 所得 plus the other 所得 (not the total less the other income, which is the
    /// pension and salary income and wrongly lowered the deduction of a pensioner with a salary).
    public static func delivered(totalIncome: Int, totalIncomeForAssessment: Int, pensionRevenue: Int, salaryRevenue: Int,
                                 otherIncome: Int, taxableIncome: Int, aged65: Bool, incomeYear: Int) -> PersonIncome {
        let nonPension = IncomeDeductions.salaryIncome(revenue: salaryRevenue, incomeYear: incomeYear) + otherIncome
        let pension = IncomeDeductions.pensionIncome(revenue: pensionRevenue, aged65: aged65, otherIncome: nonPension)
        return PersonIncome(totalIncome: totalIncome, totalIncomeForAssessment: totalIncomeForAssessment,
                            pensionRevenue: pensionRevenue, pensionIncome: min(pension, totalIncome), salaryRevenue: salaryRevenue,
                            taxableIncome: taxableIncome, otherIncome: otherIncome)
    }

    /// Income estimated from revenues (the counter's 試算): pension and salary through their
    /// deductions, `otherIncome` taken as 所得 already.
    public static func estimate(pensionRevenue: Int, salaryRevenue: Int, otherIncome: Int, aged65: Bool,
                                incomeYear: Int) -> PersonIncome {
        let nonPension = IncomeDeductions.salaryIncome(revenue: salaryRevenue, incomeYear: incomeYear) + otherIncome
        let pension = IncomeDeductions.pensionIncome(revenue: pensionRevenue, aged65: aged65, otherIncome: nonPension)
        var salary = IncomeDeductions.salaryIncome(revenue: salaryRevenue, incomeYear: incomeYear)
        salary -= IncomeDeductions.incomeAdjustment(salaryIncome: salary, pensionIncome: pension)
        let total = pension + salary + otherIncome
        return PersonIncome(totalIncome: total, totalIncomeForAssessment: total, pensionRevenue: pensionRevenue,
                            pensionIncome: pension, salaryRevenue: salaryRevenue, taxableIncome: 0, otherIncome: otherIncome)
    }
}
