import KokiBase

/// 期割 — splitting a 年度's premium into installments (DOMAIN.md, 徴収).
public enum Installments {
    public enum Method: String, Sendable, Hashable, Codable {
        /// 普通徴収: paid by the person (納付書, 口座振替).
        case ordinary
        /// 特別徴収: deducted from the pension.
        case pension
    }

    public struct Installment: Sendable, Hashable, Codable {
        public let no: Int
        public let dueDate: LocalDate
        public let amount: Int
        public let method: Method

        public init(no: Int, dueDate: LocalDate, amount: Int, method: Method) {
            self.no = no
            self.dueDate = dueDate
            self.amount = amount
            self.method = method
        }
    }

    /// The 普通徴収 schedule (configuration): the calendar month of each 期 and its due day
    /// (nil: the month's last day), and the unit each 期 is rounded down to (the remainder
    /// goes into the first 期).
    public struct OrdinarySchedule: Sendable, Hashable {
        public let months: [(month: Int, day: Int?)]
        public let unit: Int

        public init(months: [(month: Int, day: Int?)], unit: Int = 100) {
            self.months = months
            self.unit = unit
        }

        /// [assumed] 8 期, July–February, due at month end, December on the 28th.
        public static let standard = OrdinarySchedule(months: [(7, nil), (8, nil), (9, nil), (10, nil), (11, nil), (12, 28),
                                                               (1, nil), (2, nil)])

        public static func == (lhs: OrdinarySchedule, rhs: OrdinarySchedule) -> Bool {
            lhs.unit == rhs.unit && lhs.months.map(\.month) == rhs.months.map(\.month) && lhs.months.map(\.day) == rhs.months.map(\.day)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(unit)
            for m in months { hasher.combine(m.month); hasher.combine(m.day) }
        }
    }

    /// The day a payment falls due: the scheduled day, moved forward past the days the city's
    /// offices are closed — weekends, national holidays and 29 December – 3 January
    /// (地方自治法 4条の2 第1項・第4項: a 期限 falling on such a day moves to the next day that is
    /// not one).
    public static func dueDate(fiscalYear: Int, month: Int, day: Int?, holidays: Set<LocalDate>) -> LocalDate {
        let year = month >= 4 ? fiscalYear : fiscalYear + 1
        let scheduled = LocalDate(year: year, month: month, day: min(day ?? 31, LocalDate.daysIn(month: month, year: year)))!
        return nextBusinessDay(onOrAfter: scheduled, holidays: holidays)
    }

    public static func nextBusinessDay(onOrAfter day: LocalDate, holidays: Set<LocalDate>) -> LocalDate {
        var date = day
        while isClosed(date, holidays: holidays) { date = date.adding(days: 1) }
        return date
    }

    /// A day the city's offices are closed (地方自治法 4条の2 第2項: 日曜・土曜, 国民の祝日,
    /// 12月29日から翌年1月3日まで).
    public static func isClosed(_ day: LocalDate, holidays: Set<LocalDate>) -> Bool {
        day.isWeekend || holidays.contains(day) || (day.month == 12 && day.day >= 29) || (day.month == 1 && day.day <= 3)
    }

    public static func previousBusinessDay(onOrBefore day: LocalDate, holidays: Set<LocalDate>) -> LocalDate {
        var date = day
        while date.isWeekend || holidays.contains(date) { date = date.adding(days: -1) }
        return date
    }

    /// Splits `amount` over the 期 of `schedule` whose due dates come after `decidedOn`
    /// (all of them for the July 本算定; the remaining ones for a change during the year).
    /// Each 期 is rounded down to the unit and the remainder goes into the first. When no
    /// 期 is left, one 期 falls due at the end of the next month [assumed].
    public static func ordinary(_ amount: Int, fiscalYear: Int, schedule: OrdinarySchedule = .standard,
                                decidedOn: LocalDate? = nil, holidays: Set<LocalDate>) -> [Installment] {
        guard amount > 0 else { return [] }
        // Each 期 keeps its number in the year's schedule (第5期 stays 第5期 after a change).
        var dates = schedule.months.enumerated().map {
            (no: $0.offset + 1, date: dueDate(fiscalYear: fiscalYear, month: $0.element.month, day: $0.element.day, holidays: holidays))
        }
        if let decidedOn { dates = dates.filter { $0.date > decidedOn } }
        if dates.isEmpty {
            let base = decidedOn ?? LocalDate(year: fiscalYear + 1, month: 3, day: 1)!
            dates = [(schedule.months.count + 1,
                      nextBusinessDay(onOrAfter: base.firstOfMonth.adding(months: 1).lastOfMonth, holidays: holidays))]
        }
        let each = amount / dates.count / schedule.unit * schedule.unit
        let first = amount - each * (dates.count - 1)
        return dates.enumerated().map { index, entry in
            Installment(no: entry.no, dueDate: entry.date, amount: index == 0 ? first : each, method: .ordinary)
        }
    }

    /// A changed premium during the year. What fell due on or before `decidedOn` stands. An
    /// increase keeps the 特別徴収 and bills the difference by 普通徴収; a decrease stops the
    /// 特別徴収; the rest is split over the remaining 普通徴収 期. What is already due beyond
    /// the new amount is an over-payment for collection to refund or appropriate.
    public static func revise(_ current: [Installment], to amount: Int, fiscalYear: Int, decidedOn: LocalDate,
                              schedule: OrdinarySchedule = .standard, holidays: Set<LocalDate>) -> [Installment] {
        let total = current.reduce(0) { $0 + $1.amount }
        let past = current.filter { $0.dueDate <= decidedOn }
        let futurePension = current.filter { $0.dueDate > decidedOn && $0.method == .pension }
        let kept = amount >= total ? past + futurePension : past
        let remaining = amount - kept.reduce(0) { $0 + $1.amount }
        let added = ordinary(max(0, remaining), fiscalYear: fiscalYear, schedule: schedule, decidedOn: decidedOn, holidays: holidays)
        // A new ordinary 期 that shares its number with a kept one (the same month) is merged into it.
        var result = kept
        for installment in added {
            if let index = result.firstIndex(where: { $0.method == .ordinary && $0.no == installment.no }) {
                let old = result[index]
                result[index] = Installment(no: old.no, dueDate: old.dueDate, amount: old.amount + installment.amount, method: .ordinary)
            } else {
                result.append(installment)
            }
        }
        return result.sorted { ($0.dueDate, $0.method.rawValue) < ($1.dueDate, $1.method.rawValue) }
    }

    /// 特別徴収 eligibility (DOMAIN.md): pension ≥ 180,000 a year, the 介護保険料 deducted by the
    /// city, and 介護 + 後期 per payment at most half of each payment.
    public static func pensionDeductible(annualPremium: Int, pensionAnnual: Int, pensionPerPayment: Int,
                                         longTermCareDeducted: Bool, longTermCarePerPayment: Int) -> Bool {
        guard pensionAnnual >= 180_000, longTermCareDeducted, annualPremium >= 0, longTermCarePerPayment >= 0 else { return false }
        let perPayment = annualPremium / 6 + (annualPremium % 6 + 5) / 6
        // Amounts come from another system: a sum past Int's range is not deductible (and never a trap).
        let (both, overSum) = longTermCarePerPayment.addingReportingOverflow(perPayment)
        let (twice, overDouble) = both.multipliedReportingOverflow(by: 2)
        return !overSum && !overDouble && twice <= pensionPerPayment
    }

    /// 特別徴収 for a year: 仮徴収 in April, June and August at the previous February's
    /// amount, 本徴収 in October, December and February sharing the rest (the remainder in
    /// October). Due on the pension day, the 15th, moved back before weekends and holidays.
    /// nil when there is nothing to carry over (no previous February amount) or the 仮徴収
    /// already exceeds the year — then the year is collected by 普通徴収.
    public static func pension(_ amount: Int, fiscalYear: Int, previousFebruary: Int?, holidays: Set<LocalDate>,
                               unit: Int = 100) -> [Installment]? {
        guard let previousFebruary, previousFebruary > 0, amount >= previousFebruary * 3 else { return nil }
        func payday(_ month: Int) -> LocalDate {
            let year = month >= 4 ? fiscalYear : fiscalYear + 1
            return previousBusinessDay(onOrBefore: LocalDate(year: year, month: month, day: 15)!, holidays: holidays)
        }
        let rest = amount - previousFebruary * 3
        let each = rest / 3 / unit * unit
        let amounts = [previousFebruary, previousFebruary, previousFebruary, rest - each * 2, each, each]
        return zip([4, 6, 8, 10, 12, 2], amounts).enumerated().map { index, pair in
            Installment(no: index + 1, dueDate: payday(pair.0), amount: pair.1, method: .pension)
        }
    }
}
