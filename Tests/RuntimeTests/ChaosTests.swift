import Foundation
import Testing

/// A small `koki-dev chaos` run in CI: a few kills, a short database and broker outage, the resident
/// group scaled down and up, a bad-input corpus of 56 — nothing lost, nothing doubled, nothing
/// unpublished, the ledger and the transfer log verified, the same end state as a clean run.
@Suite("koki chaos, small")
struct ChaosTests {
    @Test func faultsLoseNothingAndChangeNothing() async throws {
        // A server of this test's own: the run stops and starts it.
        let postgres = try await TemporaryPostgres.start()
        let (status, output) = try await runCommand("koki-dev", [
            "chaos", "--residents", "1000", "--kills", "4", "--outage", "3", "--bad", "56", "--seed", "3",
        ], environment: [
            "KOKI_DATABASE_URL": postgres.url, "KOKI_MIGRATIONS_DIR": Env.repoRoot.appendingPathComponent("migrations").path,
            "KOKI_CHAOS_PG_BIN": postgres.bin, "KOKI_CHAOS_PG_DATA": postgres.directory.path + "/data",
            "KOKI_CHAOS_PG_OPTS": "-p \(postgres.port) -k \(postgres.directory.path) -c listen_addresses=127.0.0.1 -c fsync=off",
        ], timeout: .seconds(900))
        #expect(status == 0, "\(output.suffix(5000))")
        for line in ["lost: 0", "applied twice: 0", "outbox unpublished: 0", "dead-lettered: 56 (clean run: 56)",
                     "koki ledger verify: balanced", "chain intact", "end state vs the clean run: identical", "PASSED",
                     "PostgreSQL stopped (immediate)", "PostgreSQL started again", "all mock brokers down", "scaled the resident group back to 2"] {
            #expect(output.contains(line), "the report shows \(line)")
        }
        #expect(output.components(separatedBy: "SIGKILL").count - 1 == 4, "four kills")
    }
}
