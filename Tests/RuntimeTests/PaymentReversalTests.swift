import Foundation
import KokiBase
import Postgres
import Testing

extension PaymentWorkerTests {
    /// A 口座振替不能 for a payment whose over-payment was already appropriated (充当) to another
    /// 期: both 期 are owed again and the ledger still balances (found by `koki dev`'s synthetic year).
    @Test func aFailedTransferTakesBackWhatItsOverpaymentPaid() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let h = "0000000208"
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try Self.seed($0, h, [(1, "2026-07-31", 10_000), (2, "2026-08-31", 10_000)]) }
        try stack.start(workers: ["koki-payment-worker"])
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("charges", "SELECT count(*) FROM ledger WHERE entry = 'charge'", atLeast: 2)
        try await stack.send([pay(h, 20_000, on: "2026-07-31", id: "h-1", channel: .accountTransfer, paymentID: "AT-H")])
        try await stack.waitFor("appropriated", "SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'appropriation'")
        let (first, second) = (try await balance(stack, h), try await balance(stack, h, no: 2))
        #expect(first == 0 && second == 0)

        try await stack.send([pay(h, 20_000, on: "2026-08-03", id: "h-fail", kind: .transferFailed, channel: .accountTransfer,
                                  paymentID: "AT-H")])
        try await stack.waitFor("reversed", "SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'appropriation' AND amount < 0")
        let (firstAgain, secondAgain) = (try await balance(stack, h), try await balance(stack, h, no: 2))
        #expect(firstAgain == 10_000 && secondAgain == 10_000, "both 期 owed again")
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE atena_no = \(h) AND entry = 'refund'") == 0)
        let (status, output) = try await verify(stack)
        #expect(status == 0, "\(output)")
    }
}
