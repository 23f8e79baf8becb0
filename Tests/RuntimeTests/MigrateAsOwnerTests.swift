import Foundation
import Postgres
import Testing

/// The production overlay migrates as `koki_owner`, a login that is not a superuser (CREATEROLE
/// only): every migration must work for it, and leave the logs owned by koki_audit, not by it.
@Suite("koki migrate as a non-superuser owner")
struct MigrateAsOwnerTests {
    @Test func everyMigrationRunsForAnOwnerThatIsNotASuperuser() async throws {
        let server = try Env.require("KOKI_TEST_DATABASE_URL")
        let suffix = UInt64.random(in: 0...UInt64.max)
        let (owner, name) = ("owner_\(suffix)", "own_\(suffix)")
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { conn in
            try conn.executeScript(unsafeSQL: "CREATE ROLE \(owner) LOGIN NOSUPERUSER CREATEROLE NOCREATEDB")
            try conn.executeScript(unsafeSQL: "CREATE DATABASE \(name) OWNER \(owner)")
        }
        let base = String(server[...server.lastIndex(of: "/")!])
        let url = base.replacingOccurrences(of: "://postgres@", with: "://\(owner)@") + name
        #expect(url.contains(owner), "the test server's URL names its superuser: \(server)")
        let (status, output) = try await runCommand(
            "koki", ["migrate"],
            environment: ["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Env.repoRoot.appendingPathComponent("migrations").path])
        #expect(status == 0, "\(output.suffix(3000))")
        let conn = try await PostgresConnection.connect(base + name)
        let owners = try await conn.run { conn in
            try conn.query("""
                SELECT c.relname || ':' || pg_get_userbyid(c.relowner) FROM pg_class c
                WHERE c.relname IN ('audit_log', 'access_log', 'residents') ORDER BY c.relname
                """).map { try $0.decode(String.self, at: 0) }
        }
        #expect(owners == ["access_log:koki_audit", "audit_log:koki_audit", "residents:\(owner)"])
        let member = try await conn.run { try $0.query("SELECT pg_has_role(\(owner), 'koki_audit', 'MEMBER')")[0].decode(Bool.self, at: 0) }
        #expect(!member, "the owner gave up koki_audit after the migrations that needed it")
    }
}
