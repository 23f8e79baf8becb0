import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres
import Testing

/// The union's decisions through the real topics (koiki.decisions.v1): its 賦課 governs billing,
/// koki's own figure is the check, and every disagreement is a work item (突合).
@Suite("Union decisions, end to end", .serialized)
struct UnionDecisionTests {
    let factory = EventFactory(source: "urn:test:koiki")
    let tax = TaxWorkerTests()

    func assessment(_ person: String, year: Int = 2026, revision: Int, on day: String, premium: Int, reduction: String,
                    id: String) -> OutgoingMessage {
        factory.message(topic: UnionDecision.topic, type: UnionDecision.assessmentDecided, id: id, key: person, body:
            UnionAssessmentDecision(atenaNo: person, insuredNo: "9" + String(person.suffix(7)), fiscalYear: year, revision: revision,
                                    decidedOn: LocalDate(iso: day)!, reason: revision == 1 ? "honsantei" : "correction",
                                    annualPremium: premium, reduction: reduction,
                                    components: [.init(name: "medical", perCapita: min(premium, 22_965),
                                                       incomeShare: max(0, premium - 22_965))],
                                    collectingMonths: [7, 8, 9, 10, 11, 12, 1, 2, 3]))
    }

    func plan(_ stack: ResidentStack, _ person: String, year: Int = 2026) async throws -> (basis: String, total: Int) {
        let row = try await stack.query("""
            SELECT p.basis, coalesce(sum(i.amount), 0)::int FROM installment_plans p
              LEFT JOIN installments i ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.atena_no = \(person) AND p.fiscal_year = \(year) GROUP BY p.basis
            """)
        guard let first = row.first else { return ("none", 0) }
        return (try first.decode(String.self, at: 0), try first.decode(Int.self, at: 1))
    }

    /// A person's open items — but `unknown-to-union`: most of these tests send the union's 賦課
    /// and not its 資格, so the union "does not know" their people a month on (tested on its own).
    func open(_ stack: ResidentStack, _ person: String) async throws -> [String] {
        try await stack.strings("""
            SELECT kind FROM discrepancies WHERE atena_no = \(person) AND closed_on IS NULL AND kind <> 'unknown-to-union' ORDER BY kind
            """)
    }

    @Test func theUnionsAssessmentGovernsBillingAndDisagreementsAreWorkItems() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000141", q = "0000000142"
        try await tax.assessedPensioner(stack, p, household: "0000009041")
        #expect(try await plan(stack, p) == ("koki", 62_600), "koki's own figure bills, provisional, until the union decides")
        let (_, before) = try await runCommand("koki", ["person", p, "--json", "--purpose", "T-1"],
                                               environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let premiumsBefore = (try JSONSerialization.jsonObject(with: Data(before.utf8)) as? [String: Any])?["premiums"] as? [[String: Any]]
        #expect(premiumsBefore?.first?["provisional"] as? Bool == true && premiumsBefore?.first?["unionPremium"] == nil, "\(before)")
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'koiki.installments' AND convert_from(payload, 'UTF8') LIKE '%"provisional":true%'
            """) == 1)

        // The union agrees: the plan becomes the union's, nothing to reconcile.
        try await stack.send([assessment(p, revision: 1, on: "2026-07-10", premium: 62_600, reduction: "50", id: "u-p-1"),
                              factory.businessDay(LocalDate(iso: "2026-07-13")!)])
        try await stack.waitFor("union plan", "SELECT count(*) FROM installment_plans WHERE atena_no = \(p) AND basis = 'union'")
        #expect(try await plan(stack, p) == ("union", 62_600))
        #expect(try await open(stack, p).isEmpty)

        // A 更正 by the union that koki's figure does not share: billing follows the union, two work items.
        try await stack.send([assessment(p, revision: 2, on: "2026-10-09", premium: 50_000, reduction: "70", id: "u-p-2"),
                              factory.businessDay(LocalDate(iso: "2026-10-13")!)])
        try await stack.waitFor("revised", "SELECT count(*) FROM union_assessments WHERE atena_no = \(p) AND revision = 2")
        try await stack.waitFor("plan revised", "SELECT count(*) FROM installment_plans WHERE atena_no = \(p)", atLeast: 3)
        #expect(try await plan(stack, p) == ("union", 50_000))
        #expect(try await open(stack, p) == ["annual-premium", "reduction"])
        #expect(try await stack.strings("""
            SELECT koki_value || '/' || union_value FROM discrepancies WHERE atena_no = \(p) AND kind = 'annual-premium'
            """) == ["62600/50000"])
        // The counter sees whose figure is billed, koki's own, and the open items.
        let (shown, json) = try await runCommand("koki", ["person", p, "--json", "--purpose", "T-1"],
                                                 environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let inquiry = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let premium = (inquiry?["premiums"] as? [[String: Any]])?.first
        #expect(shown == 0 && premium?["annualPremium"] as? Int == 50_000 && premium?["provisional"] as? Bool == false
                && premium?["kokiPremium"] as? Int == 62_600 && premium?["unionRevision"] as? Int == 2, "\(json)")
        #expect((inquiry?["discrepancies"] as? [[String: Any]])?.filter { $0["kind"] as? String != "unknown-to-union" }.count == 2,
                "\(json)")
        // An older revision arriving late is history only.
        try await stack.send([assessment(p, revision: 1, on: "2026-07-10", premium: 70_000, reduction: "none0", id: "u-p-1-late")])
        try await stack.send([assessment(p, revision: 1, on: "2026-07-10", premium: 70_000, reduction: "20", id: "u-p-1-again")])
        try await stack.waitFor("late revision kept", "SELECT count(*) FROM dead_letters WHERE ce_id = 'u-p-1-late'")
        try await stack.waitFor("late revision kept", "SELECT count(*) FROM inbox WHERE ce_id = 'u-p-1-again'", atLeast: 2)
        #expect(try await plan(stack, p) == ("union", 50_000))

        // The union decides again as koki computed: the work items close by themselves.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-11-04")!)])
        try await stack.waitFor("11/04", "SELECT count(*) FROM worker_calendars WHERE worker = 'tax' AND business_date = '2026-11-04'")
        try await stack.send([assessment(p, revision: 3, on: "2026-11-02", premium: 62_600, reduction: "50", id: "u-p-3")])
        try await stack.waitFor("agreed", "SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND closed_reason = 'agreed'", atLeast: 2)
        #expect(try await open(stack, p).isEmpty)
        #expect(try await plan(stack, p) == ("union", 62_600))
        // The office's summary of the day, as the next one begins: counts only.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-11-05")!)])
        try await stack.waitFor("summary", """
            SELECT count(*) FROM outbox WHERE ce_type = 'notice.reconciliation-summary' AND message_key = 'office'
              AND convert_from(payload, 'UTF8') LIKE '%"date":"2026-11-04"%'
            """)
        let summary = try await stack.strings("""
            SELECT convert_from(payload, 'UTF8') FROM outbox WHERE ce_type = 'notice.reconciliation-summary'
              AND convert_from(payload, 'UTF8') LIKE '%"date":"2026-11-04"%'
            """).first ?? ""
        #expect(summary.contains("\"closedToday\":2") && !summary.contains(p), "\(summary)")

        // A decision for a 年度 beyond the 2-year limit (first 納期限 2023-07-31: closed from 2025-08-01): refused, a work item.
        try await stack.send([assessment(p, year: 2023, revision: 1, on: "2026-11-02", premium: 10_000, reduction: "70", id: "u-p-2023")])
        try await stack.waitFor("refused", "SELECT count(*) FROM union_assessments WHERE atena_no = \(p) AND fiscal_year = 2023 AND NOT applied")
        #expect(try await open(stack, p) == ["beyond-limit"])
        #expect(try await plan(stack, p, year: 2023) == ("none", 0), "never a charge")

        // Someone the union assessed and koki does not know: billed on the union's figure, a work item.
        try await stack.send([assessment(q, revision: 1, on: "2026-11-02", premium: 30_000, reduction: "50", id: "u-q-1")])
        try await stack.waitFor("unknown", "SELECT count(*) FROM discrepancies WHERE atena_no = \(q) AND kind = 'unknown-to-koki'")
        #expect(try await plan(stack, q) == ("union", 30_000))

        // The clerk's queue.
        let (status, output) = try await runCommand("koki", ["reconcile", "--open", "--json", "--purpose", "R-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(status == 0, "\(output)")
        let rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        #expect(Set(rows?.compactMap { $0["kind"] as? String } ?? []).subtracting(["unknown-to-union"]) == ["beyond-limit", "unknown-to-koki"],
                "\(output)")
        // Each person the list showed is a read in the access log, with the list's purpose (M5).
        let listed = Set(rows?.compactMap { $0["atenaNo"] as? String } ?? [])
        let logged = try await stack.strings("SELECT subject FROM access_log WHERE command = 'reconcile' AND purpose = 'R-1'")
        #expect(!listed.isEmpty && logged.sorted() == listed.map { "person:" + $0 }.sorted())
        let (unlogged, refusal) = try await runCommand("koki", ["reconcile", "--open"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(unlogged != 0 && refusal.contains("--purpose is required"))
        let id = try #require(rows?.first { $0["kind"] as? String == "beyond-limit" }?["id"] as? Int)
        let (closed, text) = try await runCommand("koki", ["reconcile", "close", "--id", "\(id)", "--reason", "past year, decided on paper",
                                                           "--operator-name", "clerk-1", "--on", "2026-11-05"],
                                                  environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(closed == 0, "\(text)")
        #expect(try await open(stack, p).isEmpty)
        #expect(try await stack.count("SELECT count(*) FROM discrepancies WHERE id = \(id) AND closed_by LIKE 'clerk-1 (%'") == 1)
    }

    /// A 年度 configured to wait for the union (`assessment_sources.source = 'union'`): koki assesses
    /// (the check) but bills nothing until the union decides.
    @Test func aYearThatWaitsForTheUnionBillsNothingBeforeIt() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        _ = try await stack.query("INSERT INTO assessment_sources VALUES (2026, 'union') RETURNING 1")
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000161"
        try await tax.assessedPensioner(stack, p, household: "0000009061")
        #expect(try await stack.count("SELECT count(*) FROM assessment_history WHERE atena_no = \(p)") == 1, "koki's check is there")
        #expect(try await plan(stack, p) == ("none", 0), "nothing billed before the union decides")
        try await stack.send([assessment(p, revision: 1, on: "2026-07-10", premium: 62_600, reduction: "50", id: "w-p-1")])
        try await stack.waitFor("union plan", "SELECT count(*) FROM installment_plans WHERE atena_no = \(p) AND basis = 'union'")
        #expect(try await plan(stack, p) == ("union", 62_600))
        #expect(try await open(stack, p).isEmpty)
    }

    @Test func theUnionsQualificationGivesTheInsuredNumberAndIsChecked() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000151"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([tax.resident(p, household: "0000009051", born: "1946-05-05", relationship: .head)])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods WHERE atena_no = \(p)")
        #expect(try await stack.strings("SELECT insured_number FROM residents WHERE atena_no = \(p)") == ["00000151"], "provisional")
        let acquired = try #require(LocalDate(iso: try await stack.strings(
            "SELECT acquired_on::text FROM qualification_periods WHERE atena_no = \(p)").first ?? ""))
        let agreeing = UnionQualificationDecision(
            atenaNo: p, insuredNo: "12340151", decidedOn: LocalDate(iso: "2026-04-03")!,
            periods: [.init(acquiredOn: acquired, acquisitionReason: "age-75", lostOn: nil, lossReason: nil)],
            burdenRatio: [.init(from: LocalDate(iso: "2025-08-01")!, ratio: 1)])
        try await stack.send([factory.message(topic: UnionDecision.topic, type: UnionDecision.qualificationDecided, id: "uq-1", key: p,
                                              body: agreeing)])
        try await stack.waitFor("kept", "SELECT count(*) FROM union_qualifications WHERE atena_no = \(p)")
        #expect(try await stack.strings("SELECT insured_number FROM residents WHERE atena_no = \(p)") == ["12340151"])
        #expect(try await stack.strings("SELECT insured_number FROM insured_number_history WHERE atena_no = \(p)") == ["00000151"])
        #expect(try await open(stack, p).isEmpty, "the union's periods are koki's")

        let differing = UnionQualificationDecision(
            atenaNo: p, insuredNo: "12340151", decidedOn: LocalDate(iso: "2026-04-10")!,
            periods: [.init(acquiredOn: LocalDate(iso: "2021-06-01")!, acquisitionReason: "moved-in", lostOn: nil, lossReason: nil)],
            burdenRatio: nil)
        try await stack.send([factory.message(topic: UnionDecision.topic, type: UnionDecision.qualificationDecided, id: "uq-2", key: p,
                                              body: differing)])
        try await stack.waitFor("a work item", "SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND kind = 'qualification'")
        #expect(try await stack.strings("SELECT koki_value || ' / ' || union_value FROM discrepancies WHERE atena_no = \(p) AND kind = 'qualification'")
                == ["\(acquired).. / 2021-06-01.."])
        // The same periods again: the item closes by itself.
        try await stack.send([factory.message(topic: UnionDecision.topic, type: UnionDecision.qualificationDecided, id: "uq-3", key: p,
                                              body: agreeing)])
        try await stack.waitFor("agreed", "SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND closed_reason = 'agreed'")
        #expect(try await open(stack, p).isEmpty)
    }

    /// Someone koki has insured for a month of whom the union has decided nothing is a work item
    /// (`unknown-to-union`); the union's decision closes it.
    @Test func someoneTheUnionDoesNotKnowIsAWorkItem() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker"])
        let p = "0000000171"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-05-11")!)])
        try await stack.send([tax.resident(p, household: "0000009071", born: "1951-05-11", relationship: .head)])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods WHERE atena_no = \(p)")
        // 29 days on: not yet; 30 days on (the first business day after): a work item.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-06-09")!)])
        try await stack.waitFor("6/9", "SELECT count(*) FROM worker_calendars WHERE worker = 'resident' AND business_date = '2026-06-09'")
        #expect(try await stack.count("SELECT count(*) FROM discrepancies WHERE atena_no = \(p)") == 0)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-06-10")!)])
        try await stack.waitFor("a work item", "SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND kind = 'unknown-to-union'")
        #expect(try await stack.strings("SELECT koki_value FROM discrepancies WHERE atena_no = \(p)") == ["2026-05-11.."])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-06-11")!)])
        try await stack.waitFor("6/11", "SELECT count(*) FROM worker_calendars WHERE worker = 'resident' AND business_date = '2026-06-11'")
        #expect(try await stack.count("SELECT count(*) FROM discrepancies WHERE atena_no = \(p)") == 1, "one item, not one a day")
        try await stack.send([factory.message(topic: UnionDecision.topic, type: UnionDecision.qualificationDecided, id: "uu-1", key: p,
                                              body: UnionQualificationDecision(
                                                atenaNo: p, insuredNo: "12340171", decidedOn: LocalDate(iso: "2026-06-11")!,
                                                periods: [.init(acquiredOn: LocalDate(iso: "2026-05-11")!, acquisitionReason: "age-75",
                                                                lostOn: nil, lossReason: nil)], burdenRatio: nil))])
        try await stack.waitFor("closed", """
            SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND kind = 'unknown-to-union' AND closed_reason = 'agreed'
            """)
    }

    /// 突合 of the 負担割合: koki judges p at 1割 from 1 August; the union says 2割 — a work item with both
    /// values; the union's next decision says 1割 — it closes by itself. Before koki has judged,
    /// a decision has nothing to be compared with (no item).
    @Test func theUnionsBurdenRatioIsChecked() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000161"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([tax.resident(p, household: "0000009061", born: "1946-05-05", relationship: .head),
                              tax.income(p, pension: 1_970_000, id: "inc-\(p)")])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods WHERE atena_no = \(p)")
        try await stack.waitFor("income", "SELECT count(*) FROM incomes WHERE atena_no = \(p)")
        let acquired = try #require(LocalDate(iso: try await stack.strings(
            "SELECT acquired_on::text FROM qualification_periods WHERE atena_no = \(p)").first ?? ""))
        func decision(_ id: String, on day: String, ratio: Int) -> OutgoingMessage {
            factory.message(topic: UnionDecision.topic, type: UnionDecision.qualificationDecided, id: id, key: p,
                            body: UnionQualificationDecision(
                                atenaNo: p, insuredNo: "12340161", decidedOn: LocalDate(iso: day)!,
                                periods: [.init(acquiredOn: acquired, acquisitionReason: "age-75", lostOn: nil, lossReason: nil)],
                                burdenRatio: [.init(from: LocalDate(iso: "2026-08-01")!, ratio: ratio)]))
        }
        try await stack.send([decision("ub-0", on: "2026-04-02", ratio: 2)])
        try await stack.waitFor("kept", "SELECT count(*) FROM union_qualifications WHERE atena_no = \(p)")
        #expect(try await open(stack, p).isEmpty, "koki has not judged yet: nothing to compare")
        // The 本算定 and 1 August: koki judges 1割 (a single pensioner, 1,970,000) — against the union's 2割.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-03")!)])
        try await stack.waitFor("judged", "SELECT count(*) FROM burden_ratios WHERE atena_no = \(p) AND effective_from = '2026-08-01'")
        try await stack.waitFor("a work item", "SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND kind = 'burden-ratio'")
        #expect(try await stack.strings("""
            SELECT koki_value || ' / ' || union_value FROM discrepancies WHERE atena_no = \(p) AND kind = 'burden-ratio'
            """) == ["2026-08-01:1割 / 2026-08-01:2割"])
        try await stack.send([decision("ub-1", on: "2026-08-10", ratio: 1)])
        try await stack.waitFor("agreed", """
            SELECT count(*) FROM discrepancies WHERE atena_no = \(p) AND kind = 'burden-ratio' AND closed_reason = 'agreed'
            """)
        #expect(try await open(stack, p).isEmpty)
    }

    /// The daily interface reconciliation: a business day's inbound events per source and group
    /// (applied, dead-lettered), its transfers per destination, recorded; the gauge says how many
    /// business days are not recorded.
    @Test func theDailyInterfaceReconciliation() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("07/01", "SELECT count(*) FROM business_day_marks WHERE business_date = '2026-07-01'", atLeast: 2)
        try await stack.send([assessment("0000000171", revision: 1, on: "2026-07-01", premium: 30_000, reduction: "50", id: "r-1"),
                              assessment("0000000172", revision: 1, on: "2026-07-01", premium: 40_000, reduction: "20", id: "r-2"),
                              assessment("0000000173", revision: 1, on: "2026-07-01", premium: 40_000, reduction: "9", id: "r-bad")])
        try await stack.waitFor("applied", "SELECT count(*) FROM inbox WHERE topic = 'koiki.decisions.v1'", atLeast: 4)
        try await stack.waitFor("dead-lettered", "SELECT count(*) FROM dead_letters WHERE topic = 'koiki.decisions.v1'", atLeast: 2)
        try await stack.waitFor("sent", "SELECT count(*) FROM audit_log WHERE event_type = 'koiki.installments'", atLeast: 2)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-02")!)])
        try await stack.waitFor("07/02", "SELECT count(*) FROM business_day_marks WHERE business_date = '2026-07-02'", atLeast: 2)
        let behind = "SELECT value::int FROM store_gauges WHERE name = 'koki_interface_reconciliation_behind_days'"
        #expect(try await stack.count(SQL(unsafeSQL: behind)) == 1, "07/01 is not recorded yet")

        let env = ["KOKI_DATABASE_URL": stack.databaseURL]
        let (status, output) = try await runCommand("koki", ["reconcile", "interfaces", "--date", "2026-07-01", "--json", "--record"],
                                                    environment: env)
        #expect(status == 0, "\(output)")
        let lines = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        let tax = lines.first { $0["interface"] as? String == "koiki.decisions.v1" && ($0["party"] as? String)?.hasPrefix("koki-tax-worker") == true }
        #expect(tax?["applied"] as? Int == 2 && tax?["deadLettered"] as? Int == 1 && tax?["received"] as? Int == 3, "\(output)")
        let sent = lines.first { $0["direction"] as? String == "outbound" && $0["party"] as? String == "koiki.installments" }
        #expect(sent?["applied"] as? Int == 2, "\(output)")
        #expect(try await stack.count("SELECT count(*) FROM interface_reconciliations WHERE business_date = '2026-07-01'") == lines.count)
        #expect(try await stack.count(SQL(unsafeSQL: behind)) == 0)
        let (missing, message) = try await runCommand("koki", ["reconcile", "interfaces", "--date", "2026-06-30"], environment: env)
        #expect(missing != 0 && message.contains("nothing to reconcile"), "\(message)")
    }
}
