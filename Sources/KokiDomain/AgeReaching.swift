import KokiBase

/// 年齢到達予定者 — who reaches 75 in a given month (the insurer's list of people about to
/// be insured by age).
public enum AgeReaching {
    /// The birth dates to look at for people whose 75th birthday falls in `month` of
    /// `year`: the same month 75 years earlier, and the day before it (a 29 February
    /// birthday moves to 1 March).
    public static func birthDates(reaching75In year: Int, month: Int) -> ClosedRange<LocalDate> {
        let first = LocalDate(year: year - 75, month: month, day: 1)!
        let last = LocalDate(year: year - 75, month: month, day: LocalDate.daysIn(month: month, year: year - 75))!
        return first.adding(days: -1)...last
    }

    /// Whether someone born on `birthDate` turns 75 in `month` of `year`.
    public static func reaches75(_ birthDate: LocalDate, in year: Int, month: Int) -> Bool {
        let birthday = birthDate.birthday(75)
        return birthday.year == year && birthday.month == month
    }

    /// The calendar month after the one `date` is in.
    public static func monthAfter(_ date: LocalDate) -> (year: Int, month: Int) {
        let next = date.firstOfMonth.adding(months: 1)
        return (next.year, next.month)
    }
}
