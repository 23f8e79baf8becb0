import Foundation
import KokiBase
import Postgres
import Testing

extension PaymentWorkerTests {
    /// A 口座振替不能 for a payment whose over-payment was already appropriated (充当) to another
    /// 期: both 期 are owed again and the ledger still balances (found by `koki-dev dev`'s synthetic year).
    @Test func aFailedTransferTakesBackWhatItsOverpaymentPaid() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let h = "0000000208"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        // Both 期 already due when the money comes: the excess over 期 1 may be appropriated to 期 2.
        try await conn.run { try Self.seed($0, h, [(1, "2026-06-30", 10_000), (2, "2026-07-31", 10_000)]) }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-03")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'", atLeast: 2)
        try await stack.send([pay(h, 20_000, on: "2026-08-03", id: "h-1", channel: .accountTransfer, paymentID: "AT-H")])
        try await stack.waitFor("appropriated", "SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'appropriation'")
        let (first, second) = (try await balance(stack, h), try await balance(stack, h, no: 2))
        #expect(first == 0 && second == 0)

        try await stack.send([pay(h, 20_000, on: "2026-08-05", id: "h-fail", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-H")])
        try await stack.waitFor("reversed", "SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'appropriation' AND amount < 0")
        let (firstAgain, secondAgain) = (try await balance(stack, h), try await balance(stack, h, no: 2))
        #expect(firstAgain == 10_000 && secondAgain == 10_000, "both 期 owed again")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'refund'") == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}

extension PaymentWorkerTests {
    /// A 口座振替不能 for a payment whose over-payment was decided as a refund not yet paid: the
    /// refund is cancelled (the money never arrived), so it cannot be paid out.
    @Test func aFailedTransferCancelsTheUnpaidRefundItFunded() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let i = "0000000209"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try Self.seed($0, i, [(1, "2026-07-31", 10_000)]) }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'")
        try await stack.send([pay(i, 10_000, on: "2026-07-20", id: "i-1"),
                              pay(i, 10_000, on: "2026-07-31", id: "i-2", channel: .accountTransfer, paymentID: "AT-I")])
        try await stack.waitFor("refund decided", "SELECT count(*) FROM refunds WHERE atena_no = \(i)")

        try await stack.send([pay(i, 10_000, on: "2026-08-03", id: "i-fail", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-I")])
        try await stack.waitFor("refund cancelled", "SELECT count(*) FROM refunds WHERE atena_no = \(i) AND cancelled_on IS NOT NULL")
        #expect(try await stack.count("SELECT sum(amount)::int FROM ledger WHERE atena_no = \(i) AND entry = 'refund'") == 0)
        #expect(try await balance(stack, i) == 0, "the first payment still pays 期 1")
        // Paying it out now is refused: there is no unpaid refund.
        try await stack.send([pay(i, 10_000, on: "2026-08-10", id: "i-refund", year: nil, no: nil, kind: .refundPaid, channel: .bank)])
        try await stack.waitFor("refused", "SELECT count(*) FROM dead_letters WHERE ce_id = 'i-refund'")
        // A 口座振替不能 must name a payment still open to reverse: the same one twice, one nobody received,
        // or one with another amount is refused by name — never a silent no-op.
        try await stack.send([pay(i, 10_000, on: "2026-08-04", id: "i-fail-again", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-I"),
                              pay(i, 10_000, on: "2026-08-04", id: "i-fail-unknown", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-NOBODY"),
                              pay(i, 9_000, on: "2026-08-04", id: "i-fail-amount", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "P-i-1")])
        try await stack.waitFor("refused", """
            SELECT count(*) FROM dead_letters WHERE ce_id IN ('i-fail-again', 'i-fail-unknown', 'i-fail-amount')
              AND reason = 'no received payment with this paymentId and amount is open to reverse'
            """, atLeast: 3)
        #expect(try await balance(stack, i) == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}

extension PaymentWorkerTests {
    /// A late payment reaching into a year the rates table does not have yet: the fee is not
    /// guessed at the statute's 7.3 % / 14.6 % but waits, named in the log by year only, and is
    /// charged on the first business day after the rate is added.
    @Test func aLateFeeWaitsForTheYearsRate() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let j = "0000000210"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try Self.seed($0, j, [(1, "2026-11-30", 1_000_000)]) }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-11-02")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'")
        try await stack.send([pay(j, 1_000_000, on: "2027-03-01", id: "j-1")])
        try await stack.waitFor("held", "SELECT count(*) FROM late_fee_pending WHERE missing_year = 2027")
        #expect(try await stack.count("SELECT count(*) FROM receivables WHERE atena_no = \(j) AND kind = 'late-fee'") == 0)
        #expect(stack.children.contains { $0.log.contains("\"missingYear\":\"2027\"") })

        _ = try await stack.query("INSERT INTO late_fee_rates VALUES (2027, 2.8, 9.1) RETURNING 1")
        try await stack.send([factory.businessDay(LocalDate(iso: "2027-03-02")!)])
        try await stack.waitFor("charged", "SELECT count(*) FROM receivables WHERE atena_no = \(j) AND kind = 'late-fee'")
        // 12/1–12/31 at 2.8 % (民法143: the whole of December), 1/1–3/1 (60 days) at 9.1 %:
        // 1,000,000 × (31 × 2.8 % + 60 × 9.1 %) / 365 = 17,336.9 → 17,300.
        #expect(try await balance(stack, j, kind: "late-fee") == 17_300)
        #expect(try await stack.count("SELECT count(*) FROM late_fee_pending") == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}

extension PaymentWorkerTests {
    /// A premium lowered after it was paid (減額更正): the excess is refunded with 還付加算金 from the
    /// day after the payment (地方税法 17条の4 1項1号), and a refund nobody claims lapses two years
    /// after it was decided — not a day earlier.
    @Test func aLoweredPremiumIsRefundedWithInterestAndAnUnclaimedRefundLapses() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let m = "0000000213", n = "0000000214"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn in
            try Self.seed(conn, m, [(1, "2026-07-31", 1_000_000)])
            try Self.seed(conn, n, [(1, "2026-07-31", 100_000)])
        }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'", atLeast: 2)
        try await stack.send([pay(m, 1_000_000, on: "2026-07-31", id: "m-1"), pay(n, 100_000, on: "2026-07-31", id: "n-1")])
        try await stack.waitFor("paid", "SELECT count(*) FROM payments", atLeast: 2)
        // The union lowers both premiums in November: a new 期割 revision.
        try await conn.run { conn in
            for (person, amount) in [(m, 200_000), (n, 50_000)] {
                try conn.execute("UPDATE installment_plans SET current = false WHERE atena_no = \(person)")
                try conn.execute("""
                    INSERT INTO installment_plans (atena_no, fiscal_year, revision, decided_on, assessment_history_no, current)
                    VALUES (\(person), 2026, 2, '2026-11-30', 2, true)
                    """)
                try conn.execute("""
                    INSERT INTO installments (atena_no, fiscal_year, revision, method, installment_no, due_date, amount)
                    VALUES (\(person), 2026, 2, 'ordinary', 1, '2026-07-31', \(amount))
                    """)
            }
        }
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-12-01")!)])
        try await stack.waitFor("refunds", "SELECT count(*) FROM refunds", atLeast: 2)
        // 800,000 × 123 days (8/1–12/1) × 1.3 % / 365 = 3,504.6 → 3,500; 50,000 × … = 219 → under 1,000: none.
        #expect(try await stack.count("SELECT (amount + interest)::int FROM refunds WHERE atena_no = \(m)") == 803_500)
        #expect(try await stack.count("SELECT count(*) FROM refunds WHERE atena_no = \(m) AND interest_from = '2026-08-01'") == 1)
        #expect(try await stack.count("SELECT interest::int FROM refunds WHERE atena_no = \(n)") == 0)
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE ce_type = 'notice.refund' AND convert_from(payload, 'UTF8') LIKE '%\"interest\":3500%'") == 1)
        // M's refund is paid with its interest; N's is never claimed.
        try await stack.send([pay(m, 803_500, on: "2026-12-10", id: "m-refund", year: nil, no: nil, kind: .refundPaid, channel: .bank)])
        try await stack.waitFor("refund paid", "SELECT count(*) FROM ledger WHERE atena_no = \(m) AND entry = 'refund-paid'")
        try await stack.send([factory.businessDay(LocalDate(iso: "2028-12-01")!)])
        try await stack.waitFor("the day before", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2028-12-01'")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE entry = 'refund-lapsed'") == 0)
        // Two business days at once (one batch, likely): the refund lapses once.
        try await stack.send([factory.businessDay(LocalDate(iso: "2028-12-02")!), factory.businessDay(LocalDate(iso: "2028-12-04")!)])
        try await stack.waitFor("lapsed", "SELECT count(*) FROM ledger WHERE entry = 'refund-lapsed'")
        try await stack.waitFor("both days", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2028-12-04'")
        #expect(try await stack.count("SELECT sum(amount)::int FROM ledger WHERE entry = 'refund-lapsed' AND atena_no = \(n)") == 50_000)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE entry = 'refund-lapsed' AND atena_no = \(m)") == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}
