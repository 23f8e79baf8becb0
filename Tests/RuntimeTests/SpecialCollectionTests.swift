import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres
import Testing

/// 特別徴収 as it runs over a year boundary, through the real topics and all three workers: the
/// 仮徴収 is owed from April, the deductions pay it, the 本算定 sets the 本徴収 from what it leaves,
/// and a pension 期 is never dunned.
@Suite("特別徴収, end to end", .serialized)
struct SpecialCollectionTests {
    let factory = EventFactory(source: "urn:test:pension")
    let tax = TaxWorkerTests()
    let payments = PaymentWorkerTests()

    /// Last 年度's plan as the store holds it: 本徴収 in February (the amount 仮徴収 repeats).
    static func lastFebruary(_ conn: PostgresConnection, _ person: String, amount: Int) throws {
        try conn.execute("""
            INSERT INTO installment_plans (atena_no, fiscal_year, revision, decided_on, assessment_history_no, current)
            VALUES (\(person), 2025, 1, '2025-07-01', 1, true)
            """)
        try conn.execute("""
            INSERT INTO installments (atena_no, fiscal_year, revision, method, installment_no, due_date, amount)
            VALUES (\(person), 2025, 1, 'pension', 6, '2026-02-13', \(amount))
            """)
    }

    func deducted(_ person: String, _ amount: Int, on day: String, year: Int, no: Int) -> OutgoingMessage {
        payments.pay(person, amount, on: day, id: "pd-\(person)-\(year)-\(no)", year: year, no: no, kind: .pensionDeducted,
                     channel: .pension)
    }

    func plan(_ stack: ResidentStack, _ person: String, year: Int) async throws -> [String] {
        try await stack.strings("""
            SELECT i.method || ':' || i.installment_no || ':' || i.amount FROM installment_plans p
              JOIN installments i ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.atena_no = \(person) AND p.fiscal_year = \(year) ORDER BY i.due_date, i.method
            """)
    }

    /// A person's 特別徴収 requests: kind, amounts asked, reason.
    func requests(_ stack: ResidentStack, _ person: String) async throws -> [String] {
        try await stack.strings("""
            SELECT kind || ':' || coalesce((SELECT string_agg((e->>'month') || '=' || (e->>'amount'), ',' ORDER BY n)
                                            FROM jsonb_array_elements(amounts) WITH ORDINALITY AS x(e, n)), '')
                   || ':' || coalesce(reason, '') FROM pension_requests WHERE atena_no = \(person)
            ORDER BY sent_on, request_id
            """)
    }

    func result(_ person: String, request: String, accepted: Bool, reason: String? = nil,
                amounts: [PensionRequestResult.Amount]? = nil, id: String) -> OutgoingMessage {
        factory.message(topic: "pension.deduction-targets.v1", type: PensionRequestResult.type, id: id, key: person,
                        body: PensionRequestResult(atenaNo: person, fiscalYear: 2026, requestId: request, accepted: accepted,
                                                   reason: reason, amounts: amounts))
    }

    func target(_ person: String, year: Int = 2026) -> OutgoingMessage {
        factory.message(topic: "pension.deduction-targets.v1", type: PensionDeductionTarget.type, id: "pt-\(person)-\(year)", key: person,
                        body: PensionDeductionTarget(atenaNo: person, fiscalYear: year, pensionAnnualAmount: 1_970_000,
                                                     pensionPerPayment: 328_333, longTermCarePremiumDeducted: true,
                                                     longTermCarePremiumPerPayment: 6_000))
    }

    func entries(_ stack: ResidentStack, _ person: String, _ kinds: [String]) async throws -> Int {
        try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(person) AND entry = ANY(\(kinds)::text[])")
    }

    /// p is deducted 7,000 last February: 仮徴収 7,000 in April, June and August, owed from the
    /// 年度's first business day; the 本算定 (62,600) leaves 41,600 for October–February — 14,000,
    /// 13,800, 13,800; nothing is dunned, refunded or left over, and the next April carries 13,800.
    /// q was deducted 30,000: the 仮徴収 (90,000) exceeds the year, so there is no 本徴収, August is
    /// lowered to 2,600, and the 27,400 the 年金保険者 deducts beyond it in August is refunded.
    /// r dies in May: the June and August 仮徴収 are stopped; the 本算定 finds one month insured
    /// (5,200), less than April's deduction, and the rest is refunded to the heirs.
    @Test func interimFromAprilFinalFromTheHonsanteiAndNoDunning() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let p = "0000000401", q = "0000000402", r = "0000000403"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn in
            try Self.lastFebruary(conn, p, amount: 7_000)
            try Self.lastFebruary(conn, q, amount: 30_000)
            try Self.lastFebruary(conn, r, amount: 7_000)
        }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker", "koki-payment-worker"])
        try await stack.send([p, q, r].enumerated().flatMap { index, person in
            [tax.resident(person, household: "000000950\(index)", born: "1946-05-05", relationship: .head),
             tax.income(person, pension: 1_970_000, id: "inc-\(person)")]
        })
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods", atLeast: 3)
        try await stack.waitFor("incomes", "SELECT count(*) FROM incomes", atLeast: 3)

        // The 年度's first business day: the 仮徴収 is owed.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.waitFor("仮徴収 set", "SELECT count(*) FROM interim_runs WHERE fiscal_year = 2026")
        #expect(try await plan(stack, p, year: 2026) == ["pension:1:7000", "pension:2:7000", "pension:3:7000"])
        #expect(try await plan(stack, q, year: 2026) == ["pension:1:30000", "pension:2:30000", "pension:3:30000"])
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'notice.interim-collection' AND convert_from(payload, 'UTF8') LIKE '%"stopped":false%'
            """) == 3)
        try await stack.send([deducted(p, 7_000, on: "2026-04-15", year: 2026, no: 1), deducted(q, 30_000, on: "2026-04-15", year: 2026, no: 1),
                              deducted(r, 7_000, on: "2026-04-15", year: 2026, no: 1),
                              factory.businessDay(LocalDate(iso: "2026-04-16")!)])
        try await stack.waitFor("April deducted", "SELECT count(*) FROM ledger WHERE entry = 'payment'", atLeast: 3)
        for person in [p, q, r] {
            #expect(try await payments.balance(stack, person, no: 1) == 0, "April's deduction pays April's 仮徴収")
        }

        // r dies on 5/20 (lost on 5/21), registered on 5/22: no June or August deduction; a notice says so.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-05-22")!),
                              tax.resident(r, household: "0000009502", born: "1946-05-05", relationship: .head, .died, on: "2026-05-20",
                                           death: "2026-05-20")])
        try await stack.waitFor("r's 仮徴収 stopped", "SELECT count(*) FROM installment_plans WHERE atena_no = \(r) AND fiscal_year = 2026 AND revision = 2")
        #expect(try await plan(stack, r, year: 2026) == ["pension:1:7000"])
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'notice.interim-collection' AND convert_from(payload, 'UTF8') LIKE '%"stopped":true%'
            """) == 1)

        try await stack.send([deducted(p, 7_000, on: "2026-06-15", year: 2026, no: 2), deducted(q, 30_000, on: "2026-06-15", year: 2026, no: 2),
                              factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        #expect(try await plan(stack, p, year: 2026)
                == ["pension:1:7000", "pension:2:7000", "pension:3:7000", "pension:4:14000", "pension:5:13800", "pension:6:13800"])
        #expect(try await plan(stack, q, year: 2026) == ["pension:1:30000", "pension:2:30000", "pension:3:2600"])
        // The 本徴収 is requested from the 年金保険者 (through 国保連); q has none to request; r's 仮徴収 was stopped.
        #expect(try await requests(stack, p) == ["request:10=14000,12=13800,2=13800:"])
        #expect(try await requests(stack, q) == [])
        #expect(try await requests(stack, r) == ["stop::lost"])
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE topic = 'transfer.kokuhoren.v1' AND ce_type = 'kokuhoren.pension-request'") == 2)
        // r: insured in April only (lost on 5/21): 5,200 for the year, below April's deduction —
        // the April 期 is lowered to it and the 1,800 beyond is refunded to the heirs.
        #expect(try await stack.count("SELECT premium::int FROM assessments WHERE atena_no = \(r) AND fiscal_year = 2026") == 5_200)
        #expect(try await plan(stack, r, year: 2026) == ["pension:1:5200"])
        try await stack.waitFor("r's refund", "SELECT count(*) FROM refunds WHERE atena_no = \(r) AND for_heirs AND amount = 1800")

        // August: q's deduction beyond the lowered 期 is refunded, once collected.
        try await stack.send([deducted(p, 7_000, on: "2026-08-14", year: 2026, no: 3), deducted(q, 30_000, on: "2026-08-14", year: 2026, no: 3),
                              factory.businessDay(LocalDate(iso: "2026-08-17")!)])
        try await stack.waitFor("q refunded", "SELECT count(*) FROM refunds WHERE atena_no = \(q)")
        #expect(try await stack.count("SELECT amount::int FROM refunds WHERE atena_no = \(q)") == 27_400)
        #expect(try await payments.balance(stack, q, no: 3) == 0)

        for (day, no, amount, next) in [("2026-10-15", 4, 14_000, "2026-11-16"), ("2026-12-15", 5, 13_800, "2027-01-15"),
                                        ("2027-02-15", 6, 13_800, "2027-03-17")] {
            try await stack.send([deducted(p, amount, on: day, year: 2026, no: no), factory.businessDay(LocalDate(iso: next)!)])
        }
        try await stack.waitFor("p's year paid", "SELECT count(*) FROM ledger WHERE atena_no = \(p) AND entry = 'payment'", atLeast: 6)
        // Over the year boundary: the next 年度's 仮徴収 carries February's 13,800.
        try await stack.send([factory.businessDay(LocalDate(iso: "2027-04-01")!), factory.businessDay(LocalDate(iso: "2027-05-31")!)])
        try await stack.waitFor("next 仮徴収", "SELECT count(*) FROM interim_runs WHERE fiscal_year = 2027")
        #expect(try await plan(stack, p, year: 2027) == ["pension:1:13800", "pension:2:13800", "pension:3:13800"])
        #expect(try await plan(stack, q, year: 2027) == [], "no 本徴収 last February: nothing to carry")
        #expect(try await plan(stack, r, year: 2027) == [], "not insured on 1 April")
        try await stack.waitFor("payment worker at 5/31", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2027-05-31'")
        for person in [p, q] {
            #expect(try await entries(stack, person, ["dunning", "reminder", "write-off"]) == 0,
                    "a pension 期 is never dunned, reminded or written off")
            #expect(try await stack.count("SELECT count(*) FROM receivables WHERE atena_no = \(person) AND kind <> 'premium'") == 0)
        }
        #expect(try await entries(stack, p, ["overpayment", "refund", "suspense"]) == 0, "every deduction met its 期")
        for no in 1...6 { #expect(try await payments.balance(stack, p, no: no) == 0) }
        let (status, output) = try await payments.verify(stack)
        #expect(status == 0, "\(output)")
    }

    /// A death after the 本算定 (x dies on 11/10, lost 11/11, registered 11/12): the December and
    /// February deductions stop (a 中止 to 国保連), the year is 7 months' premium, and what the
    /// pension did not deduct of it is billed by 普通徴収 on the 期 still ahead.
    @Test func aDeathStopsTheDeductionsAndTheRestGoesToOrdinary() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let x = "0000000421"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try Self.lastFebruary($0, x, amount: 7_000) }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker", "koki-payment-worker"])
        try await stack.send([tax.resident(x, household: "0000009521", born: "1946-05-05", relationship: .head),
                              tax.income(x, pension: 1_970_000, id: "inc-\(x)")])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods WHERE atena_no = \(x)")
        try await stack.waitFor("income", "SELECT count(*) FROM incomes WHERE atena_no = \(x)")
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.waitFor("仮徴収 set", "SELECT count(*) FROM interim_runs WHERE fiscal_year = 2026")
        for (day, no) in [("2026-04-15", 1), ("2026-06-15", 2)] { try await stack.send([deducted(x, 7_000, on: day, year: 2026, no: no)]) }
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        try await stack.send([deducted(x, 7_000, on: "2026-08-14", year: 2026, no: 3), deducted(x, 14_000, on: "2026-10-15", year: 2026, no: 4),
                              factory.businessDay(LocalDate(iso: "2026-10-16")!)])
        try await stack.waitFor("deducted", "SELECT count(*) FROM ledger WHERE atena_no = \(x) AND entry = 'payment'", atLeast: 4)

        try await stack.send([factory.businessDay(LocalDate(iso: "2026-11-12")!),
                              tax.resident(x, household: "0000009521", born: "1946-05-05", relationship: .head, .died, on: "2026-11-10",
                                           death: "2026-11-10")])
        try await stack.waitFor("月割 after the death", "SELECT count(*) FROM assessment_history WHERE atena_no = \(x) AND months = 7")
        let premium = try await stack.count("SELECT premium::int FROM assessments WHERE atena_no = \(x) AND fiscal_year = 2026")
        let after = try await plan(stack, x, year: 2026)
        #expect(after.filter { $0.hasPrefix("pension:") } == ["pension:1:7000", "pension:2:7000", "pension:3:7000", "pension:4:14000"],
                "the deductions after the death stop: \(after)")
        let ordinary = after.filter { $0.hasPrefix("ordinary:") }.compactMap { Int($0.split(separator: ":")[2]) }
        #expect(premium > 35_000 && !ordinary.isEmpty && ordinary.reduce(0, +) == premium - 35_000, "\(premium) \(after)")
        #expect(try await requests(stack, x).last == "stop::lost")
    }

    /// A first year: 普通徴収 until October, the 本徴収 requested at the 本算定. s's request is refused
    /// (pension-stopped): the pension 期 go to the 普通徴収 期 still ahead, with a notice, and the
    /// clerk sees request and answer in `koki person`. t's is accepted for less in February: the
    /// difference goes to 普通徴収. u starts in April by the 1/6 rule (a sixth of last 年度's 60,000,
    /// requested); v's June and August are evened out (平準化, configured), a 変更 sent. w switches to
    /// 口座振替 on request. A result for a request koki never sent is refused with a reason that names
    /// no one.
    @Test func requestsResultsNewStartsAndLeveling() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let s = "0000000411", t = "0000000412", u = "0000000413", v = "0000000414", w = "0000000415"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn in
            try conn.execute("INSERT INTO pension_leveling (from_fiscal_year, enabled, threshold) VALUES (2026, true, 1000)")
            try conn.execute("""
                INSERT INTO installment_plans (atena_no, fiscal_year, revision, decided_on, assessment_history_no, current)
                VALUES (\(u), 2025, 1, '2025-07-01', 1, true), (\(v), 2025, 1, '2025-07-01', 1, true)
                """)
            try conn.execute("""
                INSERT INTO installments (atena_no, fiscal_year, revision, method, installment_no, due_date, amount) VALUES
                    (\(u), 2025, 1, 'ordinary', 1, '2025-07-31', 60000),
                    (\(v), 2025, 1, 'ordinary', 1, '2025-07-31', 60000), (\(v), 2025, 1, 'pension', 6, '2026-02-13', 7000)
                """)
        }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker", "koki-payment-worker"])
        try await stack.send([s, t, u, v, w].enumerated().flatMap { index, person in
            [tax.resident(person, household: "000000951\(index)", born: "1946-05-05", relationship: .head),
             tax.income(person, pension: 1_970_000, id: "inc-\(person)"), target(person)]
        })
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods", atLeast: 5)
        try await stack.waitFor("targets", "SELECT count(*) FROM pension_deduction_targets", atLeast: 5)
        try await stack.waitFor("incomes", "SELECT count(*) FROM incomes", atLeast: 5)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.waitFor("仮徴収 set", "SELECT count(*) FROM interim_runs WHERE fiscal_year = 2026")
        #expect(try await plan(stack, u, year: 2026) == ["pension:1:10000", "pension:2:10000", "pension:3:10000"])
        #expect(try await requests(stack, u) == ["request:4=10000,6=10000,8=10000:"])
        // 67,000 last year: a sixth 11,100 × 3 − 7,000 = 26,300 ÷ 2 → 13,100 in June and August.
        #expect(try await plan(stack, v, year: 2026) == ["pension:1:7000", "pension:2:13100", "pension:3:13100"])
        #expect(try await requests(stack, v) == ["change:6=13100,8=13100:leveling"])
        #expect(try await plan(stack, s, year: 2026) == [], "a first year waits for the 本算定")
        // u's new start is refused in May, after April's payday (nothing was deducted): no 仮徴収 is
        // left owed, and the 本算定 bills u's year by 普通徴収.
        let uRequest = try await stack.strings("SELECT request_id FROM pension_requests WHERE atena_no = \(u)")
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-05-15")!)])
        try await stack.waitFor("5/15", "SELECT count(*) FROM worker_calendars WHERE worker = 'tax' AND business_date = '2026-05-15'")
        try await stack.send([result(u, request: uRequest[0], accepted: false, reason: "pension-stopped", id: "res-u")])
        try await stack.waitFor("u refused", "SELECT count(*) FROM installment_plans WHERE atena_no = \(u) AND revision = 2")
        #expect(try await plan(stack, u, year: 2026) == [], "the refused April 期 was never deducted: it is not owed by pension")

        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        #expect(try await plan(stack, u, year: 2026).allSatisfy { $0.hasPrefix("ordinary:") }, "u's year by 普通徴収")
        let firstYear = ["ordinary:1:10600", "ordinary:2:10400", "ordinary:3:10400", "pension:4:10400", "pension:5:10400", "pension:6:10400"]
        #expect(try await plan(stack, s, year: 2026) == firstYear)
        #expect(try await plan(stack, t, year: 2026) == firstYear)
        let sRequest = try await stack.strings("SELECT request_id FROM pension_requests WHERE atena_no = \(s)")
        let tRequest = try await stack.strings("SELECT request_id FROM pension_requests WHERE atena_no = \(t)")
        #expect(sRequest.count == 1 && tRequest.count == 1 && !sRequest[0].contains(s), "a request id names no one")

        // The answers come on 9/1 (applied on the business date the tax worker has reached).
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-09-01")!)])
        try await stack.waitFor("9/1", "SELECT count(*) FROM worker_calendars WHERE worker = 'tax' AND business_date = '2026-09-01'")
        try await stack.send([
            result(s, request: sRequest[0], accepted: false, reason: "pension-stopped", id: "res-s"),
            result(t, request: tRequest[0], accepted: true,
                   amounts: [.init(month: 10, amount: 10_400), .init(month: 12, amount: 10_400), .init(month: 2, amount: 8_000)], id: "res-t"),
            result(t, request: "PR2026-999999", accepted: true, id: "res-unknown"),
        ])
        try await stack.waitFor("s moved to 普通徴収", "SELECT count(*) FROM installment_plans WHERE atena_no = \(s) AND revision = 2")
        try await stack.waitFor("t's answer", "SELECT count(*) FROM installment_plans WHERE atena_no = \(t) AND revision = 2")
        // s: July and August stand; September takes its share of 31,200 and October–February the rest.
        let sPlan = try await plan(stack, s, year: 2026)
        #expect(sPlan.allSatisfy { $0.hasPrefix("ordinary:") } && sPlan.count == 8, "\(sPlan)")
        #expect(sPlan.prefix(2) == ["ordinary:1:10600", "ordinary:2:10400"])
        #expect(sPlan.compactMap { Int($0.split(separator: ":")[2]) }.reduce(0, +) == 62_600)
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'notice.collection-method-changed' AND message_key = \(s)
              AND convert_from(payload, 'UTF8') LIKE '%"reason":"refused"%'
            """) == 1)
        // t: February deducts 8,000; the 2,400 it will not take is billed by 普通徴収.
        let tPlan = try await plan(stack, t, year: 2026)
        #expect(tPlan.filter { $0.hasPrefix("pension:") } == ["pension:4:10400", "pension:5:10400", "pension:6:8000"])
        #expect(tPlan.compactMap { Int($0.split(separator: ":")[2]) }.reduce(0, +) == 62_600)
        try await stack.waitFor("unknown request refused", "SELECT count(*) FROM dead_letters WHERE ce_id = 'res-unknown'")
        #expect(try await stack.count("""
            SELECT count(*) FROM dead_letters WHERE ce_id = 'res-unknown' AND reason LIKE '%requestId names no request%'
            """) == 1)
        // w asks on 9/1 for 口座振替 from 10/1: October's payday is too near for a 中止 (60 days), so it
        // is still deducted; December and February are billed by 普通徴収 instead, and a 中止 is sent.
        try await stack.send([factory.event(topic: "counter.applications.v1", type: "application.payment-method-change", id: "pmc-w",
                                            atenaNo: w, fields: ["receivedDate": "2026-09-01", "applicationNo": "K-415",
                                                                 "bankAccountRef": "ACC-415", "effectiveDate": "2026-10-01"])])
        try await stack.waitFor("w switched", "SELECT count(*) FROM payment_method_changes WHERE atena_no = \(w)")
        let wPlan = try await plan(stack, w, year: 2026)
        #expect(wPlan.filter { $0.hasPrefix("pension:") } == ["pension:4:10400"], "\(wPlan)")
        #expect(wPlan.compactMap { Int($0.split(separator: ":")[2]) }.reduce(0, +) == 62_600)
        #expect(try await requests(stack, w).last == "stop::payment-method-change")
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'notice.collection-method-changed' AND message_key = \(w)
              AND convert_from(payload, 'UTF8') LIKE '%"reason":"payment-method-change"%'
            """) == 1)
        let (status, json) = try await runCommand("koki", ["person", s, "--json", "--purpose", "T-1"],
                                                  environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let inquiry = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let lines = inquiry?["pensionRequests"] as? [[String: Any]]
        #expect(status == 0 && lines?.count == 1 && lines?.first?["result"] as? String == "refused"
                && lines?.first?["resultReason"] as? String == "pension-stopped", "\(json)")
        // Later recomputations do not bring the refused deduction back.
        try await stack.send([tax.income(s, pension: 2_100_000, id: "inc-\(s)-corrected", kind: .corrected)])
        try await stack.waitFor("s's 更正", "SELECT count(*) FROM installment_plans WHERE atena_no = \(s) AND revision = 3")
        #expect(try await plan(stack, s, year: 2026).allSatisfy { $0.hasPrefix("ordinary:") })

        // 国保連 receives the requests on its own topic, each as the contract says (checked against
        // contracts/schemas by publishedTransfers), with no field the policy does not allow, and
        // every one logged with its legal basis.
        let transfers = try await stack.publishedTransfers().filter { $0.topic == "transfer.kokuhoren.v1" }
        #expect(transfers.count == 7 && transfers.allSatisfy { $0.type == "kokuhoren.pension-request" },
                "u's 依頼 and v's 変更 in April, the 本徴収 依頼 of s, t, v and w in July, w's 中止 in September")
        let allowed: Set<String> = ["requestId", "atenaNo", "fiscalYear", "kind", "sentOn", "amounts", "reason"]
        for transfer in transfers {
            let body = try JSONSerialization.jsonObject(with: Data(transfer.body.utf8)) as? [String: Any] ?? [:]
            #expect(Set(body.keys).isSubset(of: allowed), "\(body.keys)")
        }
        #expect(try await stack.count("""
            SELECT count(*) FROM audit_log WHERE destination = 'kokuhoren' AND event_type = 'kokuhoren.pension-request'
              AND legal_basis LIKE '%第110条%'
            """) == 7)
    }

    /// Mid-year entrants wait for the 年金保険者's capture window (介護保険法 134条・135条; Saitama's
    /// practice by 取得日): m, insured on 1 August with a target for the year, is billed the whole
    /// year by 普通徴収 (no December start); next 年度 m starts in April, y (insured 10 November) in
    /// June and z (insured 10 January) in August, each at a sixth of the year, requested from then.
    @Test func midYearEntrantsStartByTheCaptureWindow() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let m = "0000000431", y = "0000000432", z = "0000000433"
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send(zip([m, y, z], ["1951-08-01", "1951-11-10", "1952-01-10"]).enumerated().flatMap { index, pair in
            [tax.resident(pair.0, household: "000000961\(index)", born: pair.1, relationship: .head),
             tax.income(pair.0, pension: 1_970_000, id: "inc-\(pair.0)"), target(pair.0, year: 2027)]
        } + [target(m)])
        try await stack.waitFor("targets", "SELECT count(*) FROM pension_deduction_targets", atLeast: 4)
        try await stack.waitFor("incomes", "SELECT count(*) FROM incomes", atLeast: 3)
        for day in ["2026-07-01", "2026-08-03", "2026-11-10", "2027-01-12"] {
            try await stack.send([factory.businessDay(LocalDate(iso: day)!)])
            try await stack.waitFor(day, "SELECT count(*) FROM worker_calendars WHERE worker = 'tax' AND business_date = \(day)")
        }
        try await stack.waitFor("three 2026 plans", "SELECT count(*) FROM installment_plans WHERE fiscal_year = 2026 AND current",
                                atLeast: 3)
        for person in [m, y, z] {
            let year = try await plan(stack, person, year: 2026)
            #expect(!year.isEmpty && year.allSatisfy { $0.hasPrefix("ordinary:") }, "\(person): \(year)")
        }
        #expect(try await requests(stack, m).isEmpty, "no 依頼 within the year of entry")

        try await stack.send([factory.businessDay(LocalDate(iso: "2027-04-01")!)])
        try await stack.waitFor("仮徴収 set", "SELECT count(*) FROM interim_runs WHERE fiscal_year = 2027")
        func sixth(_ person: String) async throws -> Int {
            try await plan(stack, person, year: 2026).compactMap { Int($0.split(separator: ":")[2]) }.reduce(0, +) / 6 / 100 * 100
        }
        let (ms, ys, zs) = (try await sixth(m), try await sixth(y), try await sixth(z))
        #expect(ms > 0 && ys > 0 && zs > 0)
        #expect(try await plan(stack, m, year: 2027) == ["pension:1:\(ms)", "pension:2:\(ms)", "pension:3:\(ms)"])
        #expect(try await plan(stack, y, year: 2027) == ["pension:2:\(ys)", "pension:3:\(ys)"])
        #expect(try await plan(stack, z, year: 2027) == ["pension:3:\(zs)"])
        #expect(try await requests(stack, m) == ["request:4=\(ms),6=\(ms),8=\(ms):"])
        #expect(try await requests(stack, y) == ["request:6=\(ys),8=\(ys):"])
        #expect(try await requests(stack, z) == ["request:8=\(zs):"])
    }
}
