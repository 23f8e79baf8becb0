import ArgumentParser
import Foundation
import KokiDomain
import KokiSecrets
import KokiStore
import Postgres

/// `koki keys` — the 個人番号 keyring: make one, re-seal under the newest key.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The 個人番号 keyring (KOKI_MYNUMBER_KEYS_FILE or KOKI_MYNUMBER_KEYS).",
        discussion: """
            A keyring holds lines '<id> <base64 of 32 bytes>'. The first key seals new values, every key \
            opens old ones, and the line 'lookup' keys the search hash. To rotate: put a new key first, \
            restart the resident worker and the relay, run `koki keys rotate`, then retire the old line.
            """,
        subcommands: [Generate.self, Rotate.self, DeadLetterKeys.self, AuditMacKeyFile.self])

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

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a fresh keyring (one encryption key and a lookup key) to standard output.",
            discussion: "Store it as a secret (a file readable only by koki); never commit it.")

        @Option(help: "The new key's id (letters, digits, '-', '_').")
        var id = "k1"

        func run() throws {
            do {
                let keyring = MyNumberVault.generateKeyring(keyID: id)
                _ = try MyNumberVault(keyring: keyring)  // the id is valid
                print(keyring, terminator: "")
            } catch let error as MyNumberVault.Failure {
                throw fail(error.description)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every 個人番号 not sealed under the keyring's first key, and recompute every search hash.")

        @Option(help: "Rows per transaction.")
        var batch = 5_000

        mutating func run() async throws {
            let vault = try requiredVault()
            let batch = self.batch
            let (resealed, remaining) = try await withDatabase(as: .owner) { conn in
                try MyNumberSealing.rotate(on: conn, vault: vault, batch: batch)
            }
            print("koki keys rotate: \(resealed) 個人番号 re-sealed under key '\(vault.currentKeyID)'; "
                  + "\(remaining) still under other keys")
            if remaining > 0 { throw ExitCode(1) }
        }
    }
}

/// The keyring the environment names, or a clear failure.
func requiredVault() throws -> MyNumberVault {
    do {
        return try MyNumberVault.required()
    } catch let error as MyNumberVault.Failure {
        throw fail(error.description)
    }
}

/// Sealing the store's 個人番号: the conversion of plaintext values (migration 0008) and rotation.
enum MyNumberSealing {
    /// Seals every plaintext value in `residents.my_number` (before 0009 drops the column).
    static func sealPlaintext(on tx: PostgresConnection, vault: MyNumberVault?) throws {
        let rows = try tx.query("SELECT atena_no, my_number FROM residents WHERE my_number IS NOT NULL")
        guard !rows.isEmpty else { return }
        guard let vault else {
            throw PostgresError(.migration, """
                \(rows.count) residents hold a plaintext 個人番号 to seal: set KOKI_MYNUMBER_KEYS_FILE \
                (or KOKI_MYNUMBER_KEYS; `koki keys generate` makes one) and run koki migrate again
                """)
        }
        for chunk in stride(from: 0, to: rows.count, by: 5_000).map({ rows[$0..<min(rows.count, $0 + 5_000)] }) {
            var people: [String] = [], sealed: [String] = [], hashes: [Data] = []
            for row in chunk {
                let digits: String = try row.decode(at: 1)
                people.append(try row.decode(at: 0))
                sealed.append(try vault.seal(digits))
                hashes.append(vault.lookupHash(digits))
            }
            try tx.execute("""
                UPDATE residents r SET my_number_sealed = v.sealed, my_number_hash = v.hash, my_number = NULL
                FROM unnest(\(people)::text[], \(sealed)::text[], \(hashes)::bytea[]) AS v(atena_no, sealed, hash)
                WHERE r.atena_no = v.atena_no
                """)
        }
    }

    /// Re-seals under the current key what an older key sealed; returns how many were
    /// re-sealed and how many remain under other keys (their keys are missing from the keyring).
    static func rotate(on conn: PostgresConnection, vault: MyNumberVault, batch: Int) throws -> (Int, Int) {
        var resealed = 0
        var unopenable = Set<String>()
        while true {
            let done = try conn.transaction { tx -> Int in
                let rows = try tx.query("""
                    SELECT atena_no, my_number_sealed FROM residents
                    WHERE my_number_key_id <> \(vault.currentKeyID) AND NOT (atena_no = ANY(\(Array(unopenable))::text[]))
                    ORDER BY atena_no LIMIT \(batch) FOR UPDATE
                    """)
                var resealed: [ResidentStore.SealedMyNumber] = []
                for row in rows {
                    let atenaNo: String = try row.decode(at: 0)
                    guard let digits = try? vault.open(try row.decode(String.self, at: 1)) else {
                        unopenable.insert(atenaNo)
                        continue
                    }
                    resealed.append(.init(atenaNo: atenaNo, sealed: try vault.seal(digits), hash: vault.lookupHash(digits)))
                }
                try ResidentStore(tx).setMyNumbers(resealed)
                return rows.isEmpty ? -1 : resealed.count
            }
            if done < 0 { break }
            resealed += done
        }
        // The lookup key may have changed too: recompute the hashes of values already current.
        try conn.transaction { tx in
            let rows = try tx.query("SELECT atena_no, my_number_sealed FROM residents WHERE my_number_key_id = \(vault.currentKeyID)")
            var people: [String] = [], hashes: [Data] = []
            for row in rows {
                let digits = try vault.open(try row.decode(String.self, at: 1))
                people.append(try row.decode(at: 0))
                hashes.append(vault.lookupHash(digits))
            }
            try tx.execute("""
                UPDATE residents r SET my_number_hash = v.hash FROM unnest(\(people)::text[], \(hashes)::bytea[]) AS v(atena_no, hash)
                WHERE r.atena_no = v.atena_no AND r.my_number_hash IS DISTINCT FROM v.hash
                """)
        }
        return (resealed, unopenable.count)
    }

    /// What an inquiry shows for a sealed value: the last four digits, or that it is sealed.
    static func masked(_ sealed: String, vault: MyNumberVault?) -> String {
        if let vault, let digits = try? vault.open(sealed), let number = MyNumber(digits) { return number.masked }
        return "（暗号化・鍵 \(MyNumberVault.keyID(of: sealed) ?? "?")）"
    }
}

extension MyNumberVault {
    /// For benchmarks on synthetic data: the configured keyring, or a throwaway one.
    static func benchVault() throws -> MyNumberVault {
        try fromEnvironment() ?? MyNumberVault(keyring: generateKeyring(keyID: "bench"))
    }
}
