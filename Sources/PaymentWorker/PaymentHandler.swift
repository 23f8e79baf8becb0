import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

/// koki-payment-worker's handler: 収納. Payments are stored as received and applied by the
/// allocation rule; over-payments are appropriated, then refunded; money for someone unknown
/// waits in suspense. Each business day turns new 期割 plans into charges, matches suspense,
/// and issues 督促, 催告 and 不納欠損.
public struct PaymentHandler: EventHandler {
    public static let topics = ["collection.payments.v1", "clock.business-day.v1"]

    public let acceptedTypes: Set<String> = Set(PaymentRecord.Kind.allCases.map(\.rawValue) + [BusinessDay.type])

    /// Whose business day must come first (the tax worker's: charges follow its 期割).
    let after: CalendarStore.Worker?
    /// Which business days are accepted (the same rule in every worker).
    let clock: ClockRule

    public init(after: CalendarStore.Worker? = .tax, clock: ClockRule = .standard) {
        self.after = after
        self.clock = clock
    }

    public func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
        let ledger = LedgerStore(tx)
        var rejected: [Int: Rejection] = [:]
        var steps: [(index: Int, event: InboundEvent, kind: PaymentRecord.Kind?, payment: PaymentRecord?, date: LocalDate?)] = []
        for (index, event) in events.enumerated() {
            do {
                if event.type == BusinessDay.type {
                    steps.append((index, event, nil, nil, try event.decodeValid(BusinessDay.self).date))
                    continue
                }
                guard let kind = PaymentRecord.Kind(rawValue: event.type) else {
                    throw Rejection(.unknownType, "ce_type is not one the payment worker knows")
                }
                let payment = try event.decodeValid(PaymentRecord.self)
                steps.append((index, event, kind, payment, nil))
            } catch let rejection as Rejection {
                rejected[index] = rejection
            }
        }
        let refused = try CalendarStore(tx, worker: .payment).admitDays(&steps, rule: clock, day: \.date, index: \.index)
        for (index, reason) in refused { rejected[index] = Rejection(.validation, reason) }
        // A business day's book holds everyone (see `Book`), a batch of payments only its payers.
        try ledger.lock(everyone: steps.contains { $0.date != nil })
        // A refund paid must match a refund decided and not yet paid.
        let payers = Array(Set(steps.compactMap { $0.payment?.atenaNo }))
        var unpaidRefunds = try ledger.credits(of: payers).mapValues(\.unpaidRefunds)
        steps = steps.filter { step in
            guard step.kind == .refundPaid, let payment = step.payment else { return true }
            guard (unpaidRefunds[payment.atenaNo] ?? 0) >= payment.amount else {
                rejected[step.index] = Rejection(.validation, "no unpaid refund of this amount for the person")
                return false
            }
            unpaidRefunds[payment.atenaNo, default: 0] -= payment.amount
            return true
        }
        // A 速報 comes from a convenience store (its 確報 is the `payment.received` that moves the money).
        steps = steps.filter { step in
            guard step.kind == .cvsPreliminary, let payment = step.payment, payment.channel != .convenienceStore else { return true }
            rejected[step.index] = Rejection(.validation, "a payment.cvs-preliminary must have channel convenience-store")
            return false
        }
        // A 口座振替不能 must name a payment received (with the same amount) and not undone yet; a
        // receipt (a 確報, a pension deduction) must not repeat a paymentId that stands, whatever its
        // amount — this batch's included, in order. Each is refused by name, never a silent no-op.
        let named = steps.compactMap { [.received, .transferFailed, .pensionDeducted].contains($0.kind) ? $0.payment : nil }
        if !named.isEmpty {
            var open = try ledger.reversible(named.map { ($0.paymentId, $0.atenaNo) })
            var standing = try ledger.standingReceipts(named.map { ($0.paymentId, $0.atenaNo) })
            steps = steps.filter { step in
                guard let payment = step.payment, [.received, .transferFailed, .pensionDeducted].contains(step.kind) else { return true }
                let key = "\(payment.paymentId)|\(payment.atenaNo)|\(payment.amount)", id = "\(payment.paymentId)|\(payment.atenaNo)"
                if step.kind == .transferFailed {
                    guard (open[key] ?? 0) > 0 else {
                        rejected[step.index] = Rejection(.validation, "no received payment with this paymentId and amount is open to reverse")
                        return false
                    }
                    open[key, default: 0] -= 1
                    standing[id, default: 0] -= 1
                    return true
                }
                guard (standing[id] ?? 0) <= 0 else {
                    rejected[step.index] = Rejection(.validation, "a payment with this paymentId was already received")
                    return false
                }
                standing[id, default: 0] += 1
                if step.kind == .received { open[key, default: 0] += 1 }
                return true
            }
        }
        try ledger.insert(steps.compactMap { step in
            step.payment.map { p in
                LedgerStore.Payment(eventID: step.event.id, paymentID: p.paymentId, kind: step.kind!.stored, atenaNo: p.atenaNo,
                                    channel: p.channel.rawValue, fiscalYear: p.fiscalYear, installmentNo: p.installmentNo,
                                    amount: p.amount, paidOn: p.paidOn, creditedOn: p.creditedOn)
            }
        })

        // A business day is the payment worker's once the 期割 are: charges follow the tax worker's plans.
        if let after, let reason = try CalendarStore.behind(after, reaching: steps.compactMap(\.date), in: tx) { throw NotYet(reason) }
        let calendar = CalendarStore(tx, worker: .payment)
        let previousDate = try calendar.businessDate()
        var businessDate = previousDate
        let clock = steps.filter { $0.date != nil }
        for step in clock { businessDate = try calendar.advance(to: step.date!) }
        var book = try Book(tx: tx, people: clock.isEmpty ? payers : nil, businessDate: businessDate,
                            derived: Array(repeating: [], count: events.count))
        let settlementOwner = steps.last?.index ?? 0
        try book.syncCharges()
        for step in steps {
            guard let payment = step.payment, let kind = step.kind else { continue }
            switch kind {
            case .received, .pensionDeducted: try book.receive(payment, eventID: step.event.id, owner: step.index)
            case .transferFailed: try book.reverse(payment, eventID: step.event.id, owner: step.index)
            case .refundPaid: book.refundPaid(payment, eventID: step.event.id)
            case .cvsPreliminary: break   // kept as received; it holds 督促 and 催告 (Book.dunAndPrescribe)
            }
        }
        // Each business day of the batch in turn: a 督促 on one day renews the 時効 the next one checks.
        if let first = clock.first { try book.releaseSuspense(owner: first.index) }
        for step in clock {
            try book.dunAndPrescribe(on: step.date!, owner: step.index)
            try book.lapseRefunds(on: step.date!)
        }
        // The first business day of a year reports the past year's premiums paid.
        if let previous = previousDate, let now = businessDate, now.year > previous.year, let last = clock.last {
            for year in previous.year..<now.year { try book.yearEnd(year, owner: last.index) }
        }
        try book.settleCredits(owner: settlementOwner)
        try book.write()
        return events.indices.map { rejected[$0].map(EventOutcome.rejected) ?? .applied(book.derived[$0]) }
    }
}
