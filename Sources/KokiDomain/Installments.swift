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
        /// The amount before a 減免 lowered it (nil: no 減免 touched this 期).
        public let beforeExemption: Int?

        public init(no: Int, dueDate: LocalDate, amount: Int, method: Method, beforeExemption: Int? = nil) {
            self.no = no
            self.dueDate = dueDate
            self.amount = amount
            self.method = method
            self.beforeExemption = beforeExemption
        }

        /// The 期 as it would stand without a 減免.
        public var withoutExemption: Installment {
            Installment(no: no, dueDate: dueDate, amount: beforeExemption ?? amount, method: method)
        }
    }

    /// 減免 (DOMAIN.md): lowers by `percent` the 期 due on or after `from` — the application (or
    /// disaster) date — not the whole year; each lowered 期 keeps its amount before the 減免. The
    /// part taken off is rounded down to the yen (the 期 keeps the rest).
    public static func exempt(_ plan: [Installment], percent: Int, from: LocalDate) -> [Installment] {
        guard percent > 0 else { return plan }
        return plan.map { i in
            guard i.dueDate >= from else { return i }
            let cut = i.amount * min(100, percent) / 100
            return Installment(no: i.no, dueDate: i.dueDate, amount: i.amount - cut, method: i.method, beforeExemption: i.amount)
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

    /// What identifies a 期 within a year's plan.
    public struct Key: Sendable, Hashable {
        public let method: Method
        public let no: Int

        public init(method: Method, no: Int) {
            self.method = method
            self.no = no
        }
    }

    /// A changed premium during the year (更正). What fell due on or before `decidedOn` stands,
    /// except as a decrease needs it.
    ///
    /// An increase keeps the 特別徴収 and bills the difference over the remaining 普通徴収 期.
    ///
    /// A decrease (減額更正) stops the 特別徴収 after the decision and lowers, in this order
    /// (DOMAIN.md 徴収 — "those already due first"; the order is the city's [verify] and is kept
    /// here, in one place): (1) the unpaid part of the 普通徴収 期 already due, oldest first — so
    /// nobody owes, is dunned for or pays 延滞金 on more than the new amount; (2) the 期 not yet
    /// due, re-split over the remaining 普通徴収 期; (3) what was already paid, latest 期 first —
    /// the payment worker turns a charge lowered below its payments into an over-payment, for
    /// 充当 or 還付. `paid` is what each 期 has received (payments and 充当); a 期 not in it is
    /// unpaid. A pension 期 already due is never lowered in (1): the 年金保険者 deducts it.
    public static func revise(_ current: [Installment], to amount: Int, fiscalYear: Int, decidedOn: LocalDate,
                              paid: [Key: Int] = [:], schedule: OrdinarySchedule = .standard,
                              holidays: Set<LocalDate>) -> [Installment] {
        let total = current.reduce(0) { $0 + $1.amount }
        let past = current.filter { $0.dueDate <= decidedOn }
        let futurePension = current.filter { $0.dueDate > decidedOn && $0.method == .pension }
        var kept: [Installment]
        var remaining: Int
        if amount >= total {
            kept = past + futurePension
            remaining = amount - kept.reduce(0) { $0 + $1.amount }
        } else {
            kept = past.sorted { ($0.dueDate, $0.no) < ($1.dueDate, $1.no) }
            var reduction = total - amount
            func lower(_ index: Int, by cut: Int) {
                let old = kept[index]
                kept[index] = Installment(no: old.no, dueDate: old.dueDate, amount: old.amount - cut, method: old.method)
                reduction -= cut
            }
            for index in kept.indices where kept[index].method == .ordinary && reduction > 0 {
                let unpaid = max(0, kept[index].amount - (paid[Key(method: .ordinary, no: kept[index].no)] ?? 0))
                lower(index, by: min(unpaid, reduction))
            }
            let future = total - past.reduce(0) { $0 + $1.amount }
            remaining = max(0, future - reduction)
            reduction -= future - remaining
            for index in kept.indices.reversed() where reduction > 0 {
                lower(index, by: min(kept[index].amount, reduction))
            }
            kept = kept.filter { $0.amount > 0 }
        }
        return merge(kept, ordinary(remaining, fiscalYear: fiscalYear, schedule: schedule, decidedOn: decidedOn, holidays: holidays))
    }

    /// `kept` with new 普通徴収 期 added: one that shares its number with a kept one (the same
    /// month) is merged into it. In due-date order.
    public static func merge(_ kept: [Installment], _ added: [Installment]) -> [Installment] {
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

    /// The 年金支払日 of a month of the 年度: the 15th, moved back before weekends and holidays.
    public static func pensionPayday(fiscalYear: Int, month: Int, holidays: Set<LocalDate>) -> LocalDate {
        let year = month >= 4 ? fiscalYear : fiscalYear + 1
        return previousBusinessDay(onOrBefore: LocalDate(year: year, month: month, day: 15)!, holidays: holidays)
    }

    /// The months of the 仮徴収 and of the 本徴収.
    public static let interimMonths = [4, 6, 8]
    public static let finalMonths = [10, 12, 2]

    /// 平準化 (介護保険法 140条2項 ただし書, applied by 高確法 110条): the city may set the June and
    /// August 仮徴収 "by the circumstances" when the February amount would leave the 本徴収 far
    /// from it. The rule (秋田市's published one; the 広域連合's own is configuration): a sixth of
    /// the previous 年度's premium rounded down to 100, times three, less April's amount, halved and
    /// rounded down to 100 — applied when it differs from April's by at least `threshold`.
    public struct Leveling: Sendable, Hashable {
        public let previousAnnual: Int
        public let threshold: Int

        public init(previousAnnual: Int, threshold: Int) {
            self.previousAnnual = previousAnnual
            self.threshold = threshold
        }

        /// The June and August amount, or nil when 平準化 does not apply.
        public func leveled(april: Int, unit: Int = 100) -> Int? {
            let sixth = previousAnnual / 6 / unit * unit
            let each = max(0, sixth * 3 - april) / 2 / unit * unit
            return abs(each - april) >= threshold ? each : nil
        }
    }

    /// 仮徴収 (介護保険法 140条1項・2項, applied by 高確法 110条; DOMAIN.md 徴収): the April, June and
    /// August deductions of a 年度 for someone whose pension paid the 本徴収 last October–February,
    /// at that February's amount — decided before April, so they are receivables from April. With
    /// `leveling`, the June and August amounts may be evened out (平準化).
    public static func interim(previousFebruary: Int, fiscalYear: Int, leveling: Leveling? = nil,
                               holidays: Set<LocalDate>, unit: Int = 100) -> [Installment] {
        guard previousFebruary > 0 else { return [] }
        let later = leveling?.leveled(april: previousFebruary, unit: unit) ?? previousFebruary
        return zip(interimMonths, [previousFebruary, later, later]).enumerated().compactMap { index, pair in
            pair.1 > 0 ? Installment(no: index + 1, dueDate: pensionPayday(fiscalYear: fiscalYear, month: pair.0, holidays: holidays),
                                     amount: pair.1, method: .pension) : nil
        }
    }

    /// The 本算定 of someone with 仮徴収 (DOMAIN.md 徴収): the 仮徴収 stands and the rest of the year is
    /// the 本徴収, (annual − 仮徴収) ÷ 3 in October, December and February, rounded down to the unit
    /// with the remainder in October (after a late decision, shared by the paydays a 依頼 can still
    /// reach) — or, when the deduction does not continue (`continuing` false:
    /// stopped, refused, no longer deductible), the rest is billed over the remaining 普通徴収 期.
    /// When the 仮徴収 exceeds the year, the 本徴収 is 0 and the 仮徴収 期 are lowered to the year,
    /// latest first: what the 年金保険者 deducts beyond them is an over-payment, refunded once collected.
    public static func afterInterim(_ amount: Int, interim: [Installment], continuing: Bool, fiscalYear: Int,
                                    decidedOn: LocalDate, schedule: OrdinarySchedule = .standard, holidays: Set<LocalDate>,
                                    unit: Int = 100) -> [Installment] {
        var kept = interim.sorted { $0.no < $1.no }
        let interimTotal = kept.reduce(0) { $0 + $1.amount }
        guard amount >= interimTotal else {
            var excess = interimTotal - max(0, amount)
            for index in kept.indices.reversed() where excess > 0 {
                let cut = min(kept[index].amount, excess)
                let old = kept[index]
                kept[index] = Installment(no: old.no, dueDate: old.dueDate, amount: old.amount - cut, method: .pension)
                excess -= cut
            }
            return kept
        }
        let rest = amount - interimTotal
        // The 本徴収 paydays a 依頼 sent on the decision day can still reach (all three after a July
        // 本算定; fewer after a late one — the rest is shared by those left, the remainder in the first).
        let months = finalMonths.filter {
            pensionPayday(fiscalYear: fiscalYear, month: $0, holidays: holidays) >= decidedOn.adding(days: PensionRequests.leadDays)
        }
        guard continuing, !months.isEmpty else {
            return kept + ordinary(rest, fiscalYear: fiscalYear, schedule: schedule, decidedOn: decidedOn, holidays: holidays)
        }
        let each = rest / months.count / unit * unit
        let amounts = [rest - each * (months.count - 1)] + Array(repeating: each, count: months.count - 1)
        return kept + zip(months, amounts).compactMap { month, amount in
            amount > 0 ? Installment(no: interimMonths.count + finalMonths.firstIndex(of: month)! + 1,
                                     dueDate: pensionPayday(fiscalYear: fiscalYear, month: month, holidays: holidays),
                                     amount: amount, method: .pension) : nil
        }
    }

    /// 特別徴収 for a whole year decided at once (no 仮徴収 receivables yet): the 仮徴収 at the
    /// previous February's amount and the 本徴収 after it. nil without a previous February amount
    /// (a first year is collected by 普通徴収 until a 依頼 starts the deduction).
    public static func pension(_ amount: Int, fiscalYear: Int, previousFebruary: Int?, decidedOn: LocalDate? = nil,
                               holidays: Set<LocalDate>, unit: Int = 100) -> [Installment]? {
        guard let previousFebruary, previousFebruary > 0 else { return nil }
        return afterInterim(amount, interim: interim(previousFebruary: previousFebruary, fiscalYear: fiscalYear, holidays: holidays,
                                                     unit: unit),
                            continuing: true, fiscalYear: fiscalYear,
                            decidedOn: decidedOn ?? LocalDate(year: fiscalYear, month: 7, day: 1)!,
                            holidays: holidays, unit: unit)
    }
}
