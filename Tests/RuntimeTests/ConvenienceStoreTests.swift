import Foundation
import KokiBase
import Postgres
import Testing

extension PaymentWorkerTests {
    /// コンビニ速報 and 確報 (EVENTS.md `payment.cvs-preliminary`): a 速報 moves no money but holds
    /// the 督促 of its 期 until the 確報 — a received payment with the same paymentId — or 14 days
    /// (`cvs_hold_days`) after the store took the money; the 確報 pays once, a repeated one is
    /// refused. a's 速報 holds its 督促 and its 確報 pays; b, without one, is dunned on the same day;
    /// c's 速報 never confirms and c is dunned once the hold ends; a 速報 from a bank is refused.
    @Test func aConvenienceStorePreliminaryHoldsDunningUntilItsConfirmation() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let a = "0000000231", b = "0000000232", c = "0000000233"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn in
            for person in [a, b, c] { try Self.seed(conn, person, [(1, "2026-07-31", 10_000)]) }
        }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-03")!),
                              pay(a, 10_000, on: "2026-08-10", id: "cvs-a", kind: .cvsPreliminary, paymentID: "CVS-A"),
                              pay(c, 10_000, on: "2026-08-10", id: "cvs-c", kind: .cvsPreliminary, paymentID: "CVS-C"),
                              pay(b, 10_000, on: "2026-08-10", id: "cvs-bank", kind: .cvsPreliminary, channel: .bank, paymentID: "B-1")])
        try await stack.waitFor("the bank's 速報 refused", "SELECT count(*) FROM dead_letters WHERE ce_id = 'cvs-bank'")
        try await stack.waitFor("the stores' 速報 kept", "SELECT count(*) FROM payments WHERE kind = 'cvs-preliminary'", atLeast: 2)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE entry = 'payment'") == 0, "a 速報 moves no money")

        // 8/20, the 督促 day of a 7/31 期: b is dunned; a and c are held by their 速報.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-20")!)])
        try await stack.waitFor("b dunned", "SELECT count(*) FROM ledger WHERE atena_no = \(b) AND entry = 'dunning'")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no IN (\(a), \(c)) AND entry = 'dunning'") == 0)

        // a's 確報 pays once; a second one under another event id (even with another amount) is refused by name.
        try await stack.send([pay(a, 10_000, on: "2026-08-10", id: "kakuho-a", paymentID: "CVS-A"),
                              pay(a, 9_000, on: "2026-08-10", id: "kakuho-a-again", paymentID: "CVS-A")])
        try await stack.waitFor("the repeat refused", "SELECT count(*) FROM dead_letters WHERE ce_id = 'kakuho-a-again'")
        #expect(try await balance(stack, a) == 0)
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(a) AND entry IN ('overpayment', 'refund')") == 0)
        #expect(try await stack.count("""
            SELECT count(*) FROM dead_letters WHERE ce_id = 'kakuho-a-again' AND reason LIKE '%already received%'
            """) == 1)

        // 8/23 is the hold's last day (8/10 + 13); on 8/24 c, still unconfirmed, is dunned.
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-21")!)])
        try await stack.waitFor("8/21", "SELECT count(*) FROM worker_calendars WHERE worker = 'payment' AND business_date = '2026-08-21'")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'dunning'") == 0)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-08-24")!)])
        try await stack.waitFor("c dunned", "SELECT count(*) FROM ledger WHERE atena_no = \(c) AND entry = 'dunning' AND on_date = '2026-08-24'")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(a) AND entry = 'dunning'") == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}
