import KokiBase
import KokiDomain
import Testing

func d(_ text: String) -> LocalDate { LocalDate(iso: text)! }

/// Lived in Saitama all along (a range open at both ends).
let always = [DayRange(from: nil, through: nil)]

struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let facts: PersonFacts
    let asOf: LocalDate
    let expected: [QualificationPeriod]
    var testDescription: String { name }
}

func period(_ from: String, _ reason: AcquisitionReason, _ lost: String? = nil, _ loss: LossReason? = nil) -> QualificationPeriod {
    QualificationPeriod(acquiredOn: d(from), acquisitionReason: reason, lostOn: lost.map(d), lossReason: loss)
}

@Suite("資格 — the eligibility engine")
struct EligibilityTests {
    static let cases: [Case] = [
        Case(name: "75th birthday: insured on the birthday itself",
             facts: PersonFacts(birthDate: d("1951-06-15"), saitamaResidence: always),
             asOf: d("2026-11-28"), expected: [period("2026-06-15", .age75)]),
        Case(name: "not yet 75 on the business date: nothing",
             facts: PersonFacts(birthDate: d("1951-12-01"), saitamaResidence: always),
             asOf: d("2026-11-30"), expected: []),
        Case(name: "75th birthday on the 1st of a month",
             facts: PersonFacts(birthDate: d("1951-04-01"), saitamaResidence: always),
             asOf: d("2026-04-01"), expected: [period("2026-04-01", .age75)]),
        Case(name: "born 2/29, non-leap 75th year: 3/1",
             facts: PersonFacts(birthDate: d("1948-02-29"), saitamaResidence: always),
             asOf: d("2023-12-31"), expected: [period("2023-03-01", .age75)]),
        Case(name: "born 2/29 (a 75th year is never a leap year): 3/1 again",
             facts: PersonFacts(birthDate: d("1952-02-29"), saitamaResidence: always),
             asOf: d("2027-12-31"), expected: [period("2027-03-01", .age75)]),
        Case(name: "born 2/28, 75th birthday in a leap year: still 2/28",
             facts: PersonFacts(birthDate: d("1949-02-28"), saitamaResidence: always),
             asOf: d("2024-12-31"), expected: [period("2024-02-28", .age75)]),
        Case(name: "death: lost the next day",
             facts: PersonFacts(birthDate: d("1940-01-10"), deathDate: d("2026-07-31"), saitamaResidence: always),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75, "2026-08-01", .died)]),
        Case(name: "moved out of Saitama: lost the next day",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2026-05-20"))]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75, "2026-05-21", .movedOut)]),
        Case(name: "moved out, the new address starting that day: lost the same day",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2026-05-19"))]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75, "2026-05-20", .movedOut)]),
        Case(name: "a 76-year-old moves in from Tokyo: acquired on the 転入日",
             facts: PersonFacts(birthDate: d("1950-03-03"), saitamaResidence: [DayRange(from: d("2026-04-01"), through: nil)]),
             asOf: d("2026-11-28"), expected: [period("2026-04-01", .movedIn)]),
        Case(name: "a 76-year-old moves in from another Saitama city: no new acquisition",
             facts: PersonFacts(birthDate: d("1950-03-03"), saitamaResidence: always),
             asOf: d("2026-11-28"), expected: [period("2025-03-03", .age75)]),
        Case(name: "a 74-year-old moves in, then turns 75",
             facts: PersonFacts(birthDate: d("1951-09-09"), saitamaResidence: [DayRange(from: d("2026-02-01"), through: nil)]),
             asOf: d("2026-11-28"), expected: [period("2026-09-09", .age75)]),
        Case(name: "a move within the city changes nothing",
             facts: PersonFacts(birthDate: d("1945-05-05"), saitamaResidence: [DayRange(from: nil, through: d("2026-03-31")),
                                                                            DayRange(from: d("2026-04-01"), through: nil)]),
             asOf: d("2026-11-28"), expected: [period("2020-05-05", .age75)]),
        Case(name: "生活保護 starts: lost that day; ends: acquired that day",
             facts: PersonFacts(birthDate: d("1945-05-05"), saitamaResidence: always,
                                publicAssistance: [DayRange(from: d("2025-06-01"), through: d("2026-01-31"))]),
             asOf: d("2026-11-28"),
             expected: [period("2020-05-05", .age75, "2025-06-01", .assistanceStarted), period("2026-02-01", .assistanceEnded)]),
        Case(name: "生活保護 suspended: insured while suspended",
             facts: PersonFacts(birthDate: d("1945-05-05"), saitamaResidence: always,
                                publicAssistance: [DayRange(from: d("2025-06-01"), through: nil)],
                                assistanceSuspended: [DayRange(from: d("2025-10-01"), through: d("2025-12-31"))]),
             asOf: d("2026-11-28"),
             expected: [period("2020-05-05", .age75, "2025-06-01", .assistanceStarted),
                        period("2025-10-01", .assistanceEnded, "2026-01-01", .assistanceStarted)]),
        Case(name: "a 75-year-old on 生活保護 is not insured at the birthday",
             facts: PersonFacts(birthDate: d("1951-06-15"), saitamaResidence: always,
                                publicAssistance: [DayRange(from: d("2020-01-01"), through: nil)]),
             asOf: d("2026-11-28"), expected: []),
        Case(name: "障害認定 at 70: insured from the 認定日, kept at 75",
             facts: PersonFacts(birthDate: d("1956-02-10"), saitamaResidence: always,
                                disabilityCertified: [DayRange(from: d("2026-07-15"), through: nil)]),
             asOf: d("2031-03-01"), expected: [period("2026-07-15", .disabilityCertified)]),
        Case(name: "障害認定 withdrawn at 72: lost when the withdrawal takes effect",
             facts: PersonFacts(birthDate: d("1954-02-10"), saitamaResidence: always,
                                disabilityCertified: [DayRange(from: d("2024-07-15"), through: d("2026-03-31"))]),
             asOf: d("2026-11-28"),
             expected: [period("2024-07-15", .disabilityCertified, "2026-04-01", .disabilityWithdrawn)]),
        Case(name: "障害認定 withdrawn after 75: nothing changes",
             facts: PersonFacts(birthDate: d("1950-02-10"), saitamaResidence: always,
                                disabilityCertified: [DayRange(from: d("2020-07-15"), through: d("2026-03-31"))]),
             asOf: d("2026-11-28"), expected: [period("2020-07-15", .disabilityCertified)]),
        Case(name: "障害認定 before 65 counts only from the 65th birthday",
             facts: PersonFacts(birthDate: d("1961-09-01"), saitamaResidence: always,
                                disabilityCertified: [DayRange(from: d("2026-01-10"), through: nil)]),
             asOf: d("2026-11-28"), expected: [period("2026-09-01", .disabilityCertified)]),
        Case(name: "住所地特例: insured while in a facility in another prefecture",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2025-08-31"))],
                                specialAddress: [DayRange(from: d("2025-09-01"), through: nil)]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75)]),
        Case(name: "住所地特例 ends with a move elsewhere: lost then",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2025-08-31"))],
                                specialAddress: [DayRange(from: d("2025-09-01"), through: d("2026-02-28"))]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75, "2026-03-01", .movedOut)]),
        Case(name: "moved out and back in: two periods",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2025-05-20")),
                                                                            DayRange(from: d("2026-01-05"), through: nil)]),
             asOf: d("2026-11-28"),
             expected: [period("2015-01-10", .age75, "2025-05-21", .movedOut), period("2026-01-05", .movedIn)]),
        Case(name: "a death known before an earlier move (arrival order does not matter)",
             facts: PersonFacts(birthDate: d("1940-01-10"), deathDate: d("2026-09-30"),
                                saitamaResidence: [DayRange(from: nil, through: d("2026-05-20"))]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75, "2026-05-21", .movedOut)]),
        Case(name: "a future-dated move-out is not yet a loss",
             facts: PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [DayRange(from: nil, through: d("2027-01-15"))]),
             asOf: d("2026-11-28"), expected: [period("2015-01-10", .age75)]),
    ]

    @Test("rules", arguments: cases)
    func rule(_ c: Case) {
        #expect(Eligibility.periods(c.facts, asOf: c.asOf) == c.expected)
    }

    @Test func ageCountsBirthdays() {
        #expect(d("1951-06-15").age(on: d("2026-06-14")) == 74)
        #expect(d("1951-06-15").age(on: d("2026-06-15")) == 75)
        #expect(d("1948-02-29").age(on: d("2023-02-28")) == 74)
        #expect(d("1948-02-29").age(on: d("2023-03-01")) == 75)
    }
}
