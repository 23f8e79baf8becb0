import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

extension ResidentBatch {
    /// 住基情報 (世帯単位), daily: on the business day, each household a resident event touched
    /// since the last one, as it stands that day, when any member is insured or about to be (74
    /// or more). Keyed by the 世帯主 while they are a member, else the member first by 宛名番号
    /// (a member who left is not in it; the relay holds a transfer whose key names someone its
    /// body does not).
    mutating func deriveHouseholdRecords(on day: LocalDate, owner: Int) throws {
        let residents = ResidentStore(tx)
        let households = try Self.mayConcernInsurer(try residents.takeRecordsDue(), on: day, store: residents)
        guard !households.isEmpty else { return }
        let members = Dictionary(grouping: try residents.currentMembers(of: households), by: \.row.householdNo)
        for householdNo in households.sorted() {
            guard let rows = members[householdNo], !rows.isEmpty,
                  rows.contains(where: { $0.insured || $0.row.birthDate.age(on: day) >= 74 }) else { continue }
            let key = rows.first { $0.row.relationshipToHead == ResidentChange.Relationship.head.rawValue }?.row.atenaNo
                ?? rows.map(\.row.atenaNo).min()!
            try append(owner, topic: Self.insurerTopic, key: key, type: TransferType.residentRecord,
                       body: ResidentRecordTransfer(householdNo: householdNo, asOf: day,
                                                    members: rows.map { Self.member($0.row, myNumber: $0.myNumber,
                                                                                    insured: $0.insured) }))
        }
    }

    /// The households that may concern the insurer, judged from the projection alone: most
    /// households have no one near 75, and reading every member's record to find that out was
    /// the costliest read of the 住基情報.
    static func mayConcernInsurer(_ households: [String], on day: LocalDate, store: ResidentStore) throws -> [String] {
        guard !households.isEmpty else { return [] }
        let members = Dictionary(grouping: try store.memberSummaries(of: households), by: \.householdNo)
        return households.filter { householdNo in
            guard let members = members[householdNo] else { return false }
            return members.contains { $0.insured || ($0.birthDate.map { $0.age(on: day) >= 74 } ?? true) }
        }
    }

    /// 住登外情報: every 住登外 registration goes to the insurer.
    mutating func deriveNonresidentRecords(_ recomputed: Recomputed) throws {
        let registrations = steps.filter {
            if case .resident(_, .nonresidentRegistered) = $0.command { true } else { false }
        }
        guard !registrations.isEmpty else { return }
        let known = try ResidentStore(tx).known(registrations.compactMap(\.command.atenaNo))
        for step in registrations {
            guard case .resident(let change, .nonresidentRegistered) = step.command else { continue }
            let p = change.person
            let member = ResidentRecordMember(
                atenaNo: change.atenaNo, myNumber: known[change.atenaNo]?.myNumber,  // sealed, stored above
                nameKanji: p.nameKanji, nameKana: p.nameKana, sex: p.sex.rawValue, birthDate: p.birthDate,
                relationshipToHead: p.relationshipToHead.rawValue, residentStatus: p.residentStatus.rawValue,
                address: p.address, insured: recomputed.insured[change.atenaNo] ?? false)
            try append(step.index, topic: Self.insurerTopic, key: change.atenaNo, type: TransferType.nonresidentRecord,
                       body: NonresidentRecordTransfer(registeredOn: change.change.effectiveDate, person: member))
        }
    }

    /// A department that enrols someone receives the person's qualification as it stands.
    mutating func deriveEnrollmentSnapshots(_ recomputed: Recomputed) throws {
        for step in steps {
            guard case .enrollment(let notice, .enrolled) = step.command,
                  let asOf = recomputed.asOf[notice.atenaNo] else { continue }
            let periods = recomputed.periods[notice.atenaNo] ?? []
            try append(step.index, topic: notice.department.topic, key: notice.atenaNo,
                       type: TransferType.departmentQualificationCurrent,
                       body: QualificationSnapshot(atenaNo: notice.atenaNo, insuredNumber: recomputed.insuredNumbers[notice.atenaNo],
                                                   program: notice.program, periods: periods.map(PeriodBody.init),
                                                   asOf: asOf))
        }
    }

    /// 年齢到達予定者: who lives here and turns 75 in the month after the business date.
    mutating func deriveUpcoming(on date: LocalDate, owner: Int) throws {
        let (year, month) = AgeReaching.monthAfter(date)
        let people = try ResidentStore(tx).livingBorn(in: AgeReaching.birthDates(reaching75In: year, month: month))
            .filter { AgeReaching.reaches75($0.birthDate, in: year, month: month) }
            .map { Age75UpcomingTransfer.Person(atenaNo: $0.atenaNo, birthDate: $0.birthDate, reachesOn: $0.birthDate.birthday(75)) }
        let label = "\(year)-\(month < 10 ? "0" : "")\(month)"
        try append(owner, topic: Self.insurerTopic, key: "age-75-upcoming", type: TransferType.age75Upcoming,
                   body: Age75UpcomingTransfer(businessDate: date, month: label, people: people))
    }

    static func member(_ row: ResidentHistoryRow, myNumber: String?, insured: Bool) -> ResidentRecordMember {
        ResidentRecordMember(atenaNo: row.atenaNo, myNumber: myNumber, nameKanji: row.nameKanji, nameKana: row.nameKana,
                             sex: row.sex, birthDate: row.birthDate, relationshipToHead: row.relationshipToHead,
                             residentStatus: row.residentStatus, address: row.address, insured: insured)
    }
}
