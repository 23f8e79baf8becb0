import Foundation
import KokiStore
import Postgres
import Testing

/// M5: the access log is hash-chained like the transfer log; its rows' number, time and login are
/// the chain's, not the reader's; `koki audit verify` recomputes it and finds a row altered or
/// removed, and a chain rebuilt after a checkpoint.
@Suite("Access log chain")
struct AccessLogTests {
    @Test("an altered, removed or rebuilt access log is found", arguments: ["altered", "removed", "rehashed"])
    func theAccessLogIsChained(kind: String) async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn throws in
            for n in 1...5 {
                try AccessLog.record(subject: "person:000000000\(n)", command: "person", fields: ["宛名", "資格"], purpose: "T-\(n)",
                                     operatorName: "counter-1", on: conn)
            }
            // A reader cannot choose the row's number, time or login.
            try conn.execute("""
                INSERT INTO access_log (id, accessed_at, session_login, operator, command, subject, fields, purpose)
                VALUES (99, '2000-01-01', 'someone-else', 'x', 'person', 'person:0000000006', '{}', 'T-6')
                """)
            let last = try conn.query("SELECT id, session_login, accessed_at > now() - interval '1 hour' FROM access_log ORDER BY id DESC LIMIT 1")[0]
            #expect(try last.decode(Int64.self, at: 0) == 6 && last.decode(String.self, at: 1) == "postgres" && last.decode(Bool.self, at: 2))
        }
        let env = ["KOKI_DATABASE_URL": url]
        let (clean, cleanOutput) = try await runCommand("koki", ["audit", "verify"], environment: env)
        #expect(clean == 0 && cleanOutput.contains("access log verified: 6 rows, chain intact"), "\(cleanOutput)")
        // A transfer-log row, so that a checkpoint is taken (it records both heads).
        try await conn.run { conn throws in
            _ = try conn.query("""
                SELECT audit_append(ARRAY['koiki'], ARRAY['e1'], ARRAY['koiki.receipt'], ARRAY['0000000001'],
                                    ARRAY['["atenaNo"]'::jsonb], ARRAY['basis'], ARRAY['["0000000001"]'::jsonb], 'relay')
                """)
        }
        let file = NSTemporaryDirectory() + "checkpoints-\(UUID().uuidString)"
        let (taken, line) = try await runCommand("koki", ["audit", "checkpoint", "--out", file], environment: env)
        #expect(taken == 0 && line.contains("\"accessID\":6"), "\(line)")

        // Only a superuser can touch the rows at all (the append-only trigger refuses everyone else).
        try await conn.run { conn throws in
            try conn.execute("SET session_replication_role = replica")
            defer { try? conn.execute("RESET session_replication_role") }
            switch kind {
            case "altered":
                try conn.execute("UPDATE access_log SET purpose = 'nothing to see' WHERE id = 3")
            case "removed":
                try conn.execute("DELETE FROM access_log WHERE id = 3")
            default:
                try conn.execute("UPDATE access_log SET purpose = 'nothing to see' WHERE id = 3")
                for id in 3...6 {
                    try conn.execute("UPDATE access_log a SET prev_hash = p.hash FROM access_log p WHERE a.id = \(id) AND p.id = \(id - 1)")
                    try conn.execute("UPDATE access_log a SET hash = access_hash(a.prev_hash, a) WHERE a.id = \(id)")
                }
            }
        }
        let (alone, aloneOutput) = try await runCommand("koki", ["audit", "verify"], environment: env)
        let (anchored, anchoredOutput) = try await runCommand("koki", ["audit", "verify", "--checkpoints", file], environment: env)
        switch kind {
        case "altered":
            #expect(alone != 0 && aloneOutput.contains("access log row 3 was altered"), "\(aloneOutput)")
        case "removed":
            #expect(alone != 0 && aloneOutput.contains("access log row 4 does not follow row 2"), "\(aloneOutput)")
        default:
            #expect(alone == 0, "the chain alone looks whole: \(aloneOutput)")
            #expect(anchored != 0 && anchoredOutput.contains("access log does not match its checkpoints"), "\(anchoredOutput)")
        }
        #expect(anchored != 0)
    }
}
