import Foundation
import Postgres
import Testing

/// H7 and L1: the relay MACs each transfer-log row under a key the database never holds, so a
/// chain rewritten and rehashed in the database — whole by itself — is found; the hash is over an
/// unambiguous text (values that read the same joined by '|' hash differently).
extension ResidentWorkerTests {
    @Test func aRehashedChainIsFoundByItsMacs() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        let keyFile = NSTemporaryDirectory() + "audit-mac-\(UUID().uuidString)"
        let env = ["KOKI_DATABASE_URL": stack.databaseURL]
        let (made, madeOutput) = try await runCommand("koki", ["keys", "audit-mac-generate", "--out", keyFile], environment: env)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(made == 0 && mode == 0o600, "\(madeOutput)")
        try stack.start(extra: ["KOKI_AUDIT_MAC_KEY_FILE": keyFile])
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.send((1...3).map { n in
            person("000000070\(n)", household: "000000079\(n)", born: "1945-01-0\(n)", .corrected, on: "2026-03-31")
        })
        try await stack.waitApplied(4)
        try await stack.send([factory.businessDay(d("2026-04-02"))])
        try await stack.waitApplied(5)
        _ = try await stack.publishedTransfers()
        let rows = try await stack.count("SELECT count(*) FROM audit_log")
        let macs = try await stack.count("SELECT count(*) FROM audit_macs")
        #expect(rows >= 3 && macs == rows, "every row has its MAC")
        #expect(try await stack.count("SELECT count(*) FROM audit_log WHERE canon <> 2") == 0, "written with the canonical text")
        let (clean, cleanOutput) = try await runCommand("koki", ["audit", "verify", "--mac-key-file", keyFile], environment: env)
        #expect(clean == 0 && cleanOutput.contains("transfer log MACs verified: \(rows) rows"), "\(cleanOutput)")
        // A checkpoint kept outside the database records where the MACs start.
        let checkpoints = NSTemporaryDirectory() + "audit-checkpoints-\(UUID().uuidString)"
        let (marked, markedOutput) = try await runCommand("koki", ["audit", "checkpoint", "--out", checkpoints], environment: env)
        #expect(marked == 0 && markedOutput.contains("\"macFrom\":1"), "\(markedOutput)")

        // The log's owner rewrites row 1 and rehashes every later row: the chain holds, the MACs do not.
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { conn throws in
            try conn.execute("SET ROLE koki_audit")
            defer { try? conn.execute("RESET ROLE") }
            try conn.execute("UPDATE audit_log SET destination = 'municipal-tax' WHERE seq = 1")
            for seq in 1...rows {
                if seq > 1 {
                    try conn.execute("UPDATE audit_log a SET prev_hash = p.hash FROM audit_log p WHERE a.seq = \(seq) AND p.seq = \(seq - 1)")
                }
                try conn.execute("UPDATE audit_log a SET hash = audit_hash(a.prev_hash, a) WHERE a.seq = \(seq)")
            }
        }
        let (alone, aloneOutput) = try await runCommand("koki", ["audit", "verify"], environment: env)
        #expect(alone == 0, "the chain alone looks whole: \(aloneOutput)")
        let (keyed, keyedOutput) = try await runCommand("koki", ["audit", "verify", "--mac-key-file", keyFile], environment: env)
        #expect(keyed != 0 && keyedOutput.contains("row 1's MAC does not match"), "\(keyedOutput)")
        // Whoever may disable the guard drops every MAC too: alone the log then reads as "no MAC
        // yet"; against the checkpoint, the missing MACs are found.
        try await conn.run { conn throws in
            try conn.execute("ALTER TABLE audit_macs DISABLE TRIGGER audit_macs_no_truncate")
            try conn.execute("TRUNCATE audit_macs")
            try conn.execute("ALTER TABLE audit_macs ENABLE TRIGGER audit_macs_no_truncate")
        }
        let (stripped, strippedOutput) = try await runCommand("koki", ["audit", "verify", "--mac-key-file", keyFile], environment: env)
        #expect(stripped == 0, "without an anchor, no MAC reads as none yet: \(strippedOutput)")
        let (anchored, anchoredOutput) = try await runCommand("koki", ["audit", "verify", "--mac-key-file", keyFile,
                                                                       "--checkpoints", checkpoints], environment: env)
        #expect(anchored != 0 && anchoredOutput.contains("row 1 has no MAC, though a checkpoint records MACs from row 1"),
                "\(anchoredOutput)")
        // A key file others may read is refused.
        chmod(keyFile, 0o644)
        let (loose, looseOutput) = try await runCommand("koki", ["audit", "verify", "--mac-key-file", keyFile], environment: env)
        #expect(loose != 0 && looseOutput.contains("may be read by others"), "\(looseOutput)")
    }

    /// L1: under the old text, a '|' moved from one field to the next gave the same content (and
    /// hash); the canonical text tells them apart.
    @Test func theCanonicalTextIsUnambiguous() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let (oldSame, newSame) = try await conn.run { conn in
            try conn.query("""
                SELECT audit_content(a) = audit_content(b), audit_content_v2(a) = audit_content_v2(b)
                FROM (SELECT ROW(1, 'koiki', 'e|t', 'u', NULL, ARRAY['f'], 'x', '2026-01-01'::timestamptz, 'r', NULL, '', NULL, 2)::audit_log AS a,
                             ROW(1, 'koiki', 'e', 't|u', NULL, ARRAY['f'], 'x', '2026-01-01'::timestamptz, 'r', NULL, '', NULL, 2)::audit_log AS b) s
                """)[0].decode(Bool.self, Bool.self)
        }
        #expect(oldSame, "the old text could not tell them apart")
        #expect(!newSame)
    }
}
