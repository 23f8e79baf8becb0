import Foundation
import KokiStore
import Postgres
import Testing

/// Batches of payments (each touching only its own partition's payers) share the ledger's
/// lock; a business day, which touches everyone, holds it alone.
@Suite("Ledger lock")
struct LedgerLockTests {
    /// Whether `conn` gets the lock within 200 ms while `holder` holds its kind.
    func acquires(everyone: Bool, on conn: PostgresConnection) async throws -> Bool {
        try await conn.run { conn in
            do {
                try conn.transaction { tx in
                    try tx.execute("SET LOCAL lock_timeout = '200ms'")
                    try LedgerStore(tx).lock(everyone: everyone)
                }
                return true
            } catch let error as PostgresError where error.sqlState == "55P03" {
                return false
            }
        }
    }

    @Test func paymentsShareItAndABusinessDayHoldsItAlone() async throws {
        let url = try await MigratedDatabase.create()
        let holder = try await PostgresConnection.connect(url)
        let other = try await PostgresConnection.connect(url)
        for holdsEveryone in [false, true] {
            try await holder.run { conn in
                try conn.executeScript(unsafeSQL: "BEGIN")
                try LedgerStore(conn).lock(everyone: holdsEveryone)
            }
            #expect(try await acquires(everyone: false, on: other) == !holdsEveryone, "payments beside \(holdsEveryone ? "a day" : "payments")")
            #expect(try await acquires(everyone: true, on: other) == false, "a day beside \(holdsEveryone ? "a day" : "payments")")
            try await holder.run { try $0.executeScript(unsafeSQL: "COMMIT") }
            #expect(try await acquires(everyone: true, on: other), "a day once the ledger is free")
        }
    }
}
