import KokiBase

/// 延滞金 — the late fee on one installment (DOMAIN.md; the city's 後期高齢者医療 ordinance
/// applies 地方税法's rules): none if the installment is under 2,000; the base rounded down to
/// 1,000; base × days × rate / 365 (365 in leap years too), split where the rate changes — on
/// 1 January and at the end of the first tier; days run from the day after the 納期限 to the
/// payment; the total rounded down to 100; none if under 1,000 (地方税法 20条の4の2). Exact:
/// rational arithmetic, no floating point.
public enum LateFee {
    /// The two rates of a calendar year: up to the end of the first tier, and after it.
    public struct YearRates: Sendable, Hashable {
        public let year: Int
        public let firstTier: Rate
        public let later: Rate

        public init(year: Int, firstTier: Rate, later: Rate) {
            self.year = year
            self.firstTier = firstTier
            self.later = later
        }
    }

    /// A day the schedule has no rate for: the fee cannot be computed (never a silent
    /// fallback to the statute's 7.3 % / 14.6 %, which would overcharge in a 特例 year).
    public struct MissingRate: Error, Sendable, Hashable, CustomStringConvertible {
        public let year: Int
        public init(year: Int) { self.year = year }
        public var description: String { "no 延滞金 rate for the calendar year \(year): add it to late_fee_rates" }
    }

    /// Rates by calendar year — every year a 納期 can still be open needs one.
    public struct Schedule: Sendable, Hashable {
        public let years: [YearRates]
        /// How long the first tier lasts after the 納期限, in months.
        public let firstTierMonths: Int

        public init(years: [YearRates], firstTierMonths: Int = 1) {
            self.years = years
            self.firstTierMonths = firstTierMonths
        }

        /// The rates of 地方税法 附則3条の2 (延滞金の割合等の特例), the same table as 国税's
        /// 延滞税 (租税特別措置法 94条), for every year since 後期高齢者医療 began (April 2008).
        /// Up to 2013 the 特例 lowered only the first tier (前年11月30日の公定歩合 + 4 %; the
        /// rest stayed at 14.6 %); from 2014 both tiers follow the 特例基準割合 (平均貸付割合
        /// + 1 %): first tier 特例基準割合 + 1 %, later tier 特例基準割合 + 7.3 %. The store's
        /// `late_fee_rates` is seeded with the same rows (a test holds the two together).
        public static let standard = Schedule(years: [
            (2008, "4.7", "14.6"), (2009, "4.5", "14.6"), (2010, "4.3", "14.6"), (2011, "4.3", "14.6"),
            (2012, "4.3", "14.6"), (2013, "4.3", "14.6"), (2014, "2.9", "9.2"), (2015, "2.8", "9.1"),
            (2016, "2.8", "9.1"), (2017, "2.7", "9.0"), (2018, "2.6", "8.9"), (2019, "2.6", "8.9"),
            (2020, "2.6", "8.9"), (2021, "2.5", "8.8"), (2022, "2.4", "8.7"), (2023, "2.4", "8.7"),
            (2024, "2.4", "8.7"), (2025, "2.4", "8.7"), (2026, "2.8", "9.1"),
        ].map { YearRates(year: $0.0, firstTier: Rate(percent: $0.1)!, later: Rate(percent: $0.2)!) })

        func rate(year: Int, firstTier: Bool) throws(MissingRate) -> Rate {
            guard let entry = years.first(where: { $0.year == year }) else { throw MissingRate(year: year) }
            return firstTier ? entry.firstTier : entry.later
        }
    }

    /// The last day of the first tier — "納期限の翌日から1月を経過する日まで" — counted as 民法
    /// 140–143 count a period of months: it starts on the day after the 納期限 (初日不算入); a
    /// period starting on the first of a month ends on the last day of its last month (143条1項,
    /// 暦に従う: due 9/30 → 10/1–10/31); otherwise on the day before the same day of the month
    /// `months` later, or on that month's last day when it has no such day (143条2項).
    public static func firstTierEnd(dueDate: LocalDate, months: Int) -> LocalDate {
        let start = dueDate.adding(days: 1)
        if start.day == 1 { return start.adding(months: months - 1).lastOfMonth }
        let target = start.firstOfMonth.adding(months: months)
        guard start.day <= LocalDate.daysIn(month: target.month, year: target.year) else { return target.lastOfMonth }
        return LocalDate(year: target.year, month: target.month, day: start.day)!.adding(days: -1)
    }

    /// One stretch of days at one rate on one base.
    public struct Period: Sendable, Hashable, Codable {
        public let from: LocalDate
        public let to: LocalDate
        public let days: Int
        public let rate: Rate
        /// What was unpaid in the stretch, rounded down to 1,000.
        public let base: Int
        /// Whether the stretch is in the first tier.
        public let firstTier: Bool
        /// This stretch's share, rounded down to the yen (the total is computed exactly).
        public let amount: Int
    }

    public struct Result: Sendable, Hashable {
        /// What is owed: the exact total rounded down to 100, or 0 under 1,000.
        public let lateFee: Int
        public let base: Int
        /// The last day of the first tier (nil when nothing was late).
        public let firstTierEnd: LocalDate?
        public let periods: [Period]
        /// Σ base × days × rate / 365 before rounding, in yen (floor).
        public let exactYen: Int
    }

    public static func compute(amount: Int, dueDate: LocalDate, paidOn: LocalDate,
                               schedule: Schedule = .standard) throws(MissingRate) -> Result {
        try compute(amount: amount, dueDate: dueDate, payments: [(paidOn, amount)], schedule: schedule)
    }

    /// With partial payments: each day counts on what was still unpaid that day (the base of
    /// each stretch rounded down to 1,000), until the last payment.
    public static func compute(amount: Int, dueDate: LocalDate, payments: [(date: LocalDate, amount: Int)],
                               schedule: Schedule = .standard) throws(MissingRate) -> Result {
        guard amount >= 2000, let paidOn = payments.map(\.date).max(), paidOn > dueDate else {
            return Result(lateFee: 0, base: Yen.floorTo1000(amount), firstTierEnd: nil, periods: [], exactYen: 0)
        }
        // What was unpaid on `day`: payments count from the day after they are made.
        func unpaid(_ day: LocalDate) -> Int {
            max(0, amount - payments.filter { $0.date < day }.reduce(0) { $0 + $1.amount })
        }
        let tierEnd = firstTierEnd(dueDate: dueDate, months: schedule.firstTierMonths)
        let paymentDays = Set(payments.map(\.date))
        var periods: [(from: LocalDate, to: LocalDate, rate: Rate, base: Int, firstTier: Bool)] = []
        var day = dueDate.adding(days: 1)
        while day <= paidOn {
            let firstTier = day <= tierEnd
            var end = min(paidOn, LocalDate(year: day.year, month: 12, day: 31)!, firstTier ? tierEnd : paidOn)
            // A partial payment changes the base from the next day.
            if let next = paymentDays.filter({ $0 >= day && $0 < end }).min() { end = next }
            let base = Yen.floorTo1000(unpaid(day))
            if base > 0 { periods.append((day, end, try schedule.rate(year: day.year, firstTier: firstTier), base, firstTier)) }
            day = end.adding(days: 1)
        }
        // Σ base × days × n/d / 365 over one common denominator, then rounded down.
        let common = periods.reduce(1) { lcm($0, $1.rate.denominator) }
        let numerator = periods.reduce(0) { total, p in
            total + p.base * (p.from.days(until: p.to) + 1) * p.rate.numerator * (common / p.rate.denominator)
        }
        let exact = numerator / (common * 365)
        let total = Yen.floorTo100(exact)
        return Result(lateFee: total < 1000 ? 0 : total, base: Yen.floorTo1000(amount), firstTierEnd: tierEnd,
                      periods: periods.map { p in
                          let days = p.from.days(until: p.to) + 1
                          return Period(from: p.from, to: p.to, days: days, rate: p.rate, base: p.base, firstTier: p.firstTier,
                                        amount: p.base * days * p.rate.numerator / (p.rate.denominator * 365))
                      }, exactYen: exact)
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
    }
}
