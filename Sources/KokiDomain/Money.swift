/// Money is integer yen. Rates are exact fractions, never floating point: 150,000 × 8.42 %
/// is exactly 12,630. Every rounding rule has one named home here.
public struct Rate: Sendable, Hashable, Codable, CustomStringConvertible {
    public let numerator: Int
    public let denominator: Int

    /// Kept in lowest terms, so equal rates are equal values (8.38 % is 419/5000 however written).
    public init(_ numerator: Int, over denominator: Int) {
        precondition(denominator > 0 && numerator >= 0)
        var (a, b) = (numerator, denominator)
        while b != 0 { (a, b) = (b, a % b) }
        let divisor = max(a, 1)
        self.numerator = numerator / divisor
        self.denominator = denominator / divisor
    }

    /// Parses a percentage written in decimal (`"8.42"`, `"9.03"`, `"70"`); nil unless it is
    /// digits with at most one point and at most six decimals.
    public init?(percent text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 6,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else { return nil }
        let decimals = parts.count == 2 ? parts[1] : ""
        guard decimals.count <= 6, parts.count == 1 || !decimals.isEmpty else { return nil }
        var scale = 100
        for _ in decimals { scale *= 10 }
        self.init(Int(parts[0] + decimals)!, over: scale)
    }

    public static func percent(_ whole: Int) -> Rate { Rate(whole, over: 100) }

    /// `amount × rate`, rounded down to the yen.
    public func of(_ amount: Int) -> Int { amount * numerator / denominator }

    /// The rate as a percentage in decimal (`8.42`).
    public var description: String {
        var digits = String(numerator * 100 * 1_000_000 / denominator)
        while digits.count < 7 { digits = "0" + digits }
        var whole = String(digits.dropLast(6)), fraction = String(digits.suffix(6))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if whole.isEmpty { whole = "0" }
        return fraction.isEmpty ? whole : "\(whole).\(fraction)"
    }
}

public enum Yen {
    /// 100円未満切捨て: premiums, 月割 and 延滞金 totals.
    public static func floorTo100(_ amount: Int) -> Int { amount >= 0 ? amount / 100 * 100 : -((-amount + 99) / 100 * 100) }

    /// 1,000円未満切捨て: the base of 延滞金.
    public static func floorTo1000(_ amount: Int) -> Int { amount / 1000 * 1000 }
}
