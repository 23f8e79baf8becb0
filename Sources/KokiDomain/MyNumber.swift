/// 個人番号 (My Number): 12 digits, the last a check digit over the other 11.
/// The value is personal data: it has no `description` that shows it.
public struct MyNumber: Sendable, Hashable {
    /// The 12 digits. Never log them.
    public let digits: String

    /// Accepts exactly 12 ASCII digits with a correct check digit.
    public init?(_ text: String) {
        guard text.utf8.count == 12, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let values = text.utf8.map { Int($0 - 48) }
        guard MyNumber.checkDigit(Array(values.prefix(11))) == values[11] else { return nil }
        digits = text
    }

    /// Check digit = 11 − (Σ Pn·Qn mod 11), Pn counted from the right of the 11 body
    /// digits (n = 1…11), Qn = n + 1 for n ≤ 6 and n − 5 for n ≥ 7; a remainder ≤ 1 gives 0.
    public static func checkDigit(_ body: [Int]) -> Int {
        precondition(body.count == 11)
        var sum = 0
        for n in 1...11 {
            let p = body[11 - n]
            let q = n <= 6 ? n + 1 : n - 5
            sum += p * q
        }
        let remainder = sum % 11
        return remainder <= 1 ? 0 : 11 - remainder
    }

    /// The last four digits, for counters and notices (`********9018`).
    public var masked: String { String(repeating: "*", count: 8) + digits.suffix(4) }
}

/// 地方公共団体コード: five digits and a check digit (weights 6, 5, 4, 3, 2; 11 − sum mod 11,
/// keeping the last digit). 11203 → 112038 (川口市).
public enum LocalGovernmentCode {
    public static func checkDigit(_ five: String) -> Int? {
        let values = five.utf8.map { Int($0) - 48 }
        guard values.count == 5, values.allSatisfy({ (0...9).contains($0) }) else { return nil }
        let sum = zip(values, [6, 5, 4, 3, 2]).map(*).reduce(0, +)
        return (11 - sum % 11) % 10
    }

    public static func isValid(_ six: String) -> Bool {
        guard six.utf8.count == 6, let digit = checkDigit(String(six.prefix(5))) else { return false }
        return six.last.flatMap { Int(String($0)) } == digit
    }

    /// 川口市.
    public static let kawaguchi = "112038"
}
