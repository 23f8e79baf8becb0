import ArgumentParser
import Foundation
import KokiStore
import Postgres

/// `koki ledger verify` — the money invariant over the whole store.
struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ledger checks.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove that every payment received is applied, appropriated, refunded or in suspense (KOKI_DATABASE_URL).")

        mutating func run() async throws {
            let report = try await withDatabase { try LedgerVerify.run(on: $0) }
            let t = report.totals
            print("received \(t.received) = applied \(t.applied) + appropriated \(t.appropriated) + refunded \(t.refunded)"
                  + " + unallocated credit \(t.credit) + suspense \(t.suspense)  (refunds paid \(t.refundsPaid), written off \(t.writtenOff))")
            guard report.problems.isEmpty else {
                for problem in report.problems.prefix(50) { print("problem: \(problem)") }
                throw fail("the ledger does not balance: \(report.problems.count) problem(s)")
            }
            print("ledger verified")
        }
    }
}
