import KokiBase

/// What the city tells the 年金保険者 (through 国保連) when a person's 特別徴収 changes
/// (介護保険法 136条・138条・140条, applied by 高確法 110条; DOMAIN.md 徴収).
public enum PensionRequests {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// 特別徴収依頼: the 本徴収 amounts to deduct.
        case request
        /// 変更: other amounts for payments already requested (平準化, a 更正).
        case change
        /// 中止: deduct nothing more this 年度.
        case stop
    }

    public struct Amount: Sendable, Hashable, Codable {
        public let month: Int
        public let amount: Int

        public init(month: Int, amount: Int) {
            self.month = month
            self.amount = amount
        }
    }

    public struct Needed: Sendable, Hashable {
        public let kind: Kind
        public let amounts: [Amount]

        public init(kind: Kind, amounts: [Amount]) {
            self.kind = kind
            self.amounts = amounts
        }
    }

    /// Compares the pension 期 a plan change leaves after `day`. The 仮徴収 (April, June,
    /// August) is deemed notified by law (介護保険法 140条4項) and is not requested again; the
    /// 本徴収 (October, December, February) is requested when it first appears and changed when
    /// its amounts move (a payment it no longer deducts at 0); the deductions stop (中止) when none
    /// is left of a plan that had some.
    public static func needed(old: [Installments.Installment], new: [Installments.Installment], after day: LocalDate) -> Needed? {
        func ahead(_ plan: [Installments.Installment]) -> [Amount] {
            plan.filter { $0.method == .pension && $0.dueDate > day && $0.amount > 0 }
                .sorted { $0.dueDate < $1.dueDate }.map { Amount(month: $0.dueDate.month, amount: $0.amount) }
        }
        let before = ahead(old), after = ahead(new)
        if after.isEmpty { return before.isEmpty ? nil : Needed(kind: .stop, amounts: []) }
        let finalBefore = before.filter { Installments.finalMonths.contains($0.month) }
        let finalAfter = after.filter { Installments.finalMonths.contains($0.month) }
        if finalBefore == finalAfter || (finalBefore.isEmpty && finalAfter.isEmpty) { return nil }
        if finalBefore.isEmpty { return Needed(kind: .request, amounts: finalAfter) }
        // A 変更 names every month it changes: one no longer deducted at 0.
        let months = Set(finalAfter.map(\.month))
        return Needed(kind: .change, amounts: (finalAfter + finalBefore.filter { !months.contains($0.month) }.map {
            Amount(month: $0.month, amount: 0)
        }).sorted { (($0.month + 9) % 12) < (($1.month + 9) % 12) })
    }

    /// A first year (no 仮徴収): the 普通徴収 期 before the 本徴収 starts and the 本徴収 requested
    /// for the pension paydays from `startMonth` [assumed: the city's split — each of the year's
    /// collections after the decision takes an even share, the pension ones rounded down to the
    /// unit, the 普通徴収 ones the rest]. nil when no payday of the 本徴収 is left.
    public static func firstYear(_ amount: Int, fiscalYear: Int, decidedOn: LocalDate, startMonth: Int,
                                 schedule: Installments.OrdinarySchedule = .standard, holidays: Set<LocalDate>,
                                 unit: Int = 100) -> [Installments.Installment]? {
        guard amount > 0, let startIndex = Installments.finalMonths.firstIndex(of: startMonth) else { return nil }
        let months = Array(Installments.finalMonths[startIndex...])
        let paydays = months.map { Installments.pensionPayday(fiscalYear: fiscalYear, month: $0, holidays: holidays) }
        guard let first = paydays.first, first > decidedOn else { return nil }
        // The 普通徴収 期 that fall due before the first deduction share the rest.
        let before = Installments.ordinary(amount, fiscalYear: fiscalYear, schedule: schedule, decidedOn: decidedOn, holidays: holidays)
            .filter { $0.dueDate < first }
        let each = amount / (before.count + paydays.count) / unit * unit
        guard each > 0 else { return nil }
        var pensionAmounts = Array(repeating: each, count: paydays.count)
        let rest = amount - each * paydays.count
        var ordinary: [Installments.Installment] = []
        if before.isEmpty {
            pensionAmounts[0] += rest
        } else {
            let share = rest / before.count / unit * unit
            ordinary = before.enumerated().map { index, i in
                Installments.Installment(no: i.no, dueDate: i.dueDate, amount: index == 0 ? rest - share * (before.count - 1) : share,
                                         method: .ordinary)
            }
        }
        let pension = zip(months, zip(paydays, pensionAmounts)).map { month, pair in
            Installments.Installment(no: Installments.interimMonths.count + Installments.finalMonths.firstIndex(of: month)! + 1,
                                     dueDate: pair.0, amount: pair.1, method: .pension)
        }
        return (ordinary + pension).sorted { $0.dueDate < $1.dueDate }
    }

    /// When the deductions of someone insured from `insuredSince` may start, by the 年金保険者's
    /// capture windows (介護保険法 134条1項〜6項, 135条1項〜4項, applied by 高確法 110条): whoever the
    /// 年金保険者 had on 1 April is deducted from the 本算定 (October); captured 8/2–10/1, 10/2–12/1 or
    /// 12/2–2/1, from the next 年度's April, June or August 仮徴収 (135条3項・4項). Captures of
    /// 4/2–8/1 *may* be deducted from within the year (135条2項); 埼玉県's practice does not:
    /// さいたま市's table by 取得日 — 4/1–6/30 → October, 7/1–10/2 → next April, 10/3–12/2 → next
    /// June, 12/3–2/2 → next August, from 2/3 → next October — and 加須市 (mid-year entrants start
    /// the next 年度). These are the windows below [verify against 川口市's own notice].
    public enum Start: Sendable, Hashable {
        /// From the 本徴収 of `fiscalYear` (a 依頼 with the 本算定).
        case finalCollection
        /// From the 仮徴収 month (4, 6 or 8) of `fiscalYear`, by the 1/6 rule (or, with no 仮徴収
        /// set, from the 本算定's October).
        case interim(month: Int)
        /// Not within `fiscalYear`.
        case later
    }

    public static func start(insuredSince: LocalDate, fiscalYear: Int) -> Start {
        if insuredSince <= LocalDate(year: fiscalYear - 1, month: 10, day: 2)! { return .interim(month: 4) }
        if insuredSince <= LocalDate(year: fiscalYear - 1, month: 12, day: 2)! { return .interim(month: 6) }
        if insuredSince <= LocalDate(year: fiscalYear, month: 2, day: 2)! { return .interim(month: 8) }
        if insuredSince <= LocalDate(year: fiscalYear, month: 6, day: 30)! { return .finalCollection }
        return .later
    }

    /// The first 本徴収 month a request sent on `day` can reach: the first October, December or
    /// February payday at least `leadDays` after it [assumed: the 施行規則's 通知期日 put the 依頼
    /// about two months before the deduction; 川西市 says a switch to 口座振替 takes about three].
    public static let leadDays = 60

    public static func startMonth(requestedOn day: LocalDate, fiscalYear: Int, leadDays: Int = PensionRequests.leadDays,
                                  holidays: Set<LocalDate>) -> Int? {
        Installments.finalMonths.first {
            Installments.pensionPayday(fiscalYear: fiscalYear, month: $0, holidays: holidays) >= day.adding(days: leadDays)
        }
    }
}
