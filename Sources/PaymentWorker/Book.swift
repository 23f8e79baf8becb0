import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Logging
import Postgres
import WorkerRuntime

/// One batch's view of the ledger: the receivables it touches, in memory, and the entries and
/// events it adds. Written once at the end.
struct Book {
    let tx: PostgresConnection
    let businessDate: LocalDate?
    var receivables: [String: [LedgerStore.Receivable]]
    var entries: [LedgerStore.Entry] = []
    var refunds: [LedgerStore.Refund] = []
    var derived: [[DerivedEvent]]
    /// Over-payments to appropriate or refund at the end, per person.
    var credit: [String: Int] = [:]
    var creditEvent: [String: String] = [:]
    /// Where each person's over-payments of this batch came from: the amount, and the last day
    /// before its 還付加算金 runs (by its cause, 地方税法 17条の4).
    var creditOrigins: [String: [(amount: Int, after: LocalDate)]] = [:]
    var settingsCache: [LocalDate: LedgerStore.Settings] = [:]
    let people: [String]?

    static let insurerTopic = "transfer.koiki.v1"
    static let log = Logger(label: "koki.payment")

    init(tx: PostgresConnection, people: [String]?, businessDate: LocalDate?, derived: [[DerivedEvent]]) throws {
        self.tx = tx
        self.people = people
        self.businessDate = businessDate
        self.derived = derived
        receivables = [:]
        try reload()
    }

    mutating func reload() throws {
        receivables = Dictionary(grouping: try LedgerStore(tx).receivables(of: people), by: \.atenaNo)
    }

    var today: LocalDate { businessDate ?? LocalDate(year: 2000, month: 1, day: 1)! }

    // MARK: Charges

    /// Turns new 期割 plans into charges (調定): a new installment, or the difference when an
    /// amount changed. What was already paid beyond a lowered charge becomes an over-payment.
    mutating func syncCharges() throws {
        let store = LedgerStore(tx)
        // Plans of the same people whose receivables this book already holds.
        let plans = try store.unsyncedPlans(of: people)
        guard !plans.isEmpty else { return }
        let current = receivables
        var keys: [(atenaNo: String, fiscalYear: Int, method: String, installmentNo: Int, kind: String, dueDate: LocalDate)] = []
        var wanted: [Int] = []
        for plan in plans {
            for i in plan.installments {
                keys.append((plan.atenaNo, plan.fiscalYear, i.method.rawValue, i.no, "premium", i.dueDate))
                wanted.append(i.amount)
            }
        }
        let ids = try store.receivableIDs(keys)
        let eventID = "charges:\(today)"
        var touched = Set<Int>()
        for (index, id) in ids.enumerated() {
            touched.insert(id)
            let existing = current[keys[index].atenaNo]?.first { $0.open.id == id }
            let delta = wanted[index] - (existing?.charged ?? 0)
            if delta != 0 { try charge(keys[index].atenaNo, id, delta, eventID: eventID) }
        }
        // Installments the new plans dropped (a stopped 特別徴収): their charge goes.
        for plan in plans {
            for old in current[plan.atenaNo] ?? [] where old.open.fiscalYear == plan.fiscalYear && old.open.kind == .premium
                && !touched.contains(old.open.id) && old.charged != 0 {
                try charge(plan.atenaNo, old.open.id, -old.charged, eventID: eventID)
            }
        }
        try store.markSynced(plans.map { ($0.atenaNo, $0.fiscalYear, $0.revision) })
        try store.append(entries)
        entries = []
        try reload()
        // A lowered charge below what was paid: the excess is an over-payment.
        for (person, list) in receivables {
            for r in list where r.open.balance < 0 {
                entries.append(.init(atenaNo: person, receivableID: r.open.id, entry: "payment", amount: r.open.balance,
                                     onDate: today, bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
                entries.append(.init(atenaNo: person, receivableID: nil, entry: "overpayment", amount: -r.open.balance,
                                     onDate: today, bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
                credit[person, default: 0] -= r.open.balance
                creditEvent[person] = eventID
                let paidOn = try store.settlements(of: r.open.id).map(\.date).max() ?? today
                creditOrigins[person, default: []].append(
                    (-r.open.balance, RefundInterest.lastDayWithout(.lowered, paidOn: paidOn, dueDate: r.open.dueDate)))
                setBalance(person, r.open.id, 0)
            }
        }
    }

    mutating func charge(_ person: String, _ id: Int, _ amount: Int, eventID: String) throws {
        entries.append(.init(atenaNo: person, receivableID: id, entry: "charge", amount: amount, onDate: today,
                             bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
    }

    mutating func setBalance(_ person: String, _ id: Int, _ balance: Int) {
        guard let index = receivables[person]?.firstIndex(where: { $0.open.id == id }) else { return }
        receivables[person]![index].open.balance = balance
    }

    // MARK: Payments

    /// 消込: a named installment first, then the rule; the rest is an over-payment.
    mutating func receive(_ payment: PaymentRecord, eventID: String, owner: Int) throws {
        let person = payment.atenaNo
        let known = try receivables[person] != nil || LedgerStore(tx).known([person]).contains(person)
        guard known else {
            entries.append(.init(atenaNo: person, receivableID: nil, entry: "suspense", amount: payment.amount, onDate: payment.paidOn,
                                 bookedOn: businessDate, paymentEvent: eventID, eventID: eventID))
            try notice(owner, person, TransferType.suspenseNotice, payment.amount)
            return
        }
        var open = (receivables[person] ?? []).map(\.open)
        let method: Installments.Method = payment.channel == .pension ? .pension : .ordinary
        let named = payment.installmentNo.flatMap { no in
            open.first { $0.kind == .premium && $0.fiscalYear == payment.fiscalYear && $0.installmentNo == no && $0.method == method }
                ?? open.first { $0.kind == .premium && $0.fiscalYear == payment.fiscalYear && $0.installmentNo == no }
        }
        let result = Allocation.pay(payment.amount, into: &open, only: named?.id)
        try apply(result.applied, person: person, entry: "payment", on: payment.paidOn, paymentEvent: eventID, eventID: eventID,
                  owner: owner, open: open)
        if result.left > 0 {
            entries.append(.init(atenaNo: person, receivableID: nil, entry: "overpayment", amount: result.left, onDate: payment.paidOn,
                                 bookedOn: businessDate, paymentEvent: eventID, eventID: eventID))
            credit[person, default: 0] += result.left
            creditEvent[person] = eventID
            creditOrigins[person, default: []].append((result.left, RefundInterest.lastDayWithout(.overpaid, paidOn: payment.paidOn)))
        }
        try assessLateFees(person, paidOn: payment.paidOn, eventID: eventID, owner: owner)
    }

    /// Records applied amounts, updates balances, and tells the insurer (収納情報).
    mutating func apply(_ applied: [(id: Int, amount: Int)], person: String, entry: String, on date: LocalDate,
                        paymentEvent: String?, eventID: String, owner: Int, open: [Allocation.Open]) throws {
        for (id, amount) in applied {
            entries.append(.init(atenaNo: person, receivableID: id, entry: entry, amount: amount, onDate: date,
                                 bookedOn: businessDate, paymentEvent: paymentEvent, eventID: eventID))
            let balance = open.first { $0.id == id }?.balance ?? 0
            setBalance(person, id, balance)
            try transfer(owner, person, id, amount: amount, balance: balance, on: date, event: entry)
        }
    }

    /// 延滞金 on each premium installment this payment settled after its 納期限. Pension 期 bear
    /// none: the 年金保険者 deducts them on its own days (DOMAIN.md, 徴収).
    mutating func assessLateFees(_ person: String, paidOn: LocalDate, eventID: String, owner: Int) throws {
        // Only a settled, late premium installment without a late fee yet needs the settings.
        let late = (receivables[person] ?? []).filter {
            $0.open.kind == .premium && $0.open.method == .ordinary && $0.open.balance == 0 && $0.open.dueDate < paidOn
        }
        for r in late where !hasLateFee(person, r.open) {
            try chargeLateFee(person, r, paidOn: paidOn, eventID: eventID, owner: owner)
        }
    }

    func hasLateFee(_ person: String, _ open: Allocation.Open) -> Bool {
        (receivables[person] ?? []).contains {
            $0.open.kind == .lateFee && $0.open.fiscalYear == open.fiscalYear && $0.open.installmentNo == open.installmentNo
                && $0.open.method == open.method
        }
    }

    /// Computes and charges one installment's late fee. A year the rates table lacks is an
    /// operator's error, not the citizen's: the fee waits in `late_fee_pending` (logged, without
    /// the person) and is charged on the first business day after the rate is added.
    mutating func chargeLateFee(_ person: String, _ r: LedgerStore.Receivable, paidOn: LocalDate, eventID: String,
                                owner: Int, held: Bool = false) throws {
        let store = LedgerStore(tx)
        let settings = try settingsCache[paidOn] ?? store.settings(on: paidOn)
        settingsCache[paidOn] = settings
        // Every payment on the installment (stored, and this batch's), by the day it was made.
        let history = try store.settlements(of: r.open.id)
            + entries.filter { $0.receivableID == r.open.id && ["payment", "appropriation"].contains($0.entry) }
                .map { (date: $0.onDate, amount: $0.amount) }
        let fee: LateFee.Result
        do {
            fee = try LateFee.compute(amount: r.charged, dueDate: r.open.dueDate, payments: history, schedule: settings.lateFees)
        } catch {
            try store.holdLateFee(receivable: r.open.id, paidOn: paidOn, missingYear: error.year)
            Book.log.error("a late fee waits for its rate: add the year to late_fee_rates",
                           metadata: ["receivable": "\(r.open.id)", "missingYear": "\(error.year)"])
            return
        }
        if held { try store.releaseLateFee(receivable: r.open.id) }
        guard fee.lateFee > 0 else { return }
        let key = (person, r.open.fiscalYear, r.open.method.rawValue, r.open.installmentNo, "late-fee", paidOn)
        let id = try store.receivableIDs([key])[0]
        try charge(person, id, fee.lateFee, eventID: eventID)
        receivables[person, default: []].append(.init(
            open: .init(id: id, fiscalYear: r.open.fiscalYear, installmentNo: r.open.installmentNo, method: r.open.method,
                        kind: .lateFee, dueDate: paidOn, balance: fee.lateFee),
            atenaNo: person, charged: fee.lateFee, dunnedOn: nil, reminders: 0))
        try transfer(owner, person, id, amount: fee.lateFee, balance: fee.lateFee, on: paidOn, event: "late-fee")
        try notice(owner, person, TransferType.lateFeeNotice, fee.lateFee)
    }

    /// Late fees that waited for a rate: charged once the rate is there.
    mutating func retryHeldLateFees(eventID: String, owner: Int) throws {
        for (receivable, paidOn) in try LedgerStore(tx).heldLateFees() {
            guard let (person, r) = receivables.lazy.compactMap({ person, list in
                list.first { $0.open.id == receivable }.map { (person, $0) }
            }).first else { continue }
            // Already charged, or no longer settled (a 口座振替不能 undid the payment): the hold goes;
            // the payment that settles it again assesses the fee.
            if hasLateFee(person, r.open) || r.open.balance != 0 {
                try LedgerStore(tx).releaseLateFee(receivable: receivable)
                continue
            }
            try chargeLateFee(person, r, paidOn: paidOn, eventID: eventID, owner: owner, held: true)
        }
    }

    /// 口座振替不能: the payment it names is undone — the installments it paid reopen.
    mutating func reverse(_ failure: PaymentRecord, eventID: String, owner: Int) throws {
        let store = LedgerStore(tx)
        guard let original = try store.receivedPayment(paymentID: failure.paymentId, atenaNo: failure.atenaNo) else { return }
        // What the payment moved: already in the store, and (same batch) still in memory.
        var moved: [String: (receivableID: Int?, entry: String, amount: Int)] = [:]
        let pending = entries.filter {
            $0.paymentEvent == original
                || ($0.eventID == original && ["appropriation", "refund", "refund-interest"].contains($0.entry) && $0.paymentEvent == nil)
        }.map { ($0.receivableID, $0.entry, $0.amount) }
        // A refund it funded can be cancelled only while unpaid (if paid, the city must claim it back).
        var unpaidRefund = try store.credits(of: [failure.atenaNo])[failure.atenaNo]?.unpaidRefunds ?? 0
        for (id, entry, amount) in try store.entries(ofPayment: original) + pending {
            let key = "\(id.map(String.init) ?? "-")/\(entry)"
            moved[key] = (id, entry, (moved[key]?.amount ?? 0) + amount)
        }
        var refundCancelled = false
        for (id, entry, amount) in moved.values.sorted(by: { ($0.entry, $0.receivableID ?? 0) < ($1.entry, $1.receivableID ?? 0) })
        where amount != 0 && ["payment", "overpayment", "suspense", "appropriation", "refund", "refund-interest"].contains(entry) {
            if entry == "refund" {
                guard amount > 0, unpaidRefund >= amount else { continue }
                unpaidRefund -= amount
                refundCancelled = true
                try store.cancelRefunds(fundedBy: original, atenaNo: failure.atenaNo, on: businessDate ?? failure.paidOn)
            }
            // The interest goes with its refund ("refund" sorts before "refund-interest").
            if entry == "refund-interest" && !refundCancelled { continue }
            entries.append(.init(atenaNo: failure.atenaNo, receivableID: id, entry: entry, amount: -amount, onDate: failure.paidOn,
                                 bookedOn: businessDate, paymentEvent: original, eventID: eventID))
            // The over-payment goes; what it was appropriated to is owed again, and that credit returns.
            if entry == "overpayment" { credit[failure.atenaNo, default: 0] -= amount }
            if entry == "appropriation" || entry == "refund" { credit[failure.atenaNo, default: 0] += amount }
            if let id {
                let balance = ((receivables[failure.atenaNo] ?? []).first { $0.open.id == id }?.open.balance ?? 0) + amount
                setBalance(failure.atenaNo, id, balance)
                try transfer(owner, failure.atenaNo, id, amount: -amount, balance: balance, on: failure.paidOn, event: "reversal")
            }
        }
    }

    mutating func refundPaid(_ payment: PaymentRecord, eventID: String) {
        entries.append(.init(atenaNo: payment.atenaNo, receivableID: nil, entry: "refund-paid", amount: payment.amount,
                             onDate: payment.paidOn, bookedOn: businessDate, paymentEvent: eventID, eventID: eventID))
    }

    /// Over-payments: 充当 to the person's unpaid amounts already due, the rest 還付 with its
    /// 還付加算金 — each with a notice; a deceased person's refund is for the heirs.
    mutating func settleCredits(owner: Int) throws {
        let store = LedgerStore(tx)
        let stored = try store.credits(of: people)
        var all = credit
        for (person, value) in stored where value.credit > 0 { all[person, default: 0] += value.credit }
        let deceased = try store.deceased(Array(all.keys))
        for (person, amount) in all.sorted(by: { $0.key < $1.key }) where amount > 0 {
            let eventID = creditEvent[person] ?? "credit:\(today)"
            var open = (receivables[person] ?? []).map(\.open).filter { Allocation.appropriable($0, on: today) }
            let result = Allocation.pay(amount, into: &open)
            if !result.applied.isEmpty {
                try apply(result.applied, person: person, entry: "appropriation", on: today, paymentEvent: nil, eventID: eventID,
                          owner: owner, open: open)
                try notice(owner, person, TransferType.appropriationNotice, amount - result.left)
            }
            if result.left > 0 {
                let interest = try refundInterest(person, refund: result.left, appropriated: amount - result.left)
                entries.append(.init(atenaNo: person, receivableID: nil, entry: "refund", amount: result.left, onDate: today,
                                     bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
                if interest.amount > 0 {
                    entries.append(.init(atenaNo: person, receivableID: nil, entry: "refund-interest", amount: interest.amount,
                                         onDate: today, bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
                }
                refunds.append(.init(atenaNo: person, amount: result.left, interest: interest.amount,
                                     interestFrom: interest.amount > 0 ? interest.from : nil, decidedOn: today,
                                     forHeirs: deceased.contains(person), eventID: eventID))
                try notice(owner, person, TransferType.refundNotice, result.left, forHeirs: deceased.contains(person),
                           interest: interest.amount)
            }
        }
        credit = [:]
        creditOrigins = [:]
    }

    /// The 還付加算金 on a refund decided today: the over-payments of the batch are taken in the
    /// order they came, the appropriated part first; the refund's interest runs from the day after
    /// the latest "last day without interest" among the over-payments it refunds (one base, so the
    /// statute's rounding applies once). Credit from an earlier batch carries none (its refund
    /// would have been decided then; its day is not kept). A year without a rate decides the refund without
    /// interest and says so in the log — add the rate and the clerk corrects it.
    func refundInterest(_ person: String, refund: Int, appropriated: Int) throws -> (amount: Int, from: LocalDate) {
        var skip = appropriated
        var latest: LocalDate?
        var covered = 0
        for origin in creditOrigins[person] ?? [] {
            let used = min(skip, origin.amount)
            skip -= used
            guard origin.amount > used else { continue }
            covered += origin.amount - used
            latest = max(latest ?? origin.after, origin.after)
        }
        guard let latest, covered > 0 else { return (0, today) }
        let settings = try settingsCache[today] ?? LedgerStore(tx).settings(on: today)
        do {
            // On the part this batch's over-payments cover (an older credit's day is not kept).
            let result = try RefundInterest.compute(amount: min(refund, covered), after: latest, decidedOn: today,
                                                    schedule: settings.refundInterest)
            return (result.interest, latest.adding(days: 1))
        } catch {
            Book.log.error("a refund was decided without its interest: add the year to refund_interest_rates",
                           metadata: ["missingYear": "\(error.year)"])
            return (0, today)
        }
    }

    /// Refunds nobody claimed within two years lapse (時効): the unpaid part goes off the books.
    mutating func lapseRefunds(on day: LocalDate) throws {
        for (person, lapsing) in try LedgerStore(tx).lapsingRefunds(on: day) {
            // A batch with several business days: what an earlier day of it lapsed is not stored yet.
            let already = entries.filter { $0.atenaNo == person && $0.entry == "refund-lapsed" }.reduce(0) { $0 + $1.amount }
            let amount = lapsing - already
            guard amount > 0 else { continue }
            entries.append(.init(atenaNo: person, receivableID: nil, entry: "refund-lapsed", amount: amount, onDate: day,
                                 bookedOn: day, paymentEvent: nil, eventID: "business-day:\(day)"))
        }
    }

    // MARK: Business days

    /// Suspense money for someone who now has receivables is released and applied.
    mutating func releaseSuspense(owner: Int) throws {
        let held = try LedgerStore(tx).credits(of: nil).filter { $0.value.suspense > 0 }
        for (person, value) in held.sorted(by: { $0.key < $1.key }) where receivables[person] != nil {
            let eventID = "suspense:\(today)"
            entries.append(.init(atenaNo: person, receivableID: nil, entry: "suspense-release", amount: value.suspense, onDate: today,
                                 bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
            var open = (receivables[person] ?? []).map(\.open)
            let result = Allocation.pay(value.suspense, into: &open)
            try apply(result.applied, person: person, entry: "payment", on: today, paymentEvent: nil, eventID: eventID,
                      owner: owner, open: open)
            if result.left > 0 {
                entries.append(.init(atenaNo: person, receivableID: nil, entry: "overpayment", amount: result.left, onDate: today,
                                     bookedOn: businessDate, paymentEvent: nil, eventID: eventID))
                credit[person, default: 0] += result.left
                creditEvent[person] = eventID
                creditOrigins[person, default: []].append((result.left, RefundInterest.lastDayWithout(.overpaid, paidOn: today)))
            }
        }
    }

    /// 督促 (on the configured day, at most 20 days after the 納期限; with the 督促手数料 if
    /// the city charges one), 催告 (by the configured policy) and 時効 → 不納欠損.
    mutating func dunAndPrescribe(on day: LocalDate, owner: Int) throws {
        let store = LedgerStore(tx)
        let settings = try store.settings(on: day)
        let stops = try store.stops(on: day)
        let held = try store.preliminaryHolds(on: day, holdDays: settings.cvsHoldDays)
        let eventID = "business-day:\(day)"
        try retryHeldLateFees(eventID: eventID, owner: owner)
        for (person, list) in receivables.sorted(by: { $0.key < $1.key }) {
            // A pension 期 is the 年金保険者's to collect (特別徴収義務者): never dunned, never reminded, never
            // written off as the person's arrears (DOMAIN.md 徴収). A deduction that did not happen is moved
            // to 普通徴収 when its result says so.
            for (index, r) in list.enumerated() where r.open.balance > 0 && r.open.method == .ordinary {
                let deadline = r.dunnedOn.map { $0.adding(days: settings.dunningDeadlineDays) }
                if day >= Prescription.completesOn(dueDate: r.open.dueDate, dunningDeadline: deadline),
                   try day >= Prescription.completesOn(dueDate: r.open.dueDate, dunningDeadline: deadline,
                                                       acknowledgedOn: acknowledged(r.open.id, by: day)) {
                    entries.append(.init(atenaNo: person, receivableID: r.open.id, entry: "write-off", amount: r.open.balance,
                                         onDate: day, bookedOn: day, paymentEvent: nil, eventID: eventID))
                    try transfer(owner, person, r.open.id, amount: r.open.balance, balance: 0, on: day, event: "write-off",
                                 topic: TransferType.delinquency)
                    setBalance(person, r.open.id, 0)
                    continue
                }
                // A コンビニ速報 says the money is on its way: no 督促 or 催告 until its 確報 or the hold ends.
                if held.contains(r.open.id) { continue }
                if r.open.kind == .premium, r.dunnedOn == nil, !stops.contains("\(r.open.id)/dunning-stopped"),
                   day >= Prescription.dunningDay(dueDate: r.open.dueDate, daysAfterDue: settings.dunningDaysAfterDue) {
                    entries.append(.init(atenaNo: person, receivableID: r.open.id, entry: "dunning", amount: 0, onDate: day,
                                         bookedOn: day, paymentEvent: nil, eventID: eventID))
                    receivables[person]![index] = .init(open: r.open, atenaNo: person, charged: r.charged, dunnedOn: day,
                                                        reminders: r.reminders)
                    try transfer(owner, person, r.open.id, amount: 0, balance: r.open.balance, on: day, event: "dunning",
                                 topic: TransferType.delinquency)
                    try transfer(owner, person, r.open.id, amount: 0, balance: r.open.balance, on: day, event: "dunning",
                                 topic: TransferType.dunningNotice, destination: Topics.notices)
                    if settings.dunningFee > 0 {
                        let id = try store.receivableIDs([(person, r.open.fiscalYear, r.open.method.rawValue, r.open.installmentNo,
                                                           "dunning-fee", day.adding(days: settings.dunningDeadlineDays))])[0]
                        try charge(person, id, settings.dunningFee, eventID: eventID)
                    }
                } else if let dunned = r.dunnedOn, r.reminders == 0, !stops.contains("\(r.open.id)/reminder-stopped"),
                          day >= dunned.adding(days: settings.dunningDeadlineDays + settings.reminderDaysAfterDunning) {
                    entries.append(.init(atenaNo: person, receivableID: r.open.id, entry: "reminder", amount: 0, onDate: day,
                                         bookedOn: day, paymentEvent: nil, eventID: eventID))
                    receivables[person]![index] = .init(open: r.open, atenaNo: person, charged: r.charged, dunnedOn: dunned,
                                                        reminders: r.reminders + 1)
                    try transfer(owner, person, r.open.id, amount: 0, balance: r.open.balance, on: day, event: "reminder",
                                 topic: TransferType.reminderNotice, destination: Topics.notices)
                }
            }
        }
    }

    /// The person's latest 承認 of a receivable on or before `day`: a payment into it (not one
    /// undone by a 口座振替不能), or a 分納誓約 covering it. Asked only of a receivable whose 時効
    /// would otherwise be complete.
    func acknowledged(_ receivable: Int, by day: LocalDate) throws -> LocalDate? {
        let reversed = Set(entries.filter { $0.entry == "payment" && $0.amount < 0 }.compactMap(\.paymentEvent))
        let pending = entries.filter {
            $0.receivableID == receivable && $0.entry == "payment" && $0.amount > 0 && $0.onDate <= day
                && $0.paymentEvent.map { !reversed.contains($0) } == true
        }.map(\.onDate).max()
        let stored = try LedgerStore(tx).acknowledged(receivable: receivable, by: day)
        return [pending, stored].compactMap { $0 }.max()
    }

    /// At the turn of the year: each person's premiums paid in the past calendar year, for the
    /// municipal tax department's 社会保険料控除.
    mutating func yearEnd(_ year: Int, owner: Int) throws {
        for (person, amount) in try LedgerStore(tx).premiumsPaid(in: year) {
            derived[owner].append(try DerivedEvent(topic: "transfer.municipal-tax.v1", key: person,
                                                   type: TransferType.premiumsPaid,
                                                   body: PremiumsPaidTransfer(atenaNo: person, calendarYear: year, amount: amount)))
        }
    }

    // MARK: Output

    mutating func transfer(_ owner: Int, _ person: String, _ id: Int, amount: Int, balance: Int, on date: LocalDate, event: String,
                           topic type: String = TransferType.receipt, destination: String = Book.insurerTopic) throws {
        guard let r = (receivables[person] ?? []).first(where: { $0.open.id == id }) else { return }
        derived[owner].append(try DerivedEvent(topic: destination, key: person, type: type, body: CollectionTransfer(
            atenaNo: person, fiscalYear: r.open.fiscalYear, installmentNo: r.open.installmentNo, method: r.open.method.rawValue,
            kind: r.open.kind.rawValue, dueDate: r.open.dueDate, amount: amount, balance: balance, onDate: date, event: event)))
    }

    mutating func notice(_ owner: Int, _ person: String, _ type: String, _ amount: Int, forHeirs: Bool = false,
                         interest: Int? = nil) throws {
        derived[owner].append(try DerivedEvent(topic: Topics.notices, key: person, type: type,
                                               body: MoneyNotice(atenaNo: person, amount: amount, decidedOn: today, forHeirs: forHeirs,
                                                                 interest: interest)))
    }

    mutating func write() throws {
        let store = LedgerStore(tx)
        try store.append(entries)
        try store.recordRefunds(refunds)
        entries = []
        refunds = []
    }
}
