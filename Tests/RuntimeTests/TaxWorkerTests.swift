import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiDomain
import KokiStore
import KokiSynth
import Postgres
import Testing

/// koki-tax-worker end to end, with the resident worker and the relay: income arrives, the
/// July business day runs the 本算定, a 更正 changes an assessment, a death recomputes 月割.
@Suite("Tax worker, end to end", .serialized)
struct TaxWorkerTests {
    let factory = EventFactory(source: "urn:test")

    func resident(_ atenaNo: String, household: String, born: String, relationship: ResidentChange.Relationship,
                  _ kind: ResidentChange.Kind = .corrected, on day: String = "2026-03-31", death: String? = nil) -> OutgoingMessage {
        let change = ResidentChange(
            atenaNo: atenaNo, myNumber: nil, householdNo: household,
            change: .init(effectiveDate: LocalDate(iso: day)!, notifiedDate: LocalDate(iso: day)!),
            person: .init(nameKanji: "試験 花子", nameKana: "シケン ハナコ", sex: .female, birthDate: LocalDate(iso: born)!,
                          relationshipToHead: relationship, residentStatus: .resident,
                          address: ResidentWorkerTests.kawaguchi, deathDate: death.flatMap { LocalDate(iso: $0) }))
        return factory.resident(kind, change, id: "\(kind.rawValue):\(atenaNo):\(day)")
    }

    func income(_ atenaNo: String, pension: Int, id: String, kind: IncomeRecord.Kind = .assessed) -> OutgoingMessage {
        let total = IncomeDeductions.pensionIncome(revenue: pension, aged65: true)
        return factory.message(topic: "tax.income.v1", type: kind.rawValue, id: id, key: atenaNo, body: IncomeRecord(
            atenaNo: atenaNo, incomeYear: 2025, declared: true, totalIncome: total, totalIncomeForAssessment: total,
            publicPensionIncome: pension, salaryIncome: 0, otherIncome: 0, taxableIncome: max(0, total - 430_000),
            residentTaxExempt: total <= 430_000))
    }

    /// One insured pensioner (born 1946-05-05) heading a household of their own, known to the register
    /// and to 市民税課 before the 年度's July; with `honsantei`, the July 本算定 has run.
    func assessedPensioner(_ stack: ResidentStack, _ p: String, household: String, pension: Int = 1_970_000,
                           honsantei: Bool = true) async throws {
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([resident(p, household: household, born: "1946-05-05", relationship: .head),
                              income(p, pension: pension, id: "inc-\(p)")])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods WHERE atena_no = \(p)")
        try await stack.waitFor("income", "SELECT count(*) FROM incomes WHERE atena_no = \(p)")
        guard honsantei else { return }
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
    }

    /// The July 本算定 does not run on rates the union has not decided (R8 is provisional) until an
    /// approval is on record; then the next business day runs it.
    @Test func honsanteiWaitsForDecidedOrApprovedRates() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        _ = try await stack.query("DELETE FROM provisional_rate_approvals WHERE fiscal_year = 2026 RETURNING 1")
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        try await assessedPensioner(stack, "0000000111", household: "0000009011", honsantei: false)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("the July day applied", "SELECT count(*) FROM worker_calendars WHERE worker = 'tax' AND business_date = '2026-07-01'")
        #expect(try await stack.count("SELECT count(*) FROM assessment_runs") == 0, "no 本算定 on provisional rates")
        #expect(try await stack.count("SELECT count(*) FROM assessment_history") == 0)
        _ = try await stack.query("""
            INSERT INTO provisional_rate_approvals (fiscal_year, reason) VALUES (2026, 'test: approved after the July day') RETURNING 1
            """)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-02")!)])
        try await stack.waitFor("本算定 ran once approved", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        #expect(try await stack.count("SELECT count(*) FROM assessment_runs WHERE run_on = '2026-07-02'") == 1)
    }

    /// 負担割合 with the household's 70–74s and a change of household: one insured person (収入
    /// 4,000,000, 課税所得 ≥ 1,450,000) living with a 72-year-old spouse (収入 1,000,000) is
    /// together under 5,200,000 — 2割 from 1 August; the spouse leaves the household on 10/15 and
    /// the person is 3割 from the first of the next month, 11/1.
    @Test func burdenRatioFollowsTheHouseholdFromTheNextMonth() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000121", s = "0000000122"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([resident(p, household: "0000009021", born: "1940-05-05", relationship: .head),
                              resident(s, household: "0000009021", born: "1954-05-05", relationship: .spouse),
                              income(p, pension: 4_000_000, id: "inc-br-p"), income(s, pension: 1_000_000, id: "inc-br-s")])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods")
        try await stack.waitFor("incomes", "SELECT count(*) FROM incomes", atLeast: 2)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        try await stack.waitFor("ratio", "SELECT count(*) FROM burden_ratios WHERE atena_no = \(p)")
        #expect(try await stack.strings("SELECT effective_from::text || '=' || ratio FROM burden_ratios WHERE atena_no = \(p)")
                == ["2026-08-01=20"])
        try await stack.send([resident(s, household: "0000009022", born: "1954-05-05", relationship: .head, .householdChanged,
                                       on: "2026-10-15"),
                              factory.businessDay(LocalDate(iso: "2026-10-16")!)])
        try await stack.waitFor("re-judged", "SELECT count(*) FROM burden_ratios WHERE atena_no = \(p)", atLeast: 2)
        #expect(try await stack.strings("""
            SELECT effective_from::text || '=' || ratio FROM burden_ratios WHERE atena_no = \(p) ORDER BY effective_from
            """) == ["2026-08-01=20", "2026-11-01=30"])
    }

    struct Reduction: Encodable {
        let atenaNo: String, receivedDate: LocalDate, applicationNo: String, fiscalYear: Int, reason: String
        let reductionPercent: Int, decidedDate: LocalDate
    }

    /// 減免 lowers the 期 due on or after its application date, not the year (DOMAIN.md 徴収): 50 %
    /// applied for on 9/30 takes half off the 期 due 9/30 and later, and nothing off July and August.
    @Test func anExemptionLowersTheInstallmentsDueFromItsDate() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000131"
        try await assessedPensioner(stack, p, household: "0000009031")
        #expect(try await stack.installments(p).map(\.1) == [8_000] + Array(repeating: 7_800, count: 7))
        try await stack.send([
            factory.message(topic: "counter.applications.v1", type: "application.premium-reduction", id: "reduction-1", key: p,
                            body: Reduction(atenaNo: p, receivedDate: LocalDate(iso: "2026-09-30")!, applicationNo: "A-2026-9",
                                            fiscalYear: 2026, reason: "災害", reductionPercent: 50,
                                            decidedDate: LocalDate(iso: "2026-10-05")!)),
            factory.businessDay(LocalDate(iso: "2026-10-06")!)])
        try await stack.waitFor("the 減免 decided", "SELECT count(*) FROM assessment_history WHERE atena_no = \(p)", atLeast: 2)
        #expect(try await stack.installments(p).map(\.1) == [8_000, 7_800] + Array(repeating: 3_900, count: 6))
        #expect(try await stack.premiums()[p] == 62_600 - 23_400)
        #expect(try await stack.count("SELECT exemption::int FROM assessment_history WHERE atena_no = \(p) AND history_no = 2") == 23_400)
    }

    @Test func incomeHonsanteiCorrectionAndDeath() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000101", s = "0000000102", q = "0000000103", r = "0000000104"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([
            resident(p, household: "0000009001", born: "1946-05-05", relationship: .head),
            resident(s, household: "0000009001", born: "1948-06-06", relationship: .spouse),
            resident(q, household: "0000009002", born: "1949-07-07", relationship: .head),
            resident(r, household: "0000009003", born: "1950-01-01", relationship: .head),
            income(p, pension: 1_970_000, id: "inc-p"), income(s, pension: 800_000, id: "inc-s"),
            income(q, pension: 2_400_000, id: "inc-q"),
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-p", atenaNo: p,
                          fields: ["department": "disability-welfare", "program": "重度心身障害者医療費助成", "effectiveDate": "2026-04-01"]),
        ])
        try await stack.waitFor("four insured", "SELECT count(*) FROM qualification_periods", atLeast: 4)
        try await stack.waitFor("incomes stored", "SELECT count(*) FROM incomes", atLeast: 3)
        #expect(try await stack.count("SELECT count(*) FROM assessment_history") == 0, "nothing is assessed before July")

        // The July business day: 本算定.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        #expect(try await stack.premiums() == [p: 62_600, s: 22_900, q: 124_400, r: 45_900])
        #expect(try await stack.strings("SELECT reduction FROM assessment_history WHERE atena_no = \(p)") == ["50"])
        #expect(try await stack.count("SELECT count(*) FROM assessment_history WHERE atena_no = \(r) AND provisional") == 1,
                "no income known: 均等割 only")
        let plan = try await stack.installments(p)
        #expect(plan.map(\.1) == [8_000, 7_800, 7_800, 7_800, 7_800, 7_800, 7_800, 7_800])
        #expect(plan.first?.0 == "2026-07-31" && plan.last?.0 == "2027-03-01")

        // A 更正 lowers P's income: the household moves to 7割; 変更前 kept; notices.
        try await stack.send([income(p, pension: 1_530_000, id: "inc-p-2", kind: .corrected)])
        try await stack.waitFor("the correction decided", "SELECT count(*) FROM assessment_history WHERE atena_no = \(p)", atLeast: 2)
        try await stack.waitFor("the spouse follows", "SELECT count(*) FROM assessment_history WHERE atena_no = \(s)", atLeast: 2)
        let corrected = try await stack.premiums()
        #expect(corrected[p] == 13_700 && corrected[s] == 13_700)
        #expect(try await stack.count("""
            SELECT count(*) FROM assessment_history WHERE atena_no = \(p) AND history_no = 2 AND previous_history_no = 1
              AND premium_before = 62600 AND reduction_before = '50' AND reduction = '70'
            """) == 1, "the 変更前 values are kept")
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE topic = 'koki.notices.v1' AND ce_type = 'notice.premium-changed'") == 2)

        // Q dies on 7/31: lost 8/1, April–July.
        try await stack.send([resident(q, household: "0000009002", born: "1949-07-07", relationship: .head, .died, on: "2026-07-31",
                                       death: "2026-07-31"),
                              factory.businessDay(LocalDate(iso: "2026-08-03")!)])
        try await stack.waitFor("月割 after the death", "SELECT count(*) FROM assessment_history WHERE atena_no = \(q) AND months = 4")
        #expect(try await stack.premiums()[q] == 41_400)
        let qPlan = try await stack.installments(q)
        // 減額更正: the July 期, due and unpaid, is lowered first (to nothing here); the rest is re-split.
        #expect(qPlan.reduce(0) { $0 + $1.1 } == 41_400 && qPlan.first?.0 == "2026-08-31", "\(qPlan)")

        // The counter inquiry shows the premium, 負担割合 and 期割.
        let (status, output) = try await runCommand("koki", ["person", p, "--json", "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let premiums = json?["premiums"] as? [[String: Any]]
        #expect(premiums?.count == 1 && premiums?[0]["annualPremium"] as? Int == 13_700 && premiums?[0]["reduction"] as? String == "70"
                && premiums?[0]["fiscalYear"] as? Int == 2026 && premiums?[0]["months"] as? Int == 12)
        #expect(json?["burdenRatio"] as? Int == 10)
        let lines = json?["installments"] as? [[String: Any]]
        #expect(lines?.count == 8 && lines?[0]["dueDate"] as? String == "2026-07-31" && lines?[0]["method"] as? String == "ordinary")
        let (_, human) = try await runCommand("koki", ["person", p, "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(human.contains("保険料（2026年度）13,700円") && human.contains("負担割合　　　1割"), "\(human)")

        // Transfers: the insurer gets income, 賦課 and 期割; the department only its enrolled person.
        let transfers = try await stack.publishedTransfers()
        let insurer = transfers.filter { $0.topic == "transfer.koiki.v1" }
        #expect(Set(insurer.filter { $0.type == "koiki.income-record" }.map(\.key)).isSuperset(of: [p, s, q]))
        #expect(insurer.filter { $0.type == "koiki.assessment" && $0.key == p }.count == 2)
        #expect(insurer.contains { $0.type == "koiki.installments" && $0.key == q })
        let department = transfers.filter { $0.topic == "transfer.disability-welfare.v1" }
        #expect(Set(department.map(\.key)) == [p])
        let types = Set(department.map(\.type))
        #expect(types.contains("burden-ratio.changed") && !types.contains("premium.changed"), "障害福祉課 gets 負担割合, not premiums")
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE held_at IS NOT NULL") == 0, "nothing held by the policy")
        #expect(try await stack.count("SELECT count(*) FROM audit_log WHERE destination <> 'print-contractor'") == transfers.count,
                "every transfer audited")
        // The notices went to the print contractor, each in the log as 委託.
        let notices = try await stack.count("SELECT count(*) FROM outbox WHERE topic = 'koki.notices.v1'")
        let entrusted = try await stack.count("""
            SELECT count(*) FROM audit_log WHERE destination = 'print-contractor' AND legal_basis LIKE '委託%'
            """)
        #expect(notices > 0 && entrusted == notices)
    }
}

extension ResidentStack {
    func premiums() async throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try await query("SELECT atena_no, premium FROM assessments WHERE fiscal_year = 2026").map {
            (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1))
        })
    }

    /// The current plan: (due date, amount) in due order.
    func installments(_ atenaNo: String) async throws -> [(String, Int)] {
        try await query("""
            SELECT i.due_date::text, i.amount FROM installment_plans p JOIN installments i
              ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.atena_no = \(atenaNo) AND p.fiscal_year = 2026 ORDER BY i.due_date
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }
}

@Suite("Premium data and the estimate command")
struct PremiumDataTests {
    /// The store's rates (seeded by a migration) and `koki estimate`'s built-in table agree.
    @Test func ratesInTheStoreMatchTheBuiltInTable() async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        for year in 2022...2027 {
            let stored = try await conn.run { try TaxStore($0).rates(for: year) }
            #expect(stored == SaitamaRates.rates(for: year), "\(year)")
        }
        let lateFees = try await conn.run { try LedgerStore($0).settings(on: LocalDate(iso: "2026-11-28")!) }
        #expect(lateFees.lateFees == LateFee.Schedule.standard, "延滞金 rates in the store match the counter's calculator")
        #expect(lateFees.dunningDaysAfterDue <= 20 && lateFees.dunningFee == 0)
        #expect(lateFees.refundInterest == RefundInterest.Schedule.standard, "還付加算金 rates in the store match the domain's")
        let holidays = try await conn.run { try TaxStore($0).holidays() }
        #expect(holidays.contains(LocalDate(iso: "2026-09-22")!) && holidays.contains(LocalDate(iso: "2030-12-31")!) == false)
        #expect((2024...2030).allSatisfy { year in holidays.contains(LocalDate(year: year, month: 1, day: 1)!) })
    }

    @Test func estimateCommand() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("household-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("""
            {"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1944-05-01",
             "publicPensionIncome": 1680000, "salaryIncome": 0, "otherIncome": 0}]}
            """.utf8).write(to: file)
        let (status, output) = try await runCommand("koki", ["estimate", "--file", file.path], environment: [:])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let member = (json?["members"] as? [[String: Any]])?.first
        #expect(member?["annualPremium"] as? Int == 25_800 && member?["reduction"] as? String == "70")

        try Data(#"{"fiscalYear": 2023, "members": [{"id": "a", "insured": "yes"}]}"#.utf8).write(to: file)
        let (bad, message) = try await runCommand("koki", ["estimate", "--file", file.path], environment: [:])
        #expect(bad != 0 && message.contains("members[0].insured"), "\(message)")
    }

    /// `koki late-fee` shows its 計算根拠: the first tier by 民法143, each stretch with its base,
    /// rate and tier, the exact sum and the rounding; a year without a rate is refused by name.
    @Test func lateFeeCommand() async throws {
        let (status, output) = try await runCommand("koki", ["late-fee", "--amount", "1000000", "--due", "2025-09-30",
                                                             "--paid", "2025-11-01", "--json"], environment: [:])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let periods = json?["periods"] as? [[String: Any]]
        // 31 days at 2.4 % + 1 day at 8.7 % = 2,276.7 → 2,200.
        #expect(json?["lateFee"] as? Int == 2_200 && json?["firstTierEnd"] as? String == "2025-10-31" && json?["exactYen"] as? Int == 2_276)
        #expect(periods?.map { $0["tier"] as? String } == ["first", "later"] && periods?.first?["base"] as? Int == 1_000_000)
        #expect((json?["rules"] as? [String])?.contains { $0.contains("民法143") } == true)
        let (text, printed) = try await runCommand("koki", ["late-fee", "--amount", "1000000", "--due", "2025-09-30", "--paid", "2025-11-01"],
                                                   environment: [:])
        #expect(text == 0 && printed.contains("計算根拠") && printed.contains("第1段階"), "\(printed)")
        let (missing, message) = try await runCommand("koki", ["late-fee", "--amount", "100000", "--due", "2026-12-28", "--paid", "2027-01-10"],
                                                      environment: [:])
        #expect(missing != 0 && message.contains("2027"), "\(message)")
    }
}
