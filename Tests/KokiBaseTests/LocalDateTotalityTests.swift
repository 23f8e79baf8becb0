import KokiBase
import Testing

/// `LocalDate` arithmetic is total: no date `LocalDate(iso:)` accepts, moved by any number of
/// days or months, traps — the far edges clamp to 0001-01-01 and 9999-12-31.
@Suite("LocalDate is total")
struct LocalDateTotalityTests {
    /// A small, seeded generator (SplitMix64): the same cases on every run, more on demand.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let extremes: [Int] = [.min, .min + 1, -1 << 40, -3_652_059, -120_000, -1, 0, 1, 120_000, 3_652_059, 1 << 40, .max - 1, .max]

    @Test func arithmeticNeverTrapsAndStaysInRange() {
        var random = Generator(state: 20_261_207)
        var dates = [LocalDate.earliest, LocalDate.latest, LocalDate(iso: "9999-12-31")!, LocalDate(iso: "9997-12-31")!,
                     LocalDate(iso: "0001-01-01")!, LocalDate(iso: "2024-02-29")!]
        for _ in 0..<2_000 {
            dates.append(LocalDate(daysSinceEpoch: Int.random(in: -719_162...2_932_896, using: &random)))
        }
        for date in dates {
            let offsets = Self.extremes + (0..<8).map { _ in Int.random(in: -5_000_000...5_000_000, using: &random) }
            for n in offsets {
                for moved in [date.adding(days: n), date.adding(months: n)] {
                    #expect(LocalDate.earliest <= moved && moved <= LocalDate.latest)
                    #expect(moved.firstOfMonth <= moved && moved <= moved.lastOfMonth)
                    #expect(LocalDate(iso: moved.description) == moved, "a moved date is a date")
                }
            }
        }
        #expect(LocalDate(iso: "9999-12-31")!.adding(days: 1) == .latest)
        #expect(LocalDate(iso: "9998-01-01")!.adding(months: 24) == .latest)
        #expect(LocalDate(iso: "0001-01-31")!.adding(months: -1) == .earliest)
        #expect(LocalDate(daysSinceEpoch: .max) == .latest && LocalDate(daysSinceEpoch: .min) == .earliest)
    }

    @Test func withinRangeNothingChanged() {
        #expect(LocalDate(iso: "2026-01-31")!.adding(months: 1) == LocalDate(iso: "2026-02-28")!)
        #expect(LocalDate(iso: "2024-02-29")!.adding(months: 12) == LocalDate(iso: "2025-02-28")!)
        #expect(LocalDate(iso: "2026-12-31")!.adding(days: 1) == LocalDate(iso: "2027-01-01")!)
        #expect(LocalDate(iso: "9999-11-30")!.adding(months: 1) == LocalDate(iso: "9999-12-30")!)
    }
}
