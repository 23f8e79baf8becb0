import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

extension ResidentBatch {
    /// What recomputing found, for the transfers that follow.
    struct Recomputed {
        var periods: [String: [QualificationPeriod]] = [:]
        var insured: [String: Bool] = [:]
        var insuredNumbers: [String: String] = [:]
        var asOf: [String: LocalDate] = [:]
        /// Each household's 世帯主 as recomputed, written once the households are locked.
        var heads: [(householdNo: String, atenaNo: String)] = []
    }

    /// The provisional 被保険者番号: the last eight digits of the 宛名番号 (unique while the
    /// city's 宛名番号 stay below 10⁸; the column is UNIQUE, so a clash stops the batch
    /// rather than mixing two people).
    static func provisionalInsuredNumber(_ atenaNo: String) -> String { String(atenaNo.suffix(8)) }

    /// Recomputes each person's qualification from everything stored, writes the projection,
    /// memberships and the qualification history, and derives the changes. Only the people are
    /// locked yet: nothing here reads or writes a household's row.
    mutating func recompute(_ people: [String], businessDate: LocalDate?, previousHouseholds: [String: String]) throws -> Recomputed {
        let residents = ResidentStore(tx)
        let qualifications = QualificationStore(tx)
        var history = try residents.history(of: people.filter { newcomers[$0] == nil })
        history.merge(newcomers) { _, written in written }
        let earlier = seenBefore(people)
        let notices = try NoticeStore(tx).dated(of: earlier + noticed.filter(created.contains))
        let stored = try qualifications.periods(of: earlier)
        let known = try residents.known(earlier)
        var lastHistory = try qualifications.lastHistoryNumbers(earlier)

        var result = Recomputed()
        var projections: [ResidentStore.Projection] = []
        var memberships: [ResidentStore.Membership] = []
        var historyRows: [QualificationStore.HistoryRow] = []
        var current: [String: [(QualificationPeriod, Int)]] = [:]

        for atenaNo in people.sorted() {
            let file = PersonFile(atenaNo: atenaNo, history: history[atenaNo] ?? [],
                                  assistance: notices.assistance[atenaNo] ?? [], disability: notices.disability[atenaNo] ?? [],
                                  specialAddress: notices.specialAddress[atenaNo] ?? [],
                                  enrollments: notices.enrollment[atenaNo] ?? [])
            // A notice about someone the register has not told koki about waits for the
            // register: the person is recomputed when their first resident event arrives.
            guard let facts = file.facts, let record = file.current,
                  let computedAsOf = file.asOf(businessDate: businessDate) else { continue }
            // Once the clock ticks, everyone is as of its day (the calendar never goes back); before it,
            // as of the latest date their facts carry, never earlier than before.
            let asOf = businessDate != nil ? computedAsOf : max(computedAsOf, known[atenaNo]?.asOf ?? computedAsOf)
            let periods = Eligibility.periods(facts, asOf: asOf)
            let before = stored[atenaNo] ?? []
            let changes = QualificationChange.between(stored: before.map(\.period), computed: periods)
            // The provisional number goes with the periods: issued when the first one appears, withdrawn
            // when every period turns out void (a notice that arrived later excluded the person from
            // the start), so the store does not depend on which event came first. A number the union
            // assigned stays.
            let provisional = Self.provisionalInsuredNumber(atenaNo)
            let insuredNumber = periods.isEmpty
                ? known[atenaNo]?.insuredNumber.flatMap { $0 == provisional ? nil : $0 }
                : known[atenaNo]?.insuredNumber ?? provisional
            let insured = periods.contains { $0.lostOn == nil }
            let alive = facts.deathDate.map { asOf <= $0 } ?? true
            let livesHere = alive && facts.saitamaResidence.contains { $0.contains(asOf) }
                && record.residentStatus != ResidentChange.ResidentStatus.nonresident.rawValue
            projections.append(.init(atenaNo: atenaNo, currentHistoryNo: record.historyNo, householdNo: record.householdNo,
                                     birthDate: facts.birthDate, deathDate: facts.deathDate, livesHere: livesHere,
                                     insured: insured, insuredNumber: insuredNumber, asOf: asOf,
                                     // Before the clock ever ticked, the person is computed as of the latest
                                     // date the facts carry — perhaps ahead of the first business date: the
                                     // first tick computes them again, as of its day (the arrival order of
                                     // facts dated ahead must not decide what the store holds).
                                     nextReviewOn: businessDate == nil ? LocalDate.earliest : Eligibility.nextChange(facts, after: asOf),
                                     myNumber: myNumbers[atenaNo]))
            memberships += file.memberships()
            if record.relationshipToHead == ResidentChange.Relationship.head.rawValue, livesHere {
                result.heads.append((record.householdNo, atenaNo))
            }
            result.periods[atenaNo] = periods
            result.insured[atenaNo] = insured
            result.asOf[atenaNo] = asOf
            if let insuredNumber { result.insuredNumbers[atenaNo] = insuredNumber }

            // The premium worker follows qualification and household changes.
            let householdChanged = previousHouseholds[atenaNo].map { $0 != record.householdNo } ?? false
            if let cause = owner[atenaNo], !changes.isEmpty || householdChanged {
                let dates = changes.flatMap { [$0.period.acquiredOn] + ($0.period.lostOn.map { [$0] } ?? []) }
                    + (householdChanged ? [record.effectiveDate] : [])
                try append(cause, topic: Topics.residentUpdates, key: atenaNo, type: ResidentUpdate.type,
                           body: ResidentUpdate(atenaNo: atenaNo, householdNo: record.householdNo,
                                                previousHouseholdNo: householdChanged ? previousHouseholds[atenaNo] : nil,
                                                effectiveDate: dates.min() ?? record.effectiveDate, asOf: asOf))
            }
            // The history names the number the periods were recorded under, even when it is withdrawn.
            guard !changes.isEmpty, let insuredNumber = insuredNumber ?? known[atenaNo]?.insuredNumber,
                  let cause = owner[atenaNo] else { continue }
            let eventID = step(ofEvent: cause).event.id
            var numbers = Dictionary(before.map { ($0.period.acquiredOn, $0.historyNo) }, uniquingKeysWith: { a, _ in a })
            for change in changes {
                let number = (lastHistory[atenaNo] ?? 0) + 1
                lastHistory[atenaNo] = number
                historyRows.append(.init(atenaNo: atenaNo, historyNo: number, previousHistoryNo: numbers[change.period.acquiredOn],
                                         insuredNumber: insuredNumber, change: change.name, period: change.period,
                                         eventID: eventID))
                numbers[change.period.acquiredOn] = number
                if case .acquired = change { reportedToUnion.insert(atenaNo) }
                try deriveChange(change, atenaNo: atenaNo, insuredNumber: insuredNumber, asOf: asOf,
                                 departments: file.departments(on: asOf), owner: cause)
            }
            current[atenaNo] = periods.map { ($0, numbers[$0.acquiredOn]!) }
        }
        try residents.update(projections)
        // A number for someone with no projection yet (nothing to compute from) is still kept.
        let projected = Set(projections.map(\.atenaNo))
        try residents.setMyNumbers(myNumbers.values.filter { !projected.contains($0.atenaNo) })
        try residents.replaceMemberships(of: projections.map(\.atenaNo), with: memberships)
        try qualifications.record(historyRows, current: current)
        return result
    }

    /// 資格確認書 on a business day: for every period open that day without one (sent to the insurer
    /// to print). Decided from the store as it stands on the day, so the same facts issue the same
    /// certificates however the events that led there were batched.
    mutating func issueCertificates(on day: LocalDate, owner: Int, eventID: String) throws {
        let qualifications = QualificationStore(tx)
        let due = try qualifications.certificatesDue(on: day)
        let issued = try qualifications.issueCertificates(due.map { ($0.atenaNo, $0.acquiredOn, $0.insuredNumber, eventID) })
        for certificate in due where issued.contains(certificate.atenaNo) {
            try append(owner, topic: Self.insurerTopic, key: certificate.atenaNo, type: TransferType.certificateIssued,
                       body: CertificateIssuedTransfer(atenaNo: certificate.atenaNo, insuredNumber: certificate.insuredNumber,
                                                       validFrom: certificate.acquiredOn))
        }
    }

    /// One qualification change: to the insurer, and to each department the person is
    /// enrolled with — and to no other.
    mutating func deriveChange(_ change: QualificationChange, atenaNo: String, insuredNumber: String, asOf: LocalDate,
                               departments: [Department], owner: Int) throws {
        let body: QualificationTransfer
        let insurerType: String
        let departmentType: String
        switch change {
        case .acquired(let period):
            body = QualificationTransfer(atenaNo: atenaNo, insuredNumber: insuredNumber, period: PeriodBody(period),
                                         previous: nil, asOf: asOf)
            (insurerType, departmentType) = (TransferType.qualificationAcquired, TransferType.departmentQualificationAcquired)
        case .lost(let period):
            body = QualificationTransfer(atenaNo: atenaNo, insuredNumber: insuredNumber, period: PeriodBody(period),
                                         previous: nil, asOf: asOf)
            (insurerType, departmentType) = (TransferType.qualificationLost, TransferType.departmentQualificationLost)
        case .changed(let before, let after):
            body = QualificationTransfer(atenaNo: atenaNo, insuredNumber: insuredNumber, period: PeriodBody(after),
                                         previous: PeriodBody(before), asOf: asOf)
            (insurerType, departmentType) = (TransferType.qualificationChanged, TransferType.departmentQualificationChanged)
        case .withdrawn(let before):
            body = QualificationTransfer(atenaNo: atenaNo, insuredNumber: insuredNumber, period: nil,
                                         previous: PeriodBody(before), asOf: asOf)
            (insurerType, departmentType) = (TransferType.qualificationChanged, TransferType.departmentQualificationChanged)
        }
        try append(owner, topic: Self.insurerTopic, key: atenaNo, type: insurerType, body: body)
        for department in departments {
            try append(owner, topic: department.topic, key: atenaNo, type: departmentType, body: body)
        }
    }

    mutating func append<Body: Encodable>(_ index: Int, topic: String, key: String, type: String, body: Body) throws {
        derived[index].append(try DerivedEvent(topic: topic, key: key, type: type, body: body))
    }
}

extension PeriodBody {
    init(_ period: QualificationPeriod) {
        self.init(acquiredOn: period.acquiredOn, acquisitionReason: period.acquisitionReason.rawValue,
                  lostOn: period.lostOn, lossReason: period.lossReason?.rawValue)
    }
}
