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

    /// Sets the 仮徴収 of the 年度 (with 平準化 where configured): a plan, the insurer's 期割情報
    /// and the person's 仮徴収額決定通知書.
    func start() throws -> [DerivedEvent] {
        let store = AssessmentStore(tx), tax = TaxStore(tx)
        let candidates = try store.interimCandidates(fiscalYear: fiscalYear)
        let holidays = try tax.holidays()
        let threshold = try tax.levelingThreshold(fiscalYear: fiscalYear)
        let facts = try store.people(candidates.map(\.atenaNo))
        var plans: [AssessmentStore.Plan] = []
        var derived: [DerivedEvent] = []
        for candidate in candidates {
            let installments = Installments.interim(
                previousFebruary: candidate.february, fiscalYear: fiscalYear,
                leveling: threshold.map { .init(previousAnnual: candidate.previousAnnual, threshold: $0) }, holidays: holidays)
            guard !installments.isEmpty else { continue }
            plans.append(.init(atenaNo: candidate.atenaNo, fiscalYear: fiscalYear, revision: 1, decidedOn: day,
                               assessmentHistoryNo: 0, installments: installments, basis: "interim"))
            derived += try events(candidate.atenaNo, insuredNumber: facts[candidate.atenaNo]?.insuredNumber, revision: 1,
                                  installments: installments, stopped: false)
        }
        try store.record(plans)
        try tax.recordInterimRun(fiscalYear: fiscalYear, on: day, persons: plans.count)
        return derived
    }

    /// Before the 本算定, a person who is no longer insured here (died, moved out, 資格喪失) is not
    /// deducted any more: the 仮徴収 not yet due goes. What the year owes is decided by the 本算定,
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
            guard !Self.continuing(periods[person] ?? [], on: day) else { continue }
            let kept = plan.installments.filter { $0.dueDate <= day }
            guard kept != plan.installments else { continue }
            changed.append(.init(atenaNo: person, fiscalYear: fiscalYear, revision: plan.revision + 1, decidedOn: day,
                                 assessmentHistoryNo: 0, installments: kept, basis: "interim"))
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
        let bodies = installments.map { InstallmentBody(no: $0.no, dueDate: $0.dueDate, amount: $0.amount, method: $0.method.rawValue) }
        return [
            try DerivedEvent(topic: AssessmentRun.insurerTopic, key: person, type: TransferType.installments, body:
                InstallmentsTransfer(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: day,
                                     installments: bodies, provisional: false)),
            try DerivedEvent(topic: Topics.notices, key: person, type: TransferType.interimCollectionNotice, body:
                InterimCollectionNotice(atenaNo: person, insuredNumber: insuredNumber, fiscalYear: fiscalYear,
                                        decidedOn: Wareki.format(day), installments: bodies, stopped: stopped)),
        ]
    }
}
