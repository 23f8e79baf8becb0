import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Logging
import Postgres
import WorkerRuntime

/// koki-tax-worker's handler: 所得, 賦課, 期割 and 負担割合. Facts are stored as received;
/// then every affected household's premiums are recomputed for the 年度 concerned, once the
/// July 本算定 of that 年度 has run (which the business day of July triggers).
public struct TaxHandler: EventHandler {
    static let log = Logger(label: "koki.tax")
    public static let topics = ["tax.income.v1", "pension.deduction-targets.v1", "counter.applications.v1",
                                Topics.residentUpdates, UnionDecision.topic, "clock.business-day.v1"]

    public let acceptedTypes = TaxCommand.acceptedTypes

    /// Whose business day must come first (the resident worker's: the 本算定 reads its 資格).
    let after: CalendarStore.Worker?
    /// Which business days are accepted (the same rule in every worker).
    let clock: ClockRule

    public init(after: CalendarStore.Worker? = .resident, clock: ClockRule = .standard) {
        self.after = after
        self.clock = clock
    }

    /// A register change the resident worker decided on a business day this worker has not
    /// reached yet waits for that day: its tick follows (the resident worker reached the day
    /// through it), and a premium changes as of the day the change became known — which
    /// installments have fallen due and stand depends on that day, and must not depend on
    /// whether the change overtook the tick (a tick waiting for the resident worker is retried
    /// while other topics go on). Updates decided before the clock first ticked, or by a
    /// resident worker this one does not follow, do not wait.
    static func waitForTheDayOf(_ updates: [ResidentUpdate], after: CalendarStore.Worker?, in tx: PostgresConnection) throws {
        guard after == .resident, let latest = updates.map(\.asOf).max(),
              let own = try CalendarStore(tx, worker: .tax).businessDate(), latest > own,
              let register = try CalendarStore(tx, worker: .resident).businessDate(), register >= latest else { return }
        throw NotYet("a register change is for \(latest); the tax worker is at \(own)")
    }

    public func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
        var rejected: [Int: Rejection] = [:]
        var steps: [(index: Int, event: InboundEvent, command: TaxCommand)] = []
        for (index, event) in events.enumerated() {
            do {
                steps.append((index, event, try TaxCommand(event)))
            } catch {
                rejected[index] = error
            }
        }
        // Refused days never wait for another worker: a tick the register refused is never reached.
        let refused = try CalendarStore(tx, worker: .tax).admitDays(
            &steps, rule: clock, day: { if case .clock(let date) = $0.command { date } else { nil } }, index: \.index)
        for (index, reason) in refused { rejected[index] = Rejection(.validation, reason) }
        try Self.waitForTheDayOf(steps.compactMap { if case .residentUpdate(let update) = $0.command { update } else { nil } },
                                 after: after, in: tx)
        var derived = Array(repeating: [DerivedEvent](), count: events.count)
        let tax = TaxStore(tx)

        // Facts, as received.
        var incomes: [(eventID: String, kind: String, record: IncomeRecord)] = []
        var targets: [(eventID: String, target: PensionDeductionTarget)] = []
        var exemptions: [TaxStore.Exemption] = []
        var dependents: [NoticeStore.Application] = []
        for step in steps {
            switch step.command {
            case .income(let record, let kind):
                incomes.append((step.event.id, kind == .assessed ? "assessed" : "corrected", record))
            case .pensionTarget(let target):
                targets.append((step.event.id, target))
            case .exemption(let application, let body):
                exemptions.append(.init(atenaNo: application.atenaNo, eventID: step.event.id, applicationNo: application.applicationNo,
                                        reason: body.reason, fiscalYear: body.fiscalYear, percent: body.reductionPercent,
                                        decidedDate: body.decidedDate, fromDate: application.receivedDate))
            case .formerDependent(let application, let body):
                dependents.append(.init(atenaNo: application.atenaNo, eventID: step.event.id, applicationNo: application.applicationNo,
                                        kind: "former-dependent", effectiveDate: body.dependentUntil,
                                        receivedDate: application.receivedDate, detail: body.insurerName, extra: nil))
            case .residentUpdate, .unionAssessment, .requestResult, .paymentMethodChange, .clock, .notMine:
                break
            }
        }
        try tax.insertIncomes(incomes)
        try tax.insertTargets(targets)
        try tax.insertExemptions(exemptions)
        try NoticeStore(tx).insertFormerDependents(dependents)

        // 所得・課税情報 for the insurer: only about people it may receive it for — on arrival,
        // or when the person (or a member of the household they head) becomes insured.
        var owners: [String: Int] = [:]
        for step in steps {
            switch step.command {
            case .income(let record, _): owners[record.atenaNo] = step.index
            case .residentUpdate(let update): owners[update.atenaNo] = step.index
            default: break
            }
        }
        let updated = steps.compactMap { step -> String? in
            if case .residentUpdate(let update) = step.command { return update.atenaNo }
            return nil
        }
        for head in try tax.heads(of: updated) where owners[head] == nil {
            owners[head] = owners.values.max()
        }
        let recipients = try tax.incomeRecipients(Array(owners.keys))
        for record in try tax.unsentIncomes(of: recipients.sorted()) {
            derived[owners[record.atenaNo]!].append(try DerivedEvent(topic: AssessmentRun.insurerTopic, key: record.atenaNo,
                                                                     type: TransferType.incomeRecord, body: record))
        }

        // Which 年度 to recompute, for whom, and why.
        // A business day is the tax worker's once the register is: the 本算定 and every premium of
        // the day read the qualifications the resident worker keeps for that day.
        let days = steps.compactMap { step -> LocalDate? in if case .clock(let day) = step.command { day } else { nil } }
        if let after, let reason = try CalendarStore.behind(after, reaching: days, in: tx) { throw NotYet(reason) }
        let calendar = CalendarStore(tx, worker: .tax)
        var businessDate = try calendar.businessDate()
        /// The business date each clock step closes (the one before it).
        var closes: [Int: LocalDate] = [:]
        for step in steps {
            guard case .clock(let date) = step.command else { continue }
            if let previous = businessDate, previous < date { closes[step.index] = previous }
            businessDate = try calendar.advance(to: date)
        }
        let assessed = try tax.assessedYears()
        let currentYear = businessDate.map(FiscalMonths.fiscalYear(of:))
        var work: [Int: (people: Set<String>, reasons: Set<String>, owner: Int, changes: [String: LocalDate])] = [:]
        func recompute(_ person: String, _ year: Int?, _ reason: String, _ owner: Int, householdChangedOn: LocalDate? = nil) {
            guard let year, assessed.contains(year) else { return }
            var entry = work[year] ?? ([], [], owner, [:])
            entry.people.insert(person)
            entry.reasons.insert(reason)
            entry.owner = max(entry.owner, owner)
            if let householdChangedOn { entry.changes[person] = max(entry.changes[person] ?? householdChangedOn, householdChangedOn) }
            work[year] = entry
        }
        var yearly: [(year: Int, date: LocalDate, owner: Int)] = []
        // The first business day of a 年度 sets its 仮徴収, once (not after its 本算定: a store that
        // starts mid-year has no 仮徴収 to carry).
        let interimYears = try tax.interimYears()
        var interim: [(year: Int, date: LocalDate, owner: Int)] = []
        for step in steps {
            switch step.command {
            case .income(let record, _): recompute(record.atenaNo, record.incomeYear + 1, "income", step.index)
            case .pensionTarget(let target): recompute(target.atenaNo, target.fiscalYear, "pension-deduction", step.index)
            case .exemption(let application, let body): recompute(application.atenaNo, body.fiscalYear, "exemption", step.index)
            case .formerDependent(let application, _): recompute(application.atenaNo, currentYear, "former-dependent", step.index)
            case .residentUpdate(let update):
                // A change of household re-judges the 負担割合 from the next month; a 資格 change of the
                // person's own is its 取得日 / 喪失日.
                let changed = update.previousHouseholdNo != nil ? update.effectiveDate : nil
                recompute(update.atenaNo, FiscalMonths.fiscalYear(of: update.effectiveDate), "resident", step.index,
                          householdChangedOn: changed)
                recompute(update.atenaNo, currentYear, "resident", step.index, householdChangedOn: changed)
            case .clock(let date):
                // The July business day runs the 本算定 of the 年度, once.
                let year = FiscalMonths.fiscalYear(of: date)
                if !interimYears.contains(year), !assessed.contains(year), !interim.contains(where: { $0.year == year }) {
                    interim.append((year, date, step.index))
                }
                if (date.month >= 7 || date.month <= 3), !assessed.contains(year), !yearly.contains(where: { $0.year == year }) {
                    yearly.append((year, date, step.index))
                }
            case .unionAssessment, .requestResult, .paymentMethodChange, .notMine:
                break
            }
        }
        // Every 年度 this batch writes, locked in one order (two batches never wait for each other in a circle).
        let unionYears = steps.flatMap { step -> [Int] in
            switch step.command {
            case .unionAssessment(let decision): [decision.fiscalYear]
            case .requestResult(let answer): [answer.fiscalYear]
            case .paymentMethodChange(let application, let notice):
                PensionRequestFlow.accountTransferYears(application, notice, businessDate: businessDate)
            default: []
            }
        }
        let updates = steps.contains { if case .residentUpdate = $0.command { true } else { false } }
        let interimStops = updates ? [currentYear].compactMap { $0 } : []
        for year in Set(yearly.map(\.year) + work.keys + unionYears + interim.map(\.year) + interimStops).sorted() {
            try tax.lockAssessments(fiscalYear: year)
        }
        for (year, date, owner) in interim {
            derived[owner] += try InterimCollection(tx: tx, fiscalYear: year, day: date, eventID: events[owner].id).start()
        }
        // Before the 本算定, a 資格喪失 stops the 仮徴収 not yet due.
        if let currentYear, let businessDate, !assessed.contains(currentYear),
           interimYears.contains(currentYear) || interim.contains(where: { $0.year == currentYear }) {
            let lost = steps.compactMap { step -> (String, Int)? in
                if case .residentUpdate(let update) = step.command { (update.atenaNo, step.index) } else { nil }
            }
            if let owner = lost.map(\.1).max() {
                derived[owner] += try InterimCollection(tx: tx, fiscalYear: currentYear, day: businessDate, eventID: events[owner].id)
                    .stop(Array(Set(lost.map(\.0))).sorted())
            }
        }
        // The 年金保険者's answers to koki's 特別徴収 requests, and 口座振替 asked for, in order — before
        // the day's 本算定 and recomputations, which must see a year's 特別徴収 ended.
        let flow = PensionRequestFlow(tx: tx)
        for step in steps {
            do {
                switch step.command {
                case .requestResult(let answer):
                    derived[step.index] += try flow.apply(answer, businessDate: businessDate, eventID: step.event.id)
                case .paymentMethodChange(let application, let notice):
                    derived[step.index] += try flow.switchToAccountTransfer(application, notice, businessDate: businessDate,
                                                                            eventID: step.event.id)
                default: continue
                }
            } catch let rejection as Rejection {
                rejected[step.index] = rejection
            }
        }
        for (year, date, owner) in yearly {
            // Not on rates the union has not decided, unless approved on the record: the run waits
            // (each business day asks again) — a 本算定 billed on guessed rates is a 更正 for everyone.
            if let rates = try tax.rates(for: year), rates.provisional, try !tax.provisionalRatesApproved(fiscalYear: year) {
                TaxHandler.log.warning("the July assessment (honsantei) waits: the rates of the fiscal year are provisional and not approved",
                                       metadata: ["fiscalYear": "\(year)", "businessDate": "\(date)"])
                continue
            }
            let run = AssessmentRun(tx: tx, fiscalYear: year, decidedOn: date, reason: "honsantei", eventID: events[owner].id)
            let result = try run.run(people: nil)
            try tax.recordRun(fiscalYear: year, on: date, assessed: result.assessed)
            derived[owner] += result.derived
        }
        for (year, entry) in work.sorted(by: { $0.key < $1.key }) {
            let run = AssessmentRun(tx: tx, fiscalYear: year, decidedOn: businessDate ?? LocalDate(year: year, month: 7, day: 1)!,
                                    reason: entry.reasons.sorted().joined(separator: ","), eventID: events[entry.owner].id)
            derived[entry.owner] += try run.run(people: entry.people.sorted(), householdChanges: entry.changes).derived
        }
        // The union's 賦課: kept with its revision; the latest governs billing (DOMAIN.md "Who does what").
        if steps.contains(where: { if case .unionAssessment = $0.command { true } else { false } }) {
            let application = try UnionAssessmentApplication(tx: tx, businessDate: businessDate)
            for step in steps {
                guard case .unionAssessment(let decision) = step.command else { continue }
                derived[step.index] += try application.apply(decision, eventID: step.event.id)
            }
        }
        // Each business day opens with the office's 突合 summary of the day before (counts only):
        // the open discrepancies by kind, and what opened and closed that day.
        for step in steps {
            guard case .clock = step.command, let date = closes[step.index] else { continue }
            let union = UnionStore(tx)
            let counts = try union.openCounts()
            let movement = try union.movement(on: date)
            derived[step.index].append(try DerivedEvent(
                topic: Topics.notices, key: "office", type: TransferType.reconciliationSummary,
                body: ReconciliationSummary(date: date, open: counts.sorted { $0.key < $1.key }.map { .init(kind: $0.key, open: $0.value) },
                                            openedToday: movement.opened, closedToday: movement.closed)))
        }
        return events.indices.map { rejected[$0].map(EventOutcome.rejected) ?? .applied(derived[$0]) }
    }
}
