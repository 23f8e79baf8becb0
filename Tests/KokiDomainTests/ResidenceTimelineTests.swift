import KokiBase
import KokiDomain
import Testing

struct TimelineCase: Sendable, CustomTestStringConvertible {
    let name: String
    let changes: [ResidenceChange]
    let expected: [DayRange]
    var testDescription: String { name }
}

func change(_ date: String, _ order: Int, _ kind: ResidenceChange.Kind) -> ResidenceChange {
    ResidenceChange(effectiveDate: d(date), order: order, kind: kind)
}

func range(_ from: String?, _ through: String?) -> DayRange { DayRange(from: from.map(d), through: through.map(d)) }

@Suite("資格 — residence from the resident register")
struct ResidenceTimelineTests {
    static let cases: [TimelineCase] = [
        TimelineCase(name: "a resident the city knew before: here all along",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true))], expected: [range(nil, nil)]),
        TimelineCase(name: "a move within the city changes nothing",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)), change("2026-06-01", 2, .snapshot(livesHere: true))],
                     expected: [range(nil, nil)]),
        TimelineCase(name: "moved in from Tokyo: from the 転入日",
                     changes: [change("2026-04-10", 1, .movedIn(fromSaitama: false))], expected: [range("2026-04-10", nil)]),
        TimelineCase(name: "moved in from another Saitama city: continues (same insurer)",
                     changes: [change("2026-04-10", 1, .movedIn(fromSaitama: true))], expected: [range(nil, nil)]),
        TimelineCase(name: "moved out: the 転出日 is the last day",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)),
                               change("2026-06-10", 2, .movedOut(toSaitama: false, newAddressStartsSameDay: false))],
                     expected: [range(nil, "2026-06-10")]),
        TimelineCase(name: "moved out, the new address starting that day: the day before is the last",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)),
                               change("2026-06-10", 2, .movedOut(toSaitama: false, newAddressStartsSameDay: true))],
                     expected: [range(nil, "2026-06-09")]),
        TimelineCase(name: "an earlier move-out arriving after a later change: dates decide, not arrival",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)), change("2026-09-30", 2, .snapshot(livesHere: true)),
                               change("2026-05-20", 3, .movedOut(toSaitama: false, newAddressStartsSameDay: false))],
                     expected: [range(nil, "2026-05-20")]),
        TimelineCase(name: "out to Tokyo and back: two spans",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)),
                               change("2026-05-20", 2, .movedOut(toSaitama: false, newAddressStartsSameDay: false)),
                               change("2026-09-01", 3, .movedIn(fromSaitama: false))],
                     expected: [range(nil, "2026-05-20"), range("2026-09-01", nil)]),
        TimelineCase(name: "out to another Saitama city and back: one span (never left the insurer)",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: true)),
                               change("2026-05-20", 2, .movedOut(toSaitama: true, newAddressStartsSameDay: false)),
                               change("2026-09-01", 3, .movedIn(fromSaitama: true))],
                     expected: [range(nil, nil)]),
        TimelineCase(name: "the first thing known is a move-out: here until then",
                     changes: [change("2026-05-20", 1, .movedOut(toSaitama: false, newAddressStartsSameDay: false))],
                     expected: [range(nil, "2026-05-20")]),
        TimelineCase(name: "住登外: never registered as living here",
                     changes: [change("2026-04-01", 1, .snapshot(livesHere: false))], expected: []),
        TimelineCase(name: "born here", changes: [change("2026-04-01", 1, .born)], expected: [range("2026-04-01", nil)]),
    ]

    @Test("spans", arguments: cases)
    func spans(_ c: TimelineCase) {
        #expect(ResidenceTimeline.saitamaResidence(c.changes) == c.expected)
    }

    @Test func switchesBecomeSpans() {
        #expect(DayRange.spans([Switch(date: d("2026-04-15"), order: 1, on: true),
                                Switch(date: d("2026-05-01"), order: 2, on: false)]) == [range("2026-04-15", "2026-04-30")])
        // Arrival order does not matter; an "off" first means "since before".
        #expect(DayRange.spans([Switch(date: d("2026-05-01"), order: 2, on: false),
                                Switch(date: d("2026-04-15"), order: 1, on: true)]) == [range("2026-04-15", "2026-04-30")])
        #expect(DayRange.spans([Switch(date: d("2026-05-01"), order: 1, on: false)]) == [range(nil, "2026-04-30")])
        #expect(DayRange.spans([Switch(date: d("2026-05-01"), order: 1, on: true)]) == [range("2026-05-01", nil)])
    }

    @Test func nextChangeIsTheNextBirthdayOrEdge() {
        let facts = PersonFacts(birthDate: d("1951-05-20"), saitamaResidence: [range("2026-04-10", nil)])
        #expect(Eligibility.nextChange(facts, after: d("2026-04-10")) == d("2026-05-20"))
        #expect(Eligibility.nextChange(facts, after: d("2026-05-20")) == nil)
        let leaving = PersonFacts(birthDate: d("1940-01-10"), saitamaResidence: [range(nil, "2027-01-15")])
        #expect(Eligibility.nextChange(leaving, after: d("2026-11-28")) == d("2027-01-16"))
    }

    @Test("年齢到達予定者: who turns 75 next month", arguments: [
        ("1951-08-01", 2026, 8, true), ("1951-08-31", 2026, 8, true), ("1951-07-31", 2026, 8, false),
        ("1951-09-01", 2026, 8, false), ("1948-02-29", 2023, 3, true), ("1948-02-29", 2023, 2, false),
    ])
    func reaching75(_ birth: String, _ year: Int, _ month: Int, _ expected: Bool) {
        #expect(AgeReaching.reaches75(d(birth), in: year, month: month) == expected)
        if expected { #expect(AgeReaching.birthDates(reaching75In: year, month: month).contains(d(birth))) }
    }

    @Test func monthAfter() {
        #expect(AgeReaching.monthAfter(d("2026-07-31")) == (2026, 8))
        #expect(AgeReaching.monthAfter(d("2026-12-01")) == (2027, 1))
    }
}

@Suite("資格 — what changed")
struct QualificationChangeTests {
    @Test func differences() {
        let open = period("2026-05-20", .age75)
        let lost = period("2026-05-20", .age75, "2026-06-11", .movedOut)
        #expect(QualificationChange.between(stored: [], computed: [open]) == [.acquired(open)])
        #expect(QualificationChange.between(stored: [open], computed: [open]) == [])
        #expect(QualificationChange.between(stored: [open], computed: [lost]) == [.lost(lost)])
        #expect(QualificationChange.between(stored: [], computed: [lost]) == [.acquired(lost), .lost(lost)])
        let died = period("2026-05-20", .age75, "2026-06-01", .died)
        #expect(QualificationChange.between(stored: [lost], computed: [died]) == [.changed(before: lost, after: died)])
        #expect(QualificationChange.between(stored: [open], computed: []) == [.withdrawn(open)])
    }
}
