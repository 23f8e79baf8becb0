import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres
import WorkerRuntime

/// Recomputes 賦課, 期割 and 負担割合 of a 年度 for some people's households (or, for the July
/// 本算定, for everyone insured), set-based: a fixed number of statements whatever the
/// number of people. Writes a decision only where a figure changed, and derives the
/// transfers and notices for it.
struct AssessmentRun {
    let tx: PostgresConnection
    let fiscalYear: Int
    let decidedOn: LocalDate
    let reason: String
    let eventID: String

    static let insurerTopic = "transfer.koiki.v1"

    /// What the run derived, and how many people it assessed.
    struct Result {
        var derived: [DerivedEvent] = []
        var assessed = 0
    }

    /// `householdChanges`: people whose household changed, with the day it did (a 負担割合
    /// re-judgment takes effect from the first of the next month).
    func run(people: [String]?, householdChanges: [String: LocalDate] = [:]) throws -> Result {
        var result = Result()
        let store = AssessmentStore(tx), tax = TaxStore(tx)
        guard let rates = try tax.rates(for: fiscalYear) else { return result }
        let fyStart = LocalDate(year: fiscalYear, month: 4, day: 1)!

        // Everyone whose premium may change: the given people and their households' members.
        var candidates: [String]? = nil
        if let people {
            let own = try store.memberships(fiscalYear: fiscalYear, people: people, households: [])
            let all = try store.memberships(fiscalYear: fiscalYear, people: people, households: Array(Set(own.map(\.householdNo))))
            candidates = Array(Set(all.map(\.atenaNo)).union(people))
        }
        let periods = try store.periods(fiscalYear: fiscalYear, people: candidates)
        let months = periods.mapValues { list in
            FiscalMonths.insured(list.map { ($0.acquiredOn, $0.lostOn) }, fiscalYear: fiscalYear)
        }.filter { !$0.value.isEmpty }
        let insured = months.keys.sorted()
        guard !insured.isEmpty else { return result }

        let own = try store.memberships(fiscalYear: fiscalYear, people: insured, households: [])
        let memberships = try store.memberships(fiscalYear: fiscalYear, people: insured,
                                                households: Array(Set(own.map(\.householdNo))))
        let byPerson = Dictionary(grouping: memberships, by: \.atenaNo)
        let byHousehold = Dictionary(grouping: memberships, by: \.householdNo)

        // The household each insured person is judged in: as of 1 April, or the 取得日.
        func insuredOn(_ person: String, _ day: LocalDate) -> Bool {
            periods[person]?.contains { $0.acquiredOn <= day && ($0.lostOn.map { day < $0 } ?? true) } ?? false
        }
        var judgment: [String: (day: LocalDate, household: String?)] = [:]
        for person in insured {
            let first = periods[person]!.map(\.acquiredOn).filter { $0 >= fyStart }.min()
            let day = insuredOn(person, fyStart) ? fyStart : first ?? fyStart
            judgment[person] = (day, Self.membership(byPerson[person] ?? [], on: day)?.householdNo)
        }
        func judgedMembers(_ household: String?, _ day: LocalDate, of person: String) -> [(String, Bool, Bool)] {
            guard let household else { return [(person, true, true)] }
            let members = (byHousehold[household] ?? []).filter { $0.from <= day && ($0.through.map { day <= $0 } ?? true) }
            var seen = Set<String>()
            var judged = members.compactMap { m -> (String, Bool, Bool)? in
                guard seen.insert(m.atenaNo).inserted else { return nil }
                let isInsured = insuredOn(m.atenaNo, day)
                let head = m.relationshipToHead == "head"
                return isInsured || head ? (m.atenaNo, isInsured, head) : nil
            }
            if !seen.contains(person) { judged.append((person, true, false)) }
            return judged
        }
        var needed = Set(insured)
        for person in insured {
            let (day, household) = judgment[person]!
            needed.formUnion(judgedMembers(household, day, of: person).map(\.0))
        }
        // 負担割合: each insured person's day of judgment and the household on it (everyone in it:
        // the insured, and the members aged 70–74 for the 基準収入額).
        var burdenDays: [String: (day: LocalDate, household: String?)] = [:]
        for person in insured {
            let acquired = judgment[person]!.day > fyStart ? judgment[person]!.day : nil
            let households = Set((byPerson[person] ?? []).map(\.householdNo))
            let changed = households.flatMap { byHousehold[$0] ?? [] }.map(\.atenaNo).compactMap { householdChanges[$0] }
                + [householdChanges[person]].compactMap { $0 }
            let day = BurdenRatio.effectiveFrom(fiscalYear: fiscalYear, acquiredOn: acquired, householdChangedOn: changed.max())
            let household = Self.membership(byPerson[person] ?? [], on: day)?.householdNo
            burdenDays[person] = (day, household)
            needed.formUnion((household.flatMap { byHousehold[$0] } ?? [])
                .filter { $0.from <= day && ($0.through.map { day <= $0 } ?? true) }.map(\.atenaNo))
        }
        let everyone = Array(needed)
        let incomes = try tax.incomes(of: everyone, incomeYear: fiscalYear - 1)
        let facts = try store.people(everyone)
        let targets = try tax.targets(of: insured, fiscalYear: fiscalYear)
        let exemptions = try tax.exemptions(of: insured, fiscalYear: fiscalYear)
        let dependents = try tax.formerDependents(of: insured)
        let previousFebruary = try store.previousFebruary(of: insured, fiscalYear: fiscalYear)
        let current = try store.current(of: insured, fiscalYear: fiscalYear)
        var lastHistory = try store.lastHistoryNumbers(insured, fiscalYear: fiscalYear)
        let plans = try store.plans(of: insured, fiscalYear: fiscalYear)
        let settled = try store.settled(of: plans.keys.sorted(), fiscalYear: fiscalYear)
        let union = UnionStore(tx)
        let unionApplied = try union.applied(of: insured, fiscalYear: fiscalYear)
        let source = try union.source(fiscalYear: fiscalYear)
        let enrollments = try NoticeStore(tx).dated(of: insured).enrollment
        let holidays = try tax.holidays()
        let schedule = try tax.ordinarySchedule()
        let ended = try PensionRequestStore(tx).ended(of: insured, fiscalYear: fiscalYear)
        let requests = PensionRequestFlow(tx: tx)
        let incomeAgeDay = LocalDate(year: fiscalYear - 1, month: 12, day: 31)!

        func income(_ person: String) -> PersonIncome? {
            guard let record = incomes[person], record.declared, let birth = facts[person]?.birthDate else { return nil }
            return Self.income(record, aged65: birth.legalAge(on: incomeAgeDay) >= 65)
        }
        func continuing(_ person: String) -> Bool {
            InterimCollection.continuing(periods[person] ?? [], on: decidedOn) && !ended.contains(person)
        }
        var reductions: [String: LowIncomeReduction] = [:]
        var decisions: [AssessmentStore.Decision] = []
        var newPlans: [AssessmentStore.Plan] = []

        for person in insured {
            guard let birth = facts[person]?.birthDate else { continue }
            result.assessed += 1
            let (day, household) = judgment[person]!
            let judged = judgedMembers(household, day, of: person)
            let key = "\(household ?? person)|\(day)"
            let reduction = reductions[key] ?? LowIncomeReduction.judge(judged.compactMap { member in
                facts[member.0].map { LowIncomeReduction.Judged(insured: member.1, head: member.2, birthDate: $0.birthDate,
                                                                income: income(member.0)) }
            }, fiscalYear: fiscalYear, rates: rates)
            reductions[key] = reduction
            let personPeriods = periods[person] ?? []
            let formerSince = dependents[person].map { until in
                personPeriods.map(\.acquiredOn).filter { $0 > until }.min() ?? until.adding(days: 1)
            }
            let certifiedOn = personPeriods.filter { $0.reason == AcquisitionReason.disabilityCertified.rawValue }
                .map(\.acquiredOn).min()
            // The premium before 減免, and the 期割 for it (a current plan as it stands without its 減免).
            let assessed = Premium.assess(.init(birthDate: birth, income: income(person), months: months[person]!,
                                                formerDependentSince: formerSince, disabilityCertifiedOn: certifiedOn),
                                          reduction: reduction, rates: rates)
            let currentPlan = plans[person].map { plan in
                AssessmentStore.CurrentPlan(revision: plan.revision, installments: plan.installments.map(\.withoutExemption),
                                            basis: plan.basis)
            }
            var installments = Self.plan(for: assessed.premium, current: currentPlan, target: targets[person],
                                         previousFebruary: previousFebruary[person], paid: settled[person] ?? [:],
                                         continuing: continuing(person),
                                         insuredSince: personPeriods.filter { $0.acquiredOn <= decidedOn }.map(\.acquiredOn).max(),
                                         fiscalYear: fiscalYear, decidedOn: decidedOn,
                                         schedule: schedule, holidays: holidays)
            // 減免: the 期 due from its date are lowered; the premium is what the 期 then add up to.
            var assessment = assessed
            if let exemption = exemptions[person] {
                installments = Installments.exempt(installments, percent: exemption.percent, from: exemption.from)
                assessment = assessed.exempted(by: assessed.premium - installments.reduce(0) { $0 + $1.amount })
            }
            let historyNo = (lastHistory[person] ?? 0) + 1
            let figures = Self.stored(assessment, historyNo: historyNo)
            if let before = current[person], before.figures == figures.figures, before.reduction == figures.reduction { continue }
            lastHistory[person] = historyNo
            let decision = AssessmentStore.Decision(
                atenaNo: person, fiscalYear: fiscalYear, historyNo: historyNo, insuredNumber: facts[person]?.insuredNumber,
                decidedOn: decidedOn, reason: reason, householdNo: household, new: figures,
                incomeRate: assessment.components.first.map { "\($0.incomeRate)" } ?? "0",
                components: Self.json(assessment.components), before: current[person], eventID: eventID)
            decisions.append(decision)
            try derive(decision, into: &result)
            // 突合: koki's figure against the union's decision, if one governs.
            try union.reconcile(person, fiscalYear: fiscalYear, koki: (assessment.premium, figures.reduction),
                                union: unionApplied[person], on: decidedOn, eventID: eventID)
            // Billing follows the union once it decided; before, koki's figure (provisional) unless
            // the 年度 waits for the union; never a change after the 2-year limit.
            if unionApplied[person] != nil || source == "union" { continue }
            let firstDue = AssessmentLimit.firstDueDate(plan: plans[person]?.installments ?? [], fiscalYear: fiscalYear,
                                                        schedule: schedule, holidays: holidays)
            guard AssessmentLimit.allows(decidedOn, firstDueDate: firstDue) else {
                try union.open(.init(atenaNo: person, fiscalYear: fiscalYear, kind: "beyond-limit", kokiValue: String(assessment.premium),
                                     unionValue: nil), on: decidedOn, eventID: eventID)
                continue
            }
            let revision = (plans[person]?.revision ?? 0) + 1
            newPlans.append(.init(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: decidedOn,
                                  assessmentHistoryNo: historyNo, installments: installments))
            result.derived += try requests.follow(person, fiscalYear: fiscalYear, old: plans[person]?.installments ?? [],
                                                  new: installments,
                                                  lost: !InterimCollection.continuing(periods[person] ?? [], on: decidedOn),
                                                  stopReason: "premium-decreased",
                                                  on: decidedOn, eventID: eventID)
            result.derived += try Self.planEvents(
                person: person, insuredNumber: decision.insuredNumber, fiscalYear: fiscalYear, decidedOn: decidedOn,
                premium: assessment.premium, previousPremium: decision.before?.premium, months: assessment.months,
                reduction: assessment.reduction.rawValue, installments: installments, revision: revision, provisional: true,
                departments: NoticeStore.departments(enrollments[person] ?? [], on: decidedOn))
        }
        try store.record(decisions)
        try store.record(newPlans)
        try burdenRatios(insured: insured, days: burdenDays, insuredOn: insuredOn, byHousehold: byHousehold, income: income,
                         facts: facts, enrollments: enrollments, into: &result)
        return result
    }

    /// The 期割 for `amount`: after a 仮徴収, the 本徴収 (or, when the deduction does not continue,
    /// 普通徴収 for the rest); a revision of the current plan (the way a 更正 revises it); or a new
    /// plan — 特別徴収 where the conditions hold and last February's amount exists, else 普通徴収.
    /// `continuing`: the person is still insured here, so the 年金保険者 may go on deducting;
    /// `insuredSince`: the 取得日 of the period in force (a mid-year entrant starts next 年度).
    static func plan(for amount: Int, current: AssessmentStore.CurrentPlan?, target: PensionDeductionTarget?, previousFebruary: Int?,
                     paid: [Installments.Key: Int], continuing: Bool, insuredSince: LocalDate?, fiscalYear: Int, decidedOn: LocalDate,
                     schedule: Installments.OrdinarySchedule, holidays: Set<LocalDate>) -> [Installments.Installment] {
        // `continuing` false also when the year's 特別徴収 ended (a refusal, a 中止).
        let deductible = target.map {
            Installments.pensionDeductible(annualPremium: amount, pensionAnnual: $0.pensionAnnualAmount,
                                           pensionPerPayment: $0.pensionPerPayment,
                                           longTermCareDeducted: $0.longTermCarePremiumDeducted,
                                           longTermCarePerPayment: $0.longTermCarePremiumPerPayment)
        }
        if let current, current.isInterim {
            // The 年金保険者 goes on from the 仮徴収 unless this year's 対象者情報 says it cannot.
            return Installments.afterInterim(amount, interim: current.installments, continuing: continuing && deductible != false,
                                             fiscalYear: fiscalYear, decidedOn: decidedOn, schedule: schedule, holidays: holidays)
        }
        if let current {
            return Installments.revise(current.installments, to: amount, fiscalYear: fiscalYear,
                                       decidedOn: decidedOn, paid: paid, schedule: schedule, holidays: holidays)
        }
        if continuing, deductible == true {
            if let pension = Installments.pension(amount, fiscalYear: fiscalYear, previousFebruary: previousFebruary, decidedOn: decidedOn,
                                                  holidays: holidays) {
                return pension
            }
            // A first year: 普通徴収 until the 本徴収 a 依頼 sent now can reach — unless the person
            // entered after the 年金保険者's April capture (their deductions start next 年度).
            if insuredSince.map({ PensionRequests.start(insuredSince: $0, fiscalYear: fiscalYear) }) != .later,
               let start = PensionRequests.startMonth(requestedOn: decidedOn, fiscalYear: fiscalYear, holidays: holidays),
               let firstYear = PensionRequests.firstYear(amount, fiscalYear: fiscalYear, decidedOn: decidedOn, startMonth: start,
                                                         schedule: schedule, holidays: holidays) {
                return firstYear
            }
        }
        return Installments.ordinary(amount, fiscalYear: fiscalYear, schedule: schedule, decidedOn: decidedOn, holidays: holidays)
    }

    /// 負担割合 from 1 August (or a later 取得日, or the first of the month after a change of
    /// household), judged on the household on that day: its insured members, and its members
    /// aged 70–74 for the 基準収入額 of a household with one insured person.
    func burdenRatios(insured: [String], days: [String: (day: LocalDate, household: String?)],
                      insuredOn: (String, LocalDate) -> Bool, byHousehold: [String: [ResidentStore.Membership]],
                      income: (String) -> PersonIncome?, facts: [String: (birthDate: LocalDate, insuredNumber: String?)],
                      enrollments: [String: [NoticeStore.Dated]], into result: inout Result) throws {
        let store = AssessmentStore(tx)
        let august = LocalDate(year: fiscalYear, month: 8, day: 1)!
        var computed: [(String, LocalDate, Int)] = []
        for person in insured {
            let (day, household) = days[person]!
            var members = Set((household.flatMap { byHousehold[$0] } ?? [])
                .filter { $0.from <= day && ($0.through.map { day <= $0 } ?? true) }.map(\.atenaNo))
            members.insert(person)
            let insuredMembers = members.filter { $0 == person || insuredOn($0, day) }.sorted()
            let aged70to74 = members.subtracting(insuredMembers).sorted().filter { member in
                facts[member].map { (70...74).contains($0.birthDate.legalAge(on: day)) } ?? false
            }
            let ratio = BurdenRatio.judge(insuredMembers.compactMap { member in
                facts[member].map { BurdenRatio.Insured(birthDate: $0.birthDate, income: income(member)) }
            }, aged70to74: aged70to74.map(income))
            computed.append((person, day, ratio))
        }
        var rows: [(atenaNo: String, effectiveFrom: LocalDate, historyNo: Int, ratio: Int, eventID: String)] = []
        for (effectiveFrom, group) in Dictionary(grouping: computed, by: \.1) {
            let inForce = try store.burdenRatiosInForce(of: group.map(\.0), on: effectiveFrom)
            for (person, _, ratio) in group {
                let current = inForce[person]
                // The yearly judgment is recorded each year; a re-judgment only when the ratio changes.
                let same = current.map { $0.effectiveFrom == effectiveFrom || effectiveFrom != august ? $0.ratio == ratio : false } ?? false
                if same { continue }
                let historyNo = current.map { $0.effectiveFrom == effectiveFrom ? $0.historyNo + 1 : 1 } ?? 1
                rows.append((person, effectiveFrom, historyNo, ratio, eventID))
                // 負担割合 goes to 障害福祉課 and 子ども育成課 (their subsidies), not to 生活福祉課.
                for department in NoticeStore.departments(enrollments[person] ?? [], on: decidedOn)
                where department != .welfareLivelihood {
                    result.derived.append(try DerivedEvent(
                        topic: department.topic, key: person, type: TransferType.departmentBurdenRatioChanged,
                        body: BurdenRatioTransfer(atenaNo: person, effectiveFrom: effectiveFrom, ratio: ratio)))
                }
            }
        }
        try store.recordBurdenRatios(rows.sorted { ($0.atenaNo, $0.effectiveFrom) < ($1.atenaNo, $1.effectiveFrom) })
        // 突合: what koki judged against the union's 負担割合, where the union has sent one.
        try BurdenRatioReconciliation(tx).reconcile(rows.map(\.atenaNo), on: decidedOn)
    }

    /// The insurer's 賦課 and 期割 records, the printed notice, and the departments' copies.
    func derive(_ decision: AssessmentStore.Decision, into result: inout Result) throws {
        result.derived.append(try DerivedEvent(topic: Self.insurerTopic, key: decision.atenaNo, type: TransferType.assessment, body:
            AssessmentTransfer(atenaNo: decision.atenaNo, insuredNumber: decision.insuredNumber, fiscalYear: fiscalYear,
                               historyNo: decision.historyNo, decidedOn: decidedOn, reason: reason,
                               formerDependent: decision.new.formerDependent, provisional: decision.new.provisional,
                               figures: Self.figures(decision.new), before: decision.before.map(Self.figures))))
    }

    /// What a new 期割 plan sends: the insurer's 期割情報, the printed 保険料額決定(変更)通知書, and
    /// 生活福祉課's copy of the premium (the only department that receives premiums, DOMAIN.md).
    /// `provisional`: the plan bills koki's own figure (the union has not decided).
    static func planEvents(person: String, insuredNumber: String?, fiscalYear: Int, decidedOn: LocalDate, premium: Int,
                           previousPremium: Int?, months: Int, reduction: String, installments: [Installments.Installment],
                           revision: Int, provisional: Bool, departments: [Department]) throws -> [DerivedEvent] {
        let bodies = Self.bodies(installments)
        var events = [
            try installmentsEvent(person, fiscalYear: fiscalYear, revision: revision, decidedOn: decidedOn, bodies: bodies,
                                  provisional: provisional),
            try DerivedEvent(
                topic: Topics.notices, key: person,
                type: previousPremium == nil ? TransferType.premiumDecidedNotice : TransferType.premiumChangedNotice,
                body: PremiumNotice(atenaNo: person, insuredNumber: insuredNumber, fiscalYear: fiscalYear,
                                    decidedOn: Wareki.format(decidedOn), premium: premium, previousPremium: previousPremium,
                                    months: months, reduction: reduction, installments: bodies, provisional: provisional)),
        ]
        for department in departments where department == .welfareLivelihood {
            events.append(try DerivedEvent(topic: department.topic, key: person, type: TransferType.departmentPremiumChanged,
                                           body: DepartmentPremiumTransfer(atenaNo: person, fiscalYear: fiscalYear, premium: premium,
                                                                           months: months)))
        }
        return events
    }

    /// The 期 of a plan as the transfers and notices carry them.
    static func bodies(_ installments: [Installments.Installment]) -> [InstallmentBody] {
        installments.map { InstallmentBody(no: $0.no, dueDate: $0.dueDate, amount: $0.amount, method: $0.method.rawValue) }
    }

    /// The insurer's 期割情報 for a plan revision (every plan change sends one).
    static func installmentsEvent(_ person: String, fiscalYear: Int, revision: Int, decidedOn: LocalDate, bodies: [InstallmentBody],
                                  provisional: Bool) throws -> DerivedEvent {
        try DerivedEvent(topic: insurerTopic, key: person, type: TransferType.installments, body:
            InstallmentsTransfer(atenaNo: person, fiscalYear: fiscalYear, revision: revision, decidedOn: decidedOn,
                                 installments: bodies, provisional: provisional))
    }

    /// The membership on `day`; before the first known one, the earliest (a 転入者's).
    static func membership(_ list: [ResidentStore.Membership], on day: LocalDate) -> ResidentStore.Membership? {
        list.first { $0.from <= day && ($0.through.map { day <= $0 } ?? true) }
            ?? list.filter { $0.from > day }.min { $0.from < $1.from }
            ?? list.max { $0.from < $1.from }
    }

    /// A stored income record as the rules read it.
    static func income(_ record: IncomeRecord, aged65: Bool) -> PersonIncome {
        PersonIncome.delivered(totalIncome: record.totalIncome, totalIncomeForAssessment: record.totalIncomeForAssessment,
                               pensionRevenue: record.publicPensionIncome, salaryRevenue: record.salaryIncome,
                               otherIncome: record.otherIncome, taxableIncome: record.taxableIncome, aged65: aged65,
                               incomeYear: record.incomeYear)
    }

    static func stored(_ a: Premium.Assessment, historyNo: Int) -> AssessmentStore.Stored {
        let sum = { (f: (Premium.ComponentFigures) -> Int) in a.components.reduce(0) { $0 + f($1) } }
        return AssessmentStore.Stored(
            historyNo: historyNo, reduction: a.reduction.rawValue, formerDependent: a.formerDependentReduction,
            provisional: a.provisional, incomeBase: a.incomeBase, perCapita: sum(\.perCapitaAfterReduction),
            perCapitaReduction: sum(\.perCapitaReduction), incomeShare: sum(\.incomeShare), calculated: sum(\.calculated),
            capExcess: sum(\.capExcess), annual: a.annual, months: a.months, monthlyReduction: a.monthlyReduction,
            exemption: a.exemption, premium: a.premium)
    }

    static func figures(_ s: AssessmentStore.Stored) -> AssessmentTransfer.Figures {
        AssessmentTransfer.Figures(reduction: s.reduction, incomeBase: s.incomeBase, perCapita: s.perCapita,
                                   perCapitaReduction: s.perCapitaReduction, incomeShare: s.incomeShare, calculated: s.calculated,
                                   capExcess: s.capExcess, annual: s.annual, months: s.months,
                                   monthlyReduction: s.monthlyReduction, exemption: s.exemption, premium: s.premium)
    }

    static func json(_ components: [Premium.ComponentFigures]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(components)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
