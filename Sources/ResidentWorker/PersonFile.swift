import KokiBase
import KokiDomain
import KokiEvents
import KokiStore

/// Everything stored about one person that the rules read, and what they derive from it.
struct PersonFile {
    let atenaNo: String
    let history: [ResidentHistoryRow]
    let assistance: [NoticeStore.Dated]
    let disability: [NoticeStore.Dated]
    let specialAddress: [NoticeStore.Dated]
    let enrollments: [NoticeStore.Dated]

    /// The current record: the latest by effective date.
    var current: ResidentHistoryRow? { ResidentHistoryRow.current(history) }

    /// The facts for the eligibility engine; nil until a resident-register event arrived
    /// (a notice about someone the register has not told koki about yet waits for it).
    var facts: PersonFacts? {
        guard let current else { return nil }
        let ordered = history.sorted { ($0.effectiveDate, $0.historyNo) < ($1.effectiveDate, $1.historyNo) }
        let death = ordered.last { $0.deathDate != nil || $0.changeType == ResidentChange.Kind.died.rawValue }
        let residence = ResidenceTimeline.saitamaResidence(history.map { row in
            ResidenceChange(effectiveDate: row.effectiveDate, order: row.historyNo, kind: Self.residenceKind(row))
        })
        return PersonFacts(
            birthDate: current.birthDate,
            deathDate: death.map { $0.deathDate ?? $0.effectiveDate },
            saitamaResidence: residence,
            specialAddress: Self.spans(specialAddress, on: ["started"]),
            disabilityCertified: Self.spans(disability, on: ["certified"]),
            publicAssistance: Self.spans(assistance.filter { $0.kind == "started" || $0.kind == "ended" }, on: ["started"]),
            assistanceSuspended: Self.spans(assistance.filter { $0.kind == "suspended" || $0.kind == "resumed" },
                                            on: ["suspended"]))
    }

    static func residenceKind(_ row: ResidentHistoryRow) -> ResidenceChange.Kind {
        switch ResidentChange.Kind(rawValue: row.changeType) {
        case .movedIn:
            return .movedIn(fromSaitama: row.previousAddress?.isInSaitama ?? false)
        case .movedOut:
            // EVENTS.md: the effective date is the 転出日, the day the new address starts. A move to
            // another union's area (another prefecture) loses on that day; a move abroad (no city,
            // no prefecture: no other union) the day after (高確法 53条, DOMAIN.md 喪失日). An
            // explicit `startsOn` says when the new address starts.
            let next = row.nextAddress
            let domestic = !(next?.prefecture ?? "").isEmpty || !(next?.cityCode ?? "").isEmpty
            return .movedOut(toSaitama: next?.isInSaitama ?? false,
                             newAddressStartsSameDay: next?.startsOn.map { $0 == row.effectiveDate } ?? domestic)
        case .removed:
            // 職権消除: the register found the person no longer lives here, from the date it sets;
            // no other union's area is known, so the loss is the day after [verify the union's practice].
            return .movedOut(toSaitama: false, newAddressStartsSameDay: false)
        case .born:
            return .born
        default:
            return .snapshot(livesHere: row.residentStatus != ResidentChange.ResidentStatus.nonresident.rawValue)
        }
    }

    static func spans(_ notices: [NoticeStore.Dated], on: Set<String>) -> [DayRange] {
        DayRange.spans(notices.map { Switch(date: $0.effectiveDate, order: $0.seq, on: on.contains($0.kind)) })
    }

    /// The business date the person's qualification is computed for: the clock's date, or,
    /// before the clock has ever ticked, the latest date the person's facts carry.
    func asOf(businessDate: LocalDate?) -> LocalDate? {
        if let businessDate { return businessDate }
        let dates = history.map(\.effectiveDate) + (assistance + disability + specialAddress).map(\.effectiveDate)
        return dates.max()
    }

    /// The departments the person is enrolled with on `day`.
    func departments(on day: LocalDate) -> [Department] { NoticeStore.departments(enrollments, on: day) }

    /// 世帯 membership over time: one span per run of consecutive records in one household.
    func memberships() -> [ResidentStore.Membership] {
        let ordered = history.sorted { ($0.effectiveDate, $0.historyNo) < ($1.effectiveDate, $1.historyNo) }
        var spans: [ResidentStore.Membership] = []
        for row in ordered {
            if let last = spans.last, last.householdNo == row.householdNo, last.relationshipToHead == row.relationshipToHead {
                continue
            }
            if let last = spans.popLast() {
                if last.from < row.effectiveDate {
                    spans.append(ResidentStore.Membership(atenaNo: atenaNo, householdNo: last.householdNo,
                                                          relationshipToHead: last.relationshipToHead, from: last.from,
                                                          through: row.effectiveDate.adding(days: -1)))
                }
            }
            spans.append(ResidentStore.Membership(atenaNo: atenaNo, householdNo: row.householdNo,
                                                  relationshipToHead: row.relationshipToHead, from: row.effectiveDate,
                                                  through: nil))
        }
        return spans
    }
}
