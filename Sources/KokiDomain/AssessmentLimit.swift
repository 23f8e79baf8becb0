import KokiBase

/// 賦課の期間制限: the 賦課 of a 年度 cannot be decided or changed from the day two years have
/// passed, counted from the day after the 年度's first 納期限 (DOMAIN.md: 高確法 160条の2 [verify
/// the article number]; the wording of the model provision, 国民健康保険法 110条の2: 「当該年度における
/// 最初の保険料の納期…の翌日から起算して二年を経過した日以後においては、することができない」). A change
/// after it is refused for billing and opens a discrepancy — never a charge.
public enum AssessmentLimit {
    /// The first day the 賦課 can no longer be changed: first 納期限 7/31/2024 → 8/1/2026.
    public static func closesOn(firstDueDate: LocalDate) -> LocalDate {
        firstDueDate.adding(days: 1).adding(months: 24)
    }

    public static func allows(_ day: LocalDate, firstDueDate: LocalDate) -> Bool {
        day < closesOn(firstDueDate: firstDueDate)
    }

    /// The 年度's first 納期限 for a person: the earliest 期 of their plan, or the first 期 of the
    /// 普通徴収 schedule when they have none.
    public static func firstDueDate(plan: [Installments.Installment], fiscalYear: Int,
                                    schedule: Installments.OrdinarySchedule, holidays: Set<LocalDate>) -> LocalDate {
        let ordinary = schedule.months.first.map {
            Installments.dueDate(fiscalYear: fiscalYear, month: $0.month, day: $0.day, holidays: holidays)
        } ?? LocalDate(year: fiscalYear, month: 7, day: 31)!
        return ([ordinary] + plan.map(\.dueDate)).min()!
    }
}
