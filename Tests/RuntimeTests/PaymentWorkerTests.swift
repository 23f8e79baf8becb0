import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres
import Testing

/// koki-payment-worker end to end: installments seeded as the tax worker leaves them, payments
/// and business days through the mock cluster, the ledger checked by `koki ledger verify`.
@Suite("Payment worker, end to end", .serialized)
struct PaymentWorkerTests {
    let factory = EventFactory(source: "urn:test:bank")

    func pay(_ atenaNo: String, _ amount: Int, on day: String, id: String, year: Int? = 2026, no: Int? = 1,
             kind: PaymentRecord.Kind = .received, channel: PaymentRecord.Channel = .convenienceStore,
             paymentID: String? = nil) -> OutgoingMessage {
        factory.message(topic: "collection.payments.v1", type: kind.rawValue, id: id, key: atenaNo, body: PaymentRecord(
            paymentId: paymentID ?? "P-\(id)", atenaNo: atenaNo, fiscalYear: year, installmentNo: no, amount: amount,
            paidOn: LocalDate(iso: day)!, creditedOn: LocalDate(iso: day)!.adding(days: 3), channel: channel))
    }

    /// A person the register knows, with an ordinary plan of these (no, due, amount).
    static func seed(_ conn: PostgresConnection, _ atenaNo: String, year: Int = 2026, _ installments: [(Int, String, Int)],
                     method: String = "ordinary") throws {
        try conn.execute("""
            INSERT INTO residents (atena_no, current_history_no, birth_date, lives_here, insured)
            VALUES (\(atenaNo), 1, '1945-01-01', true, true) ON CONFLICT (atena_no) DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO installment_plans (atena_no, fiscal_year, revision, decided_on, assessment_history_no, current)
            VALUES (\(atenaNo), \(year), 1, \(LocalDate(year: year, month: 7, day: 1)!), 1, true)
            """)
        for (no, due, amount) in installments {
            try conn.execute("""
                INSERT INTO installments (atena_no, fiscal_year, revision, method, installment_no, due_date, amount)
                VALUES (\(atenaNo), \(year), 1, \(method), \(no), \(LocalDate(iso: due)!), \(amount))
                """)
        }
    }

    func balance(_ stack: ResidentStack, _ atenaNo: String, year: Int = 2026, no: Int = 1, kind: String = "premium") async throws -> Int {
        try await stack.count("""
            SELECT (coalesce(sum(l.amount) FILTER (WHERE l.entry = 'charge'), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('payment', 'appropriation', 'write-off')), 0))::int
            FROM receivables r LEFT JOIN ledger l ON l.receivable_id = r.id
            WHERE r.atena_no = \(atenaNo) AND r.fiscal_year = \(year) AND r.installment_no = \(no) AND r.kind = \(kind)
            """)
    }

    func verify(_ stack: ResidentStack) async throws -> (Int32, String) {
        try await runCommand("koki", ["ledger", "verify"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
    }

    @Test func paymentsLateFeesDunningRefundsAndSuspense() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let a = "0000000201", b = "0000000202", c = "0000000203", d = "0000000204", e = "0000000205", f = "0000000206"
        let g = "0000000207", h = "0000000208", k = "0000000211", l = "0000000212"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn in
            for person in [a, c, f, h, k, l] { try Self.seed(conn, person, [(1, "2026-07-31", 10_000), (2, "2026-08-31", 10_000)]) }
            // D: 期 1 already due when the payments come.
            try Self.seed(conn, d, [(1, "2026-06-30", 10_000), (2, "2026-08-31", 10_000)])
            // G: an officer stopped 督促 (e.g. a 分納誓約 being arranged).
            try Self.seed(conn, g, [(1, "2026-07-31", 10_000)])
            try conn.execute("""
                INSERT INTO collection_markers (atena_no, marker, from_date) VALUES (\(g), 'dunning-stopped', '2026-08-01')
                """)
            try Self.seed(conn, b, year: 2025, [(1, "2025-07-31", 100_000)])
            // M pays by pension: the 年金保険者's 期 that has not come in is never dunned nor written off.
            try Self.seed(conn, "0000000215", [(1, "2026-08-14", 10_000)], method: "pension")
            // L signed a 分納誓約 (承認 of every installment) in January.
            try conn.execute("""
                INSERT INTO collection_markers (atena_no, marker, from_date) VALUES (\(l), 'installment-pledge', '2027-01-10')
                """)
        }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'", atLeast: 10)

        let duplicate = pay(a, 10_000, on: "2026-07-30", id: "a-1")
        try await stack.send([
            duplicate, duplicate,                                              // on time, delivered twice
            pay(b, 100_000, on: "2026-03-31", id: "b-1", year: 2025),         // late: 延滞金
            pay(d, 10_000, on: "2026-07-20", id: "d-1", no: 2), pay(d, 10_000, on: "2026-07-21", id: "d-2", no: 2),  // twice
            pay(d, 10_000, on: "2026-07-22", id: "d-3", no: 2),                // a third time: refunded
            pay(h, 10_000, on: "2026-07-20", id: "h-1"), pay(h, 10_000, on: "2026-07-21", id: "h-2"),  // 期 1 twice
            pay(k, 5_000, on: "2026-09-15", id: "k-1"),                        // half of 期 1, late: a 承認
            pay(e, 5_000, on: "2026-07-25", id: "e-1", year: nil, no: nil),   // nobody known: suspense
            pay(f, 10_000, on: "2026-07-31", id: "f-1", channel: .accountTransfer, paymentID: "AT-F"),
        ])
        try await stack.waitFor("payments stored", "SELECT count(*) FROM payments", atLeast: 10)
        try await stack.waitFor("refunds decided", "SELECT count(*) FROM refunds", atLeast: 2)
        #expect(try await balance(stack, a) == 0)
        #expect(try await stack.count("SELECT count(*) FROM payments WHERE atena_no = \(a)") == 1, "a duplicate is applied once")
        #expect(try await balance(stack, b, year: 2025, kind: "late-fee") == 5_300, "延滞金 assessed as its own receivable")
        let (d1, d2) = (try await balance(stack, d), try await balance(stack, d, no: 2))
        #expect(d1 == 0 && d2 == 0, "the second payment appropriated to 期 1, already due")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(d) AND entry = 'appropriation'") == 1)
        #expect(try await stack.count("SELECT amount::int FROM refunds WHERE atena_no = \(d)") == 10_000)
        // 充当 only to what is already due: H's second payment is refunded, 期 2 (not due) stays open.
        let (h1, h2) = (try await balance(stack, h), try await balance(stack, h, no: 2))
        #expect(h1 == 0 && h2 == 10_000)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'appropriation'") == 0)
        #expect(try await stack.count("SELECT amount::int FROM refunds WHERE atena_no = \(h)") == 10_000)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(e) AND entry = 'suspense'") == 1)
        #expect(try await balance(stack, f) == 0)

        // 口座振替不能 reopens F's installment; D's refund is paid.
        try await stack.send([pay(f, 10_000, on: "2026-08-03", id: "f-fail", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-F"),
                              pay(d, 10_000, on: "2026-08-10", id: "d-refund", year: nil, no: nil, kind: .refundPaid, channel: .bank)])
        try await stack.waitFor("reversal", "SELECT count(*) FROM payments", atLeast: 12)
        try await stack.waitFor("reopened", "SELECT count(*) FROM ledger WHERE atena_no = \(f) AND amount < 0")
        #expect(try await balance(stack, f) == 10_000)

        // E turns up in the register with a plan: the suspense money is matched.
        try await conn.run { try Self.seed($0, e, [(1, "2026-07-31", 10_000)]) }
        // C never pays: 督促 on the 20th day after the 納期限, 催告 later, 時効 two years on.
        for day in ["2026-08-20", "2026-09-29", "2028-08-30"] {
            try await stack.send([factory.businessDay(LocalDate(iso: day)!)])
        }
        try await stack.waitFor("督促", "SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'dunning' AND on_date = '2026-08-20'")
        try await stack.waitFor("催告", "SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'reminder'")
        try await stack.waitFor("suspense matched", "SELECT count(*) FROM ledger WHERE atena_no = \(e) AND entry = 'suspense-release'")
        #expect(try await balance(stack, e) == 5_000)
        try await stack.waitFor("last tick", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2028-08-30'")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'write-off'") == 0,
                "時効 runs from the day after the 督促's deadline")
        try await stack.send([factory.businessDay(LocalDate(iso: "2028-08-31")!)])
        try await stack.waitFor("不納欠損", "SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'write-off'")
        #expect(try await balance(stack, c) == 0)
        #expect(try await stack.count("""
            SELECT count(*) FROM ledger WHERE atena_no = '0000000215' AND entry IN ('dunning', 'reminder', 'write-off')
            """) == 0, "a pension 期 is never dunned, reminded or written off as the person's arrears")
        // A partial payment (9/15) and a 分納誓約 (1/10) renew the 時効 (民法152条): nothing of K's or L's is written off.
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no IN (\(k), \(l)) AND entry = 'write-off'") == 0)
        let (k1, l1) = (try await balance(stack, k), try await balance(stack, l))
        #expect(k1 == 5_000 && l1 == 10_000)
        // 期 2 was dunned on 9/29 (deadline 10/9): its 時効 completes on 2028-10-10.
        #expect(try await balance(stack, c, no: 2) == 10_000)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(g) AND entry = 'dunning'") == 0,
                "督促 stopped by the officer's marker")

        // The counter inquiry: paid, balance and 督促 per installment; late fees; over-payments.
        let (shown, json) = try await runCommand("koki", ["person", c, "--json", "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let inquiry = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let lines = inquiry?["installments"] as? [[String: Any]]
        #expect(shown == 0 && lines?.count == 2 && lines?[1]["balance"] as? Int == 10_000 && lines?[1]["dunnedOn"] as? String == "2026-09-29"
                && lines?[0]["paid"] as? Int == 0, "\(json)")
        let (_, dJSON) = try await runCommand("koki", ["person", d, "--json", "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let dInquiry = try JSONSerialization.jsonObject(with: Data(dJSON.utf8)) as? [String: Any]
        let kinds = (dInquiry?["overpayments"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
        #expect(Set(kinds ?? []) == ["appropriation", "refund"], "\(dJSON)")
        let (_, bJSON) = try await runCommand("koki", ["person", b, "--json", "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        let fees = (try JSONSerialization.jsonObject(with: Data(bJSON.utf8)) as? [String: Any])?["lateFees"] as? [[String: Any]]
        #expect(fees?.first?["amount"] as? Int == 5_300 && fees?.first?["fiscalYear"] as? Int == 2025)

        let (status, output) = try await verify(stack)
        #expect(status == 0 && output.contains("ledger verified"), "\(output)")
        let transfers = try await stack.publishedTransfers()
        #expect(transfers.contains { $0.type == "koiki.receipt" && $0.key == a })
        #expect(transfers.contains { $0.type == "koiki.delinquency" && $0.key == c })
        // The turn of the year told 市民税課 each person's premiums paid (社会保険料控除), and nobody else did.
        let municipal = transfers.filter { $0.topic == "transfer.municipal-tax.v1" }
        #expect(municipal.contains { $0.type == "municipal-tax.premiums-paid" && $0.key == a
            && $0.body.contains("\"amount\":10000") && $0.body.contains("\"calendarYear\":2026") }, "\(municipal.map(\.body))")
        #expect(Set(transfers.map(\.topic)).isSubset(of: ["transfer.koiki.v1", "transfer.municipal-tax.v1"]))

        let (paidStatus, paid) = try await runCommand("koki", ["premiums-paid", "--year", "2026", "--atena", a, "--csv", "--purpose", "T-1"],
                                                      environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(paidStatus == 0 && paid.contains("\(a),2026,10000"), "\(paid)")

        // A hand-corrupted row is caught, and the person named.
        try await conn.run { try $0.execute("UPDATE ledger SET amount = amount + 1 WHERE id = (SELECT min(id) FROM ledger WHERE atena_no = \(a) AND entry = 'payment')") }
        let (corrupt, message) = try await verify(stack)
        #expect(corrupt != 0 && message.contains(a), "\(message)")
    }
}

extension PaymentWorkerTests {
    /// A synthetic collection season: ~10k payments for 2,500 people over four 期, with the
    /// business days in between; the ledger balances to the yen.
    @Test func syntheticMonthsOfPaymentsBalance() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let plans = SyntheticPayments.plans(people: 2_500, fiscalYear: 2026)
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try SyntheticPayments.load(plans, into: $0) }
        try stack.start(workers: ["koki-payment-worker"], extra: ["KOKI_BATCH_MAX_EVENTS": "1000"])
        var sent = 0
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        for no in 1...4 {
            let month = SyntheticPayments.month(plans, installment: no)
            try await stack.send(month)
            sent += month.count
            try await stack.waitFor("payments of 期 \(no)", "SELECT count(*) FROM payments", atLeast: sent, timeout: .seconds(300))
            let due = plans[0].installments[no - 1].dueDate
            try await stack.send([factory.businessDay(due.adding(days: 20))])
        }
        #expect(sent >= 10_000)
        try await stack.waitFor("the last business day", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2026-11-20'")
        try await stack.waitFor("settled", "SELECT count(*) FROM inbox", atLeast: sent + 5, timeout: .seconds(120))
        let (status, output) = try await verify(stack)
        #expect(status == 0 && output.contains("ledger verified"), "\(output)")
        for (what, entry) in [("suspense", "suspense"), ("refunds", "refund"), ("督促", "dunning"), ("reversals", "payment")] {
            let sql: SQL = entry == "payment" ? "SELECT count(*) FROM ledger WHERE entry = 'payment' AND amount < 0"
                                              : "SELECT count(*) FROM ledger WHERE entry = \(entry)"
            #expect(try await stack.count(sql) > 0, "the season has \(what)")
        }
        // Any late fee of the season is charged in whole hundreds and never under 1,000 (地方税法 20条の4の2).
        #expect(try await stack.count("""
            SELECT count(*) FROM receivables r JOIN ledger l ON l.receivable_id = r.id AND l.entry = 'charge'
            WHERE r.kind = 'late-fee' AND (l.amount < 1000 OR l.amount % 100 <> 0)
            """) == 0)
    }
}
