import KokiBase

/// 還付加算金 — the interest the city adds to a refund (地方税法 17条の4, applied to 後期高齢者医療
/// premiums by the city's ordinance [verify against 川口市's 後期高齢者医療に関する条例]):
/// amount × days × rate / 365, from the day after the day its category gives through the day the
/// refund is decided; rates by calendar year (還付加算金特例基準割合, 地方税法 附則3条の2の2 — data);
/// the base rounded down to 1,000 and none under 2,000; the total rounded down to 100 and none
/// under 1,000 (the 延滞金 rounding of 地方税法 20条の4の2, which city pages apply to 還付加算金
/// too [verify]).
public enum RefundInterest {
    /// Rates by calendar year, in percent. A year without one is an error, never a guess.
    public struct Schedule: Sendable, Hashable {
        public let years: [Int: Rate]

        public init(years: [Int: Rate]) { self.years = years }

        /// 2008–2013: the 特例 rate (= the first-tier 延滞金 rate); 2014–2020: 特例基準割合;
        /// from 2021: 平均貸付割合 + 0.5 % (広島市・八街市・和歌山市 tables; 2025 and 2026 from the
        /// published 平均貸付割合 0.4 % and 0.8 %). The store's `refund_interest_rates` holds the same.
        public static let standard = Schedule(years: Dictionary(uniqueKeysWithValues: [
            (2008, "4.7"), (2009, "4.5"), (2010, "4.3"), (2011, "4.3"), (2012, "4.3"), (2013, "4.3"), (2014, "1.9"),
            (2015, "1.8"), (2016, "1.8"), (2017, "1.7"), (2018, "1.6"), (2019, "1.6"), (2020, "1.6"), (2021, "1.0"),
            (2022, "0.9"), (2023, "0.9"), (2024, "0.9"), (2025, "0.9"), (2026, "1.3"),
        ].map { ($0.0, Rate(percent: $0.1)!) }))
    }

    /// Why the money is refundable, which decides the day after which interest runs.
    public enum Cause: String, Sendable, Hashable, Codable {
        /// A premium lowered after it was paid (減額更正, 17条の4 1項1号): from the day after the
        /// payment, or after the 納期限 when paid before it.
        case lowered
        /// Paid with nothing owed (二重納付, 誤納; 17条の4 1項 その他の過誤納金): from the day after
        /// one month has passed since the day after the payment [verify the item's wording].
        case overpaid
    }

    /// The last day before interest runs for money of `cause` paid on `paidOn` (for `lowered`,
    /// against a 期 due on `dueDate`).
    public static func lastDayWithout(_ cause: Cause, paidOn: LocalDate, dueDate: LocalDate? = nil) -> LocalDate {
        switch cause {
        case .lowered: max(paidOn, dueDate ?? paidOn)
        case .overpaid: LateFee.firstTierEnd(dueDate: paidOn, months: 1)
        }
    }

    public struct Period: Sendable, Hashable, Codable {
        public let from: LocalDate
        public let to: LocalDate
        public let days: Int
        public let rate: Rate
    }

    public struct Result: Sendable, Hashable {
        public let interest: Int
        public let base: Int
        public let periods: [Period]
    }

    /// Interest on `amount` from the day after `after` through `decidedOn`.
    public static func compute(amount: Int, after: LocalDate, decidedOn: LocalDate,
                               schedule: Schedule = .standard) throws(LateFee.MissingRate) -> Result {
        let base = Yen.floorTo1000(amount)
        guard amount >= 2000, decidedOn > after else { return Result(interest: 0, base: base, periods: []) }
        var periods: [Period] = []
        var day = after.adding(days: 1)
        while day <= decidedOn {
            let end = min(decidedOn, LocalDate(year: day.year, month: 12, day: 31)!)
            guard let rate = schedule.years[day.year] else { throw LateFee.MissingRate(year: day.year) }
            periods.append(Period(from: day, to: end, days: day.days(until: end) + 1, rate: rate))
            day = end.adding(days: 1)
        }
        let common = periods.reduce(1) { LateFee.lcm($0, $1.rate.denominator) }
        let numerator = periods.reduce(0) { $0 + base * $1.days * $1.rate.numerator * (common / $1.rate.denominator) }
        let total = Yen.floorTo100(numerator / (common * 365))
        return Result(interest: total < 1000 ? 0 : total, base: base, periods: periods)
    }

    /// 還付請求権 lapses two years after it could first be exercised (高確法 160条 1項 [verify: the text
    /// was not retrieved]; DOMAIN.md 時効: "refunds from the day after payment" — counted here from the
    /// day after the refund was decided, which is never earlier, so no claim lapses early).
    public static func lapsesOn(decidedOn: LocalDate) -> LocalDate {
        decidedOn.adding(days: 1).adding(months: 24)
    }
}
