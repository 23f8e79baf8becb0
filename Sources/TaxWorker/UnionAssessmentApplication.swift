import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

/// Applies one `koiki.assessment-decided`: the union's 賦課 is authoritative for money (DOMAIN.md
/// "Who does what"). The decision is kept with its revision; an older revision than one kept is
/// history only; one beyond the 2-year limit is refused for billing and opens a discrepancy. Otherwise
/// the plan is revised to the union's amount the way a 更正 is (what fell due stays; a decrease
/// lowers the unpaid 期 due first; what was paid beyond it becomes an over-payment), marked as the
/// union's; and koki's own figure is compared with it (突合).
struct UnionAssessmentApplication {
    let tx: PostgresConnection
    let businessDate: LocalDate?
    /// Read once per batch: every decision of it needs them.
    let schedule: Installments.OrdinarySchedule
    let holidays: Set<LocalDate>

    init(tx: PostgresConnection, businessDate: LocalDate?) throws {
        self.tx = tx
        self.businessDate = businessDate
        schedule = try TaxStore(tx).ordinarySchedule()
        holidays = try TaxStore(tx).holidays()
    }

    func apply(_ decision: UnionAssessmentDecision, eventID: String) throws -> [DerivedEvent] {
        let store = AssessmentStore(tx), union = UnionStore(tx), tax = TaxStore(tx)
        let person = decision.atenaNo, fiscalYear = decision.fiscalYear
        // The plan is decided no earlier than the union's decision; the work items are dated by
        // the business day they are found on (the office's daily summary counts by it).
        let day = max(businessDate ?? decision.decidedOn, decision.decidedOn)
        let found = businessDate ?? decision.decidedOn
        if let last = try union.lastRevision(of: person, fiscalYear: fiscalYear), last >= decision.revision {
            try union.insert(decision, applied: false, refusedReason: "superseded", eventID: eventID, on: businessDate)
            return []
        }
        let plan = try store.plans(of: [person], fiscalYear: fiscalYear)[person]
        let firstDue = AssessmentLimit.firstDueDate(plan: plan?.installments ?? [], fiscalYear: fiscalYear, schedule: schedule,
                                                    holidays: holidays)
        let koki = try store.current(of: [person], fiscalYear: fiscalYear)[person]
        guard AssessmentLimit.allows(decision.decidedOn, firstDueDate: firstDue) else {
            try union.insert(decision, applied: false, refusedReason: "beyond-limit", eventID: eventID, on: businessDate)
            let billed = plan.map { String($0.installments.reduce(0) { $0 + $1.amount }) }
            try union.open(.init(atenaNo: person, fiscalYear: fiscalYear, kind: "beyond-limit", kokiValue: billed,
                                 unionValue: String(decision.annualPremium)), on: found, eventID: eventID)
            return []
        }
        try union.insert(decision, applied: true, refusedReason: nil, eventID: eventID, on: businessDate)
        let applied = UnionStore.Applied(revision: decision.revision, annualPremium: decision.annualPremium,
                                         reduction: decision.kokiReduction, insuredNo: decision.insuredNo)
        try union.reconcile(person, fiscalYear: fiscalYear, koki: koki.map { ($0.premium, $0.reduction) }, union: applied,
                            on: found, eventID: eventID)

        // Money follows the union.
        let previous = plan.map { $0.installments.reduce(0) { $0 + $1.amount } }
        let ended = try PensionRequestStore(tx).ended(of: [person], fiscalYear: fiscalYear).contains(person)
        let periods = try store.periods(fiscalYear: fiscalYear, people: [person])[person] ?? []
        let insured = InterimCollection.continuing(periods, on: day)
        let continuing = insured && !ended
        let installments = AssessmentRun.plan(
            for: decision.annualPremium, current: plan,
            target: try tax.targets(of: [person], fiscalYear: fiscalYear)[person],
            previousFebruary: try store.previousFebruary(of: [person], fiscalYear: fiscalYear)[person],
            paid: try store.settled(of: [person], fiscalYear: fiscalYear)[person] ?? [:], continuing: continuing,
            insuredSince: periods.filter { $0.acquiredOn <= day }.map(\.acquiredOn).max(),
            fiscalYear: fiscalYear, decidedOn: day,
            schedule: schedule, holidays: holidays)
        if let plan, plan.installments == installments, try store.planBasis(of: person, fiscalYear: fiscalYear) == "union" {
            return []
        }
        let revision = (plan?.revision ?? 0) + 1
        try store.record([.init(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: day,
                                assessmentHistoryNo: koki?.historyNo ?? 0, installments: installments, basis: "union")])
        let enrollments = try NoticeStore(tx).dated(of: [person]).enrollment
        let requests = try PensionRequestFlow(tx: tx).follow(person, fiscalYear: fiscalYear, old: plan?.installments ?? [],
                                                             new: installments, lost: !insured, stopReason: "premium-decreased",
                                                             on: day, eventID: eventID)
        return try requests + AssessmentRun.planEvents(
            person: person, insuredNumber: decision.insuredNo, fiscalYear: fiscalYear, decidedOn: day,
            premium: decision.annualPremium, previousPremium: previous, months: decision.collectingMonths.count,
            reduction: decision.kokiReduction, installments: installments, revision: revision, provisional: false,
            departments: NoticeStore.departments(enrollments[person] ?? [], on: day))
    }
}
