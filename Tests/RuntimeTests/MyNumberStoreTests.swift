import Crypto
import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiSecrets
import Postgres
import Testing

/// 個人番号 at rest: sealed by the resident worker, opened by the relay only for the insurer,
/// found by keyed hash, shown masked; plaintext values of an older store sealed by `koki migrate`;
/// `koki keys rotate` moves every value to the newest key.
extension ResidentWorkerTests {
    static func validNumber(_ body: String) -> String { body + String(MyNumber.checkDigit(body.utf8.map { Int($0 - 48) })) }

    @Test func myNumbersAreSealedAtRestAndOpenedOnlyForTheInsurer() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(1)
        let number = Self.validNumber("31415926535")
        let a = "0000000201", h = "0000000301"
        try await stack.send([
            person(a, household: h, born: "1945-01-01", .corrected, on: "2026-03-31", myNumber: number),
            person("0000000202", household: h, born: "1946-02-02", .corrected, on: "2026-03-31", relationship: .spouse,
                   myNumber: Self.validNumber("27182818284")),
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-a", atenaNo: a,
                          fields: ["department": "disability-welfare", "program": "重度心身障害者医療費助成",
                                   "effectiveDate": "2026-04-01"]),
        ])
        try await stack.waitApplied(4)
        try await stack.send([factory.businessDay(d("2026-04-02"))])  // 住基情報 goes on the business day
        try await stack.waitApplied(5)
        let transfers = try await stack.publishedTransfers()

        // At rest: nowhere in the store in plaintext — not in 宛名, not in the outbox.
        #expect(try await stack.count("SELECT count(*) FROM residents WHERE residents::text LIKE \("%" + number + "%")") == 0)
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8') LIKE \("%" + number + "%")") == 0)
        let sealed = try await stack.strings("SELECT my_number_sealed FROM residents WHERE atena_no = \(a)")
        #expect(sealed.count == 1 && sealed[0].hasPrefix("v2:k-test:"))
        #expect(try TestKeys.opener.open(sealed[0], atenaNo: a) == number)
        // Bound to its person (M3): copied to another person's row, it does not open.
        #expect(throws: MyNumberKeys.Failure.self) { try TestKeys.opener.open(sealed[0], atenaNo: "0000000202") }

        // In transit: the insurer's 住基情報 carries the digits; the department never sees a 個人番号.
        let record = transfers.first { $0.type == "koiki.resident-record" && $0.body.contains(a) }
        #expect(record?.body.contains("\"myNumber\":\"\(number)\"") == true, "\(record?.body ?? "no 住基情報")")
        let department = transfers.filter { $0.topic == "transfer.disability-welfare.v1" }
        #expect(!department.isEmpty && department.allSatisfy { !$0.body.contains("myNumber") && !$0.body.contains(number) })
        #expect(transfers.allSatisfy { !$0.body.contains("v2:k-test:") }, "no sealed value leaves koki")

        // The counter: found by 個人番号 through the keyed hash (read from stdin), shown masked.
        let env = ["KOKI_DATABASE_URL": stack.databaseURL]
        let (found, output) = try await runCommand("koki", ["person", "--by-my-number", "--json", "--purpose", "T-1"], environment: env, stdin: number + "\n")
        #expect(found == 0, "\(output)")
        let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect(json?["atenaNo"] as? String == a && json?["myNumber"] as? String == "********" + number.suffix(4))
        let (none, message) = try await runCommand("koki", ["person", "--by-my-number", "--purpose", "T-1"], environment: env,
                                                   stdin: Self.validNumber("11111111111") + "\n")
        #expect(none != 0 && message.contains("no person with that 個人番号"), "\(message)")
        // Without the opening keys the inquiry still works and says the number is sealed.
        let (plain, shown) = try await runCommand("koki", ["person", a, "--purpose", "T-1"],
                                                  environment: env.merging([MyNumberKeys.openVariable: ""]) { $1 })
        #expect(plain == 0 && shown.contains("暗号化・鍵 k-test") && !shown.contains(number.suffix(4)), "\(shown)")
    }
}

@Suite("個人番号 conversion and rotation", .serialized)
struct MyNumberMigrationTests {
    static let migrations = Env.repoRoot.appendingPathComponent("migrations")

    /// A database migrated up to 0007 (plaintext 個人番号) holding two numbers.
    func olderStore() async throws -> String {
        let server = try Env.require("KOKI_TEST_DATABASE_URL")
        let name = "mn_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        let url = String(server[...server.lastIndex(of: "/")!]) + name
        let all = try Migrator(directory: Self.migrations)
        let upTo7 = try Migrator(migrations: all.migrations.filter { $0.version <= 7 })
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn in
            try upTo7.apply(on: conn)
            try conn.execute("""
                INSERT INTO residents (atena_no, my_number) VALUES
                    ('0000000001', \(ResidentWorkerTests.validNumber("31415926535"))),
                    ('0000000002', \(ResidentWorkerTests.validNumber("27182818284"))), ('0000000003', NULL)
                """)
        }
        return url
    }

    @Test func migrateSealsThePlaintextValuesAndDropsTheColumn() async throws {
        let url = try await olderStore()
        let env = ["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Self.migrations.path]
        let (refused, message) = try await runCommand("koki", ["migrate"],
                                                      environment: env.merging([MyNumberKeys.sealVariable: "", MyNumberKeys.lookupVariable: ""]) { $1 })
        #expect(refused != 0 && message.contains("2 residents hold a plaintext 個人番号") && message.contains(MyNumberKeys.sealVariable),
                "\(message)")
        #expect(!message.contains("31415926535"))

        let (status, output) = try await runCommand("koki", ["migrate"], environment: env)
        #expect(status == 0, "\(output)")
        let conn = try await PostgresConnection.connect(url)
        let rows = try await conn.run { try $0.query("SELECT atena_no, my_number_sealed, my_number_hash FROM residents ORDER BY 1") }
        #expect(try rows[0].decode(String?.self, at: 1).map { try TestKeys.opener.open($0, atenaNo: "0000000001") }
                == ResidentWorkerTests.validNumber("31415926535"))
        #expect(try rows[1].decode(String?.self, at: 1).map { try TestKeys.opener.open($0, atenaNo: "0000000002") }
                == ResidentWorkerTests.validNumber("27182818284"))
        #expect(try rows[1].decode(Data?.self, at: 2) == TestKeys.lookup.hash(ResidentWorkerTests.validNumber("27182818284")))
        #expect(try rows[2].decode(String?.self, at: 1) == nil)
        let plaintext = try await conn.run {
            try $0.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'residents' AND column_name = 'my_number'")
        }
        #expect(try plaintext[0].decode(Int.self, at: 0) == 0, "the plaintext column is gone")
    }

    /// A store sealed under the one keyring of before (M3's upgrade): `koki keys split` makes
    /// the three files from it, `koki keys rotate` re-seals every value to the new public key
    /// bound to its person, the old keys retire, and a missing key is reported, not skipped.
    @Test func theOldKeyringSplitsAndRotationBindsEveryValueToItsPerson() async throws {
        let url = try await olderStore()
        let conn = try await PostgresConnection.connect(url)
        // As an older koki left it: both values sealed (v1) under the old keyring's key, the hash under its lookup key.
        let oldKey = Data((0..<32).map { UInt8($0) }), oldLookup = Data((0..<32).map { UInt8(255 - $0) })
        let keyring = "k-old \(oldKey.base64EncodedString())\nlookup \(oldLookup.base64EncodedString())\n"
        let numbers = ["0000000001": ResidentWorkerTests.validNumber("31415926535"), "0000000002": ResidentWorkerTests.validNumber("27182818284")]
        try await conn.run { conn in
            try Migrator(migrations: try Migrator(directory: Self.migrations).migrations.filter { $0.version <= 8 }).apply(on: conn)
            for (atenaNo, digits) in numbers {
                let box = try AES.GCM.seal(Data(digits.utf8), using: SymmetricKey(data: oldKey), authenticating: Data("koki 個人番号 v1".utf8))
                let hash = Data(HMAC<SHA256>.authenticationCode(for: Data(digits.utf8), using: SymmetricKey(data: oldLookup)))
                try conn.execute("""
                    UPDATE residents SET my_number = NULL, my_number_sealed = \("v1:k-old:" + box.combined!.base64EncodedString()),
                                         my_number_hash = \(hash) WHERE atena_no = \(atenaNo)
                    """)
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let old = scratch.appendingPathComponent("old-keyring")
        FileManager.default.createFile(atPath: old.path, contents: Data(keyring.utf8), attributes: [.posixPermissions: 0o600])
        let dir = scratch.appendingPathComponent("new").path
        let (split, splitOutput) = try await runCommand("koki", ["keys", "split", "--keyring", old.path, "--id", "k-next", "--out-dir", dir],
                                                        environment: [:])
        #expect(split == 0, "\(splitOutput)")
        let files = [MyNumberKeys.sealVariable: dir + "/mynumber-seal-keys", MyNumberKeys.openVariable: dir + "/mynumber-open-keys",
                     MyNumberKeys.lookupVariable: dir + "/mynumber-lookup-key"]
        for (variable, path) in files {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == (variable == MyNumberKeys.sealVariable ? 0o644 : 0o600), "\(path)")
        }
        // The old keyring's variable is refused by every component, with the way out.
        let (legacy, legacyOutput) = try await runCommand("koki", ["person", "0000000001", "--purpose", "T-1"],
                                                          environment: ["KOKI_DATABASE_URL": url, "KOKI_MYNUMBER_KEYS_FILE": old.path])
        #expect(legacy != 0 && legacyOutput.contains("koki keys split"), "\(legacyOutput)")

        let env = files.merging(["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Self.migrations.path]) { $1 }
        #expect(try await runCommand("koki", ["migrate"], environment: env).0 == 0)
        let (status, output) = try await runCommand("koki", ["keys", "rotate", "--batch", "1"], environment: env)
        #expect(status == 0 && output.contains("2 個人番号 re-sealed under key 'k-next'"), "\(output)")
        let opener = try #require(try MyNumberOpener.fromEnvironment(files))
        let lookup = try #require(try MyNumberLookup.fromEnvironment(files))
        let rows = try await conn.run { try $0.query("SELECT atena_no, my_number_sealed, my_number_hash FROM residents WHERE my_number_sealed IS NOT NULL") }
        #expect(rows.count == 2)
        for row in rows {
            let (atenaNo, sealed, hash) = try row.decode(String.self, String.self, Data.self)
            #expect(sealed.hasPrefix("v2:k-next:"))
            #expect(try opener.open(sealed, atenaNo: atenaNo) == numbers[atenaNo], "bound to its person")
            #expect(hash == lookup.hash(numbers[atenaNo]!), "the search hash is kept")
            let other = atenaNo == "0000000001" ? "0000000002" : "0000000001"
            #expect(throws: MyNumberKeys.Failure.self) { try opener.open(sealed, atenaNo: other) }
        }
        // The old key can now be retired: the inquiry opens every value with the new one alone.
        let openText = try String(contentsOfFile: files[MyNumberKeys.openVariable]!, encoding: .utf8)
        try openText.split(separator: "\n").filter { !$0.hasPrefix("k-old ") }.joined(separator: "\n")
            .write(toFile: files[MyNumberKeys.openVariable]!, atomically: false, encoding: .utf8)
        let (shown, person) = try await runCommand("koki", ["person", "0000000002", "--json", "--purpose", "T-1"], environment: env)
        #expect(shown == 0 && person.contains("\"myNumber\" : \"********" + numbers["0000000002"]!.suffix(4)), "\(person)")
        // A value under a key the opening keys lack is left and reported (exit 1).
        try await conn.run { try $0.execute("UPDATE residents SET my_number_sealed = 'v1:k-old:AAAA' WHERE atena_no = '0000000001'") }
        let (partial, report) = try await runCommand("koki", ["keys", "rotate"], environment: env)
        #expect(partial != 0 && report.contains("0 個人番号 re-sealed") && report.contains("1 still under other keys"), "\(report)")
    }

    /// `koki keys new-seal-key` puts a new public key first and its private key among the opening
    /// keys; rotation moves every value to it.
    @Test func aNewSealingKeyTakesOverAfterRotation() async throws {
        let url = try await olderStore()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (made, madeOutput) = try await runCommand("koki", ["keys", "generate", "--id", "k1", "--out-dir", scratch], environment: [:])
        #expect(made == 0, "\(madeOutput)")
        let files = [MyNumberKeys.sealVariable: scratch + "/mynumber-seal-keys", MyNumberKeys.openVariable: scratch + "/mynumber-open-keys",
                     MyNumberKeys.lookupVariable: scratch + "/mynumber-lookup-key"]
        let env = files.merging(["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Self.migrations.path]) { $1 }
        #expect(try await runCommand("koki", ["migrate"], environment: env).0 == 0)
        let (added, addedOutput) = try await runCommand("koki", ["keys", "new-seal-key", "--id", "k2", "--seal-keys", files[MyNumberKeys.sealVariable]!,
                                                                 "--open-keys", files[MyNumberKeys.openVariable]!], environment: [:])
        #expect(added == 0, "\(addedOutput)")
        #expect(try MyNumberSealer.fromEnvironment(files)?.currentKeyID == "k2")
        // A lookup key that does not give the stored hashes is refused before anything changes.
        let otherLookup = scratch + "/other-lookup"
        FileManager.default.createFile(atPath: otherLookup, contents: Data(try MyNumberKeys.generate(keyID: "x").lookup.utf8),
                                       attributes: [.posixPermissions: 0o600])
        let (wrong, wrongOutput) = try await runCommand("koki", ["keys", "rotate"],
                                                        environment: env.merging([MyNumberKeys.lookupVariable: otherLookup]) { $1 })
        #expect(wrong != 0 && wrongOutput.contains("does not give the stored search hashes (2 of 2 checked differ)"), "\(wrongOutput)")
        let conn = try await PostgresConnection.connect(url)
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM residents WHERE my_number_key_id = 'k1'") } == 2, "nothing changed")
        // A transfer not yet published that carries a value under the old key keeps rotate from finishing.
        try await conn.run { conn in
            try conn.execute("""
                INSERT INTO outbox (topic, bucket, ce_id, ce_type, headers, payload)
                VALUES ('transfer.koiki.v1', 0, 'pending-1', 'koiki.resident-record', '[]',
                        convert_to('{"members":[{"atenaNo":"0000000001","myNumber":"v2:k1:AAAA"}]}', 'UTF8'))
                """)
        }
        let (status, output) = try await runCommand("koki", ["keys", "rotate"], environment: env)
        #expect(status != 0 && output.contains("2 個人番号 re-sealed under key 'k2'") && output.contains("1 outbox rows not yet published"),
                "\(output)")
        try await conn.run { try $0.execute("UPDATE outbox SET published_at = now() WHERE ce_id = 'pending-1'") }
        let (done, doneOutput) = try await runCommand("koki", ["keys", "rotate"], environment: env)
        #expect(done == 0 && doneOutput.contains("0 個人番号 re-sealed"), "\(doneOutput)")
        // A lookup key changed on purpose: --rehash recomputes every hash with it.
        let (rehashed, rehashedOutput) = try await runCommand("koki", ["keys", "rotate", "--rehash"],
                                                              environment: env.merging([MyNumberKeys.lookupVariable: otherLookup]) { $1 })
        #expect(rehashed == 0 && rehashedOutput.contains("2 search hashes recomputed"), "\(rehashedOutput)")
        let newLookup = try #require(try MyNumberLookup.fromEnvironment([MyNumberKeys.lookupVariable: otherLookup]))
        let hash = try await conn.run { try $0.query("SELECT my_number_hash FROM residents WHERE atena_no = '0000000002'")[0].decode(Data.self, at: 0) }
        #expect(hash == newLookup.hash(ResidentWorkerTests.validNumber("27182818284")))
        let (again, againOutput) = try await runCommand("koki", ["keys", "new-seal-key", "--id", "k2", "--seal-keys", files[MyNumberKeys.sealVariable]!,
                                                                 "--open-keys", files[MyNumberKeys.openVariable]!], environment: [:])
        #expect(again != 0 && againOutput.contains("already hold a key 'k2'"), "\(againOutput)")
    }
}
