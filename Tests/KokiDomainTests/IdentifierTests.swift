import KokiBase
import KokiDomain
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    @Test("個人番号 check digit (DOMAIN.md example and others)", arguments: [
        ("123456789018", true), ("123456789017", false), ("12345678901", false), ("1234567890188", false),
        ("12345678901a", false), ("000000000000", true), ("１２３４５６７８９０１８", false),
    ])
    func myNumber(text: String, valid: Bool) {
        #expect((MyNumber(text) != nil) == valid)
    }

    @Test func checkDigitFollowsTheStatutoryWeights() {
        #expect(MyNumber.checkDigit([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]) == 8)
        // Remainders 0 and 1 both give 0.
        for body in [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]] {
            let digit = MyNumber.checkDigit(body)
            #expect((0...9).contains(digit))
        }
    }

    @Test func maskingShowsOnlyTheLastFour() {
        #expect(MyNumber("123456789018")?.masked == "********9018")
    }

    @Test("地方公共団体コード", arguments: [("11203", 8), ("13113", 0), ("11100", 7)])
    func localGovernmentCode(five: String, digit: Int) {
        #expect(LocalGovernmentCode.checkDigit(five) == digit)
        #expect(LocalGovernmentCode.isValid(five + String(digit)))
    }
}

@Suite("和暦")
struct WarekiTests {
    @Test("eras", arguments: [
        ("2026-04-01", "令和8年4月1日"), ("2019-05-01", "令和元年5月1日"), ("2019-04-30", "平成31年4月30日"),
        ("1989-01-08", "平成元年1月8日"), ("1989-01-07", "昭和64年1月7日"), ("1926-12-25", "昭和元年12月25日"),
        ("1926-12-24", "1926年12月24日"),
    ])
    func format(_ date: String, _ expected: String) {
        #expect(Wareki.format(LocalDate(iso: date)!) == expected)
    }
}
