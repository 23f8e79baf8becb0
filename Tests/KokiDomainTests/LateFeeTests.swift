import KokiBase
import KokiDomain
import Testing

@Suite("延滞金 — late fees")
struct LateFeeTests {
    @Test func domainExample() {
        let fee = LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"), paidOn: d("2026-03-31"))
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
        (1_000_999, "2028-02-15", "2028-03-31", 12_200), // a leap year still divides by 365; 本則 rates
    ])
    func boundaries(_ amount: Int, _ due: String, _ paid: String, _ expected: Int) {
        #expect(LateFee.compute(amount: amount, dueDate: d(due), paidOn: d(paid)).lateFee == expected)
    }

    @Test func rateChangesOnFirstJanuary() {
        let fee = LateFee.compute(amount: 500_000, dueDate: d("2025-12-15"), paidOn: d("2026-01-10"))
        #expect(fee.periods.map(\.days) == [16, 10])
        #expect(fee.periods.map(\.rate.description) == ["2.4", "2.8"])
    }

    @Test func leapFebruaryInTheFirstTier() {
        let fee = LateFee.compute(amount: 1_000_000, dueDate: d("2028-02-15"), paidOn: d("2028-03-31"))
        #expect(fee.periods.map(\.days) == [29, 16])
        #expect(fee.periods.map(\.rate.description) == ["7.3", "14.6"])
    }

    @Test func partialPaymentsLowerTheBase() {
        // 100,000 due 7/31: 60,000 paid 8/10, the rest 9/30. 8/1–8/10 on 100,000, then 40,000.
        let fee = LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"),
                                  payments: [(d("2025-08-10"), 60_000), (d("2025-09-30"), 40_000)])
        #expect(fee.periods.map(\.days) == [10, 21, 30])
        // 100,000×10×2.4% + 40,000×21×2.4% + 40,000×30×8.7% = 65.75 + 55.23 + 286.02 → under 1,000: none.
        #expect(fee.lateFee == 0)
        let large = LateFee.compute(amount: 1_000_000, dueDate: d("2025-07-31"),
                                    payments: [(d("2025-08-10"), 600_000), (d("2025-12-31"), 400_000)])
        let exact = (1_000_000 * 10 * 24 + 400_000 * 21 * 24 + 400_000 * 122 * 87) / (1000 * 365)
        #expect(large.lateFee == Yen.floorTo100(exact))
        #expect(LateFee.compute(amount: 100_000, dueDate: d("2025-07-31"), payments: [(d("2026-03-31"), 100_000)]).lateFee == 5_300)
    }

    @Test func firstTierEndsAMonthAfterTheDueDate() {
        // Due 1/31: one month later is the last day of February.
        let fee = LateFee.compute(amount: 100_000, dueDate: d("2025-01-31"), paidOn: d("2025-03-15"))
        #expect(fee.periods.map(\.to) == [d("2025-02-28"), d("2025-03-15")])
        let longer = LateFee.Schedule(years: LateFee.Schedule.standard.years, statutory: LateFee.Schedule.standard.statutory,
                                      firstTierMonths: 2)
        #expect(LateFee.compute(amount: 100_000, dueDate: d("2025-01-31"), paidOn: d("2025-03-15"), schedule: longer)
                    .periods.count == 1)
    }
}
