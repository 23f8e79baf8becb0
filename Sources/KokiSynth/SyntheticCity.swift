import Kafka
import KokiBase
import KokiDomain
import KokiEvents

/// A year (or more) of a synthetic city as its upstream systems publish it (EVENTS.md): the resident
/// register with its movements, 生活保護 cases, counter applications (障害認定, 住所地特例,
/// 元被扶養者, 減免, 高額療養費, 葬祭費, 口座振替), department enrollments, the June income
/// delivery and its corrections, and 特別徴収 targets. Deterministic for a seed. Payments are
/// not here: banks pay what was billed, so the player makes them from the bills (see `koki-dev dev`).
/// The clock is not here either: the business calendar is the scheduler's (`koki tick`).
public struct SyntheticCity {
    public struct Options: Sendable {
        public var residents = 20_000
        public var seed: UInt64 = 1
        /// The first 年度 played: 1 April of this year to 31 March of the next.
        public var fiscalYear = 2026
        /// How many 年度 are played, one after the other (a second one exercises the 仮徴収).
        public var years = 1

        public init() {}
    }

    public struct Event: Sendable {
        public let date: LocalDate
        public let message: OutgoingMessage
    }

    public let options: Options
    public let residents: [SyntheticResidents.Resident]
    /// Every event in date order (the register's snapshot of the city on the day before the 年度 first).
    public let events: [Event]

    public var start: LocalDate { LocalDate(year: options.fiscalYear, month: 4, day: 1)! }
    public var end: LocalDate { LocalDate(year: options.fiscalYear + options.years, month: 3, day: 31)! }

    public init(_ options: Options) {
        self.options = options
        var register = SyntheticResidents.Options()
        register.residents = options.residents
        register.seed = options.seed
        register.start = LocalDate(year: options.fiscalYear, month: 4, day: 1)!
        register.days = LocalDate(year: options.fiscalYear + options.years, month: 4, day: 1)!.daysSinceEpoch
            - register.start.daysSinceEpoch
        let generated = SyntheticResidents.generate(register)
        residents = generated.residents
        var events = generated.events.map { Event(date: $0.date, message: $0.message) }
        for year in options.fiscalYear..<(options.fiscalYear + options.years) {
            events += Self.lifeEvents(residents, options: options, year: year)
        }
        self.events = events.enumerated().sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
    }

    /// One 年度's events besides the register's: 生活保護 cases start in the first 年度 played; the
    /// rest comes every year.
    static func lifeEvents(_ residents: [SyntheticResidents.Resident], options: Options, year: Int) -> [Event] {
        let later = UInt64(year - options.fiscalYear)
        var random = SeededRandom(seed: options.seed &* 7_919 &+ 11 &+ later &* 1_000_003)
        var people = SyntheticPeople(seed: options.seed &+ 101 &+ later &* 7_777)
        let start = LocalDate(year: year, month: 4, day: 1)!, end = LocalDate(year: year + 1, month: 3, day: 31)!
        let lastYear = options.fiscalYear + options.years - 1
        var events: [Event] = []
        var serial = 0
        func id(_ kind: String) -> String {
            serial += 1
            return later == 0 ? "synth-\(options.seed)-\(kind)-\(serial)" : "synth-\(options.seed)-\(year)-\(kind)-\(serial)"
        }
        func day(_ from: LocalDate, within days: Int) -> LocalDate { from.adding(days: Int.random(in: 0..<max(1, days), using: &random)) }
        func here(_ r: SyntheticResidents.Resident, on date: LocalDate) -> Bool {
            r.arrivedOn <= date && (r.leftOn.map { date < $0 } ?? true)
        }
        let welfare = EventFactory(source: "urn:kawaguchi:seikatsu-fukushi")
        let counter = EventFactory(source: "urn:kawaguchi:madoguchi")
        let tax = EventFactory(source: "urn:kawaguchi:shiminzei")
        let kokuhoren = EventFactory(source: "urn:saitama:kokuhoren")
        let departments = EventFactory(source: "urn:kawaguchi:kakuka")
        func application(_ type: String, _ r: SyntheticResidents.Resident, on date: LocalDate, _ fields: [String: String?]) {
            var body = fields
            body["receivedDate"] = date.description
            body["applicationNo"] = "A-\(year)-\(String(serial + 1).leftPadded(6))"
            events.append(Event(date: date, message: counter.event(topic: "counter.applications.v1", type: type, id: id("app"),
                                                                    atenaNo: r.atenaNo, fields: body, time: date)))
        }
        func enrol(_ department: String, _ program: String, _ r: SyntheticResidents.Resident, on date: LocalDate) {
            events.append(Event(date: date, message: departments.event(
                topic: "department.enrollments.v1", type: "department.enrolled", id: id("enrol"), atenaNo: r.atenaNo,
                fields: ["department": department, "program": program, "effectiveDate": date.description], time: date)))
        }

        // 生活保護 by household (welfare publishes one event per member), mostly older households.
        let households = Dictionary(grouping: residents, by: \.householdNo)
        for (householdNo, members) in households.sorted(by: { $0.key < $1.key }) where later == 0 {
            let head = members.min { $0.member < $1.member }!
            let older = head.birthDate.age(on: start) >= 65
            guard random.chance(older ? 3 : 0.8) else { continue }
            let since = random.chance(70) ? start.adding(days: -200) : day(start, within: 300)
            let ends: LocalDate? = random.chance(10) ? since.adding(days: 120 + Int.random(in: 0...60, using: &random)) : nil
            let caseNo = "W-\(year)-\(String(serial + 1).leftPadded(5))"
            for r in members where here(r, on: max(since, r.arrivedOn)) {
                let on = max(since, r.arrivedOn)
                events.append(Event(date: max(on, start.adding(days: -1)), message: welfare.message(
                    topic: "welfare.public-assistance.v1", type: "welfare.assistance-started", id: id("welfare"), key: r.atenaNo,
                    body: ["atenaNo": r.atenaNo, "householdNo": householdNo, "caseNo": caseNo, "effectiveDate": on.description],
                    time: on)))
                if let ends, ends <= end, here(r, on: ends) {
                    events.append(Event(date: ends, message: welfare.message(
                        topic: "welfare.public-assistance.v1", type: "welfare.assistance-ended", id: id("welfare"), key: r.atenaNo,
                        body: ["atenaNo": r.atenaNo, "householdNo": householdNo, "caseNo": caseNo, "effectiveDate": ends.description],
                        time: ends)))
                }
                // 生活福祉課 serves foreign residents on livelihood protection who are (about to be) insured.
                if r.status == .foreignResident, r.birthDate.age(on: end) >= 65 {
                    enrol("welfare-livelihood", "外国人生活保護", r, on: max(on, start))
                }
            }
        }

        for r in residents {
            let ageAtStart = r.birthDate.age(on: start)
            let turns75 = r.birthDate.birthday(75)
            let insuredSometime = turns75 <= end
            // 障害認定 at 65–74: insured by certification; some enrolled with 障害福祉課.
            if (65...74).contains(ageAtStart), random.chance(4) {
                let received = day(max(start, r.arrivedOn), within: 300)
                if here(r, on: received) {
                    let grade = ["身体障害者手帳1級", "身体障害者手帳2級", "療育手帳A", "精神障害者保健福祉手帳1級"].randomElement(using: &random)!
                    application("application.disability-certification", r, on: received,
                                ["certifiedDate": received.adding(days: -7).description, "grade": grade])
                    if random.chance(50) { enrol("disability-welfare", "重度心身障害者医療費助成", r, on: received) }
                }
            }
            guard insuredSometime else { continue }
            let insuredFrom = max(turns75, r.arrivedOn, start)
            if insuredFrom > end || !here(r, on: insuredFrom) { continue }
            // 元被扶養者: a few who reach 75 during the year were dependants of an employee's insurance.
            if turns75 >= start, random.chance(2) {
                application("application.former-dependent", r, on: turns75.adding(days: 10),
                            ["insurerName": "全国健康保険協会埼玉支部", "dependentUntil": turns75.adding(days: -1).description])
            }
            if random.chance(0.3) {
                let from = day(insuredFrom, within: 200)
                if here(r, on: from) {
                    application("application.special-address-started", r, on: from,
                                ["effectiveDate": from.description, "facilityName": "特別養護老人ホーム" + ["あおば", "さくら", "みどり"].randomElement(using: &random)!,
                                 "previousInsurer": "川口市"])
                }
            }
            if random.chance(3) {
                let on = day(insuredFrom, within: 300)
                if here(r, on: on) { application("application.high-cost-medical", r, on: on, ["bankAccountRef": "ACC-\(r.atenaNo)"]) }
            }
            if random.chance(5) {
                let on = day(max(insuredFrom, LocalDate(year: year, month: 5, day: 1)!), within: 120)
                if here(r, on: on) {
                    application("application.payment-method-change", r, on: on,
                                ["bankAccountRef": "ACC-\(r.atenaNo)", "effectiveDate": on.adding(days: 30).firstOfMonth.description])
                }
            }
            if random.chance(0.3), here(r, on: LocalDate(year: year, month: 9, day: 1)!) {
                let decided = LocalDate(year: year, month: 9, day: Int.random(in: 1...20, using: &random))!
                events.append(Event(date: decided.adding(days: 2), message: counter.message(
                    topic: "counter.applications.v1", type: "application.premium-reduction", id: id("app"), key: r.atenaNo,
                    body: ReductionBody(atenaNo: r.atenaNo, receivedDate: decided.adding(days: 2), applicationNo: "R-\(year)-\(serial)",
                                        fiscalYear: year, reason: "災害", reductionPercent: 50, decidedDate: decided),
                    time: decided.adding(days: 2))))
            }
            // 葬祭費: a member of the household applies after an insured person's death.
            if r.died, let died = r.leftOn, died >= turns75, random.chance(80),
               let applicant = households[r.householdNo]?.first(where: { $0.atenaNo != r.atenaNo && here($0, on: died.adding(days: 20)) }) {
                application("application.funeral-expenses", applicant, on: died.adding(days: 20),
                            ["deceasedAtenaNo": r.atenaNo, "funeralDate": died.adding(days: 4).description,
                             "bankAccountRef": "ACC-\(applicant.atenaNo)"])
            }
        }

        // The June income delivery (last calendar year) for everyone registered then, a few 更正
        // in the autumn, and 特別徴収 targets (国保連, May) for pensioners insured this 年度.
        let delivery = LocalDate(year: year, month: 6, day: 10)!
        let targets = LocalDate(year: year, month: 5, day: 15)!
        for r in residents {
            let age = r.birthDate.legalAge(on: LocalDate(year: year - 1, month: 12, day: 31)!)
            guard let record = people.income(atenaNo: r.atenaNo, age: age, incomeYear: year - 1) else { continue }
            if here(r, on: delivery) {
                events.append(Event(date: delivery, message: tax.message(
                    topic: "tax.income.v1", type: IncomeRecord.Kind.assessed.rawValue, id: id("income"), key: r.atenaNo,
                    body: record, time: delivery)))
                if random.chance(1) {
                    let corrected = IncomeRecord(atenaNo: r.atenaNo, incomeYear: record.incomeYear, declared: true,
                                                 totalIncome: record.totalIncome + 200_000,
                                                 totalIncomeForAssessment: record.totalIncomeForAssessment + 200_000,
                                                 publicPensionIncome: record.publicPensionIncome, salaryIncome: record.salaryIncome,
                                                 otherIncome: record.otherIncome + 200_000, taxableIncome: record.taxableIncome + 200_000,
                                                 residentTaxExempt: false)
                    let on = LocalDate(year: year, month: 10, day: Int.random(in: 1...28, using: &random))!
                    if here(r, on: on) {
                        events.append(Event(date: on, message: tax.message(
                            topic: "tax.income.v1", type: IncomeRecord.Kind.corrected.rawValue, id: id("income"), key: r.atenaNo,
                            body: corrected, time: on)))
                    }
                }
            }
            func target(for fiscalYear: Int, on date: LocalDate) {
                let target = PensionDeductionTarget(atenaNo: r.atenaNo, fiscalYear: fiscalYear, pensionAnnualAmount: record.publicPensionIncome,
                                                    pensionPerPayment: record.publicPensionIncome / 6, longTermCarePremiumDeducted: true,
                                                    longTermCarePremiumPerPayment: 6_000)
                events.append(Event(date: date, message: kokuhoren.message(
                    topic: "pension.deduction-targets.v1", type: PensionDeductionTarget.type, id: id("pension"), key: r.atenaNo,
                    body: target, time: date)))
            }
            let turns75 = r.birthDate.birthday(75)
            if turns75 <= start, here(r, on: targets), record.publicPensionIncome >= 180_000, random.chance(85) {
                target(for: year, on: targets)
            }
            // Who reached 75 during the year is captured by the 年金保険者 later (10月–2月): a target
            // for the next 年度, there by February — their 特別徴収 starts in April by the 1/6 rule.
            let captured = LocalDate(year: year + 1, month: 2, day: 10)!
            if year < lastYear, turns75 > start, turns75 <= end, here(r, on: captured), record.publicPensionIncome >= 180_000,
               random.chance(85) {
                target(for: year + 1, on: captured)
            }
        }
        return events
    }

    /// The body of `application.premium-reduction` (the union's decision, forwarded).
    struct ReductionBody: Encodable {
        let atenaNo: String
        let receivedDate: LocalDate
        let applicationNo: String
        let fiscalYear: Int
        let reason: String
        let reductionPercent: Int
        let decidedDate: LocalDate
    }
}
