import KokiBase

/// 月割: which months of a 年度 (April = 1 … March = 12) a person is insured in. The month
/// of the 取得日 counts; the month of the 喪失日 does not (death 7/31 → loss 8/1 →
/// April–July).
public enum FiscalMonths {
    /// The 年度 a date falls in (April–March).
    public static func fiscalYear(of date: LocalDate) -> Int { date.month >= 4 ? date.year : date.year - 1 }

    /// The month's index in its 年度 (April = 1).
    public static func index(of date: LocalDate) -> Int { date.month >= 4 ? date.month - 3 : date.month + 9 }

    /// The first day of month `index` of `fiscalYear`.
    public static func firstDay(of index: Int, in fiscalYear: Int) -> LocalDate {
        let month = index <= 9 ? index + 3 : index - 9
        return LocalDate(year: index <= 9 ? fiscalYear : fiscalYear + 1, month: month, day: 1)!
    }

    /// The insured months of `fiscalYear` for these periods (acquired, lost — nil while open).
    public static func insured(_ periods: [(acquiredOn: LocalDate, lostOn: LocalDate?)], fiscalYear: Int) -> [Int] {
        var months = Set<Int>()
        let start = LocalDate(year: fiscalYear, month: 4, day: 1)!
        let end = LocalDate(year: fiscalYear + 1, month: 4, day: 1)!
        for period in periods {
            if period.acquiredOn >= end { continue }
            if let lost = period.lostOn, lost <= start { continue }
            let first = period.acquiredOn < start ? 1 : index(of: period.acquiredOn)
            let last: Int  // exclusive
            if let lost = period.lostOn, lost < end { last = index(of: lost) } else { last = 13 }
            if first < last { months.formUnion(first..<last) }
        }
        return months.sorted()
    }
}
