import KokiBase
import KokiDomain
import Testing

@Suite("延滞金 — late fees")
struct LateFeeTests {
    @Test func domainExample() throws {
        let fee = try LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"), paidOn: d("2026-03-31"))
        #expect(fee.lateFee == 5_300)
        #expect(fee.periods.map(\.days) == [31, 122, 90])
        #expect(fee.periods.map(\.rate.description) == ["2.4", "8.7", "9.1"])
        #expect(fee.periods.map(\.from) == [d("2025-08-01"), d("2025-09-01"), d("2026-01-01")])
        #expect(fee.periods.map(\.to) == [d("2025-08-31"), d("2025-12-31"), d("2026-03-31")])
        #expect(fee.periods.map(\.amount) == [203, 2_907, 2_243])
    }

    @Test("boundaries", arguments: [
        (1_999, "2025-07-31", "2026-07-31", 0),       // installments under 2,000 carry none
        (10_000, "2025-07-31", "2025-09-30", 0),      // a fee under 1,000 is not charged
        (100_000, "2025-07-31", "2025-07-31", 0),     // paid on the due date
        (100_000, "2025-07-31", "2025-07-30", 0),     // paid early
        // A leap year still divides by 365: 1,000,000 × (29 × 2.4 % + 16 × 8.7 %) / 365 = 5,720.5 → 5,700.
        (1_000_999, "2024-02-15", "2024-03-31", 5_700),
    ])
    func boundaries(_ amount: Int, _ due: String, _ paid: String, _ expected: Int) throws {
        #expect(try LateFee.compute(amount: amount, dueDate: d(due), paidOn: d(paid)).lateFee == expected)
    }

    /// 民法143条1項: a period of months that starts on the first of a month ends on the last day
    /// of its month; 2項: otherwise the day before the same day of the month after, or that
    /// month's last day when it has none. The first tier starts on the day after the 納期限.
    @Test("first tier end (民法143)", arguments: [
        ("2025-09-30", "2025-10-31"),   // starts 10/1: the whole of October (not 10/30)
        ("2025-11-30", "2025-12-31"),
        ("2025-02-28", "2025-03-31"),   // a non-leap February's last day: March in full (not 3/28)
        ("2024-02-29", "2024-03-31"),
        ("2025-04-30", "2025-05-31"),
        ("2025-07-31", "2025-08-31"),
        ("2025-01-15", "2025-02-15"),   // starts 1/16: ends the day before 2/16
        ("2025-01-30", "2025-02-28"),   // starts 1/31: February has no 31st, so its last day
        ("2024-01-30", "2024-02-29"),
        ("2025-12-28", "2026-01-28"),   // starts 12/29: the day before 1/29
        ("2026-01-28", "2026-02-28"),   // starts 1/29: February 2026 has no 29th
    ])
    func firstTierEnd(_ due: String, _ end: String) {
        #expect(LateFee.firstTierEnd(dueDate: d(due), months: 1) == d(end))
    }

    @Test func aMonthEndDueDateKeepsTheWholeNextMonthInTheFirstTier() throws {
        // Due 9/30, paid 10/31: 31 days, all at 2.4 % — 1,000,000 × 31 × 2.4 % / 365 = 2,038.3 → 2,000.
        let october = try LateFee.compute(amount: 1_000_000, dueDate: d("2025-09-30"), paidOn: d("2025-10-31"))
        #expect(october.periods.map(\.days) == [31])
        #expect(october.lateFee == 2_000)
        // Paid the day after the tier ends: one day at 8.7 % (1,000,000 × 8.7 % / 365 = 238.3).
        let november = try LateFee.compute(amount: 1_000_000, dueDate: d("2025-09-30"), paidOn: d("2025-11-01"))
        #expect(november.periods.map(\.days) == [31, 1])
        #expect(november.periods.map(\.firstTier) == [true, false])
        #expect(november.exactYen == (1_000_000 * 31 * 24 + 1_000_000 * 1 * 87) / (1000 * 365))
    }

    /// 地方税法 附則3条の2: a rate for every calendar year since 後期高齢者医療 began; a year
    /// without one is an error, never the statute's 7.3 % / 14.6 %.
    @Test func everyYearSince2008HasARateAndOthersAreAnError() {
        let years = LateFee.Schedule.standard.years.map(\.year)
        #expect(years == Array(2008...2026))
        #expect(LateFee.Schedule.standard.years.filter { $0.year <= 2013 }.allSatisfy { $0.later.description == "14.6" })
        #expect(throws: LateFee.MissingRate(year: 2027)) {
            try LateFee.compute(amount: 100_000, dueDate: d("2026-12-28"), paidOn: d("2027-01-05"))
        }
        #expect(throws: LateFee.MissingRate(year: 2007)) {
            try LateFee.compute(amount: 100_000, dueDate: d("2007-11-30"), paidOn: d("2008-01-05"))
        }
        // Paid on time in a year without a rate: nothing to compute, no error.
        #expect((try? LateFee.compute(amount: 100_000, dueDate: d("2027-07-31"), paidOn: d("2027-07-31")))?.lateFee == 0)
    }

    @Test func rateChangesOnFirstJanuary() throws {
        let fee = try LateFee.compute(amount: 500_000, dueDate: d("2025-12-15"), paidOn: d("2026-01-10"))
        #expect(fee.periods.map(\.days) == [16, 10])
        #expect(fee.periods.map(\.rate.description) == ["2.4", "2.8"])
    }

    @Test func leapFebruaryInTheFirstTier() throws {
        let fee = try LateFee.compute(amount: 1_000_000, dueDate: d("2024-02-15"), paidOn: d("2024-03-31"))
        #expect(fee.periods.map(\.days) == [29, 16])
        #expect(fee.periods.map(\.rate.description) == ["2.4", "8.7"])
    }

    @Test func partialPaymentsLowerTheBase() throws {
        // 100,000 due 7/31: 60,000 paid 8/10, the rest 9/30. 8/1–8/10 on 100,000, then 40,000.
        let fee = try LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"),
                                  payments: [(d("2025-08-10"), 60_000), (d("2025-09-30"), 40_000)])
        #expect(fee.periods.map(\.days) == [10, 21, 30])
        // 100,000×10×2.4% + 40,000×21×2.4% + 40,000×30×8.7% = 65.75 + 55.23 + 286.02 → under 1,000: none.
        #expect(fee.lateFee == 0)
        let large = try LateFee.compute(amount: 1_000_000, dueDate: d("2025-07-31"),
                                    payments: [(d("2025-08-10"), 600_000), (d("2025-12-31"), 400_000)])
        let exact = (1_000_000 * 10 * 24 + 400_000 * 21 * 24 + 400_000 * 122 * 87) / (1000 * 365)
        #expect(large.lateFee == Yen.floorTo100(exact))
        #expect(try LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"), payments: [(d("2026-03-31"), 100_000)]).lateFee == 5_300)
    }

    @Test func firstTierEndsAMonthAfterTheDueDate() throws {
        // Due 1/31: the tier starts 2/1 and is February in full.
        let fee = try LateFee.compute(amount: 100_000, dueDate: d("2025-01-31"), paidOn: d("2025-03-15"))
        #expect(fee.periods.map(\.to) == [d("2025-02-28"), d("2025-03-15")])
        let longer = LateFee.Schedule(years: LateFee.Schedule.standard.years, firstTierMonths: 2)
        #expect(try LateFee.compute(amount: 100_000, dueDate: d("2025-01-31"), paidOn: d("2025-03-15"), schedule: longer)
                    .periods.count == 1)
        #expect(LateFee.firstTierEnd(dueDate: d("2025-01-31"), months: 2) == d("2025-03-31"))
    }
}
