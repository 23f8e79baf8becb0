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
            amounts: amounts, reason: reason))
    }

    /// What a plan change must tell the 年金保険者: the 本徴収 requested when it first appears,
    /// changed when its amounts move, and a 中止 when no deduction is left — `lost` when the
    /// person is no longer insured here, else `stopReason`.
    func follow(_ person: String, fiscalYear: Int, old: [Installments.Installment], new: [Installments.Installment],
                lost: Bool, stopReason: String, on day: LocalDate, eventID: String) throws -> [DerivedEvent] {
        guard let needed = PensionRequests.needed(old: old, new: new, after: day) else { return [] }
        let reason: String? = switch needed.kind {
        case .stop: lost ? "lost" : stopReason
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
        let amounts = result.amounts
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
        // What was accepted: the amounts named (a month asked for and not named is not deducted), or all as asked.
        let named = Dictionary(uniqueKeysWithValues: (amounts ?? request.amounts).map { ($0.month, $0.amount) })
        let accepted = result.accepted ? Dictionary(uniqueKeysWithValues: request.amounts.map { ($0.month, named[$0.month] ?? 0) }) : [:]
        return try replan(request, accepted: accepted, refused: !result.accepted, on: day, eventID: eventID)
    }

    /// The plan after an answer: each requested pension 期 not yet due deducts what was accepted
    /// (nothing when refused); what it no longer deducts is billed by 普通徴収.
    func replan(_ request: PensionRequestStore.Request, accepted: [Int: Int], refused: Bool, on day: LocalDate,
                eventID: String) throws -> [DerivedEvent] {
        let requested = Set(request.amounts.map(\.month))
        // A refused deduction already due was never taken: only what did come in stays a pension 期.
        let paid = try AssessmentStore(tx).settled(of: [request.atenaNo], fiscalYear: request.fiscalYear)[request.atenaNo] ?? [:]
        return try movePension(request.atenaNo, fiscalYear: request.fiscalYear, on: day, reason: refused ? "refused" : "partly-accepted") {
            guard requested.contains($0.dueDate.month) else { return nil }
            if $0.dueDate <= day { return refused ? min($0.amount, paid[.init(method: .pension, no: $0.no)] ?? 0) : nil }
            return refused ? 0 : min($0.amount, accepted[$0.dueDate.month] ?? 0)
        }
    }

    /// 口座振替 on request (高確法施行令 23条3号): the deductions from the first payday a 中止 sent
    /// today can reach (and not before the date asked for) stop — a 中止 is sent — and what they would
    /// have deducted is billed by 普通徴収. The change is kept: no later 依頼 starts the deduction again.
    func switchToAccountTransfer(_ application: CounterApplication, _ notice: PaymentMethodChangeNotice, businessDate: LocalDate?,
                                 eventID: String) throws -> [DerivedEvent] {
        let person = application.atenaNo
        let (day, reachable) = Self.accountTransferDays(application, notice, businessDate: businessDate)
        try tx.execute("""
            INSERT INTO payment_method_changes (event_id, atena_no, application_no, received_date, effective_date, bank_account_ref,
                                                recorded_on)
            VALUES (\(eventID), \(person), \(application.applicationNo), \(application.receivedDate), \(notice.effectiveDate),
                    \(notice.bankAccountRef), \(day))
            """)
        var derived: [DerivedEvent] = []
        for fiscalYear in Self.accountTransferYears(application, notice, businessDate: businessDate) {
            let plan = try AssessmentStore(tx).plans(of: [person], fiscalYear: fiscalYear)[person]
            let stopping = plan?.installments.filter { $0.method == .pension && $0.dueDate >= reachable && $0.amount > 0 } ?? []
            guard !stopping.isEmpty else { continue }
            derived.append(try send(person, fiscalYear: fiscalYear, kind: .stop, amounts: [], reason: "payment-method-change", on: day,
                                    eventID: eventID))
            derived += try movePension(person, fiscalYear: fiscalYear, on: day, reason: "payment-method-change") {
                $0.dueDate >= reachable ? 0 : nil
            }
        }
        return derived
    }

    /// The day a 口座振替 application is applied, and the first payday its 中止 may stop (a 中止
    /// reaches the 年金保険者 `leadDays` on, and nothing stops before the date asked for).
    static func accountTransferDays(_ application: CounterApplication, _ notice: PaymentMethodChangeNotice,
                                    businessDate: LocalDate?) -> (day: LocalDate, reachable: LocalDate) {
        let day = max(businessDate ?? application.receivedDate, application.receivedDate)
        return (day, max(day.adding(days: PensionRequests.leadDays), notice.effectiveDate))
    }

    /// The 年度 whose plans a 口座振替 application may change (the handler locks them first).
    static func accountTransferYears(_ application: CounterApplication, _ notice: PaymentMethodChangeNotice,
                                     businessDate: LocalDate?) -> [Int] {
        let (day, reachable) = accountTransferDays(application, notice, businessDate: businessDate)
        return Set([day, reachable].map(FiscalMonths.fiscalYear(of:))).sorted()
    }

    /// Re-plans a person's pension 期: `newAmount` gives each 期's new amount (nil: unchanged).
    /// What the pension no longer deducts is billed over the 普通徴収 期 still ahead — after the
    /// 本算定; before it nothing is owed beyond the 仮徴収, and the 本算定 bills the year. The
    /// insurer gets the new 期割情報, the person a notice of the 期 they now pay.
    func movePension(_ person: String, fiscalYear: Int, on day: LocalDate, reason: String,
                     newAmount: (Installments.Installment) -> Int?) throws -> [DerivedEvent] {
        let store = AssessmentStore(tx), tax = TaxStore(tx)
        guard let plan = try store.plans(of: [person], fiscalYear: fiscalYear)[person] else { return [] }
        var moved = 0
        var kept: [Installments.Installment] = []
        for i in plan.installments {
            guard i.method == .pension, let amount = newAmount(i) else { kept.append(i); continue }
            moved += i.amount - amount
            if amount > 0 { kept.append(.init(no: i.no, dueDate: i.dueDate, amount: amount, method: .pension)) }
        }
        guard kept != plan.installments else { return [] }
        let added = plan.isInterim ? [] : Installments.ordinary(moved, fiscalYear: fiscalYear, schedule: try tax.ordinarySchedule(),
                                                                decidedOn: day, holidays: try tax.holidays())
        let installments = Installments.merge(kept, added)
        let revision = plan.revision + 1
        try store.record([.init(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: day,
                                assessmentHistoryNo: try store.current(of: [person], fiscalYear: fiscalYear)[person]?.historyNo ?? 0,
                                installments: installments, basis: plan.basis)])
        let bodies = AssessmentRun.bodies(installments)
        return [
            try AssessmentRun.installmentsEvent(person, fiscalYear: fiscalYear, revision: revision, decidedOn: day, bodies: bodies,
                                                provisional: plan.basis == "koki"),
            try DerivedEvent(topic: Topics.notices, key: person, type: TransferType.collectionMethodChangedNotice, body:
                CollectionMethodChangedNotice(atenaNo: person, insuredNumber: try store.people([person])[person]?.insuredNumber,
                                              fiscalYear: fiscalYear, decidedOn: Wareki.format(day), reason: reason,
                                              installments: bodies)),
        ]
    }
}
