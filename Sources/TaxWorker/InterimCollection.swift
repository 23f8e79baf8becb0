import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

/// 仮徴収 (介護保険法 140条, applied by 高確法 110条; DOMAIN.md 徴収): whoever's pension paid the
/// 本徴収 last October–February goes on paying in April, June and August at last February's
/// amount, before the July 本算定 decides the year. The plan holding those deductions is set on the
/// 年度's first business day, once — so the April and June deductions meet receivables, and are
/// never taken for old debts or refunded.
struct InterimCollection {
    let tx: PostgresConnection
    let fiscalYear: Int
    let day: LocalDate
    let eventID: String

    /// Sets the 仮徴収 of the 年度: at last February's amount for whoever's pension paid it (with
    /// 平準化 where configured — a 変更 to the 年金保険者); by the 1/6 rule for a new start (介護保険法
    /// 135条3項・4項, applied by 高確法 110条: a sixth of last 年度's premium, rounded down to 100, at
    /// each deduction — requested, as nothing is deemed notified). Each gets a plan, the insurer's
    /// 期割情報 and the person's 仮徴収額決定通知書.
    func start() throws -> [DerivedEvent] {
        let store = AssessmentStore(tx), tax = TaxStore(tx)
        let flow = PensionRequestFlow(tx: tx)
        let holidays = try tax.holidays()
        let threshold = try tax.levelingThreshold(fiscalYear: fiscalYear)
        var starts: [(person: String, installments: [Installments.Installment], request: (PensionRequests.Kind, String?)?)] = []
        for candidate in try store.interimCandidates(fiscalYear: fiscalYear) {
            let installments = Installments.interim(
                previousFebruary: candidate.february, fiscalYear: fiscalYear,
                leveling: threshold.map { .init(previousAnnual: candidate.previousAnnual, threshold: $0) }, holidays: holidays)
            let leveled = installments.contains { $0.amount != candidate.february } || installments.count < 3
            starts.append((candidate.atenaNo, installments, leveled ? (.change, "leveling") : nil))
        }
        let newStarts = try store.newStartCandidates(fiscalYear: fiscalYear)
        let targets = try tax.targets(of: newStarts.map(\.atenaNo), fiscalYear: fiscalYear)
        for candidate in newStarts {
            // From April, June or August by when the person entered (the 年金保険者's capture window).
            guard case .interim(let month) = PensionRequests.start(insuredSince: candidate.insuredSince, fiscalYear: fiscalYear)
            else { continue }
            let sixth = candidate.previousAnnual / 6 / 100 * 100
            guard sixth > 0, let target = targets[candidate.atenaNo],
                  Installments.pensionDeductible(annualPremium: candidate.previousAnnual, pensionAnnual: target.pensionAnnualAmount,
                                                 pensionPerPayment: target.pensionPerPayment,
                                                 longTermCareDeducted: target.longTermCarePremiumDeducted,
                                                 longTermCarePerPayment: target.longTermCarePremiumPerPayment) else { continue }
            starts.append((candidate.atenaNo,
                           Installments.interim(previousFebruary: sixth, fiscalYear: fiscalYear, holidays: holidays)
                               .filter { $0.dueDate.month >= month },
                           (.request, nil)))
        }
        let facts = try store.people(starts.map(\.person))
        var plans: [AssessmentStore.Plan] = []
        var derived: [DerivedEvent] = []
        for start in starts.sorted(by: { $0.person < $1.person }) where !start.installments.isEmpty {
            plans.append(.init(atenaNo: start.person, fiscalYear: fiscalYear, revision: 1, decidedOn: day, assessmentHistoryNo: 0,
                               installments: start.installments, basis: "interim"))
            if let (kind, reason) = start.request {
                // A 変更 names the payments it changes (June, August — 0 for one not deducted); a 依頼 those it starts with.
                let months = kind == .request ? start.installments.map(\.dueDate.month)
                    : Array(Installments.interimMonths.dropFirst())
                let amounts = months.map { month in
                    PensionRequests.Amount(month: month, amount: start.installments.first { $0.dueDate.month == month }?.amount ?? 0)
                }
                derived.append(try flow.send(start.person, fiscalYear: fiscalYear, kind: kind, amounts: amounts, reason: reason, on: day,
                                             eventID: eventID))
            }
            derived += try events(start.person, insuredNumber: facts[start.person]?.insuredNumber, revision: 1,
                                  installments: start.installments, stopped: false)
        }
        try store.record(plans)
        try tax.recordInterimRun(fiscalYear: fiscalYear, on: day, persons: plans.count)
        return derived
    }

    /// Before the 本算定, a person who is no longer insured here (died, moved out, 資格喪失) is not
    /// deducted after the month of their last insured day: those 仮徴収 go. What the year owes is decided by the 本算定,
    /// which bills the rest by 普通徴収.
    func stop(_ people: [String]) throws -> [DerivedEvent] {
        guard !people.isEmpty else { return [] }
        let store = AssessmentStore(tx)
        let plans = try store.plans(of: people, fiscalYear: fiscalYear).filter(\.value.isInterim)
        guard !plans.isEmpty else { return [] }
        let periods = try store.periods(fiscalYear: fiscalYear, people: plans.keys.sorted())
        let facts = try store.people(plans.keys.sorted())
        var changed: [AssessmentStore.Plan] = []
        var derived: [DerivedEvent] = []
        for (person, plan) in plans.sorted(by: { $0.key < $1.key }) {
            // A known 喪失日, even one still ahead (a death is lost the next day): the 年金保険者 deducts
            // nothing from the month after (介護保険法 137条4項, 138条).
            guard !Self.continuing(periods[person] ?? [], on: day),
                  let lost = (periods[person] ?? []).compactMap(\.lostOn).max() else { continue }
            // The 年金保険者 deducts through the month of the last insured day, not after it (介護保険法
            // 137条4項): decided by the 喪失日, not by the day koki learns of it.
            let cutoff = lost.adding(days: -1).firstOfMonth.adding(months: 1)
            let kept = plan.installments.filter { $0.dueDate < cutoff }
            guard kept != plan.installments else { continue }
            changed.append(.init(atenaNo: person, fiscalYear: fiscalYear, revision: plan.revision + 1, decidedOn: day,
                                 assessmentHistoryNo: 0, installments: kept, basis: "interim"))
            derived += try PensionRequestFlow(tx: tx).follow(person, fiscalYear: fiscalYear, old: plan.installments, new: kept,
                                                             lost: true, stopReason: "lost", on: day, eventID: eventID)
            derived += try events(person, insuredNumber: facts[person]?.insuredNumber, revision: plan.revision + 1,
                                  installments: kept, stopped: true)
        }
        try store.record(changed)
        return derived
    }

    /// Whether the deductions may go on: insured on `day` with no 喪失日 known.
    static func continuing(_ periods: [AssessmentStore.Period], on day: LocalDate) -> Bool {
        periods.contains { $0.acquiredOn <= day && $0.lostOn == nil }
    }

    func events(_ person: String, insuredNumber: String?, revision: Int, installments: [Installments.Installment],
                stopped: Bool) throws -> [DerivedEvent] {
        let bodies = AssessmentRun.bodies(installments)
        return [
            try AssessmentRun.installmentsEvent(person, fiscalYear: fiscalYear, revision: revision, decidedOn: day, bodies: bodies,
                                                provisional: false),
            try DerivedEvent(topic: Topics.notices, key: person, type: TransferType.interimCollectionNotice, body:
                InterimCollectionNotice(atenaNo: person, insuredNumber: insuredNumber, fiscalYear: fiscalYear,
                                        decidedOn: Wareki.format(day), installments: bodies, stopped: stopped)),
        ]
    }
}
