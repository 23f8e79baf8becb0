import KokiBase

/// 和暦 for notices and counter screens: 令和 from 2019-05-01, 平成 from 1989-01-08,
/// 昭和 from 1926-12-25 (DOMAIN.md, Identifiers); earlier dates in 西暦.
public enum Wareki {
    static let eras: [(name: String, start: LocalDate)] = [
        ("令和", LocalDate(year: 2019, month: 5, day: 1)!),
        ("平成", LocalDate(year: 1989, month: 1, day: 8)!),
        ("昭和", LocalDate(year: 1926, month: 12, day: 25)!),
    ]

    /// `令和8年4月1日`; the first year of an era is 元年.
    public static func format(_ date: LocalDate) -> String {
        guard let era = eras.first(where: { date >= $0.start }) else {
            return "\(date.year)年\(date.month)月\(date.day)日"
        }
        let year = date.year - era.start.year + 1
        return "\(era.name)\(year == 1 ? "元" : String(year))年\(date.month)月\(date.day)日"
    }
}
