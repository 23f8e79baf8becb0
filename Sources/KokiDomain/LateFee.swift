import KokiBase

/// 延滞金 — the late fee on one installment (DOMAIN.md): none if the installment is under
/// 2,000; the base rounded down to 1,000; base × days × rate / 365 (365 in leap years too),
/// split where the rate changes — on 1 January and at the end of the first tier (one month
/// after the 納期限 by default); days run from the day after the 納期限 to the payment; the
/// total rounded down to 100; none if under 1,000. Exact: rational arithmetic, no floating point.
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

    /// Rates by calendar year (特例基準割合 years), and the statute's 本則 for the others.
    public struct Schedule: Sendable, Hashable {
        public let years: [YearRates]
        public let statutory: (firstTier: Rate, later: Rate)
        /// How long the first tier lasts after the 納期限, in months.
        public let firstTierMonths: Int

        public init(years: [YearRates], statutory: (firstTier: Rate, later: Rate), firstTierMonths: Int = 1) {
            self.years = years
            self.statutory = statutory
            self.firstTierMonths = firstTierMonths
        }

        /// DOMAIN.md: 2022–2025 2.4 % / 8.7 %, 2026 2.8 % / 9.1 %, 本則 7.3 % / 14.6 %.
        public static let standard = Schedule(
            years: (2022...2025).map { YearRates(year: $0, firstTier: Rate(percent: "2.4")!, later: Rate(percent: "8.7")!) }
                + [YearRates(year: 2026, firstTier: Rate(percent: "2.8")!, later: Rate(percent: "9.1")!)],
            statutory: (Rate(percent: "7.3")!, Rate(percent: "14.6")!))

        func rate(year: Int, firstTier: Bool) -> Rate {
            let entry = years.first { $0.year == year }
            return firstTier ? entry?.firstTier ?? statutory.firstTier : entry?.later ?? statutory.later
        }

        public static func == (lhs: Schedule, rhs: Schedule) -> Bool {
            lhs.years == rhs.years && lhs.statutory.firstTier == rhs.statutory.firstTier
                && lhs.statutory.later == rhs.statutory.later && lhs.firstTierMonths == rhs.firstTierMonths
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(years)
            hasher.combine(firstTierMonths)
        }
    }

    /// One stretch of days at one rate.
    public struct Period: Sendable, Hashable, Codable {
        public let from: LocalDate
        public let to: LocalDate
        public let days: Int
        public let rate: Rate
        /// This stretch's share, rounded down to the yen (the total is computed exactly).
        public let amount: Int
    }

    public struct Result: Sendable, Hashable {
        /// What is owed: the exact total rounded down to 100, or 0 under 1,000.
        public let lateFee: Int
        public let base: Int
        public let periods: [Period]
    }

    public static func compute(amount: Int, dueDate: LocalDate, paidOn: LocalDate,
                               schedule: Schedule = .standard) -> Result {
        compute(amount: amount, dueDate: dueDate, payments: [(paidOn, amount)], schedule: schedule)
    }

    /// With partial payments: each day counts on what was still unpaid that day (the base of
    /// each stretch rounded down to 1,000), until the last payment.
    public static func compute(amount: Int, dueDate: LocalDate, payments: [(date: LocalDate, amount: Int)],
                               schedule: Schedule = .standard) -> Result {
        guard amount >= 2000, let paidOn = payments.map(\.date).max(), paidOn > dueDate else {
            return Result(lateFee: 0, base: Yen.floorTo1000(amount), periods: [])
        }
        // What was unpaid on `day`: payments count from the day after they are made.
        func unpaid(_ day: LocalDate) -> Int {
            max(0, amount - payments.filter { $0.date < day }.reduce(0) { $0 + $1.amount })
        }
        let tierEnd = dueDate.adding(months: schedule.firstTierMonths)
        let paymentDays = Set(payments.map(\.date))
        var periods: [(from: LocalDate, to: LocalDate, rate: Rate, base: Int)] = []
        var day = dueDate.adding(days: 1)
        while day <= paidOn {
            let firstTier = day <= tierEnd
            var end = min(paidOn, LocalDate(year: day.year, month: 12, day: 31)!, firstTier ? tierEnd : paidOn)
            // A partial payment changes the base from the next day.
            if let next = paymentDays.filter({ $0 >= day && $0 < end }).min() { end = next }
            let base = Yen.floorTo1000(unpaid(day))
            if base > 0 { periods.append((day, end, schedule.rate(year: day.year, firstTier: firstTier), base)) }
            day = end.adding(days: 1)
        }
        // Σ base × days × n/d / 365 over one common denominator, then rounded down.
        let common = periods.reduce(1) { lcm($0, $1.rate.denominator) }
        let numerator = periods.reduce(0) { total, p in
            total + p.base * (p.from.days(until: p.to) + 1) * p.rate.numerator * (common / p.rate.denominator)
        }
        let total = Yen.floorTo100(numerator / (common * 365))
        return Result(lateFee: total < 1000 ? 0 : total, base: Yen.floorTo1000(amount), periods: periods.map { p in
            let days = p.from.days(until: p.to) + 1
            return Period(from: p.from, to: p.to, days: days, rate: p.rate,
                          amount: p.base * days * p.rate.numerator / (p.rate.denominator * 365))
        })
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
    }
}
