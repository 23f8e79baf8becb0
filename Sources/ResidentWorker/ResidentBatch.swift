import KokiBase
import KokiDomain
import KokiEvents
import KokiSecrets
import KokiStore
import Postgres
import WorkerRuntime

/// The work of one batch, in the order that keeps it correct under concurrency: lock the
/// people, write the facts, read everything back, recompute, write the results, then lock the
/// households and derive what is told per household.
struct ResidentBatch {
    let tx: PostgresConnection
    let steps: [Step]
    /// Seals each 個人番号 before it is stored; the plaintext goes no further than this batch.
    let myNumberIntake: MyNumberIntake
    /// Derived events per event index.
    var derived: [[DerivedEvent]]

    static let insurerTopic = "transfer.koiki.v1"

    /// The event that last touched each person: derived events hang off it.
    var owner: [String: Int] = [:]
    /// Where each event index's step is in `steps` (rejected events have none).
    let stepPosition: [Int: Int]
    /// 個人番号 the batch's events carry, sealed, the last per person: written with the
    /// person's projection.
    var myNumbers: [String: ResidentStore.SealedMyNumber] = [:]
    /// The whole history of people who had none before this batch, as written: recomputing
    /// them needs no read.
    var newcomers: [String: [ResidentHistoryRow]] = [:]
    /// People this batch's lock created: the store held nothing about them, so what it holds
    /// now is what this batch wrote.
    var created: Set<String> = []
    /// People this batch's dated notices are about (what `NoticeStore.dated` reads back when
    /// recomputing, new or not).
    var noticed: Set<String> = []
    /// The union's 資格 decisions of the batch (event id, decision), checked against koki's periods
    /// once they are recomputed.
    var unionQualifications: [(eventID: String, decision: UnionQualificationDecision)] = []
    /// People whose acquisition this batch told the union (for `unknown-to-union`).
    var reportedToUnion: Set<String> = []

    init(tx: PostgresConnection, steps: [Step], myNumbers: MyNumberIntake, derived: [[DerivedEvent]]) {
        self.tx = tx
        self.steps = steps
        self.myNumberIntake = myNumbers
        self.derived = derived
        self.stepPosition = Dictionary(uniqueKeysWithValues: steps.indices.map { (steps[$0].index, $0) })
    }

    /// The step of an event index that owns derived events (looked up, never searched: a
    /// search per person made a batch of 1,000 quadratic).
    func step(ofEvent index: Int) -> Step { steps[stepPosition[index]!] }

    /// Of `people`, those the store may hold something about from before this batch.
    func seenBefore<People: Sequence<String>>(_ people: People) -> [String] { people.filter { !created.contains($0) } }

    mutating func run() throws {
        guard !steps.isEmpty else { return }
        let residents = ResidentStore(tx)
        let calendar = CalendarStore(tx, worker: .resident)

        // The clock first: the business date every person is computed for.
        var businessDate = try calendar.businessDate()
        let clockSteps = steps.filter { if case .clock = $0.command { true } else { false } }
        for step in clockSteps {
            if case .clock(let date) = step.command { businessDate = try calendar.advance(to: date) }
        }

        // Who is touched, and which event owns what it derives.
        var people = Set<String>()
        var eventHouseholds = Set<String>()
        for step in steps {
            guard let atenaNo = step.command.atenaNo else { continue }
            people.insert(atenaNo)
            owner[atenaNo] = step.index
            if case .resident(let change, _) = step.command {
                eventHouseholds.insert(change.householdNo)
            }
        }
        if let businessDate, let last = clockSteps.last {
            for due in try residents.due(by: businessDate) where owner[due.atenaNo] == nil {
                people.insert(due.atenaNo)
                owner[due.atenaNo] = last.index
            }
        }
        created = try residents.lock(people: Array(people))
        let previousHouseholds = try residents.households(of: seenBefore(people))
        // A household change touches the old household and the new; their other members' own
        // facts do not change, so they are not recomputed (nor locked: they may be another
        // partition's). The 住基情報 below reads them under the households' locks.
        let households = eventHouseholds.union(previousHouseholds.values)

        try writeFacts()

        let recomputed = try recompute(Array(people), businessDate: businessDate, previousHouseholds: previousHouseholds)
        try UnionQualifications(tx: tx).reconcile(unionQualifications, periods: recomputed.periods, on: businessDate)
        try BurdenRatioReconciliation(tx).reconcile(unionQualifications.map(\.decision.atenaNo), on: businessDate)
        try UnionQualifications(tx: tx).markReported(reportedToUnion.sorted(), on: businessDate)
        // Households last: what is shared with other partitions' batches is held for the
        // shortest time. Whoever takes a household's lock after another batch committed reads
        // that batch's members, so the last 住基情報 sent for a household is complete.
        // A business day takes the households marked for 住基情報 too: in the same ordered pass, so it
        // never holds one household while waiting for a lower one a resident batch holds.
        let marked = clockSteps.isEmpty ? [] : try residents.recordsDue()
        try residents.lock(households: Array(households.union(marked)),
                           heads: Dictionary(recomputed.heads, uniquingKeysWith: { _, last in last }))
        // Every household a resident event touched, old and new, is told on the next business day.
        try residents.markRecordDue(Array(eventHouseholds) + steps.compactMap { step -> String? in
            if case .resident(let change, _) = step.command { return previousHouseholds[change.atenaNo] }
            return nil
        })
        try deriveNonresidentRecords(recomputed)
        try deriveEnrollmentSnapshots(recomputed)
        for step in clockSteps {
            guard case .clock(let date) = step.command else { continue }
            try deriveUpcoming(on: date, owner: step.index)
            try issueCertificates(on: date, owner: step.index, eventID: step.event.id)
            try UnionQualifications(tx: tx).findUnknownToUnion(on: date, eventID: step.event.id)
        }
        // 住基情報 once, as of the batch's last business day (the day everyone was recomputed for).
        if let last = clockSteps.last, case .clock(let date) = last.command {
            try deriveHouseholdRecords(on: date, owner: last.index)
        }
    }

    /// Writes every fact the events carry, as history.
    mutating func writeFacts() throws {
        let residents = ResidentStore(tx)
        let notices = NoticeStore(tx)
        var changes: [(Step, ResidentChange, ResidentChange.Kind)] = []
        var assistance: [NoticeStore.Assistance] = []
        var disability: [NoticeStore.Application] = []
        var special: [NoticeStore.Application] = []
        var dependents: [NoticeStore.Application] = []
        var forwarded: [NoticeStore.Application] = []
        var enrollments: [NoticeStore.Enrollment] = []
        for step in steps {
            let id = step.event.id
            switch step.command {
            case .resident(let change, let kind):
                changes.append((step, change, kind))
            case .assistance(let notice, let kind):
                let word = String(kind.rawValue.dropFirst("welfare.assistance-".count))
                assistance.append(.init(atenaNo: notice.atenaNo, eventID: id, kind: word, caseNo: notice.caseNo,
                                        householdNo: notice.householdNo, effectiveDate: notice.effectiveDate))
            case .disability(let application, let kind, let date, let grade):
                disability.append(.init(atenaNo: application.atenaNo, eventID: id, applicationNo: application.applicationNo,
                                        kind: kind, effectiveDate: date, receivedDate: application.receivedDate,
                                        detail: grade, extra: nil))
            case .specialAddress(let application, let body, let started):
                special.append(.init(atenaNo: application.atenaNo, eventID: id, applicationNo: application.applicationNo,
                                     kind: started ? "started" : "ended", effectiveDate: body.effectiveDate,
                                     receivedDate: application.receivedDate, detail: body.facilityName,
                                     extra: body.previousInsurer))
            case .formerDependent(let application, let body):
                dependents.append(.init(atenaNo: application.atenaNo, eventID: id, applicationNo: application.applicationNo,
                                        kind: "former-dependent", effectiveDate: body.dependentUntil,
                                        receivedDate: application.receivedDate, detail: body.insurerName, extra: nil))
                // A 届出 for the insurer's 被扶養者軽減: forwarded as received.
                derived[step.index].append(DerivedEvent(topic: Self.insurerTopic, key: application.atenaNo,
                                                        type: step.event.type, data: step.event.data))
            case .forward(let application, let kind):
                forwarded.append(.init(atenaNo: application.atenaNo, eventID: id, applicationNo: application.applicationNo,
                                       kind: kind.rawValue, effectiveDate: application.receivedDate,
                                       receivedDate: application.receivedDate, detail: nil, extra: nil))
                derived[step.index].append(DerivedEvent(topic: Self.insurerTopic, key: application.atenaNo,
                                                        type: step.event.type, data: step.event.data))
            case .enrollment(let notice, let kind):
                enrollments.append(.init(atenaNo: notice.atenaNo, eventID: id, department: notice.department.rawValue,
                                         kind: kind == .enrolled ? "enrolled" : "unenrolled", program: notice.program,
                                         effectiveDate: notice.effectiveDate))
            case .unionQualification(let decision):
                unionQualifications.append((id, decision))
            case .clock, .notMine:
                break
            }
        }
        try UnionQualifications(tx: tx).keep(unionQualifications)
        if !changes.isEmpty {
            var last = try residents.lastHistoryNumbers(seenBefore(Set(changes.map(\.1.atenaNo))))
            let firstNumbers = Dictionary(changes.map { ($0.1.atenaNo, last[$0.1.atenaNo] ?? 0) }, uniquingKeysWith: { a, _ in a })
            var rows: [ResidentHistoryRow] = []
            for (step, change, kind) in changes {
                let number = (last[change.atenaNo] ?? 0) + 1
                last[change.atenaNo] = number
                let p = change.person
                rows.append(ResidentHistoryRow(
                    atenaNo: change.atenaNo, historyNo: number, eventID: step.event.id, changeType: kind.rawValue,
                    effectiveDate: change.change.effectiveDate, notifiedDate: change.change.notifiedDate,
                    householdNo: change.householdNo, nameKanji: p.nameKanji, nameKana: p.nameKana, sex: p.sex.rawValue,
                    birthDate: p.birthDate, relationshipToHead: p.relationshipToHead.rawValue,
                    residentStatus: p.residentStatus.rawValue, address: p.address, previousAddress: p.previousAddress,
                    nextAddress: p.nextAddress,
                    deathDate: p.deathDate ?? (kind == .died ? change.change.effectiveDate : nil)))
                if let myNumber = change.myNumber {
                    let (sealed, hash) = try myNumberIntake.take(myNumber, atenaNo: change.atenaNo)
                    myNumbers[change.atenaNo] = .init(atenaNo: change.atenaNo, sealed: sealed, hash: hash)
                }
            }
            for row in try residents.insertHistory(rows) where firstNumbers[row.atenaNo] == 0 {
                newcomers[row.atenaNo, default: []].append(row)
            }
        }
        noticed = Set(assistance.map(\.atenaNo) + enrollments.map(\.atenaNo) + (disability + special).map(\.atenaNo))
        try notices.insert(assistance)
        try notices.insertDisability(disability)
        try notices.insertSpecialAddress(special)
        try notices.insertFormerDependents(dependents)
        try notices.insertForwarded(forwarded)
        try notices.insert(enrollments)
    }
}
