import Foundation
import KokiBase
import Testing

@Suite("LocalDate")
struct LocalDateTests {
    @Test("parses exactly YYYY-MM-DD", arguments: [
        ("2024-02-29", true), ("2023-02-29", false), ("2026-13-01", false), ("2026-04-31", false),
        ("2026-4-1", false), ("2026-04-01T00:00", false), ("２０２６-04-01", false), ("0000-01-01", false),
    ])
    func parsing(text: String, valid: Bool) {
        #expect((LocalDate(iso: text) != nil) == valid)
    }

    @Test func dayNumbersRoundTripAcrossCenturies() {
        for days in stride(from: -719_162, through: 2_932_896, by: 997) {  // 0001-01-01 … 9999-12-31
            #expect(LocalDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(LocalDate(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
        #expect(LocalDate(year: 2000, month: 3, day: 1)!.daysSinceEpoch == 11_017)
    }

    @Test func arithmeticAndOrder() {
        let leapDay = LocalDate(iso: "2024-02-29")!
        #expect(leapDay.adding(days: 1).description == "2024-03-01")
        #expect(LocalDate(iso: "2025-07-31")!.days(until: LocalDate(iso: "2026-03-31")!) == 243)
        #expect(LocalDate(iso: "2025-12-31")! < LocalDate(iso: "2026-01-01")!)
    }

    @Test func codableAsText() throws {
        let data = try JSONEncoder().encode(["d": LocalDate(iso: "2026-04-01")!])
        #expect(String(decoding: data, as: UTF8.self) == #"{"d":"2026-04-01"}"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([String: LocalDate].self, from: Data(#"{"d":"2026-02-30"}"#.utf8)) }
    }
}

@Suite("Business days")
struct BusinessDayTests {
    @Test func weekendsHolidaysAndTheYearEndAreClosed() {
        let holidays: Set<LocalDate> = [LocalDate(year: 2026, month: 5, day: 4)!]
        #expect(LocalDate(year: 2026, month: 5, day: 1)!.isBusinessDay(holidays: holidays), "a Friday")
        #expect(!LocalDate(year: 2026, month: 5, day: 2)!.isBusinessDay(holidays: holidays), "a Saturday")
        #expect(!LocalDate(year: 2026, month: 5, day: 4)!.isBusinessDay(holidays: holidays), "みどりの日")
        #expect(!LocalDate(year: 2026, month: 12, day: 29)!.isBusinessDay(holidays: holidays), "年末")
        #expect(!LocalDate(year: 2027, month: 1, day: 3)!.isBusinessDay(holidays: holidays), "年始")
        #expect(LocalDate(year: 2027, month: 1, day: 4)!.isBusinessDay(holidays: holidays), "仕事始め")
        #expect(LocalDate(year: 2026, month: 5, day: 1)!.weekday == 5)
    }
}
