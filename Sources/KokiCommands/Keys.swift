import ArgumentParser
import Foundation
import KokiDomain
import KokiSecrets
import KokiStore
import Postgres

/// `koki keys` — the 個人番号 keys (three files, each for the components that need it), the
/// dead-letter key pair and the transfer log's MAC key.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The 個人番号 keys, the dead-letter key pair and the audit MAC key.",
        discussion: """
            個人番号 keys are three files: the sealing (public) keys for the resident worker \
            (KOKI_MYNUMBER_SEAL_KEYS_FILE), the opening (private) keys for the relay and the operators' \
            CLI (KOKI_MYNUMBER_OPEN_KEYS_FILE) and the search-hash key for the resident worker and \
            `koki person --by-my-number` (KOKI_MYNUMBER_LOOKUP_KEY_FILE). To rotate: `koki keys \
            new-seal-key`, restart the relays, then the resident worker, `koki keys rotate` (until it \
            exits 0), then remove the old key's line from the opening keys.
            """,
        subcommands: [Generate.self, Split.self, NewSealKey.self, Rotate.self, DeadLetterKeys.self, AuditMacKeyFile.self])

    /// A key file's new text, written beside it with its mode first and moved over it (no moment
    /// where the file is missing, half written, or readable by others).
    static func replace(_ path: String, with text: String, mode: mode_t) throws {
        let temporary = path + ".new-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: Int(mode)]),
              rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw fail("cannot replace \(path)")
        }
    }

    /// A key into a new file only its owner can read (0600); an existing file is never overwritten.
    static func writeNewSecret(_ secret: String, to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw fail("\(path) exists: not overwritten") }
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw fail("cannot write \(path)")
        }
    }

    /// The transfer log's MAC key: for the relay (KOKI_AUDIT_MAC_KEY_FILE) and the verifier, never
    /// for the database.
    struct AuditMacKeyFile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit-mac-generate",
            abstract: "Make the key the relay signs the transfer log's rows with (KOKI_AUDIT_MAC_KEY_FILE).",
            discussion: """
                Give the file to the relay and to whoever runs `koki audit verify --mac-key-file`;                 keep it away from the database and its operators — a row rewritten there cannot get                 a matching MAC without it.
                """)

        @Option(help: "Where to write the key (created 0600; an existing file is refused).")
        var out: String

        func run() throws {
            try Keys.writeNewSecret(AuditMacKey.generate(), to: out)
            print("wrote \(out)")
        }
    }

    /// The operators' dead-letter key pair: the private key to a file only its owner can read,
    /// the public key printed for the workers' KOKI_DLQ_PUBLIC_KEY.
    struct DeadLetterKeys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlq-generate",
            abstract: "Make the key pair dead letters' bodies are sealed to; print the public key.",
            discussion: """
                The workers get the public key (KOKI_DLQ_PUBLIC_KEY: they seal, never open); the \
                operators who run `koki dlq show --payload` and `koki dlq replay` get the private key \
                file (KOKI_DLQ_PRIVATE_KEY_FILE, mode 0600).
                """)

        @Option(help: "Where to write the private key (created 0600; an existing file is refused).")
        var privateOut: String

        func run() throws {
            let (privateKey, publicKey) = DeadLetterSeal.generate()
            try Keys.writeNewSecret(privateKey, to: privateOut)
            print(publicKey)
        }
    }

    /// The three 個人番号 key files into a directory: the opening and lookup keys 0600, the
    /// sealing (public) keys 0644; existing files are never overwritten.
    static func writeKeyFiles(_ files: (seal: String, open: String, lookup: String), into directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let paths = ["mynumber-seal-keys", "mynumber-open-keys", "mynumber-lookup-key"].map { dir.appendingPathComponent($0).path }
        for path in paths where FileManager.default.fileExists(atPath: path) { throw fail("\(path) exists: not overwritten") }
        try writeNewSecret(files.open.trimmingCharacters(in: .newlines), to: paths[1])
        try writeNewSecret(files.lookup.trimmingCharacters(in: .newlines), to: paths[2])
        guard FileManager.default.createFile(atPath: paths[0], contents: Data(files.seal.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw fail("cannot write \(paths[0])")
        }
        print("""
            wrote \(paths[0]) (public: the resident worker's KOKI_MYNUMBER_SEAL_KEYS_FILE)
            wrote \(paths[1]) (0600: the relay's and the operators' KOKI_MYNUMBER_OPEN_KEYS_FILE)
            wrote \(paths[2]) (0600: the resident worker's and the clerks' KOKI_MYNUMBER_LOOKUP_KEY_FILE)
            """)
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write new 個人番号 key files: mynumber-seal-keys, mynumber-open-keys, mynumber-lookup-key.",
            discussion: "Give each file only to the components that need it (`koki keys --help`); never commit them.")

        @Option(help: "The new sealing key's id (letters, digits, '-', '_').")
        var id = "k1"

        @Option(help: "The directory to write the three files into (created if missing).")
        var outDir: String

        func run() throws {
            try keyOrFail { try Keys.writeKeyFiles(try MyNumberKeys.generate(keyID: id), into: outDir) }
        }
    }

    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the three key files from the one keyring every component once held (KOKI_MYNUMBER_KEYS_FILE).",
            discussion: """
                The new files hold a new sealing key pair, the old keys (to open what they sealed) and the \
                old lookup key (the search hashes stay valid). Then: give each component its files, \
                restart, run `koki keys rotate` (every 個人番号 re-sealed to the new key, bound to its \
                person) and remove the old keys' lines from mynumber-open-keys.
                """)

        @Option(help: "The old keyring file.")
        var keyring: String

        @Option(help: "The new sealing key's id (not one of the old keyring's).")
        var id: String

        @Option(help: "The directory to write the three files into.")
        var outDir: String

        func run() throws {
            guard let text = FileManager.default.contents(atPath: keyring) else { throw fail("\(keyring) cannot be read") }
            try keyOrFail {
                try Keys.writeKeyFiles(try MyNumberKeys.split(legacyKeyring: String(decoding: text, as: UTF8.self), newKeyID: id),
                                       into: outDir)
            }
        }
    }

    struct NewSealKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-seal-key",
            abstract: "Add a new sealing key pair: its public key first in the sealing keys, its private key to the opening keys.")

        @Option(help: "The new key's id (not one the opening keys hold).")
        var id: String

        @Option(help: "The sealing keys file (KOKI_MYNUMBER_SEAL_KEYS_FILE).")
        var sealKeys: String

        @Option(help: "The opening keys file (KOKI_MYNUMBER_OPEN_KEYS_FILE).")
        var openKeys: String

        func run() throws {
            try keyOrFail {
                guard let seal = try MyNumberKeys.read(MyNumberKeys.sealVariable, secret: false, [MyNumberKeys.sealVariable: sealKeys]),
                      let open = try MyNumberKeys.read(MyNumberKeys.openVariable, secret: true, [MyNumberKeys.openVariable: openKeys]) else {
                    throw fail("both files are needed")
                }
                guard try !MyNumberOpener(keys: open).holds(keyID: id) else { throw fail("the opening keys already hold a key '\(id)'") }
                let (sealLine, openLine) = MyNumberKeys.newPair(keyID: id)
                let lines = seal.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let firstKey = lines.firstIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") } ?? lines.count
                let newSeal = (lines[..<firstKey] + [sealLine] + lines[firstKey...]).joined(separator: "\n")
                _ = try MyNumberSealer(keys: newSeal)
                let newOpen = open.hasSuffix("\n") || open.isEmpty ? open + openLine + "\n" : open + "\n" + openLine + "\n"
                _ = try MyNumberOpener(keys: newOpen)
                // The private key first (a public key without it would seal what nothing opens).
                try Keys.replace(openKeys, with: newOpen, mode: 0o600)
                try Keys.replace(sealKeys, with: newSeal, mode: 0o644)
                print("koki keys: key '\(id)' now seals; restart the relays first (they must hold the new private key before "
                      + "anything is sealed to it), then the resident worker, then run `koki keys rotate`")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every 個人番号 not sealed to the first sealing key for its person, and recompute every search hash.",
            discussion: "Needs all three key files: it opens (KOKI_MYNUMBER_OPEN_KEYS_FILE), seals and hashes.")

        @Option(help: "Rows per transaction.")
        var batch = 5_000

        @Flag(help: "The lookup key was changed on purpose: recompute every search hash with the one given.")
        var rehash = false

        mutating func run() async throws {
            let keys = try keyOrFail { (try MyNumberIntake.required(), try MyNumberOpener.required()) }
            let (batch, rehash) = (self.batch, self.rehash)
            let report: MyNumberSealing.Rotation
            do {
                report = try await withDatabase(as: .owner) { conn in
                    try MyNumberSealing.rotate(on: conn, intake: keys.0, opener: keys.1, batch: batch, rehash: rehash)
                }
            } catch let error as MyNumberSealing.LookupMismatch {
                throw fail(error.description)
            }
            print("koki keys rotate: \(report.resealed) 個人番号 re-sealed under key '\(keys.0.sealer.currentKeyID)'; "
                  + "\(report.remaining) still under other keys" + (rehash ? "; \(report.rehashed) search hashes recomputed" : ""))
            if report.outboxUnderOtherKeys > 0 {
                print("koki keys rotate: \(report.outboxUnderOtherKeys) outbox rows not yet published carry a value under another key: "
                      + "keep the old keys among the opening keys until they are published (`koki outbox held`)")
            }
            if report.remaining > 0 || report.outboxUnderOtherKeys > 0 { throw ExitCode(1) }
        }
    }
}

/// Sealing the store's 個人番号: the conversion of plaintext values (migration 0008) and rotation.
package enum MyNumberSealing {
    /// Seals every plaintext value in `residents.my_number` (before 0009 drops the column).
    package static func sealPlaintext(on tx: PostgresConnection, intake: MyNumberIntake?) throws {
        let rows = try tx.query("SELECT atena_no, my_number FROM residents WHERE my_number IS NOT NULL")
        guard !rows.isEmpty else { return }
        guard let intake else {
            throw PostgresError(.migration, """
                \(rows.count) residents hold a plaintext 個人番号 to seal: set \(MyNumberKeys.sealVariable) and \
                \(MyNumberKeys.lookupVariable) (`koki keys generate` makes them) and run koki migrate again
                """)
        }
        // Values are sealed as today (v2); 0008's constraint knew only v1: widen it here, as 0048 does.
        try tx.execute("ALTER TABLE residents DROP CONSTRAINT IF EXISTS residents_my_number_sealed_check")
        try tx.execute("""
            ALTER TABLE residents ADD CONSTRAINT residents_my_number_sealed_check
                CHECK (my_number_sealed ~ '^v[12]:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]+=*$')
            """)
        for chunk in stride(from: 0, to: rows.count, by: 5_000).map({ rows[$0..<min(rows.count, $0 + 5_000)] }) {
            var people: [String] = [], sealed: [String] = [], hashes: [Data] = []
            for row in chunk {
                let (atenaNo, digits): (String, String) = (try row.decode(at: 0), try row.decode(at: 1))
                let taken = try intake.take(digits, atenaNo: atenaNo)
                people.append(atenaNo)
                sealed.append(taken.sealed)
                hashes.append(taken.hash)
            }
            try tx.execute("""
                UPDATE residents r SET my_number_sealed = v.sealed, my_number_hash = v.hash, my_number = NULL
                FROM unnest(\(people)::text[], \(sealed)::text[], \(hashes)::bytea[]) AS v(atena_no, sealed, hash)
                WHERE r.atena_no = v.atena_no
                """)
        }
    }

    struct Rotation {
        var resealed = 0
        /// Values left: their key is missing from the opening keys, or they do not open as their person.
        var remaining = 0
        /// Outbox rows not yet published (or held) that carry a value under another key: the old
        /// key must stay among the opening keys until they are gone.
        var outboxUnderOtherKeys = 0
        var rehashed = 0
    }

    struct LookupMismatch: Error, CustomStringConvertible {
        let differing: Int, checked: Int
        var description: String {
            "the lookup key given does not give the stored search hashes (\(differing) of \(checked) checked differ): give the "
                + "resident worker's lookup key, or --rehash if the lookup key was changed on purpose (nothing was changed)"
        }
    }

    /// Re-seals to the current sealing key, bound to its person, what is not (an older key, or
    /// a value sealed before the keys were separated). The lookup key is checked first against
    /// the stored hashes: a different one is refused unless `rehash` says it was changed on
    /// purpose, and then every hash is recomputed (row by row under lock, the value it was
    /// computed from unchanged).
    static func rotate(on conn: PostgresConnection, intake: MyNumberIntake, opener: MyNumberOpener, batch: Int,
                       rehash: Bool = false) throws -> Rotation {
        let current = MyNumberKeys.prefix + intake.sealer.currentKeyID + ":"
        var report = Rotation()
        if !rehash {
            let sample = try conn.query("""
                SELECT atena_no, my_number_sealed, my_number_hash FROM residents WHERE my_number_sealed IS NOT NULL
                ORDER BY atena_no LIMIT 200
                """)
            var checked = 0, differing = 0
            for row in sample {
                let (atenaNo, sealed, hash) = try row.decode(String.self, String.self, Data.self)
                guard let digits = try? opener.open(sealed, atenaNo: atenaNo) else { continue }
                checked += 1
                if intake.lookup.hash(digits) != hash { differing += 1 }
            }
            if differing > 0 { throw LookupMismatch(differing: differing, checked: checked) }
        }
        var unopenable = Set<String>()
        while true {
            let done = try conn.transaction { tx -> Int in
                let rows = try tx.query("""
                    SELECT atena_no, my_number_sealed FROM residents
                    WHERE my_number_sealed IS NOT NULL AND NOT starts_with(my_number_sealed, \(current))
                      AND NOT (atena_no = ANY(\(Array(unopenable))::text[]))
                    ORDER BY atena_no LIMIT \(batch) FOR UPDATE
                    """)
                var resealed: [ResidentStore.SealedMyNumber] = []
                for row in rows {
                    let atenaNo: String = try row.decode(at: 0)
                    guard let digits = try? opener.open(try row.decode(String.self, at: 1), atenaNo: atenaNo) else {
                        unopenable.insert(atenaNo)
                        continue
                    }
                    let taken = try intake.take(digits, atenaNo: atenaNo)
                    resealed.append(.init(atenaNo: atenaNo, sealed: taken.sealed, hash: taken.hash))
                }
                try ResidentStore(tx).setMyNumbers(resealed)
                return rows.isEmpty ? -1 : resealed.count
            }
            if done < 0 { break }
            report.resealed += done
        }
        if rehash {
            var after = ""
            while true {
                let done = try conn.transaction { tx -> Int in
                    let rows = try tx.query("""
                        SELECT atena_no, my_number_sealed FROM residents
                        WHERE starts_with(my_number_sealed, \(current)) AND atena_no > \(after)
                        ORDER BY atena_no LIMIT \(batch) FOR UPDATE
                        """)
                    var people: [String] = [], hashes: [Data] = []
                    for row in rows {
                        let atenaNo: String = try row.decode(at: 0)
                        after = atenaNo
                        guard let digits = try? opener.open(try row.decode(String.self, at: 1), atenaNo: atenaNo) else {
                            unopenable.insert(atenaNo)
                            continue
                        }
                        people.append(atenaNo)
                        hashes.append(intake.lookup.hash(digits))
                    }
                    try tx.execute("""
                        UPDATE residents r SET my_number_hash = v.hash FROM unnest(\(people)::text[], \(hashes)::bytea[]) AS v(atena_no, hash)
                        WHERE r.atena_no = v.atena_no AND r.my_number_hash IS DISTINCT FROM v.hash
                        """)
                    return rows.isEmpty ? -1 : people.count
                }
                if done < 0 { break }
                report.rehashed += done
            }
        }
        report.remaining = unopenable.count
        report.outboxUnderOtherKeys = try conn.query("""
            SELECT count(*) FROM outbox o
            WHERE o.published_at IS NULL AND o.payload IS NOT NULL
              AND EXISTS (SELECT 1 FROM regexp_matches(convert_from(o.payload, 'UTF8'), '"myNumber":"(v[12]:[A-Za-z0-9_-]+):', 'g') m
                          WHERE m[1] || ':' <> \(current))
            """)[0].decode(Int.self, at: 0)
        return report
    }

    /// What an inquiry shows for a person's sealed value: the last four digits, or that it is sealed.
    static func masked(_ sealed: String, atenaNo: String, opener: MyNumberOpener?) -> String {
        if let opener, let digits = try? opener.open(sealed, atenaNo: atenaNo), let number = MyNumber(digits) { return number.masked }
        return "（暗号化・鍵 \(MyNumberKeys.keyID(of: sealed) ?? "?")）"
    }
}

/// A key file's failure as the CLI's clear error (it names the variable, never a key).
package func keyOrFail<T>(_ load: () throws -> T) throws -> T {
    do {
        return try load()
    } catch let error as MyNumberKeys.Failure {
        throw fail(error.description)
    }
}
