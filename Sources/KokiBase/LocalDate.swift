/// A calendar day with no time zone (`YYYY-MM-DD`), as the events and the store carry
/// dates. Arithmetic goes through the day number since 1970-01-01 (proleptic Gregorian),
/// so it never touches the wall clock or a time zone.
///
/// Every operation is total: a value exists only for years 1 to 9999, and arithmetic that
/// would leave that range stops at its edge (`LocalDate.earliest`, `LocalDate.latest`)
/// instead of trapping, so no inbound date, however far out, can crash a worker. Inbound
/// dates are bounded far inside this range by the contract's rules (`InboundRules`); the
/// clamp only keeps a hostile value from becoming a crash.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Builds a date; returns nil when the day does not exist (2023-02-29, month 13).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= LocalDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; anything else is nil.
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in bytes[range] {
                guard b >= 48, b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// 0001-01-01 and 9999-12-31: the first and last day a `LocalDate` can hold.
    public static let earliest = LocalDate(unchecked: 1, 1, 1)
    public static let latest = LocalDate(unchecked: 9999, 12, 31)

    /// For year, month and day already known to form a date in range.
    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day `daysSinceEpoch` days after 1970-01-01, clamped to `earliest...latest`.
    public init(daysSinceEpoch days: Int) {
        let daysSinceEpoch = min(max(days, -719_162), 2_932_896)  // 0001-01-01 … 9999-12-31
        // Howard Hinnant's civil_from_days.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `days` later (or earlier), clamped to `earliest...latest`.
    public func adding(days: Int) -> LocalDate {
        let (sum, overflow) = daysSinceEpoch.addingReportingOverflow(days)
        return overflow ? (days > 0 ? .latest : .earliest) : LocalDate(daysSinceEpoch: sum)
    }

    /// The same day `months` later (or earlier); the month's last day when it has no such day
    /// (1/31 + 1 month → 2/28). Clamped to `earliest...latest`.
    public func adding(months: Int) -> LocalDate {
        let (index, overflow) = (year * 12 + (month - 1)).addingReportingOverflow(months)
        guard !overflow, index >= 12 else { return months > 0 ? .latest : .earliest }
        guard index < 10_000 * 12 else { return .latest }
        let year = index / 12, month = index % 12 + 1
        return LocalDate(unchecked: year, month, min(day, LocalDate.daysIn(month: month, year: year)))
    }

    public var firstOfMonth: LocalDate { LocalDate(unchecked: year, month, 1) }

    public var lastOfMonth: LocalDate { LocalDate(unchecked: year, month, LocalDate.daysIn(month: month, year: year)) }

    /// Saturday or Sunday.
    /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 4) % 7 }

    public var isWeekend: Bool { weekday == 0 || weekday == 6 }

    /// A day the city's offices open: not a weekend, not a national holiday, not 年末年始
    /// (29 December to 3 January).
    public func isBusinessDay(holidays: Set<LocalDate>) -> Bool {
        !isWeekend && !holidays.contains(self) && !(month == 12 && day >= 29) && !(month == 1 && day <= 3)
    }

    /// Days from `self` to `other` (positive when `other` is later).
    public func days(until other: LocalDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected a date YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
