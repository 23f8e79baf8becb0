import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

/// The 特別徴収 requests koki sends to the 年金保険者 through 国保連 (its own topic, its own
/// destination in the transfer policy), and the answers it applies (DOMAIN.md 徴収; EVENTS.md
/// `pension.*`). Each request is a row of the person's history before it is an event.
struct PensionRequestFlow {
    let tx: PostgresConnection

    static let topic = "transfer.kokuhoren.v1"

    /// Records a request and returns the transfer that carries it.
    func send(_ person: String, fiscalYear: Int, kind: PensionRequests.Kind, amounts: [PensionRequests.Amount], reason: String?,
              on day: LocalDate, eventID: String) throws -> DerivedEvent {
        let id = try PensionRequestStore(tx).insert(atenaNo: person, fiscalYear: fiscalYear, kind: kind, sentOn: day, amounts: amounts,
                                                    reason: reason, eventID: eventID)
        return try DerivedEvent(topic: Self.topic, key: person, type: TransferType.pensionRequest, body: PensionRequestTransfer(
            requestId: id, atenaNo: person, fiscalYear: fiscalYear, kind: kind.rawValue, sentOn: day,
            amounts: amounts.map { .init(month: $0.month, amount: $0.amount) }, reason: reason))
    }

    /// What a plan change must tell the 年金保険者: the 本徴収 requested when it first appears,
    /// changed when its amounts move, and a 中止 when no deduction is left — `lost` when the
    /// person is no longer insured here, else `stopReason`.
    func follow(_ person: String, fiscalYear: Int, old: [Installments.Installment], new: [Installments.Installment],
                continuing: Bool, stopReason: String, on day: LocalDate, eventID: String) throws -> [DerivedEvent] {
        guard let needed = PensionRequests.needed(old: old, new: new, after: day) else { return [] }
        let reason: String? = switch needed.kind {
        case .stop: continuing ? stopReason : "lost"
        case .change: "premium-changed"
        case .request: nil
        }
        return [try send(person, fiscalYear: fiscalYear, kind: needed.kind, amounts: needed.amounts, reason: reason, on: day,
                         eventID: eventID)]
    }

    /// Applies the 年金保険者's answer. Accepted: the plan deducts the amounts it accepted (what it
    /// would not take goes to the remaining 普通徴収 期). Refused: the deductions not yet due leave
    /// the plan — before the 本算定 they are simply gone (the 本算定 bills the year by 普通徴収);
    /// after it, their amount is billed over the 普通徴収 期 still ahead, with a notice.
    func apply(_ result: PensionRequestResult, businessDate: LocalDate?, eventID: String) throws -> [DerivedEvent] {
        let store = PensionRequestStore(tx)
        guard let request = try store.request(id: result.requestId), request.atenaNo == result.atenaNo,
              request.fiscalYear == result.fiscalYear else {
            throw Rejection(.validation, "requestId names no request koki sent for this person and fiscalYear")
        }
        // The same answer again changes nothing; a second, different answer is not the 年金保険者's to give.
        if let accepted = request.accepted {
            guard accepted == result.accepted else { throw Rejection(.validation, "the request was already answered otherwise") }
            return []
        }
        let amounts = result.amounts?.map { PensionRequests.Amount(month: $0.month, amount: $0.amount) }
        if result.accepted, request.kind != .stop, let amounts {
            let asked = Dictionary(uniqueKeysWithValues: request.amounts.map { ($0.month, $0.amount) })
            guard amounts.allSatisfy({ amount in asked[amount.month].map { amount.amount <= $0 } ?? false }) else {
                throw Rejection(.validation, "amounts accepts a month or an amount the request did not ask for")
            }
        }
        let day = max(businessDate ?? request.sentOn, request.sentOn)
        try store.recordResult(id: request.requestID, accepted: result.accepted, reason: result.reason, amounts: amounts, on: day,
                               eventID: eventID)
        guard request.kind != .stop else { return [] }
        let accepted = result.accepted ? Dictionary(uniqueKeysWithValues: (amounts ?? request.amounts).map { ($0.month, $0.amount) })
                                       : [:]
        return try replan(request, accepted: accepted, refused: !result.accepted, on: day, eventID: eventID)
    }

    /// The plan after an answer: each requested pension 期 not yet due deducts what was accepted
    /// (nothing when refused); what it no longer deducts is billed by 普通徴収.
    func replan(_ request: PensionRequestStore.Request, accepted: [Int: Int], refused: Bool, on day: LocalDate,
                eventID: String) throws -> [DerivedEvent] {
        let store = AssessmentStore(tx), tax = TaxStore(tx)
        let person = request.atenaNo, fiscalYear = request.fiscalYear
        guard let plan = try store.plans(of: [person], fiscalYear: fiscalYear)[person] else { return [] }
        let requested = Set(request.amounts.map(\.month))
        var moved = 0
        var kept: [Installments.Installment] = []
        for i in plan.installments {
            guard i.method == .pension, i.dueDate > day, requested.contains(i.dueDate.month) else { kept.append(i); continue }
            let deducted = refused ? 0 : min(i.amount, accepted[i.dueDate.month] ?? i.amount)
            moved += i.amount - deducted
            if deducted > 0 { kept.append(.init(no: i.no, dueDate: i.dueDate, amount: deducted, method: .pension)) }
        }
        guard moved > 0 || kept != plan.installments else { return [] }
        let holidays = try tax.holidays(), schedule = try tax.ordinarySchedule()
        // Before the 本算定 nothing is owed beyond the 仮徴収: the 本算定 bills the year.
        let added = plan.isInterim ? [] : Installments.ordinary(moved, fiscalYear: fiscalYear, schedule: schedule, decidedOn: day,
                                                                holidays: holidays)
        let installments = Installments.merge(kept, added)
        let revision = plan.revision + 1
        try store.record([.init(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: day,
                                assessmentHistoryNo: try store.current(of: [person], fiscalYear: fiscalYear)[person]?.historyNo ?? 0,
                                installments: installments, basis: plan.basis)])
        let bodies = installments.map { InstallmentBody(no: $0.no, dueDate: $0.dueDate, amount: $0.amount, method: $0.method.rawValue) }
        var events = [try DerivedEvent(topic: AssessmentRun.insurerTopic, key: person, type: TransferType.installments, body:
            InstallmentsTransfer(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: day, installments: bodies,
                                 provisional: plan.basis == "koki"))]
        if moved > 0 {
            events.append(try DerivedEvent(topic: Topics.notices, key: person, type: TransferType.collectionMethodChangedNotice, body:
                CollectionMethodChangedNotice(atenaNo: person, insuredNumber: try store.people([person])[person]?.insuredNumber,
                                              fiscalYear: fiscalYear, decidedOn: Wareki.format(day),
                                              reason: refused ? "refused" : "partly-accepted", installments: bodies)))
        }
        return events
    }
}
